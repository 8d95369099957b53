"""Shared fixtures: a real JupyterHub (random ports, temporary state, real proxy).

Fixtures:
- `hub`: one hub per session, isolated (per-user Unix accounts) when the tests
  run as root, with a small staff directory whose accounts were activated
  through the hub's own activation page. The Unix accounts and homes it made
  are removed afterwards.
- `login(username)`: a logged-in `requests.Session`.

Nothing is mocked: the spawner creates real accounts and runs real servers.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest

from kynangso.hub.harness import IS_ROOT, launch_hub, log_in, remove_unix_accounts, stop_hub

# username: (full name, role, password)
STAFF = {
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien@2026"),
    "hocvien02": ("Trần Văn Đức", "hocvien", "HocVien2@2026"),
    "hocvien03": ("Lê Thị Ánh", "hocvien", "HocVien3@2026"),
    "nhansu01": ("Phạm Thu Hà", "nhansu", "NhanSu@2026!"),
    "quantri": ("Đỗ Minh Quân", "quantri", "QuanTri@2026!"),
}


def private_homes(prefix: str) -> Path:
    """Homes must be reachable by the users' accounts: not under pytest's 0700 temp folder."""
    home_root = Path(f"/tmp/{prefix}homes")
    home_root.mkdir(mode=0o755)
    return home_root


@pytest.fixture(scope="session")
def courses_source(tmp_path_factory) -> Path:
    """A copy of the installed courses, so a test can publish a new lesson version."""
    import courses

    target = tmp_path_factory.mktemp("courses-source") / "courses"
    shutil.copytree(Path(courses.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="session")
def hub(tmp_path_factory, courses_source):
    base = tmp_path_factory.mktemp("hub")
    prefix = f"knst{secrets.token_hex(2)}-"
    home_root = private_homes(prefix)
    instance = launch_hub(base, {"mode": "auto", "user_prefix": prefix, "home_root": str(home_root)}, STAFF,
                          extra={"lab": {"courses_source": str(courses_source)}})
    yield instance
    stop_hub(instance.proc)
    if IS_ROOT:
        remove_unix_accounts(prefix, home_root)
    shutil.rmtree(home_root, ignore_errors=True)


@pytest.fixture
def login(hub):
    def _login(username: str):
        r = log_in(hub, username)
        assert r.status_code == 302, f"login of {username} failed: {r.status_code}"
        return r.session

    return _login
