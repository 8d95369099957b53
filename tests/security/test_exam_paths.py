"""Issue 13, item 5 and the exam desk's part of item 2: the grader account attacks the exam desk.

The attacker controls the grader account (say, learner code that once ran as it, or an
instructor's formgrader kernel). It plants links in the exchange and the course folder, and
waits for the desk (a more privileged or differently privileged process) to follow them:

- a feedback file that is a link to a secret the desk can read: a learner would receive it;
- an `outbound/<exam>` link to another folder: a learner would fetch its files;
- a dangling `gradebook.db` link: opening a window would create a file at its target.

And the desk itself runs as its own account, neither root nor the grader, and cannot read the
course sources or the gradebook. Each test fails if the attack succeeds. Real hub, real accounts
(root only), nothing mocked.

The attacks run on the security tests' shared exam hub (`exam_hub`, tests/security/conftest.py),
which the other exam attacks use with exams of their own: this module releases an exam nobody
else there uses (RELEASED, a copy of tong-hop's notebook), and after each attack closes the windows
it opened, removes the links it planted and puts the course's gradebook back, so that nothing it
leaves changes another module's result.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import re
import secrets
import sqlite3
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from nbgrader.utils import notebook_hash

from kynangso.hub.harness import IS_ROOT, api_token, log_in

pytestmark = [pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="the attacks need real accounts (root)")]

COURSE = "kiem-tra-nang-luc"
# Released in formgrader; the other names are the attacker's. On the shared exam hub the course's
# exams are the other modules' (tong-hop: test_exam_mode.py; the four others:
# test_answer_oracle.py), so this module's exam is a copy of tong-hop's notebook under a name of
# its own: its windows, submissions and feedback are nobody else's.
RELEASED = "duong-dan"
COPIED_FROM = "tong-hop"
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def paths_hub(exam_hub):
    """The shared exam hub (EXAM_HUB_STAFF: giangvien01, hocvien01), with RELEASED released."""
    hub = SimpleNamespace(url=exam_hub.url, settings=exam_hub.settings, passwords=exam_hub.passwords,
                          prefix=exam_hub.settings["isolation"]["user_prefix"], planted=[])
    hub.teacher = log_in(hub, "giangvien01").session
    learner = log_in(hub, "hocvien01").session
    hub.l_token = api_token(hub, learner, "hocvien01")
    source = exams_root(hub) / COURSE / "source"
    as_grader(hub, f"mkdir '{source / RELEASED}' && "
                   f"cp '{source / COPIED_FROM / COPIED_FROM}.ipynb' '{source / RELEASED / RELEASED}.ipynb'")
    # Released by the instructor in formgrader (nbgrader's own release, as the grader).
    t_token = api_token(hub, hub.teacher, "giangvien01")
    for step in ("assign", "release"):
        r = requests.post(f"{hub.url}/services/{COURSE}/formgrader/api/assignment/{RELEASED}/{step}",
                          headers={"Authorization": f"token {t_token}"}, timeout=600)
        assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
    yield hub
    subprocess.run(["rm", "-rf", f"/tmp/{hub.prefix}attack"], check=False)


@pytest.fixture
def xhub(paths_hub):
    """The hub for one attack; afterwards, what the attack left that another module on the shared
    hub could meet is undone: RELEASED's windows are closed (a learner with an attempt in an open
    window is in exam mode: kynangso.exams.windows.in_exam) and the planted links are removed."""
    hub = paths_hub
    yield hub
    close_windows(hub, RELEASED)
    for link in hub.planted:
        as_grader(hub, f"if [ -L '{link}' ]; then rm -f '{link}'; fi")
    hub.planted.clear()


# --- helpers --------------------------------------------------------------------------------

def grader(hub) -> str:
    return hub.settings["exams"]["grader_account"]


def exams_root(hub) -> Path:
    return Path(hub.settings["exams"]["root"])


def exchange(hub) -> Path:
    """The course's folder in nbgrader's exchange, wherever this version of the desk keeps it."""
    from kynangso.exams.course import places

    return places(hub.settings, True).exchange / COURSE


def as_grader(hub, script: str) -> None:
    """Run a shell script as the grader account: the attacker."""
    r = subprocess.run(["runuser", "-u", grader(hub), "--", "sh", "-ec", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def desk_pid(hub) -> int:
    """The exam desk of this hub: the process serving its port (other hubs run beside it)."""
    url = f"JUPYTERHUB_SERVICE_URL=http://127.0.0.1:{hub.settings['services']['exams_port']}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            if b"kynangso.exams.service" in cmd and url in (entry / "environ").read_bytes().split(b"\0"):
                return int(entry.name)
        except OSError:
            continue
    raise AssertionError("no exam desk process")


def desk_account(hub) -> pwd.struct_passwd:
    return pwd.getpwuid(os.stat(f"/proc/{desk_pid(hub)}").st_uid)


def attack_dir(hub, name: str, owner: pwd.struct_passwd | None = None, mode: int = 0o700) -> Path:
    """A folder outside the exams root that the attacker cannot enter (the victim's files)."""
    base = Path(f"/tmp/{hub.prefix}attack")
    base.mkdir(mode=0o755, exist_ok=True)
    folder = base / name
    folder.mkdir(mode=mode)
    if owner:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    os.chmod(folder, mode)
    return folder


def secret_file(folder: Path, owner: pwd.struct_passwd) -> tuple[Path, str]:
    """A file only the desk's account can read, with a recognisable secret in it."""
    secret = f"KNS-SECRET-{secrets.token_hex(8)}"
    path = folder / "secret.txt"
    path.write_text(secret)
    os.chown(path, owner.pw_uid, owner.pw_gid)
    os.chmod(path, 0o600)
    return path, secret


def open_window(hub, exam: str) -> requests.Response:
    """The instructor opens a window on the desk's page."""
    page = hub.teacher.get(f"{hub.url}/services/exams/", timeout=60)
    assert page.status_code == 200, page.text[:500]
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    return hub.teacher.post(f"{hub.url}/services/exams/", timeout=60, data={
        "_xsrf": xsrf, "exam": exam, "group": "hocvien", "minutes": "30",
        "late_policy": "refuse", "action": "open"})


def close_windows(hub, exam: str) -> None:
    """The instructor closes the open windows of `exam` on the desk's page (none open: the page
    says so)."""
    page = hub.teacher.get(f"{hub.url}/services/exams/", timeout=60)
    assert page.status_code == 200, page.text[:500]
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = hub.teacher.post(f"{hub.url}/services/exams/", timeout=60,
                         data={"_xsrf": xsrf, "exam": exam, "action": "close"})
    assert r.status_code == 200, r.text[:500]


def desk(hub, method: str, path: str, **kw) -> requests.Response:
    """The learner calls the desk's API with a token of their own."""
    return requests.request(method, f"{hub.url}/services/exams/api/exams/{path}", timeout=120,
                            headers={"Authorization": f"token {hub.l_token}"}, **kw)


# --- the attacks ----------------------------------------------------------------------------

def test_feedback_link_to_a_secret_reaches_no_learner(xhub):
    """Attack: the grader account replaces a learner's feedback file by a link to a file that
    only the desk's account can read; the learner fetches feedback and would get the secret."""
    hub, exam = xhub, RELEASED
    victim = desk_account(hub)
    target, secret = secret_file(attack_dir(hub, "feedback", victim), victim)
    assert "Đã mở bài thi" in open_window(hub, exam).text
    r = desk(hub, "POST", f"{exam}/submissions", json={"files": [
        {"path": f"{exam}.ipynb", "data": base64.b64encode(NOTEBOOK.encode()).decode()}]})
    assert r.status_code == 200, r.text
    # The grader account reads the submission's secret (it grades it) and plants the link.
    inbound = exchange(hub) / "inbound"
    sub = next(p for p in inbound.iterdir() if p.name.startswith(f"hocvien01+{exam}+"))
    key = (sub / "submission_secret.txt").read_text()
    html = exchange(hub) / "feedback" / f"{notebook_hash(secret=key, notebook_id=exam)}.html"
    hub.planted.append(html)
    as_grader(hub, f"mkdir -p '{html.parent}' && ln -s '{target}' '{html}'")
    r = desk(hub, "GET", f"{exam}/feedback")
    assert secret not in r.text, "the desk followed the grader's link and sent the secret"
    assert r.status_code == 200 and r.json()["feedback"] == [], r.text[:300]


def test_outbound_link_to_another_folder_is_not_released(xhub):
    """Attack: the grader account makes `outbound/<exam>` a link to a folder the desk can read
    (its own files); a learner fetching that exam would receive them."""
    hub, exam = xhub, "out-link"
    victim = desk_account(hub)
    folder = attack_dir(hub, "outbound", victim)
    _path, secret = secret_file(folder, victim)
    (folder / f"{exam}.ipynb").write_text(NOTEBOOK)
    hub.planted.append(exchange(hub) / "outbound" / exam)
    as_grader(hub, f"mkdir -p '{exchange(hub) / 'outbound'}' && ln -s '{folder}' "
                   f"'{exchange(hub) / 'outbound' / exam}'")
    open_window(hub, exam)  # whether the desk even lists it as released does not matter
    r = desk(hub, "GET", exam)
    assert secret not in r.text, "the desk followed the outbound link and released its files"
    assert r.status_code != 200, r.text[:300]


def _due_date_done(hub, exam: str | None) -> bool:
    """Whether the due date of `exam` (None: of every exam) was handled (the grading worker's
    job rows, if any)."""
    try:
        with sqlite3.connect(hub.settings.database_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute("SELECT status FROM exam_jobs WHERE exam = ? OR ? IS NULL",
                                (exam, exam)).fetchall()
    except sqlite3.Error:
        return True  # no job table: the due date was written at once, by the desk itself
    return (bool(rows) or exam is None) and all(status in ("done", "failed") for (status,) in rows)


def test_dangling_gradebook_link_creates_nothing(xhub):
    """Attack: the grader account makes `gradebook.db` a dangling link before a window is
    opened; writing the due date would create a file at the link's target."""
    hub, exam = xhub, RELEASED
    target = attack_dir(hub, "gradebook", mode=0o1777) / "planted.db"
    gradebook = exams_root(hub) / COURSE / "gradebook.db"
    # The windows the tests before opened queue due-date jobs; one still running would open
    # the gradebook again between the removal and the link (seen on a loaded machine).
    deadline = time.monotonic() + 120
    while not _due_date_done(hub, None) and time.monotonic() < deadline:
        time.sleep(1)
    # The course's gradebook (the other modules' results on the shared hub) is kept aside, not
    # removed, and put back whatever happens.
    aside = gradebook.with_name("gradebook.db.kns-aside")
    as_grader(hub, f"mv '{gradebook}' '{aside}' && ln -s '{target}' '{gradebook}'")
    try:
        # A window for another group (the learners' one was closed after the attack before:
        # either way the due date is written).
        page = hub.teacher.get(f"{hub.url}/services/exams/", timeout=60)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        hub.teacher.post(f"{hub.url}/services/exams/", timeout=60, data={
            "_xsrf": xsrf, "exam": exam, "group": "giangvien", "minutes": "30",
            "late_policy": "refuse", "action": "open"})
        deadline = time.monotonic() + 120  # a busy machine: the grading worker may take its time
        while not (target.exists() or _due_date_done(hub, exam)) and time.monotonic() < deadline:
            time.sleep(1)
        assert not target.exists(), "a file was created at the gradebook link's target"
    finally:
        as_grader(hub, f"rm -f '{gradebook}' && mv '{aside}' '{gradebook}'")


def test_desk_runs_as_its_own_account_without_the_course(xhub):
    """Attack surface: a desk running as root (or as the grader) can be turned against root (or
    reads the answer keys). The desk's account is neither, and cannot read the course sources
    or the gradebook; it can still write inbound."""
    hub = xhub
    account = desk_account(hub)
    assert account.pw_uid != 0, "the exam desk runs as root"
    assert account.pw_name != grader(hub), "the exam desk runs as the grader account"
    course = exams_root(hub) / COURSE

    def as_desk(*cmd: str) -> int:
        return subprocess.run(["runuser", "-u", account.pw_name, "--", *cmd],
                              capture_output=True, timeout=60).returncode

    source = next((course / "source").rglob("*.ipynb"))
    assert as_desk("cat", str(source)) != 0, "the desk's account reads the exam sources"
    assert as_desk("ls", str(course)) != 0, "the desk's account lists the course folder"
    assert as_desk("test", "-w", str(exchange(hub) / "inbound")) == 0, "the desk cannot write inbound"


@pytest.fixture
def exam_settings(tmp_path):
    """Settings of a hub that was never started: random account prefix, exam root in /tmp."""
    from kynangso.hub.harness import remove_unix_accounts
    from kynangso.settings import load_settings

    prefix = f"knsy{secrets.token_hex(2)}-"
    settings = load_settings(overrides={
        "state_dir": str(tmp_path / "state"),
        "isolation": {"mode": "auto", "user_prefix": prefix, "home_root": f"/tmp/{prefix}homes"},
        "exams": {"root": f"/tmp/{prefix}exams", "grader_account": f"{prefix}grader"}})
    Path(f"/tmp/{prefix}homes").mkdir()
    yield settings
    remove_unix_accounts(prefix, Path(f"/tmp/{prefix}homes"))
    subprocess.run(["rm", "-rf", f"/tmp/{prefix}exams-exchange", f"/tmp/{prefix}victim"], check=False)


def test_hub_start_follows_no_link_the_grader_planted(exam_settings):
    """Attack: between two hub starts the grader account replaces the exchange by a link to a
    root-only folder and plants links in the course; root's start-up must change nothing
    through them (no chown, no chmod at the links' targets)."""
    from kynangso.exams.course import places, prepare

    source = Path(__file__).resolve().parents[2] / "assessments" / "exams"
    where = prepare(exam_settings, True, source)
    victim = Path(f"/tmp/{exam_settings['isolation']['user_prefix']}victim")
    victim.mkdir(mode=0o700)
    (victim / "key.pem").write_text("KNS-SECRET")
    os.chmod(victim / "key.pem", 0o600)
    user = exam_settings["exams"]["grader_account"]
    r = subprocess.run(["runuser", "-u", user, "--", "sh", "-ec",
                        f"rm -rf '{where.exchange}' && ln -s '{victim}' '{where.exchange}' && "
                        f"ln -s '{victim}' '{where.course}/linked' && "
                        f"ln -s '{victim}/key.pem' '{where.course}/key.pem'"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    prepare(exam_settings, True, source)
    for path, mode in ((victim, 0o700), (victim / "key.pem", 0o600)):
        info = os.stat(path)
        assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (0, 0, mode), path
    assert places(exam_settings, True).exchange.is_symlink()  # left alone, not followed


def test_an_old_exchange_inside_the_root_moves_to_the_share(exam_settings):
    """Upgrade: an install whose exchange was inside the exam root gets it moved to the
    desk's share (by the grader account), and formgrader's config follows."""
    from kynangso.exams.course import prepare

    source = Path(__file__).resolve().parents[2] / "assessments" / "exams"
    where = prepare(exam_settings, True, source)
    old = where.root / "exchange"
    config = where.course / "nbgrader_config.py"
    user = exam_settings["exams"]["grader_account"]
    r = subprocess.run(["runuser", "-u", user, "--", "sh", "-ec",
                        f"mv '{where.exchange}' '{old}' && mkdir -p '{old}/c/inbound/x' && "
                        f"sed -i 's|{where.exchange}|{old}|' '{config}'"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert repr(str(old)) in config.read_text()
    prepare(exam_settings, True, source)
    assert not old.exists() and (where.exchange / "c" / "inbound" / "x").is_dir()
    assert repr(str(where.exchange)) in config.read_text()
