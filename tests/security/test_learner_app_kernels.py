"""The learner app's kernels take no code from the page, and a learner's home and lessons are
their own (the hub guards servers; the learner extension must not open a way around it).

On the session hub (tests/conftest.py): `hocvien07` is on the learner app, `hocvien01` is an
advanced learner (JupyterLab, kernels that run code: the control that shows the check can fail).
Not in tests/browser: Playwright's sync API keeps an event loop running there, and these talk
to the kernel's websocket with asyncio.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from courses.catalogue import load_catalogue
from kynangso.hub.harness import IS_ROOT
from kynangso.i18n import t

pytestmark = pytest.mark.hub

LEARNER = "hocvien07"
OTHER = "hocvien01"
COURSE = "01-van-ban-dien-tu"


def lesson_one():
    return load_catalogue().course(COURSE).lessons[0]


def start_server(session: requests.Session, hub, user: str, timeout: float = 180) -> None:
    """Start the user's server and wait until its home answers (every server serves it)."""
    session.get(f"{hub.url}/hub/spawn/{user}", timeout=120)
    deadline = time.monotonic() + timeout  # a spawn on a busy 2-core machine
    while time.monotonic() < deadline:
        r = session.get(f"{hub.url}/user/{user}/kns/home", timeout=120)
        if r.status_code == 200 and "kns-home" in r.text:
            return
        if r.status_code == 424:  # not running (a stop was under way): ask again
            session.get(f"{hub.url}/hub/spawn/{user}", timeout=120)
        time.sleep(1)
    raise TimeoutError(f"server of {user} not ready:\n{hub.log()[-3000:]}")


def voila_kernel(session: requests.Session, hub, user: str) -> str:
    """Render lesson 01 with Voilà as the page does; the id of the kernel it started."""
    url = f"{hub.url}/user/{user}/voila/render/KhoaHoc/{lesson_one().notebook}"
    r = session.get(url, timeout=300)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    m = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', r.text)
    assert m, f"no kernel id in the Voilà page: {r.url} {r.text[:500]}"
    return m.group(1)


def send_execute(hub, session: requests.Session, user: str, kernel_id: str, code: str) -> list[str]:
    """Send `code` as an execute_request over the kernel's websocket (as a page's script could),
    then a kernel_info_request; return the types of the replies to the execute_request seen
    before the kernel_info_reply (the kernel answers shell messages in order)."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    base = f"{hub.url}/user/{user}"
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies if f"/user/{user}/".startswith(c.path))

    def message(kind: str, content: dict) -> tuple[str, str]:
        msg_id = uuid.uuid4().hex
        return msg_id, json.dumps({
            "header": {"msg_id": msg_id, "msg_type": kind, "username": user, "session": uuid.uuid4().hex,
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [], "content": content})

    async def talk() -> list[str]:
        ws = base.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        conn = await websocket_connect(HTTPRequest(ws, headers={"Cookie": cookies}))
        run_id, run = message("execute_request", {"code": code, "silent": False, "store_history": False,
                                                   "user_expressions": {}, "allow_stdin": False,
                                                   "stop_on_error": True})
        info_id, info = message("kernel_info_request", {})
        await conn.write_message(run)
        await conn.write_message(info)
        seen = []
        while True:
            raw = await conn.read_message()
            assert raw is not None, "the kernel's websocket closed"
            msg = json.loads(raw)
            parent = msg.get("parent_header", {}).get("msg_id")
            if parent == run_id:
                seen.append(msg["header"]["msg_type"])
            if parent == info_id and msg["header"]["msg_type"] == "kernel_info_reply":
                conn.close()
                return seen

    return asyncio.run(asyncio.wait_for(talk(), 180))


def home_of(hub, user: str) -> Path:
    return Path(hub.settings["isolation"]["home_root"]) / hub.unix_name(user)


@pytest.mark.skipif(not IS_ROOT, reason="reads the learners' homes to see what ran (root)")
def test_lesson_app_kernel_refuses_execute_requests(hub, login):
    """Does an execute_request sent over a lesson app's websocket run nothing for a learner on the
    app, while the same request runs for an advanced learner (so that the check can fail)?"""
    for user, should_run in ((OTHER, True), (LEARNER, False)):
        session = login(user)
        start_server(session, hub, user)
        if should_run:  # the control: any kernel of an advanced learner's server (cheaper than Voilà)
            xsrf = session.cookies.get("_xsrf", path=f"/user/{user}/") or ""
            created = session.post(f"{hub.url}/user/{user}/api/kernels", json={"name": "python3"},
                                   headers={"X-XSRFToken": xsrf}, timeout=120)
            assert created.status_code == 201, created.text
            kernel_id = created.json()["id"]
        else:
            kernel_id = voila_kernel(session, hub, user)
        marker = f"ran-{uuid.uuid4().hex}.txt"
        code = f"open({str(home_of(hub, user) / marker)!r}, 'w').write('chạy được')"
        replies = send_execute(hub, session, user, kernel_id, code)
        ran = (home_of(hub, user) / marker).exists()
        assert ran is should_run, (user, replies)
        assert ("execute_reply" in replies) is should_run, (user, replies)


def test_learner_home_is_reachable_by_its_owner_only(hub, login):
    """Can another learner open a learner's home or lesson app? (The hub guards servers; the
    extension must not open a way around it.)"""
    owner = login(LEARNER)
    start_server(owner, hub, LEARNER)
    mine = owner.get(f"{hub.url}/user/{LEARNER}/kns/home", timeout=120)
    assert mine.status_code == 200 and t("learner.home.heading") in mine.text
    other = login(OTHER)
    for path in ("kns/home", f"voila/render/KhoaHoc/{lesson_one().notebook}"):
        r = other.get(f"{hub.url}/user/{LEARNER}/{path}", timeout=120)
        assert t("learner.home.heading") not in r.text and "kns-course" not in r.text
        assert r.status_code in (403, 404) or "/hub/" in r.url, (path, r.status_code, r.url)
    anonymous = requests.get(f"{hub.url}/user/{LEARNER}/kns/home", timeout=60)
    assert "kns-course" not in anonymous.text and "/hub/login" in anonymous.url


def test_learner_app_accepts_no_notebook_of_the_learners_making(hub, login):
    """Can a learner on the app put a notebook with code in their home (to have Voilà run it)?
    An advanced learner can (the control)."""
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "c1", "metadata": {}, "source": "print(1)", "outputs": [],
         "execution_count": None}]}
    for user, allowed in ((OTHER, True), (LEARNER, False)):
        session = login(user)
        start_server(session, hub, user)
        xsrf = session.cookies.get("_xsrf", path=f"/user/{user}/") or ""
        r = session.put(f"{hub.url}/user/{user}/api/contents/cua-toi.ipynb",
                        data=json.dumps({"type": "notebook", "content": notebook}),
                        headers={"X-XSRFToken": xsrf}, timeout=120)
        assert (r.status_code in (200, 201)) is allowed, (user, r.status_code, r.text[:200])
        if not allowed:
            assert r.json()["message"] == t("learner.app.read_only")
            upload = session.post(f"{hub.url}/user/{user}/api/contents/KhoaHoc",
                                  json={"type": "notebook"}, headers={"X-XSRFToken": xsrf}, timeout=120)
            assert upload.status_code == 403
