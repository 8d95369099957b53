"""`make run`'s program: demo office, printed accounts, clean stop, and a second run."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from kynangso.hub.harness import free_port, log_in, new_session
from kynangso.run import DEMO_ACCOUNTS

pytestmark = pytest.mark.hub
REPO = Path(__file__).resolve().parents[2]


def run_platform(settings_file: Path, port: int):
    """Start `python -m kynangso.run` as `make run` does; return (process, printed text)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kynangso.run"], cwd=REPO, env=dict(os.environ, KNS_SETTINGS=str(settings_file)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines = []
    # Generous: on 2 busy cores the hub, its services and the demo accounts' activation can take
    # minutes (and a start without the prepared demo results builds them first, ~1-2 min).
    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "quantri" in line and "QuanTri" in line:  # the last account printed
            return proc, "".join(lines)
    os.killpg(proc.pid, signal.SIGKILL)  # the hub and its services too, not only the launcher
    raise AssertionError("platform did not start:\n" + "".join(lines))


def test_run_twice_prints_demo_accounts_and_stops_cleanly(tmp_path, demo_build):
    """Does the platform start with working demo accounts, stop on SIGTERM, and start again?"""
    # The demo exam results, built once per session by the same function `make run` calls
    # (reports.demo.build_demo_gradebook; what it builds is checked in tests/reports/test_demo.py),
    # are put in place, so that this test does not build them a second time.
    demo_settings, demo_course, _ = demo_build
    shutil.copytree(demo_course, tmp_path / "state" / demo_course.relative_to(demo_settings.state_dir))
    port = free_port()
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / "state"),
        "hub": {"port": port, "api_port": free_port(), "proxy_api_port": free_port()},
        "services": {name: free_port() for name in ("progress_port", "signing_port", "reports_port",
                                                    "exams_port", "formgrader_port",
                                                    "admin_port")},
        "isolation": {"mode": "none"},
    }))
    for attempt in (1, 2):
        proc, printed = run_platform(settings_file, port)
        try:
            assert f"http://127.0.0.1:{port}/" in printed
            for username, (_role, password) in DEMO_ACCOUNTS.items():
                assert re.search(rf"{username}\s+{re.escape(password)}", printed), printed
            hub = SimpleNamespace(url=f"http://127.0.0.1:{port}", passwords={})
            assert log_in(hub, "hocvien01", DEMO_ACCOUNTS["hocvien01"][1]).status_code == 302, attempt
            assert "DỮ LIỆU MẪU" in new_session().get(f"{hub.url}/hub/login", timeout=30).text
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(60)
        # Everything it started has stopped: the port is free again.
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "proxy still listening after stop"
