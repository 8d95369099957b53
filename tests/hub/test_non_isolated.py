"""A hub without per-user accounts must say so, loudly, and still work for trying things out."""

import secrets
import shutil
from pathlib import Path

import pytest

from kynangso.hub.harness import launch_hub, log_in, new_session, open_lab, stop_hub
from kynangso.i18n import t

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def open_hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("open-hub")
    staff = {"hocvien01": ("Nguyễn Văn An", "hocvien", "HocVien@2026")}
    hub = launch_hub(base, {"mode": "none", "user_prefix": f"knsn{secrets.token_hex(2)}-"}, staff)
    yield hub
    stop_hub(hub.proc)
    shutil.rmtree(Path(hub.settings.state_dir) / "homes", ignore_errors=True)
    shutil.rmtree(hub.settings["exams"]["root"], ignore_errors=True)


def test_non_isolated_mode_is_announced_in_log_and_pages(open_hub):
    """Do the log and every page say that users are not isolated?"""
    warning = t("core.not_isolated")
    assert warning in open_hub.log()
    assert warning in new_session().get(f"{open_hub.url}/hub/login", timeout=30).text
    r = log_in(open_hub, "hocvien01")
    assert r.status_code == 302
    home = r.session.get(f"{open_hub.url}/hub/home", timeout=30)
    assert warning in home.text


def test_non_isolated_server_still_starts(open_hub):
    """Can a learner still reach JupyterLab in the labelled mode (for development)?"""
    r = log_in(open_hub, "hocvien01")
    lab = open_lab(open_hub, r.session, "hocvien01")
    assert "/user/hocvien01/lab" in lab.url


def test_non_isolated_hub_refuses_to_open_an_exam(open_hub):
    """Does `kns exam open` refuse, in Vietnamese, when learners could read each other's work?"""
    import os
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "kynangso.cli", "exam", "open", "tong-hop"],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "KNS_SETTINGS": str(open_hub.settings_file)})
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert t("exams.not_isolated") in r.stderr
