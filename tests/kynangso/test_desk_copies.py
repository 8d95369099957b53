"""Issue 16, part 2: two copies of the exam desk on one PostgreSQL database and one inbound.

Two real desk processes (`python -m kynangso.exams.service`) share a real PostgreSQL database
and one exchange folder (as on NFS or CephFS, here a local folder). Many learners fetch and
submit at once through both copies; afterwards every accepted submission is stored exactly
once, complete, each learner has one attempt row, and the quota holds across the copies.

The hub is replaced by `HubAPI`, a tiny HTTP server on loopback that answers the two hub API
calls the desk makes (the token check, GET /hub/api/user, and POST …/activity of the
heartbeat): the hub is another process whose state (users, tokens) we cannot cheaply create
without starting a real JupyterHub (~25 s of CPU), and the desk still makes its real calls
through jupyterhub.services.auth.HubAuth over HTTP.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from kynangso import db
from kynangso.exams import windows
from kynangso.hub.harness import free_port
from kynangso.i18n import t
from kynangso.models import ExamAttempt, ExamSubmission

REPO = Path(__file__).resolve().parents[2]
EXAM = "van-ban"
COURSE = "kiem-tra-nang-luc"
PREFIX = "/services/exams/"
LEARNERS = [f"hv{i:03d}" for i in range(24)]
MAX_SUBMISSIONS = 2
TRIES = 3  # each learner sends one submission more than the quota, at once, to both copies


class HubAPI:
    """The hub's REST API as the desk uses it (see the module docstring): tokens `tok-<name>`
    are learners of group `hocvien` whose servers may call the desk; it counts the heartbeat's
    calls and how many were in flight at once."""

    def __init__(self, delay: float = 0.0):
        self.delay, self.lock = delay, threading.Lock()
        self.activity, self.in_flight, self.peak, self.token_checks, self.user_lookups = 0, 0, 0, 0, 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def reply(self, code: int, body: dict | None = None):
                data = json.dumps(body or {}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's name
                token = self.headers.get("Authorization", "").removeprefix("token ")
                if self.path.rstrip("/") == "/hub/api/user" and token.startswith("tok-"):
                    with api.lock:
                        api.token_checks += 1
                    self.reply(200, {"kind": "user", "name": token[4:], "admin": False,
                                     "groups": ["hocvien"],
                                     "scopes": ["access:services!service=exams"]})
                elif self.path.startswith("/hub/api/users/") and token == "desk-token":
                    with api.lock:  # the per-learner lookup the desk no longer makes
                        api.user_lookups += 1
                    self.reply(200, {"kind": "user", "name": self.path.rsplit("/", 1)[1],
                                     "groups": ["hocvien"], "servers": {}})
                else:
                    self.reply(403, {"message": "no"})

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/activity"):
                    with api.lock:
                        api.activity += 1
                        api.in_flight += 1
                        api.peak = max(api.peak, api.in_flight)
                    time.sleep(api.delay)  # a hub that takes its time
                    with api.lock:
                        api.in_flight -= 1
                    self.reply(200)
                else:
                    self.reply(404)

        ThreadingHTTPServer.request_queue_size = 128  # the heartbeat connects 20 at a time
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hub/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _notebook(marker: str) -> bytes:
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": marker}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


@pytest.fixture
def desks(tmp_path, pg_url):
    """Two desk processes on one database and one exchange; (base URLs, database URL, exchange)."""
    db.upgrade(pg_url)
    root = tmp_path / "exams"
    course_ex = root / "exchange" / COURSE
    (course_ex / "outbound" / EXAM).mkdir(parents=True)
    (course_ex / "outbound" / EXAM / f"{EXAM}.ipynb").write_bytes(_notebook("Đề thi"))
    (course_ex / "inbound").mkdir()
    settings = tmp_path / "settings.yaml"
    settings.write_text(json.dumps({
        "state_dir": str(tmp_path / "state"), "database": {"url": pg_url},
        "exams": {"root": str(root), "course_id": COURSE,
                  "max_submissions_per_window": MAX_SUBMISSIONS}}))
    windows.open_window(pg_url, COURSE, EXAM, "hocvien", 60, "refuse", "gv")
    hub = HubAPI()
    procs, bases = [], []
    for n in range(2):
        port = free_port()
        env = {**os.environ, "KNS_SETTINGS": str(settings), "KNS_ISOLATED": "0",
               "PYTHONPATH": str(REPO), "JUPYTERHUB_API_URL": hub.url,
               "JUPYTERHUB_API_TOKEN": "desk-token", "JUPYTERHUB_CLIENT_ID": "service-exams",
               "JUPYTERHUB_SERVICE_PREFIX": PREFIX, "JUPYTERHUB_SERVICE_NAME": "exams",
               "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
               "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{PREFIX}oauth_callback",
               "JUPYTERHUB_HOST": "", "JUPYTERHUB_BASE_URL": "/"}
        log = open(tmp_path / f"desk{n}.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append((subprocess.Popen([sys.executable, "-m", "kynangso.exams.service"], env=env,
                                       stdout=log, stderr=subprocess.STDOUT), log))
        bases.append(f"http://127.0.0.1:{port}{PREFIX}")
    try:
        # Two Python processes importing JupyterHub and tornado on a busy 2-core machine: a
        # generous deadline, polled, for both to answer.
        deadline = time.monotonic() + 120
        for base, (proc, _log) in zip(bases, procs, strict=True):
            while True:
                assert proc.poll() is None, (tmp_path / "desk0.log").read_text()[-3000:]
                try:
                    if requests.get(base + "api/exams", headers={"Authorization": "token tok-hv000"},
                                    timeout=10).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, "a desk copy did not answer"
                time.sleep(0.2)
        yield bases, pg_url, course_ex, hub
    finally:
        for proc, log in procs:
            proc.terminate()
            proc.wait(30)
            log.close()
        hub.close()


@pytest.mark.postgres
def test_two_desk_copies_store_every_submission_once_and_keep_the_quota(desks):
    """Learners fetch through both desk copies at once and send one submission more than the
    quota, at once, to both copies: is every accepted submission stored once and whole, is
    there one attempt per learner, and is exactly the quota accepted for each?"""
    bases, url, course_ex, hub = desks

    took: list[float] = []

    def call(name: str, n: int, method: str, path: str, body: dict | None = None):
        started = time.perf_counter()
        r = requests.request(method, bases[n % 2] + path, json=body, timeout=120,
                             headers={"Authorization": f"token tok-{name}"})
        took.append(time.perf_counter() - started)  # printed, never asserted
        return r.status_code, r.json()

    def fetch(job):
        name, n = job
        return name, call(name, n, "GET", f"api/exams/{EXAM}")

    def submit(job):
        name, n = job
        marker = f"{name}-bài-{n}"
        files = [{"path": f"{EXAM}.ipynb", "data": base64.b64encode(_notebook(marker)).decode()}]
        return name, marker, call(name, n, "POST", f"api/exams/{EXAM}/submissions", {"files": files})

    with ThreadPoolExecutor(16) as pool:
        # Every learner's first fetch sent to both copies at once.
        fetched = list(pool.map(fetch, [(name, n) for name in LEARNERS for n in range(2)]))
        sent = list(pool.map(submit, [(name, n) for n in range(TRIES) for name in LEARNERS]))
    took.sort()
    print(f"two desks: {len(took)} requests, p50 {took[len(took) // 2]:.3f} s, "
          f"p95 {took[len(took) * 95 // 100]:.3f} s, max {took[-1]:.3f} s")
    assert {code for _name, (code, _body) in fetched} == {200}, fetched[:3]
    accepted = {marker: body["timestamp"] for _n, marker, (code, body) in sent if code == 200}
    refused = [(name, code, body) for name, _m, (code, body) in sent if code != 200]
    per_learner = {name: sum(1 for n, m, (c, _b) in sent if n == name and c == 200) for name in LEARNERS}
    assert set(per_learner.values()) == {MAX_SUBMISSIONS}, per_learner
    assert {code for _n, code, _b in refused} == {429}
    assert {body["error"] for _n, _c, body in refused} == {
        t("exams.quota_count", exam=EXAM, limit=MAX_SUBMISSIONS)}

    inbound = sorted(p for p in (course_ex / "inbound").iterdir())
    assert not [p for p in inbound if p.name.startswith(".")], "a staging folder was left"
    stored = {}
    for folder in inbound:
        marker = json.loads((folder / f"{EXAM}.ipynb").read_bytes())["cells"][0]["source"]
        assert marker not in stored, f"{marker} stored twice"
        stored[marker] = folder
        assert (folder / "timestamp.txt").read_text() == accepted[marker]
        assert len((folder / "submission_secret.txt").read_text()) == 128
    assert set(stored) == set(accepted)
    with db.session_scope(url) as s:
        rows = s.execute(select(ExamAttempt.username, func.count(), func.sum(ExamAttempt.submissions))
                         .group_by(ExamAttempt.username)).all()
        folders = sorted(s.scalars(select(ExamSubmission.folder)))
    assert {name: (count, total) for name, count, total in rows} == {
        name: (1, MAX_SUBMISSIONS) for name in LEARNERS}
    assert folders == sorted(p.name for p in inbound)
    # Groups came with the token check: no hub call per learner.
    assert hub.token_checks >= len(LEARNERS) and hub.user_lookups == 0


def test_heartbeat_reaches_2000_learners_twenty_calls_at_a_time(settings):
    """Does one heartbeat round tell the hub about each of 2,000 learners mid-exam exactly once,
    with calls in flight together but never more than the bound?"""
    import asyncio

    from kynangso.exams.service import HEARTBEAT_CONCURRENCY, Desk, beat_once

    url = settings.database_url
    w = windows.open_window(url, COURSE, EXAM, "hocvien", 60, "refuse", "gv")
    now = windows.now_utc(url)
    with db.session_scope(url) as s:
        s.add_all(ExamAttempt(window_id=w.id, username=f"hv{i:04d}", fetched_at=now, submissions=0,
                              late=False, stored_bytes=0) for i in range(2000))
    hub = HubAPI(delay=0.01)  # each call holds a hub thread a little, as a busy hub does
    try:
        desk = Desk(settings, False, hub.url, "desk-token")
        started = time.perf_counter()
        assert asyncio.run(beat_once(desk)) == 2000
        print(f"heartbeat: 2000 learners in {time.perf_counter() - started:.1f} s, "
              f"peak {hub.peak} calls in flight")
    finally:
        hub.close()
    assert hub.activity == 2000
    assert 1 < hub.peak <= HEARTBEAT_CONCURRENCY
