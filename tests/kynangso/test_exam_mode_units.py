"""Exam mode for learners who run code, without a hub: who is in an exam, the server's
environment, the account's leftover processes, the fetch that sets the old folder aside, the
Voilà pages an exam-mode server serves, and the Assignment List's fetch answer."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.abc import ExchangeError
from tornado import web
from traitlets.config import Config

from kynangso import db
from kynangso.exams import exchange, windows
from kynangso.exams.labext import _fetch_says_why
from kynangso.hub.landing import LEARNER_HOME, learner_env, runs_code
from kynangso.hub.spawner import kill_account_processes
from kynangso.learner.exam import (
    ALLOWED,
    ExamGate,
    ExamState,
    RefusedHandler,
    ToExamHandler,
    allowed,
)

T0 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
HOME = "/home/kns-hocvien01"
PREFIX = "/opt/kynangso/venv"


@pytest.fixture
def url(tmp_path):
    u = f"sqlite:///{tmp_path / 'kns.sqlite'}"
    db.upgrade(u)
    return u


def user(*groups, admin=False):
    return SimpleNamespace(groups=[SimpleNamespace(name=g) for g in groups], admin=admin)


# 1. windows.in_exam / windows.fetched_at

def test_in_exam_while_the_window_of_an_attempt_is_open_submitted_or_not(url):
    """Without it, a learner who runs code would get JupyterLab back right after a first
    submission (compute the answers, submit again), or exam mode would hit everyone."""
    w = windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    windows.record_fetch(url, w, "an", T0 + dt.timedelta(minutes=1))
    windows.record_fetch(url, w, "binh", T0 + dt.timedelta(minutes=1))
    windows.record_submission(url, w, "binh", T0 + dt.timedelta(minutes=5), late=False)
    during = T0 + dt.timedelta(minutes=6)
    assert windows.in_exam(url, "an", during)
    assert windows.in_exam(url, "binh", during)  # submitted: still in exam mode
    assert not windows.in_exam(url, "chi", during)  # no attempt (another learner's do not count)
    after = T0 + dt.timedelta(minutes=30)
    assert not windows.in_exam(url, "an", after) and not windows.in_exam(url, "binh", after)


def test_in_exam_ends_when_the_window_is_closed_early(url):
    """Without it, closing a window by hand would leave its learners locked in exam mode."""
    w = windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    windows.record_fetch(url, w, "an", T0 + dt.timedelta(minutes=1))
    windows.close_window(url, "tong-hop", "gv", at=T0 + dt.timedelta(minutes=10))
    assert windows.in_exam(url, "an", T0 + dt.timedelta(minutes=9))
    assert not windows.in_exam(url, "an", T0 + dt.timedelta(minutes=11))


def test_an_open_window_without_an_attempt_is_no_exam(url):
    """Without it, an exam opened to a group would restrict everyone in it, fetched or not;
    and an attempt in an old window would count in a new one."""
    old = windows.open_window(url, "c", "cu", "hocvien", 30, "refuse", "gv", at=T0 - dt.timedelta(days=1))
    windows.record_fetch(url, old, "an", T0 - dt.timedelta(days=1))
    windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    assert not windows.in_exam(url, "an", T0 + dt.timedelta(minutes=1))


def test_fetched_at_is_the_first_fetch_of_that_window(url):
    """Without it, the desk could not tell a server started before the attempt (not in exam
    mode) from one started after it."""
    w = windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    other = windows.open_window(url, "c", "tong-hop", "phong-kinh-te", 30, "refuse", "gv", at=T0)
    first = T0 + dt.timedelta(minutes=2)
    windows.record_fetch(url, w, "an", first)
    windows.record_fetch(url, w, "an", first + dt.timedelta(minutes=3))  # again: not moved
    at = windows.fetched_at(url, w, "an")
    assert at == first and at.tzinfo is not None  # comparable with the hub's aware times
    assert windows.fetched_at(url, w, "chi") is None
    assert windows.fetched_at(url, other, "an") is None


# 2. learner_env / runs_code

def test_advanced_learner_keeps_lab_outside_exam_mode():
    """Without it, an advanced learner would lose JupyterLab whenever no exam is on."""
    assert learner_env(user("hocvien", "nangcao"), HOME, PREFIX) == {}


def test_exam_mode_env_reads_nothing_the_account_wrote():
    """Without it, an exam-mode server would run the account's ~/.jupyter config, kernel specs,
    .pth files or IPython startup files beside the exam."""
    env = learner_env(user("hocvien", "nangcao"), HOME, PREFIX, exam_mode=True)
    assert env["KNS_LEARNER_APP"] == "1" and env["KNS_EXAM_MODE"] == "1"
    assert env["JUPYTERHUB_DEFAULT_URL"] == LEARNER_HOME
    assert env["PYTHONNOUSERSITE"] == "1"
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        assert env[key].startswith(PREFIX + "/"), key
        assert not env[key].startswith(HOME), key
    assert not env["IPYTHONDIR"].startswith(HOME) and not os.path.exists(env["IPYTHONDIR"])
    assert env["JUPYTER_RUNTIME_DIR"].startswith(HOME + "/")  # the server's own, writable


def test_plain_learner_gets_the_app_without_exam_mode():
    """Without it, a plain learner's server would show the exam-mode notes and refusals, or
    miss the learner-app environment."""
    env = learner_env(user("hocvien"), HOME, PREFIX)
    assert env["KNS_LEARNER_APP"] == "1" and env["JUPYTERHUB_DEFAULT_URL"] == LEARNER_HOME
    assert "KNS_EXAM_MODE" not in env
    assert env["PYTHONNOUSERSITE"] == "1" and env["JUPYTER_CONFIG_DIR"].startswith(PREFIX + "/")


def test_runs_code_is_everyone_off_the_learner_app():
    """Without it, the desk would hand an exam to a JupyterLab server, or restart a plain
    learner's server for nothing."""
    for groups in ({"hocvien", "nangcao"}, {"giangvien"}, {"hocvien", "giangvien"}, {"quantri"}, set()):
        assert runs_code(groups), groups
    assert not runs_code({"hocvien"}) and not runs_code(["hocvien"])


# 3. kill_account_processes

def test_kill_account_processes_refuses_root_and_the_hub():
    """Without it, a bad uid would SIGKILL the hub itself or every root process."""
    for uid in {0, os.getuid()}:
        with pytest.raises(ValueError):
            kill_account_processes(uid)


def _state(pid: int) -> str | None:
    """A process's state letter, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (a throwaway Unix account)")
def test_kill_account_processes_kills_detached_leftovers_only():
    """Without it, a process the learner left running (detached, waiting for the exam's files)
    would survive into the exam; or the kill would reach other accounts' processes."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if not python:
        pytest.skip("no system python3 for the throwaway account")
    name = f"kns-killtest-{secrets.token_hex(4)}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        uid = pwd.getpwnam(name).pw_uid
        code = ("import subprocess\n"
                "p = subprocess.Popen(['sleep', '300'], start_new_session=True,"
                " stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                "print(p.pid, flush=True)\n")
        out = subprocess.run(["runuser", "-u", name, "--", python, "-c", code], cwd="/",
                             check=True, capture_output=True, text=True, timeout=30).stdout
        pid = int(out.split()[0])
        assert _state(pid) not in (None, "Z")  # detached, outliving its parent
        assert kill_account_processes(uid) >= 1
        # SIGKILL is delivered before kill() returns to a live process; allow for /proc lag.
        deadline = time.monotonic() + 5
        while _state(pid) not in (None, "Z") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _state(pid) in (None, "Z")
        assert bystander.poll() is None  # root's own sleep: untouched
    finally:
        bystander.kill()
        bystander.wait()
        subprocess.run(["userdel", name], check=False, capture_output=True)


# 4. DeskFetchAssignment: the old folder set aside

INFO = {"closes_at": "2026-11-26T02:30:00+00:00", "policy_text": "Sau giờ đóng không nhận bài."}


def _fetch(tmp_path, exam: str = "x") -> exchange.DeskFetchAssignment:
    """nbgrader's own construction (AssignmentList.fetch_assignment), into tmp_path."""
    config = Config()
    config.CourseDirectory.course_id = "kns"
    config.CourseDirectory.assignment_id = exam
    config.Exchange.assignment_dir = str(tmp_path)
    return exchange.DeskFetchAssignment(coursedir=CourseDirectory(config=config),
                                        authenticator=Authenticator(config=config), config=config)


def _plant(folder):
    folder.mkdir()
    (folder / "x.ipynb").write_text('{"planted": true}')
    (folder / "x.answers.json").write_text('{"q1": "A"}')
    (folder / "evil.py").write_text("print('pwned')")


def _files(folder) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir()}


def test_set_aside_renames_the_folder_beside_it(tmp_path):
    """Without it, the exam's folder name would still hold the account's own files."""
    _plant(tmp_path / "x")
    aside = exchange._set_aside(tmp_path / "x")
    assert aside.parent == tmp_path and re.fullmatch(r"x\.truoc-thi-\d{8}-\d{6}", aside.name)
    assert not (tmp_path / "x").exists()
    assert _files(aside) == {"x.ipynb": '{"planted": true}', "x.answers.json": '{"q1": "A"}',
                             "evil.py": "print('pwned')"}


def test_fetch_over_an_existing_folder_gives_a_fresh_exam_folder(tmp_path, monkeypatch):
    """Without it, Voilà would render the learner's planted x.ipynb as the exam, or the
    exam's kernel would import their evil.py; and the answers of a first fetch would be lost."""
    calls = []

    def desk(method, path, body=None, timeout=60):
        calls.append((method, path))
        return {"files": [{"path": "x.ipynb", "data": base64.b64encode(b"{}").decode()}], "info": INFO}

    monkeypatch.setattr(exchange, "desk", desk)
    _plant(tmp_path / "x")
    _fetch(tmp_path).start()  # init_dest no longer refuses the existing folder
    assert calls == [("GET", "api/exams/x")]
    fresh = _files(tmp_path / "x")
    assert set(fresh) == {"x.ipynb", exchange.INFO_FILE, "x.answers.json"}
    assert fresh["x.ipynb"] == "{}" and fresh["x.answers.json"] == '{"q1": "A"}'
    assert json.loads(fresh[exchange.INFO_FILE]) == INFO
    asides = [p for p in tmp_path.iterdir() if p.name.startswith("x.truoc-thi-")]
    assert len(asides) == 1
    assert _files(asides[0]) == {"x.ipynb": '{"planted": true}', "x.answers.json": '{"q1": "A"}',
                                 "evil.py": "print('pwned')"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["x", asides[0].name])  # no staging left


def test_a_linked_answers_file_is_not_carried_over(tmp_path, monkeypatch):
    """Without it, a learner could link x.answers.json to a file of the exam and get it copied
    into the fresh folder."""
    monkeypatch.setattr(exchange, "desk", lambda *a, **k: {
        "files": [{"path": "x.ipynb", "data": base64.b64encode(b"{}").decode()}], "info": INFO})
    (tmp_path / "x").mkdir()
    (tmp_path / "secret.txt").write_text("KNS-SECRET")
    (tmp_path / "x" / "x.answers.json").symlink_to(tmp_path / "secret.txt")
    _fetch(tmp_path).start()
    assert set(_files(tmp_path / "x")) == {"x.ipynb", exchange.INFO_FILE}


def test_a_refused_fetch_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    """Without it, a fetch the desk refuses (window closed, not in exam mode yet) would move or
    empty the learner's folder, and leave a staging folder behind."""
    def desk(*args, **kwargs):
        raise ExchangeError("Bài thi «x» hiện không mở cho Anh/Chị.")

    monkeypatch.setattr(exchange, "desk", desk)
    _plant(tmp_path / "x")
    before = _files(tmp_path / "x")
    with pytest.raises(ExchangeError, match="không mở"):
        _fetch(tmp_path).start()
    assert _files(tmp_path / "x") == before
    assert [p.name for p in tmp_path.iterdir()] == ["x"]


# 5. ExamGate on an exam-mode server

EXAM = {"assignment_id": "tong-hop", "course_id": "kns", "notebooks": ["tong-hop"], "open": True,
        "attempt": "in_progress"}


class FakeWebApp:
    settings = {"base_url": "/user/x/"}

    def get_handler_delegate(self, request, target, kwargs):
        return ("delegate", target, kwargs)


def gate(fetched=(), current=None) -> ExamGate:
    state = ExamState()
    state.fetched, state.current = set(fetched), current
    state.checked_at = time.monotonic()  # fresh: no background refresh (no IOLoop here)
    return ExamGate(FakeWebApp(), lambda request, **kw: ("served", request.path), state)


def test_exam_mode_serves_only_the_exam_fetched_by_this_server(monkeypatch):
    """Without it, Voilà would render (run) the learner's lessons or notebooks of their own on
    an exam-mode server, or a notebook they planted in the exam's folder before the fetch."""
    monkeypatch.setenv("KNS_EXAM_MODE", "1")
    g = gate(fetched={"tong-hop"})
    assert g.exam_mode_page("voila/render/tong-hop/tong-hop.ipynb", None) is None
    assert g.exam_mode_page("voila/render/KhoaHoc/c01/bai01.ipynb", None) is RefusedHandler
    g = gate(current=EXAM)
    assert g.exam_mode_page("voila/render/tong-hop/evil.ipynb", EXAM) is ToExamHandler
    assert g.exam_mode_page("voila/render/tong-hop/evil.ipynb", None) is RefusedHandler
    assert g.exam_mode_page("voila/static/x.js", EXAM) is None


def test_the_gate_applies_exam_mode_pages_only_on_an_exam_mode_server(monkeypatch):
    """Without it, routing would serve a lesson on an exam-mode server, or refuse lessons on
    every learner-app server."""
    request = SimpleNamespace(path="/user/x/voila/render/KhoaHoc/c01/bai01.ipynb", method="GET")
    monkeypatch.delenv("KNS_EXAM_MODE", raising=False)
    assert gate()(request)[0] == "served"
    monkeypatch.setenv("KNS_EXAM_MODE", "1")
    kind, target, kwargs = gate(fetched={"tong-hop"})(request)
    assert (kind, target, kwargs["key"]) == ("delegate", RefusedHandler, "learner.app.exam_mode_only")
    exam_page = SimpleNamespace(path="/user/x/voila/render/tong-hop/tong-hop.ipynb", method="GET")
    assert gate(fetched={"tong-hop"}, current=EXAM)(exam_page) == ("served", exam_page.path)
    assert gate(current=EXAM)(exam_page)[1] is ToExamHandler  # not fetched by this server yet


def test_a_dot_dot_path_under_the_exam_folder_is_refused(monkeypatch):
    """Without it, /voila/render/tong-hop/..%2fKhoaHoc/... (or %2e%2e%2f, or a literal ../
    sent as-is) would render a lesson or a notebook of the learner's own on an exam-mode
    server: Voilà runs it."""
    monkeypatch.setenv("KNS_EXAM_MODE", "1")
    for rel in ("voila/render/tong-hop/%2e%2e%2fKhoaHoc%2fc01%2fbai01.ipynb",
                "voila/render/tong-hop/..%2fevil.ipynb", "voila/render/tong-hop/../evil.ipynb"):
        request = SimpleNamespace(path="/user/x/" + rel, method="GET")
        for current in (EXAM, None):  # in progress, or submitted while the window is open
            assert gate(fetched={"tong-hop"}, current=current)(request)[0] != "served", (rel, current)

# 6. ALLOWED

def test_the_servers_own_login_is_allowed_during_an_exam():
    """Without it, a server started during the exam could not complete its OAuth login, and
    the learner could never open the exam; the rest stays refused."""
    assert any(p == r"oauth_callback" for p in ALLOWED)
    assert allowed("oauth_callback", "tong-hop")
    for rel in ("lab", "oauth_callback/x", "oauth_callbackx"):
        assert not allowed(rel, "tong-hop"), rel


# 7. labext: a failed fetch says why

class FakeHandler:
    current_user = "hocvien01"

    def __init__(self, fetched: dict, args: dict | None = None, body: dict | None = None):
        self.args, self.body, self.finished, self.original = args or {}, body, [], []
        self.manager = SimpleNamespace(
            fetch_assignment=lambda course_id, assignment_id: self._fetch(course_id, assignment_id, fetched),
            list_assignments=lambda course_id: [{"course_id": course_id, "assignment_id": "tong-hop"}])
        self.fetches = []

    def _fetch(self, course_id, assignment_id, answer):
        self.fetches.append((course_id, assignment_id))
        return answer

    def get_argument(self, name):
        if name not in self.args:
            raise web.MissingArgumentError(name)
        return self.args[name]

    def get_json_body(self):
        return self.body

    def finish(self, chunk):
        self.finished.append(chunk)

    def post(self, action):
        self.original.append(action)


ARGS = {"course_id": "kns", "assignment_id": "tong-hop"}


def test_a_failed_fetch_answers_with_its_message():
    """Without it, the Assignment List would get the list back and say nothing about why the
    fetch failed (e.g. the server must restart in exam mode)."""
    post = _fetch_says_why(FakeHandler.post)
    h = FakeHandler({"success": False, "value": "thông báo"}, args=ARGS)
    post(h, "fetch")
    assert h.fetches == [("kns", "tong-hop")] and h.original == []
    assert [json.loads(x) for x in h.finished] == [{"success": False, "value": "thông báo"}]


def test_a_successful_fetch_answers_with_the_list():
    """Without it, the Assignment List would not refresh after a fetch (JSON body too)."""
    post = _fetch_says_why(FakeHandler.post)
    h = FakeHandler({"success": True}, body=ARGS)
    post(h, "fetch")
    assert h.fetches == [("kns", "tong-hop")]
    assert [json.loads(x) for x in h.finished] == [[{"course_id": "kns", "assignment_id": "tong-hop"}]]
    other = FakeHandler({"success": True}, args=ARGS)
    post(other, "submit")  # other actions: nbgrader's own
    assert other.original == ["submit"] and other.fetches == [] and other.finished == []


def test_the_fetch_wrapper_needs_a_logged_in_user():
    """Without it, the wrapper would drop nbgrader's web.authenticated check."""
    post = _fetch_says_why(FakeHandler.post)
    h = FakeHandler({"success": True}, args=ARGS)
    h.current_user, h.request = None, SimpleNamespace(method="POST")
    with pytest.raises(web.HTTPError) as err:
        post(h, "fetch")
    assert err.value.status_code == 403 and h.fetches == []

