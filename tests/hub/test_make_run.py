"""`make run`'s program: first screen before the demo build, the dashboards while it runs and
after, a clean Ctrl-C during the build, a second run, and an empty state served from the cache."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
import yaml

from kynangso.hub.harness import free_port, log_in, new_session
from kynangso.run import DEMO_ACCOUNTS
from reports.demo import DEMO_COURSE

pytestmark = [pytest.mark.hub, pytest.mark.browser]
REPO = Path(__file__).resolve().parents[2]
DASHBOARD = "/services/reports/voila/render/tong-quan.ipynb"
PREPARING = "Dữ liệu mẫu đang được chuẩn bị"  # reports.ui.demo_preparing


def run_platform(settings_file: Path, cache: Path, until: str):
    """Start `python -m kynangso.run` as `make run` does; return (process, printed text) once
    it has printed a line containing `until`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kynangso.run"], cwd=REPO,
        env=dict(os.environ, KNS_SETTINGS=str(settings_file), KNS_DEMO_CACHE=str(cache)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines = []
    # Generous: on 2 busy cores the hub, its services and the demo accounts' activation can take
    # minutes.
    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if until in line:
            # What it prints later (the build's outcome), read as it comes.
            proc.later = []
            threading.Thread(target=lambda: proc.later.extend(proc.stdout), daemon=True).start()
            return proc, "".join(lines)
    os.killpg(proc.pid, signal.SIGKILL)  # the hub and its services too, not only the launcher
    raise AssertionError("platform did not start:\n" + "".join(lines))


def settings_for(tmp_path: Path, state: Path) -> tuple[Path, int]:
    port = free_port()
    settings_file = tmp_path / f"{state.name}.yaml"
    settings_file.write_text(yaml.safe_dump({
        "state_dir": str(state),
        "hub": {"port": port, "api_port": free_port(), "proxy_api_port": free_port()},
        "services": {name: free_port() for name in ("progress_port", "signing_port", "reports_port",
                                                    "exams_port", "formgrader_port",
                                                    "admin_port")},
        "isolation": {"mode": "none"},
    }))
    return settings_file, port


def demo_builder(proc) -> psutil.Process:
    """The background build `make run` started (`python -m reports.demo build`)."""
    for child in psutil.Process(proc.pid).children():
        if "reports.demo" in " ".join(child.cmdline()):
            return child
    raise AssertionError("no background demo build")


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s: {what}")


def session_left(sid: int) -> list[int]:
    """Processes still in the session `sid` (the build, its grading workers)."""
    left = []
    for pid in psutil.pids():
        try:
            if os.getsid(pid) == sid:
                left.append(pid)
        except OSError:
            pass
    return left


def grading_in(state: Path) -> list[int]:
    """Processes working in the demo build's temporary course folder (the build while it
    grades, its workers, the grading kernels in the submission folders)."""
    prefix = str(state / f".{DEMO_COURSE}-")
    return [p.info["pid"] for p in psutil.process_iter(["pid", "cwd"])
            if (p.info["cwd"] or "").startswith(prefix)]


def stop(proc, sig=signal.SIGTERM, port=None) -> None:
    os.killpg(proc.pid, sig)  # the launcher's own group only: the hub and the build have theirs
    proc.wait(120)
    if port:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "proxy still listening after stop"


def assert_first_screen(printed: str, port: int) -> None:
    assert f"http://127.0.0.1:{port}/" in printed
    for username, (_role, password) in DEMO_ACCOUNTS.items():
        assert re.search(rf"{username}\s+{re.escape(password)}", printed), printed
    # The terminal stays readable: alembic's and nbgrader's INFO lines go to the log file.
    assert " INFO " not in printed and "alembic" not in printed, printed


# Three starts of the platform and one real build of the demo results (27 notebooks graded,
# KNS_DEMO_LEARNERS in tests/conftest.py):
# over the suite's 600 s per test on 2 busy cores.
@pytest.mark.timeout(1800)
def test_first_start_then_build_in_background_then_cache(tmp_path, browser, demo_cache):
    """Does `make run` from an empty state show the login page and the accounts before the
    demo exam results exist, the dashboards say the sample data is being prepared and fill in
    by themselves when the background build is done; does Ctrl-C during the build stop
    everything (no build, worker or kernel left, nothing half made); and does an empty state
    start with the results copied from the cache the build filled?"""
    # The session's demo cache, so that what this build leaves serves tests/reports/test_demo.py;
    # a cache of our own if that one was filled already (test_demo ran first).
    cache = tmp_path / "cache" if demo_cache.exists() and any(demo_cache.iterdir()) else demo_cache
    state = tmp_path / "state"
    settings_file, port = settings_for(tmp_path, state)
    course = state / "exams" / DEMO_COURSE

    # 1. Empty state, empty cache: first screen before the results exist; then Ctrl-C.
    proc, printed = run_platform(settings_file, cache, until="nền")  # "... ở chế độ nền ..."
    try:
        assert_first_screen(printed, port)
        assert not (course / "gradebook.db").exists()
        assert (state / "exams" / f".{DEMO_COURSE}.pending").exists()
        builder = demo_builder(proc)
        assert builder.is_running()
        # Wait until it grades (kernels in its temporary course folder), then press Ctrl-C.
        wait_until(lambda: grading_in(state), 600, "the demo build to start grading")
    finally:
        stop(proc, signal.SIGINT, port)  # what Ctrl-C sends to the terminal's process group
    wait_until(lambda: not session_left(builder.pid), 60, "the build's processes to stop")
    wait_until(lambda: not grading_in(state), 60, "the grading kernels to stop")
    assert not list(state.glob(f".{DEMO_COURSE}-*")), "a half-made build was left"
    assert not course.exists()

    # 2. The same state again: the build resumes; while it runs the dashboards say so.
    proc, printed = run_platform(settings_file, cache, until="nền")
    builder = None
    try:
        assert_first_screen(printed, port)
        builder = demo_builder(proc)
        # Paused while the page is read, so that the check does not race the build.
        os.killpg(builder.pid, signal.SIGSTOP)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        try:
            page.goto(f"http://127.0.0.1:{port}/hub/login?next=" + DASHBOARD)
            page.fill("#username_input", "nhansu01")
            page.fill("#password_input", DEMO_ACCOUNTS["nhansu01"][1])
            page.click("#login_submit")
            page.wait_for_url("**" + DASHBOARD, timeout=300_000)
            page.get_by_text(PREPARING).wait_for(timeout=300_000)
            assert not page.get_by_text(re.compile(r"kỳ 2 \(")).count()  # no demo period yet
            os.killpg(builder.pid, signal.SIGCONT)
            # The real grading of the demo notebooks: minutes on 2 busy cores.
            page.get_by_text(PREPARING).wait_for(state="detached", timeout=1_200_000)
            page.get_by_text(re.compile(r"kỳ 2 \(")).first.wait_for(state="attached",
                                                                      timeout=120_000)
        finally:
            page.close()
        assert (course / "gradebook.db").exists()
        # Every test cell was run by a kernel: a build whose kernels cannot start still makes a
        # gradebook, with no score in it (the root-run build beside the CA's closed folder).
        with sqlite3.connect(course / "gradebook.db") as db:
            cells, scored = db.execute(
                "select count(*), count(g.auto_score) from grade g join grade_cells c"
                " on g.cell_id = c.id where c.cell_type = 'code'").fetchone()
        assert cells and scored == cells, f"{cells - scored} of {cells} test cells not run"
        wait_until(lambda: any("sẵn sàng" in line for line in proc.later), 120, "the ready line")
    finally:
        if builder is not None and builder.is_running():
            os.killpg(builder.pid, signal.SIGCONT)
        stop(proc, signal.SIGTERM, port)

    # 3. Another empty state: the results come from the cache, before the first screen.
    state2 = tmp_path / "state2"
    settings2, port2 = settings_for(tmp_path, state2)
    proc, printed = run_platform(settings2, cache, until="quantri")
    try:
        assert_first_screen(printed, port2)
        assert (state2 / "exams" / DEMO_COURSE / "gradebook.db").exists()
        assert not (state2 / "exams" / f".{DEMO_COURSE}.pending").exists()
        hub = SimpleNamespace(url=f"http://127.0.0.1:{port2}", passwords={})
        assert log_in(hub, "hocvien01", DEMO_ACCOUNTS["hocvien01"][1]).status_code == 302
        assert "DỮ LIỆU MẪU" in new_session().get(f"{hub.url}/hub/login", timeout=30).text
    finally:
        stop(proc, signal.SIGTERM, port2)
