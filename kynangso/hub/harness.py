"""Drive a real hub from outside, as people do: used by the tests and the benchmarks.

`launch_hub` starts JupyterHub (with configurable-http-proxy) on random loopback
ports with its own state folder and a given staff list, and activates every
account through the hub's activation page. The other helpers log in, start a
server and wait for JupyterLab over HTTP. Nothing here mocks anything.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from kynangso import db
from kynangso.accounts.activation import issue_codes
from kynangso.models import Department, Staff
from kynangso.run import activate, start_hub, stop_hub, wait_for_login_page
from kynangso.settings import Settings, load_settings

IS_ROOT = os.geteuid() == 0

# Ports for test hubs come from below the kernel's ephemeral range (32768-60999 on Linux),
# where kernels, Voilà and every `bind(0)` get theirs: a port picked there is free now but can
# be taken by another process's kernel before the service binds it (seen: the hub waited
# forever on a service whose port a kernel had taken). Each test process (or xdist worker)
# counts through its own block of 1,000.
_PORT_BASE, _PORT_BLOCKS = 20000, 12
_next_port: list[int] = []


def free_port() -> int:
    if not _next_port:
        worker = re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", ""))
        block = int(worker) if worker else os.getpid()
        _next_port.append(_PORT_BASE + (block % _PORT_BLOCKS) * 1000)
    start = _next_port[0] - (_next_port[0] - _PORT_BASE) % 1000
    for _ in range(1000):
        port = _next_port[0]
        _next_port[0] = start + (port + 1 - start) % 1000
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in this test process's block")


def add_staff(settings: Settings, staff: dict) -> None:
    with db.session_scope(settings.database_url) as s:
        dept = Department(name="Văn phòng HĐND và UBND")
        s.add(dept)
        for i, (username, (name, role, _pw)) in enumerate(staff.items()):
            s.add(Staff(code=username.upper(), username=username, full_name=name,
                        position="Chuyên viên", department=dept, email=f"cb{i}@example.vn", role=role))


@dataclass
class Hub:
    url: str
    settings: Settings
    settings_file: Path
    proc: subprocess.Popen
    log_path: Path
    passwords: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def unix_name(self, username: str) -> str:
        return self.settings["isolation"]["user_prefix"] + username


def launch_hub(base: Path, isolation: dict, staff: dict, extra: dict | None = None) -> Hub:
    """Start a hub for `staff` with the given isolation settings (and any `extra` settings)."""
    settings_file = base / "settings.yaml"
    state = base / "state"
    if IS_ROOT and isolation.get("mode", "auto") != "none":
        # The services' accounts must reach the state folder, and pytest's folders are 0700:
        # like the homes, it goes under /tmp (with what a test may have put in base/state).
        state = Path(f"/tmp/{isolation.get('user_prefix', 'kns-')}state")
        if (base / "state").is_dir():
            shutil.copytree(base / "state", state)
    data = {
        "state_dir": str(state),
        "hub": {"port": free_port(), "api_port": free_port(), "proxy_api_port": free_port()},
        "services": {"progress_port": free_port(), "signing_port": free_port(),
                     "reports_port": free_port(), "exams_port": free_port(),
                     "formgrader_port": free_port(), "admin_port": free_port()},
        # Like the homes: outside pytest's 0700 folders, so the grader account reaches it.
        "exams": {"root": f"/tmp/{isolation.get('user_prefix', 'kns-')}exams",
                  "grader_account": f"{isolation.get('user_prefix', 'kns-')}grader"},
        "isolation": isolation,
        "auth": {"native": {"allowed_failed_logins": 3}},
        # Dashboards run when opened: a pre-run pool costs every hub three kernels that most
        # tests never use (the session hub in tests/conftest.py keeps one, to test it).
        "reports": {"pool_size": 0},
        # Hub tests written for JupyterLab drive learners who run code: they are advanced
        # learners unless `extra` names the advanced learners itself (the learner app's tests).
        "lab": {"advanced_learners": sorted(u for u, (_n, role, _p) in staff.items() if role == "hocvien")},
    }
    for key, value in (extra or {}).items():  # one level deep: extra sections merge
        data[key] = {**data[key], **value} if isinstance(data.get(key), dict) else value
    settings_file.write_text(yaml.safe_dump(data))
    settings = load_settings(settings_file)
    db.upgrade(settings.database_url)
    add_staff(settings, staff)
    log_path = base / "hub.log"
    log_path.touch(mode=0o600)
    proc = start_hub(settings, log_file=log_path.open("w"), extra_env={"KNS_SETTINGS": str(settings_file)})
    url = f"http://127.0.0.1:{settings['hub']['port']}"
    try:
        # Generous: the hub starts its services side by side, and on 2 cores shared with
        # parallel test workers and other jobs that took over 180 s. Returns when ready.
        wait_for_login_page(url, proc, timeout=480)
    except Exception:
        stop_hub(proc)
        raise RuntimeError("hub did not start:\n" + log_path.read_text()[-5000:]) from None
    codes = issue_codes(settings.database_url, list(staff), days=1)
    for username, (_n, _r, password) in staff.items():
        r = activate(url, username, codes[username], password)
        assert r.status_code == 200, r.text
    return Hub(url, settings, settings_file, proc, log_path,
               {u: pw for u, (_n, _r, pw) in staff.items()})


@contextmanager
def isolated_hub(base: Path, staff: dict, extra: dict | None = None, tag: str = "t"):
    """A hub whose users get Unix accounts with a fresh random prefix (homes under /tmp, where
    the accounts can reach them); everything is removed afterwards."""
    prefix = f"kns{tag}{secrets.token_hex(2)}-"
    home_root = Path(f"/tmp/{prefix}homes")
    home_root.mkdir(mode=0o755)
    hub = launch_hub(base, {"mode": "auto", "user_prefix": prefix, "home_root": str(home_root)},
                     staff, extra=extra)
    try:
        yield hub
    finally:
        stop_hub(hub.proc)
        remove_unix_accounts(prefix, home_root)


def remove_unix_accounts(prefix: str, home_root: Path) -> None:
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(prefix):
            subprocess.run(["pkill", "-KILL", "-u", entry.pw_name], check=False)
            subprocess.run(["userdel", "--remove", entry.pw_name], check=False, capture_output=True)
    for group in grp.getgrall():  # the services' shared groups (kynangso.hub.system_accounts)
        if group.gr_name.startswith(prefix):
            subprocess.run(["groupdel", group.gr_name], check=False, capture_output=True)
    shutil.rmtree(home_root, ignore_errors=True)
    shutil.rmtree(f"/tmp/{prefix}exams", ignore_errors=True)
    shutil.rmtree(f"/tmp/{prefix}exams-exchange", ignore_errors=True)
    shutil.rmtree(f"/tmp/{prefix}state", ignore_errors=True)


def new_session() -> requests.Session:
    """A requests session that reads pages as UTF-8, as the browser does from <meta charset>."""
    session = requests.Session()

    def utf8(response, *_args, **_kwargs):
        response.encoding = "utf-8"

    session.hooks["response"].append(utf8)
    return session


def cookie(session: requests.Session, name: str, path: str) -> str | None:
    """The cookie `name` whose path is the longest prefix of `path` (the one a browser sends)."""
    matches = [c for c in session.cookies if c.name == name and path.startswith(c.path)]
    return max(matches, key=lambda c: len(c.path)).value if matches else None


def xsrf_of(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    return re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)


def log_in(hub: Hub, username: str, password: str | None = None) -> requests.Response:
    session = new_session()
    xsrf = xsrf_of(session, f"{hub.url}/hub/login")
    r = session.post(
        f"{hub.url}/hub/login?next=",
        data={"_xsrf": xsrf, "username": username, "password": password or hub.passwords[username]},
        allow_redirects=False,
        timeout=120,  # the hub hashes the password; slow when the machine is busy
    )
    r.session = session
    return r


def open_lab(hub: Hub, session: requests.Session, username: str, timeout: float = 180) -> requests.Response:
    """Start the user's server (as the home page button does) and wait for JupyterLab."""
    session.get(f"{hub.url}/hub/spawn/{username}", timeout=60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = session.get(f"{hub.url}/user/{username}/lab", timeout=60)
        if r.status_code == 200 and "jupyter-config-data" in r.text:
            return r
        if r.status_code == 424:
            # Not running: the spawn asked above met a server that was still stopping
            # (e.g. the idle culler's), so ask again.
            session.get(f"{hub.url}/hub/spawn/{username}", timeout=60)
        time.sleep(1)
    raise TimeoutError(f"JupyterLab of {username} not ready after {timeout} s:\n{hub.log()[-3000:]}")


def open_server(hub: Hub, session: requests.Session, username: str, path: str = "kns/home",
                timeout: float = 180) -> requests.Response:
    """Start the user's server and wait until `path` on it answers 200 (after redirects)."""
    session.get(f"{hub.url}/hub/spawn/{username}", timeout=60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = session.get(f"{hub.url}/user/{username}/{path}", timeout=120)
        if r.status_code == 200 and f"/user/{username}/" in r.url:
            return r
        if r.status_code == 424:
            session.get(f"{hub.url}/hub/spawn/{username}", timeout=60)
        time.sleep(1)
    raise TimeoutError(f"{path} of {username} not ready after {timeout} s:\n{hub.log()[-3000:]}")


def wait_server_stopped(hub: Hub, session: requests.Session, username: str, timeout: float = 120) -> None:
    """Wait until the user's server no longer answers (stopped by the hub)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = session.get(f"{hub.url}/user/{username}/api/status", allow_redirects=False, timeout=60)
        if r.status_code != 200:
            return
        time.sleep(1)
    raise TimeoutError(f"the server of {username} still runs after {timeout} s")


def start_exam(hub: Hub, session: requests.Session, username: str, course: str, exam: str) -> requests.Response:
    """A learner who runs code fetches an exam from JupyterLab's Assignment List: the desk hands
    nothing to that server and restarts it in exam mode; the new server (the learner app)
    fetches the exam itself when its home leads to it. Returns the exam's page."""
    xsrf = cookie(session, "_xsrf", f"/user/{username}/") or ""
    r = session.post(f"{hub.url}/user/{username}/assignments/fetch",
                     data={"course_id": course, "assignment_id": exam},
                     headers={"X-XSRFToken": xsrf}, timeout=300)
    assert r.status_code == 200 and r.json()["success"] is False, (r.status_code, r.text[:500])
    assert "chế độ thi" in r.json()["value"], r.json()
    wait_server_stopped(hub, session, username)  # the desk restarts it
    page = open_server(hub, session, username, "kns/home")
    assert f"/voila/render/{exam}/" in page.url, page.url
    return page


def run_as_learner(hub: Hub, username: str, code: str, timeout: float = 300) -> str:
    """Run Python `code` as the user's own Unix account in their home (root only), as a process
    of theirs would; return what it printed. For setting up answers and attacks that the
    server itself no longer runs (exam mode), never as a way into anything."""
    entry = pwd.getpwnam(hub.unix_name(username))
    r = subprocess.run(["runuser", "-u", entry.pw_name, "--", "env", "-i", f"HOME={entry.pw_dir}",
                        f"PATH={sys.prefix}/bin:/usr/bin:/bin", "LANG=C.UTF-8", f"JUPYTERHUB_USER={username}",
                        sys.executable, "-c", code],
                       capture_output=True, text=True, timeout=timeout, cwd=entry.pw_dir)
    return r.stdout + r.stderr


def api_token(hub: Hub, session: requests.Session, username: str) -> str:
    """A token the user makes for themself, as on the hub's token page."""
    xsrf = cookie(session, "_xsrf", "/hub/") or xsrf_of(session, f"{hub.url}/hub/token")
    r = session.post(
        f"{hub.url}/hub/api/users/{username}/tokens",
        json={"note": "test", "expires_in": 3600},
        headers={"X-XSRFToken": xsrf},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()["token"]


def run_in_kernel(hub: Hub, session: requests.Session, username: str, code: str, timeout: float = 120) -> str:
    """Run `code` in a new kernel of the user's running server, over the Jupyter websocket
    protocol as JupyterLab does; return what it printed (stdout and stderr)."""
    import asyncio
    import json
    import uuid

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    base = f"{hub.url}/user/{username}"
    xsrf = cookie(session, "_xsrf", f"/user/{username}/")
    kernel = session.post(f"{base}/api/kernels", json={"name": "python3"},
                          headers={"X-XSRFToken": xsrf or ""}, timeout=60)
    assert kernel.status_code == 201, (kernel.status_code, kernel.text)
    kernel_id = kernel.json()["id"]
    cookie_header = "; ".join(f"{c.name}={c.value}" for c in session.cookies if f"/user/{username}/".startswith(c.path))

    async def talk() -> str:
        ws_url = base.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        conn = await websocket_connect(HTTPRequest(ws_url, headers={"Cookie": cookie_header}))
        msg_id = uuid.uuid4().hex
        await conn.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": username,
                       "session": uuid.uuid4().hex, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out = []
        while True:
            raw = await conn.read_message()
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                out.append("\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                break
        conn.close()
        return "".join(out)

    try:
        return asyncio.run(asyncio.wait_for(talk(), timeout))
    finally:
        session.delete(f"{base}/api/kernels/{kernel_id}", headers={"X-XSRFToken": xsrf or ""}, timeout=60)


def browser_login(page, hub: Hub, username: str, landing: str = "lab") -> None:
    """Log in through the Vietnamese login form, as a person does, and wait for their server's
    first page (JupyterLab; `kns/home` for a learner on the learner app)."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", hub.passwords[username])
    page.click("#login_submit")
    # The hub shows its spawn-pending page first, then redirects to the server.
    page.wait_for_url(f"**/user/{username}/{landing}**", timeout=180_000)


def wait_kernel_idle(page, timeout_ms: int = 180_000) -> None:
    """Wait until JupyterLab's status bar says the notebook's kernel is connected and idle."""
    page.locator(".jp-StatusBar-TextItem").filter(has_text=re.compile(r"\|\s*(Idle|Rảnh)")).first.wait_for(
        timeout=timeout_ms)


def run_all_cells(page, timeout_ms: int = 180_000) -> None:
    """Run the whole open notebook from JupyterLab's menu (Chạy → Chạy tất cả các ô), as a person does,
    once the kernel is connected; pressed again if the kernel was not listening yet."""
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_ms)
    wait_kernel_idle(page, timeout_ms)
    # Input prompts of hidden code cells are not shown; output prompts are, and cells that only
    # display widgets (their result silenced with `;`) show the widgets.
    ran = page.locator(".jp-InputPrompt, .jp-OutputPrompt").filter(
        has_text=re.compile(r"\[(\*|\d+)\]")).or_(page.locator(".jp-OutputArea-output .jupyter-widgets"))
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Chạy$|^Run$")).first.click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"tất cả|All Cells")).first.click()
        try:
            ran.first.wait_for(timeout=10_000)
            return
        except Exception:  # playwright's TimeoutError: the kernel was not listening yet
            continue
    raise TimeoutError("the notebook never ran")
