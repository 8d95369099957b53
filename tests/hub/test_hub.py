"""The real hub over HTTP: logging in, activation, spawning, and what users must not reach."""

from __future__ import annotations

import json
import os
import pwd
import re
import stat
import subprocess
from pathlib import Path

import pytest

from kynangso.accounts.activation import issue_codes
from kynangso.hub.harness import IS_ROOT, api_token, log_in, new_session, open_lab
from kynangso.run import activate

pytestmark = pytest.mark.hub


def test_login_page_is_vietnamese(hub):
    """Does the login page speak Vietnamese and offer first-login activation?"""
    page = new_session().get(f"{hub.url}/hub/login", timeout=30)
    assert page.status_code == 200
    assert 'lang="vi"' in page.text
    assert "Đăng nhập" in page.text
    assert "/hub/activate" in page.text


def test_learner_logs_in_and_reaches_jupyterlab(hub, login):
    """Does a learner log in, get a server and reach a Vietnamese, trimmed JupyterLab?"""
    session = login("hocvien01")
    lab = open_lab(hub, session, "hocvien01")
    assert "/user/hocvien01/" in lab.url
    # The trimmed page config: no news pop-up, no terminal, no nbgrader instructor tools.
    assert "@jupyterlab/apputils-extension:announcements" in lab.text
    assert "@jupyter/nbgrader:formgrader" in lab.text
    # No build check (it ran `yarn config` in node at each page) and an extension manager that
    # never asks PyPI: users cannot build or install into the shared environment.
    config = json.loads(re.search(r'id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  lab.text, re.S).group(1))
    assert config["buildCheck"] is False and config["buildAvailable"] is False, config
    assert config["extensionManager"]["name"] == "read-only", config["extensionManager"]
    settings = session.get(
        f"{hub.url}/user/hocvien01/lab/api/settings/@jupyterlab/translation-extension:plugin", timeout=30
    )
    assert settings.status_code == 200
    assert "vi_VN" in settings.text
    pack = session.get(f"{hub.url}/user/hocvien01/lab/api/translations/vi_VN", timeout=30)
    assert pack.status_code == 200 and pack.json()["data"], "Vietnamese language pack missing"
    courses = session.get(f"{hub.url}/user/hocvien01/api/contents/KhoaHoc", timeout=30)
    assert courses.status_code == 200 and courses.json()["type"] == "directory"


def test_services_start_side_by_side(hub):
    """Does the hub start every managed service before waiting for the first to answer
    (kynangso.hub.app)? JupyterHub alone starts the next service only once the previous one
    answers, so the progress service would be up before the signing service was started."""
    lines = hub.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if "Starting managed service" in line]
    up = next(i for i, line in enumerate(lines) if "progress service on http" in line)
    assert len(starts) >= 6, starts
    assert max(starts) < up, "a service was started only after the progress service answered"


def test_wrong_password_fails_in_vietnamese(hub):
    """Is a wrong password refused with a Vietnamese message and no session?"""
    r = log_in(hub, "hocvien03", "not-the-password")
    assert r.status_code == 403
    assert "không đúng" in r.text
    assert "jupyterhub-session-id" not in r.session.cookies or r.session.get(
        f"{hub.url}/hub/home", allow_redirects=False, timeout=30
    ).status_code == 302


def test_repeated_wrong_passwords_lock_the_account(hub):
    """After the allowed failures, is even the right password refused for a while?
    (An account no other test uses: it stays locked for the rest of the session.)"""
    for _ in range(3):
        assert log_in(hub, "hocvien04", "wrong-password-123").status_code == 403
    locked = log_in(hub, "hocvien04")
    assert locked.status_code == 403
    assert "tạm khóa" in locked.text
    # The other accounts are not affected.
    assert log_in(hub, "nhansu01").status_code == 302


def test_learner_cannot_open_another_learners_server(hub, login):
    """Does a learner get 403 on another learner's running server?"""
    other = login("hocvien02")
    open_lab(hub, other, "hocvien02")
    me = login("hocvien01")
    for path in ("lab", "api/contents/", "api/kernels"):
        r = me.get(f"{hub.url}/user/hocvien02/{path}", timeout=60)
        assert r.status_code == 403, (path, r.status_code, r.url)


def test_learner_gets_403_on_admin_api(hub, login):
    """Does a learner's own token stop at the admin API and admin page?"""
    session = login("hocvien03")
    token = api_token(hub, session, "hocvien03")
    headers = {"Authorization": f"token {token}"}
    assert new_session().get(f"{hub.url}/hub/api/users", headers=headers, timeout=30).status_code == 403
    assert new_session().post(f"{hub.url}/hub/api/users/hocvien02/server", headers=headers,
                         timeout=30).status_code in (403, 404)
    assert new_session().get(f"{hub.url}/hub/api/users/hocvien03", headers=headers, timeout=30).status_code == 200
    assert session.get(f"{hub.url}/hub/admin", timeout=30).status_code == 403


def test_hr_is_not_an_admin(hub, login):
    """Is an HR account an ordinary (non-admin) user of the hub?"""
    session = login("nhansu01")
    token = api_token(hub, session, "nhansu01")
    me = new_session().get(f"{hub.url}/hub/api/user", headers={"Authorization": f"token {token}"}, timeout=30)
    assert me.status_code == 200
    assert me.json()["admin"] is False
    assert "nhansu" in me.json()["groups"]
    assert session.get(f"{hub.url}/hub/admin", timeout=30).status_code == 403


def test_activation_code_works_once_and_needs_a_good_password(hub):
    """Is a short password refused, and a used code useless the second time?"""
    from kynangso import db
    from kynangso.models import Department, Staff

    with db.session_scope(hub.settings.database_url) as s:
        dept = s.query(Department).first()
        s.add(Staff(code="HV09", username="hocvien09", full_name="Võ Thị Mai", position="Văn thư",
                    department=dept, email=None, role="hocvien"))
    code = issue_codes(hub.settings.database_url, ["hocvien09"], days=1)["hocvien09"]
    short = activate(hub.url, "hocvien09", code, "ngan")
    assert short.status_code == 400 and "ít nhất" in short.text
    common = activate(hub.url, "hocvien09", code, "password123")
    assert common.status_code == 400 and "phổ biến" in common.text
    wrong = activate(hub.url, "hocvien09", "AAAA-BBBB-CCCC", "MatKhau@Moi2026")
    assert wrong.status_code == 403
    ok = activate(hub.url, "hocvien09", code, "MatKhau@Moi2026")
    assert ok.status_code == 200
    again = activate(hub.url, "hocvien09", code, "MatKhau@Khac2026")
    assert again.status_code == 403, "a used code must not work twice"
    assert log_in(hub, "hocvien09", "MatKhau@Moi2026").status_code == 302
    assert log_in(hub, "hocvien09", "MatKhau@Khac2026").status_code == 403


def test_new_code_resets_a_forgotten_password(hub):
    """Can HR reset a forgotten password by issuing a new code, and does the old password stop working?"""
    code = issue_codes(hub.settings.database_url, ["hocvien02"], days=1)["hocvien02"]
    assert activate(hub.url, "hocvien02", code, "MoiHon@2026x").status_code == 200
    try:
        assert log_in(hub, "hocvien02", "MoiHon@2026x").status_code == 302
        assert log_in(hub, "hocvien02", hub.passwords["hocvien02"]).status_code == 403
    finally:
        code = issue_codes(hub.settings.database_url, ["hocvien02"], days=1)["hocvien02"]
        assert activate(hub.url, "hocvien02", code, hub.passwords["hocvien02"]).status_code == 200


def test_deactivated_staff_cannot_log_in(hub):
    """Is a member of staff who left refused at login, with their account kept?"""
    from kynangso import db
    from kynangso.models import Staff

    assert log_in(hub, "hocvien03").status_code == 302
    with db.session_scope(hub.settings.database_url) as s:
        s.query(Staff).filter_by(username="hocvien03").one().active = False
    try:
        assert log_in(hub, "hocvien03").status_code == 403
    finally:
        with db.session_scope(hub.settings.database_url) as s:
            s.query(Staff).filter_by(username="hocvien03").one().active = True


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="per-user Unix accounts need root")
def test_learners_run_as_different_unix_users_with_private_homes(hub, login):
    """Do two learners' servers run as two Unix accounts that cannot read each other's home?"""
    for name in ("hocvien01", "hocvien02"):
        open_lab(hub, login(name), name)
    uids = {}
    for name in ("hocvien01", "hocvien02"):
        entry = pwd.getpwnam(hub.unix_name(name))
        uids[name] = server_uids(hub, name)
        assert uids[name] == {entry.pw_uid}, f"{name}'s server runs as {uids[name]}"
        home = Path(entry.pw_dir)
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        assert home.stat().st_uid == entry.pw_uid
    assert uids["hocvien01"] != uids["hocvien02"]

    b_home = Path(pwd.getpwnam(hub.unix_name("hocvien02")).pw_dir)
    secret = b_home / "KhoaHoc" / "bai-lam.txt"
    run_as(hub.unix_name("hocvien02"), f"echo bí mật > {secret}")
    attempt = run_as(hub.unix_name("hocvien01"), f"cat {secret}; ls {b_home}", check=False)
    assert attempt.returncode != 0
    assert "Permission denied" in attempt.stderr
    assert "bí mật" not in attempt.stdout


def server_uids(hub, username: str) -> set[int]:
    """Uids of the processes whose environment says they serve `username` for this hub (other
    hubs on the machine, e.g. another test session's, have learners of the same name)."""
    api = f"JUPYTERHUB_API_URL=http://127.0.0.1:{hub.settings['hub']['api_port']}/".encode()
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if (b"kns-singleuser" in cmdline and f"JUPYTERHUB_USER={username}".encode() in environ
                and any(var.startswith(api) for var in environ)):
            found.add(os.stat(f"/proc/{pid}").st_uid)
    return found


@pytest.mark.root
@pytest.mark.skipif(not IS_ROOT, reason="per-user Unix accounts need root")
def test_the_lesson_kernel_is_started_ahead_once_the_home_is_shown(hub, login):
    """Does a learner-app server start its lesson kernel ahead (kynangso.learner.pool) when the
    learner's home is shown, and not with the server? A server started to hand out an exam, or
    beside twenty others as a session begins, must not spend seconds of CPU on a lesson kernel
    nobody asked for."""
    import time

    learner = "hocvien08"  # on the learner app, and no other test opens its home
    session = login(learner)
    token = {"Authorization": f"token {api_token(hub, session, learner)}"}
    r = session.post(f"{hub.url}/hub/api/users/{learner}/server", headers=token, timeout=120)
    assert r.status_code in (201, 202), r.text  # the server only: no page of it is opened
    deadline = time.monotonic() + 180  # a spawn on a busy 2-core machine
    while time.monotonic() < deadline:
        user = session.get(f"{hub.url}/hub/api/users/{learner}", headers=token, timeout=60).json()
        if user.get("servers", {}).get("", {}).get("ready"):
            break
        time.sleep(1)
    uid = pwd.getpwnam(hub.unix_name(learner)).pw_uid

    def kernels() -> list[int]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if (os.stat(f"/proc/{pid}").st_uid == uid
                        and b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()):
                    found.append(int(pid))
            except OSError:
                continue
        return found

    # Before this change the kernel started 2 s after the server; 10 s leaves it time to show.
    time.sleep(10)
    assert kernels() == [], "a lesson kernel was started before the learner's home was shown"
    for _ in range(2):  # shown twice: still one kernel waiting
        home = session.get(f"{hub.url}/user/{learner}/kns/home", timeout=120)
        assert home.status_code == 200 and "kns-home" in home.text, home.status_code
    deadline = time.monotonic() + 180  # a kernel start on a busy 2-core machine
    while not kernels() and time.monotonic() < deadline:
        time.sleep(1)
    assert len(kernels()) == 1, kernels()


def run_as(unix_name: str, script: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", unix_name, "--", "/bin/sh", "-c", script],
        capture_output=True, text=True, check=check,
    )


def test_pages_are_sent_gzip_compressed(hub, login):
    """Are the hub's login page, a learner's home and a lesson's app page sent gzip-compressed
    (compress_response on the hub and the users' servers; the proxy passes the bytes on)?"""
    import time

    from courses.catalogue import load_catalogue
    from kynangso.hub.harness import cookie

    gzip = {"Accept-Encoding": "gzip"}
    page = new_session().get(f"{hub.url}/hub/login", headers=gzip, timeout=30)
    assert page.status_code == 200 and page.headers.get("Content-Encoding") == "gzip", page.headers

    learner = "hocvien07"  # on the learner app (tests/conftest.py)
    session = login(learner)
    session.get(f"{hub.url}/hub/spawn/{learner}", timeout=120)
    deadline = time.monotonic() + 180  # a spawn on a busy 2-core machine
    while True:
        home = session.get(f"{hub.url}/user/{learner}/kns/home", headers=gzip, timeout=120)
        if (home.status_code == 200 and "kns-home" in home.text) or time.monotonic() > deadline:
            break
        if home.status_code == 424:  # not running (a stop was under way): ask again
            session.get(f"{hub.url}/hub/spawn/{learner}", timeout=120)
        time.sleep(1)
    assert home.status_code == 200 and "kns-home" in home.text, home.status_code
    assert home.headers.get("Content-Encoding") == "gzip", home.headers

    lesson = load_catalogue().course("01-van-ban-dien-tu").lessons[0]
    app = session.get(f"{hub.url}/user/{learner}/voila/render/KhoaHoc/{lesson.notebook}", headers=gzip,
                      timeout=300)
    assert app.status_code == 200 and "kernelId" in app.text, app.status_code
    assert app.headers.get("Content-Encoding") == "gzip", app.headers
    # Compressed, then streamed piece by piece: the whole page still arrived (the script that
    # starts the widgets comes last).
    assert "</html>" in app.text
    # The widget managers' files are named by content hash: cached for a year, where Voilà
    # alone says "no-cache" (kynangso.learner.CacheHashedAssets).
    config = re.search(r'id="jupyter-config-data" type="application/json">(.*?)</script>', app.text, re.S)
    entries = json.loads(config.group(1))["federated_extensions"]
    assert entries, "no labextension in the lesson page's config"
    asset = session.get(f"{hub.url}/user/{learner}/voila/labextensions/{entries[0]['name']}/{entries[0]['load']}",
                        headers=gzip, timeout=60)
    assert asset.status_code == 200 and asset.headers.get("Content-Encoding") == "gzip", asset.headers
    assert "max-age=31536000" in asset.headers.get("Cache-Control", ""), asset.headers
    # voila.js and its chunks: from the versioned copy the page points at, cached for a year
    # (Voilà's /voila/static sends no Cache-Control); nothing outside Voilà's folders through it.
    main = re.search(r'<script src="(/user/[^"]*/voila/kns-static/[0-9a-f]{16})/voila\.js"', app.text)
    assert main, "voila.js is not loaded from the versioned copy"
    js = session.get(f"{hub.url}{main.group(1)}/voila.js", headers=gzip, timeout=60)
    assert js.status_code == 200 and "immutable" in js.headers.get("Cache-Control", ""), js.headers
    probe = session.get(f"{hub.url}{main.group(1)}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", timeout=60)
    assert probe.status_code in (403, 404) and "root:" not in probe.text, probe.status_code
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', app.text)
    if kernel:  # as the page does when it is closed: Voilà stops the lesson's kernel
        session.post(f"{hub.url}/user/{learner}/voila/api/shutdown/{kernel.group(1)}", timeout=60,
                     headers={"X-XSRFToken": cookie(session, "_xsrf", f"/user/{learner}/") or ""})


@pytest.mark.skipif(not IS_ROOT, reason="per-user Unix accounts need root")
def test_a_stopped_server_leaves_no_temporary_folder(hub, login):
    """Does a learner's server remove the Voilà template folder it makes in /tmp at each start
    (kynangso.learner) when the hub stops it, instead of leaving one per start?"""
    import time

    def folders() -> set[Path]:
        return set(Path("/tmp").glob("kns-voila-*"))

    session = login("hocvien02")
    token = api_token(hub, session, "hocvien02")
    new_session().delete(f"{hub.url}/hub/api/users/hocvien02/server", timeout=60,
                         headers={"Authorization": f"token {token}"})
    before = folders()
    open_lab(hub, session, "hocvien02")  # (its Unix account is made at the first start)
    uid = pwd.getpwnam(hub.unix_name("hocvien02")).pw_uid
    made = {p for p in folders() - before if p.stat().st_uid == uid}
    assert made, "the server made its template folder"
    r = new_session().delete(f"{hub.url}/hub/api/users/hocvien02/server", timeout=60,
                             headers={"Authorization": f"token {token}"})
    assert r.status_code in (202, 204), r.text
    deadline = time.monotonic() + 120  # a ceiling for a busy machine, not an expected time
    while made & folders() and time.monotonic() < deadline:
        time.sleep(1)
    assert not made & folders()
