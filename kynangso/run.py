"""`make run`: the whole platform on embedded defaults with the demo office.

Prepares the state folder and databases, loads the demo staff directory through
the real importer, starts JupyterHub (which starts configurable-http-proxy and,
as root, one Unix account per user), activates the demo accounts through the
hub's own activation page, prints the URL and the accounts, and stops
everything on Ctrl-C. Running it again reuses the state.

The demo exam results (reports.demo, the real grading pipeline, ~1.5 min) do not stand
between the user and the login page: they are copied from the cache of a previous build with
the same inputs (~/.cache/kynangso/demo, $KNS_DEMO_CACHE) when there is one, else built in a
background process (`python -m reports.demo build`) once the hub answers, while the HR
dashboards say that the sample data is being prepared. Log lines (alembic, nbgrader, the hub)
go to the log file; the terminal shows the URL, the accounts and the build's outcome.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from kynangso import db
from kynangso.accounts.activation import issue_codes
from kynangso.i18n import t
from kynangso.settings import Settings, load_settings

log = logging.getLogger("kns.run")
REPO = Path(__file__).resolve().parent.parent
HUB_CONFIG = REPO / "hub_config" / "jupyterhub_config.py"

# Demo accounts, one per role. Printed by `make run`; they exist only in the demo office.
DEMO_ACCOUNTS = {
    "hocvien01": ("Học viên", "HocVien@2026"),
    "giangvien01": ("Giảng viên", "GiangVien@2026"),
    "nhansu01": ("Nhân sự", "NhanSu@2026!"),
    "quantri": ("Quản trị", "QuanTri@2026!"),
}


def hub_url(settings: Settings) -> str:
    hub = settings["hub"]
    return f"http://{hub['ip']}:{hub['port']}{hub['base_url'].rstrip('/')}"


def close_checkout() -> None:
    """As root (isolated), the hub refuses a checkout whose git objects other accounts can read
    (they hold the exams' answer keys): `make run` and the tests close this checkout's git
    folders, and say so. An operator's production layout is in docs/operations.md."""
    from kynangso.exams.course import git_dirs

    for folder in git_dirs(REPO):
        if not folder.is_dir():  # no git checkout (an unpacked release)
            continue
        mode = folder.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(folder, mode & 0o700)
            log.warning("closed %s to other accounts (was %o): it holds the exams' answer keys",
                        folder, mode)


def start_hub(settings: Settings, log_file=None, extra_env: dict | None = None) -> subprocess.Popen:
    """Start JupyterHub with the platform configuration, in its state folder."""
    if os.geteuid() == 0:
        close_checkout()
    hub_dir = settings.state_dir / "hub"
    hub_dir.mkdir(parents=True, exist_ok=True)
    # kynangso.hub.app: JupyterHub, starting its managed services side by side (-P: the state
    # folder, our working directory, is not put on the import path).
    cmd = [sys.executable, "-P", "-m", "kynangso.hub.app", "-f", str(HUB_CONFIG)]
    env = dict(os.environ, KNS_STATE_DIR=str(settings.state_dir), **(extra_env or {}))
    env["PATH"] = f"{sys.prefix}/bin:{env.get('PATH', '')}"
    return subprocess.Popen(
        cmd, cwd=hub_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT if log_file else None,
        start_new_session=True, preexec_fn=_default_sigint,
    )


def stop_hub(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the hub's process group, SIGKILL if it hangs; then whatever the hub started in
    sessions of their own (the proxy, services, servers: JupyterHub gives each a new session)
    and did not stop itself, as happens when it was killed on a busy machine."""
    children = _children(proc.pid) if proc.poll() is None else []
    stop_process_group(proc, timeout)
    left = [c for c in children if _same_process(*c)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, _start in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (left := [c for c in left if _same_process(*c)]):
            time.sleep(0.1)
        if not left:
            return


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()  # fields after "(comm)", from state on
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of the direct children of `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) and fields[1] == str(pid):
            found.append((int(entry), fields[19]))
    return found


def _same_process(pid: int, start: str) -> bool:
    """Still running (not a zombie), and not a new process that reused the pid."""
    fields = _stat(pid)
    return bool(fields) and fields[19] == start and fields[0] != "Z"


def wait_for_login_page(url: str, proc: subprocess.Popen, timeout: float = 120) -> float:
    """Seconds until GET /hub/login answers 200; raises if the hub dies or times out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterHub exited with status {proc.returncode}")
        try:
            if requests.get(f"{url}/hub/login", timeout=2).status_code == 200:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"no login page at {url} after {timeout:.0f} s")


def activate(url: str, username: str, code: str, password: str) -> requests.Response:
    """Activate an account through the hub's own form, as a person would."""
    http = requests.Session()
    http.hooks["response"].append(lambda r, *a, **k: setattr(r, "encoding", "utf-8"))
    page = http.get(f"{url}/hub/activate", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    return http.post(
        f"{url}/hub/activate",
        data={"_xsrf": xsrf, "username": username, "code": code,
              "password": password, "password_confirmation": password},
        timeout=30,
    )


def activate_demo_accounts(settings: Settings, url: str) -> None:
    codes = issue_codes(settings.database_url, list(DEMO_ACCOUNTS), days=1)
    for username, (_role, password) in DEMO_ACCOUNTS.items():
        # On a second run this resets the demo password to the one printed.
        r = activate(url, username, codes[username], password)
        if r.status_code != 200:
            log.warning("demo account %s not activated: HTTP %s", username, r.status_code)


def prepare(settings: Settings) -> bool:
    """State folder, platform database, the demo office and its sample exam (idempotent).

    True when the demo exam results are in place (built before, or copied from the cache);
    False when they still have to be built (`start_demo_build`): the "being prepared" marker
    is then set for the dashboards.
    """
    from kynangso.demo.office import load_demo_office

    # `make run` wires the whole platform, so it may reach the reports package,
    # which the rest of the core never imports.
    from reports.demo import DEMO_COURSE, demo_cache_dir, pending_marker, restore_demo_gradebook

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    db.upgrade(settings.database_url)
    load_demo_office(settings)
    if (settings.state_dir / "exams" / DEMO_COURSE / "gradebook.db").exists():
        return True
    if restore_demo_gradebook(settings, demo_cache_dir()):
        pending_marker(settings).unlink(missing_ok=True)
        return True
    pending_marker(settings).parent.mkdir(parents=True, exist_ok=True)
    pending_marker(settings).touch()
    return False


def start_demo_build(settings: Settings, log_file) -> subprocess.Popen:
    """`python -m reports.demo build` in its own process group (Ctrl-C in the terminal does
    not reach it; `stop_process_group` stops it, its grading workers and their kernels)."""
    env = dict(os.environ, KNS_STATE_DIR=str(settings.state_dir))
    env["PATH"] = f"{sys.prefix}/bin:{env.get('PATH', '')}"
    return subprocess.Popen([sys.executable, "-m", "reports.demo", "build"], env=env,
                            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=_default_sigint)


def stop_process_group(proc: subprocess.Popen | None, timeout: float = 30) -> None:
    """SIGTERM a process group we started, SIGKILL it if it does not stop in time."""
    if proc is None or proc.poll() is not None:
        return
    deadline = time.monotonic() + timeout
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
        # The leader has gone; its children (the proxy, workers) may take a moment more.
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _raise_keyboard_interrupt(*_args) -> None:
    raise KeyboardInterrupt


def _default_sigint() -> None:
    # A parent started in the background ignores SIGINT, and the hub would
    # inherit that and wait out its services' interrupt timeout at shutdown.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _log_to_file(path: Path) -> None:
    """Every log line (alembic, nbgrader, ours) to the log file; only warnings to the terminal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(fmt)
    to_terminal = logging.StreamHandler()
    to_terminal.setLevel(logging.WARNING)
    to_terminal.setFormatter(fmt)
    logging.basicConfig(level=logging.INFO, handlers=[to_file, to_terminal], force=True)


def main() -> int:
    settings = load_settings()
    log_path = settings.state_dir / "hub" / "jupyterhub.log"
    _log_to_file(log_path)
    ready = prepare(settings)
    url = hub_url(settings)
    log_file = log_path.open("a")
    proc = start_hub(settings, log_file=log_file)
    build = None

    # SIGTERM takes the same path as Ctrl-C; stopping the hub from inside the
    # handler would deadlock on the Popen lock that proc.wait() holds. Ctrl-C too even when
    # started from a shell that ignores SIGINT for its background jobs.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    try:
        seconds = wait_for_login_page(url, proc)
        log.info("login page answered %.1f s after the hub started", seconds)
        activate_demo_accounts(settings, url)
        print(f"\n{t('core.run.running', url=url)}")
        print(f"{t('core.run.log', path=log_path)}\n")
        print(f"  {t('core.run.role'):<12} {t('core.run.username'):<14} {t('core.run.password')}")
        for username, (role, password) in DEMO_ACCOUNTS.items():
            print(f"  {role:<12} {username:<14} {password}")
        print(flush=True)
        if not ready:
            # After the first screen: the build's kernels must not slow the hub's start.
            build = start_demo_build(settings, log_file)
            print(t("core.run.demo_preparing"), flush=True)
        while True:
            try:
                return proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            if build is not None and build.poll() is not None:
                print(t("core.run.demo_ready" if build.returncode == 0 else "core.run.demo_failed",
                        path=log_path), flush=True)
                build = None
    except KeyboardInterrupt:
        return 0
    finally:
        stop_process_group(build)
        stop_hub(proc)


if __name__ == "__main__":
    sys.exit(main())
