"""Exam sources out of the learners' reach (root only).

The exams' hidden tests and answer keys are in the checkout twice: the working tree's
`assessments/exams` and git's objects. The hub closes the first; a learner's Unix account that
can read `.git` gets the second with `git show`. Either the checkout is closed, or the hub must
refuse to start in isolated mode.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kynangso.hub.harness import IS_ROOT, free_port, open_lab, remove_unix_accounts
from kynangso.run import REPO, stop_hub, wait_for_login_page

pytestmark = [pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="learner accounts exist only on a root hub")]

EXAM_FILE = "assessments/exams/source/tong-hop/tong-hop.ipynb"


def as_learner(hub, user: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", hub.unix_name(user), "--", *cmd], cwd="/",
                          capture_output=True, text=True, timeout=120)


def test_learner_cannot_read_exam_source_from_git(hub, login):
    """Attack: on a running isolated hub, a learner's Unix account runs
    `git show HEAD:assessments/exams/source/...` in the checkout (accepting any owner with
    `-c safe.directory=*`), or reads the working-tree file. Both must fail."""
    user = "hocvien01"
    open_lab(hub, login(user), user)  # the spawner creates the learner's Unix account
    assert as_learner(hub, user, "id").returncode == 0  # the account exists
    show = as_learner(hub, user, "git", "-c", "safe.directory=*", "-C", str(REPO),
                      "show", f"HEAD:{EXAM_FILE}")
    assert show.returncode != 0 and "nbgrader" not in show.stdout, \
        f"learner read the exam source from git: {show.stdout[:200]!r}"
    cat = as_learner(hub, user, "cat", str(REPO / EXAM_FILE))
    assert cat.returncode != 0 and not cat.stdout, "learner read the exam source in the working tree"


def _open_checkout(tmp: Path) -> Path:
    """A checkout copy as an operator might leave it: everything world-readable."""
    checkout = tmp / "checkout"
    checkout.mkdir()
    shutil.copytree(REPO / "hub_config", checkout / "hub_config",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "assessments" / "exams", checkout / "assessments" / "exams",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    for path in [checkout, *checkout.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    parent = checkout
    while parent != Path("/"):  # pytest's temporary folders are 0700: open the way down
        os.chmod(parent, os.stat(parent).st_mode | 0o005)
        parent = parent.parent
    return checkout


def test_hub_refuses_a_checkout_learners_can_read(tmp_path):
    """Attack precondition: an isolated hub started from a checkout whose `.git` and
    `assessments/exams` every account can read. The hub must refuse to start and tell the
    operator how to close it."""
    base = Path(f"/tmp/knsg{os.urandom(2).hex()}-")
    work = Path(str(base) + "work")
    work.mkdir(mode=0o755)
    prefix = base.name
    try:
        checkout = _open_checkout(work)
        (work / "homes").mkdir(mode=0o755)
        settings = {
            "state_dir": str(tmp_path / "state"),
            "hub": {"port": free_port(), "api_port": free_port(), "proxy_api_port": free_port()},
            "services": {"progress_port": free_port(), "signing_port": free_port(),
                         "reports_port": free_port(), "exams_port": free_port(),
                         "formgrader_port": free_port(), "admin_port": free_port()},
            "exams": {"root": f"/tmp/{prefix}exams", "grader_account": f"{prefix}grader"},
            "isolation": {"mode": "auto", "user_prefix": prefix, "home_root": str(work / "homes")},
        }
        settings_file = tmp_path / "settings.yaml"
        settings_file.write_text(yaml.safe_dump(settings))
        log_path = tmp_path / "hub.log"
        env = {**os.environ, "KNS_SETTINGS": str(settings_file), "KNS_STATE_DIR": settings["state_dir"],
               "PATH": f"{sys.prefix}/bin:{os.environ.get('PATH', '')}"}
        (tmp_path / "state" / "hub").mkdir(parents=True)
        with log_path.open("w") as log:
            proc = subprocess.Popen([f"{sys.prefix}/bin/jupyterhub", "-f",
                                     str(checkout / "hub_config" / "jupyterhub_config.py")],
                                    cwd=tmp_path / "state" / "hub", env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        try:
            started = True
            # A generous ceiling: a hub on a busy machine takes tens of seconds to start.
            wait_for_login_page(f"http://127.0.0.1:{settings['hub']['port']}", proc, timeout=240)
        except RuntimeError:
            started = False
        finally:
            stop_hub(proc)
        text = log_path.read_text()
        assert not started, "the hub started although learners can read the checkout's exam sources"
        assert "refusing to start" in text and str(checkout) in text, text[-3000:]
        assert "chmod" in text and "exams.course_source" in text, text[-3000:]
    finally:
        remove_unix_accounts(prefix, work / "homes")
        shutil.rmtree(work, ignore_errors=True)
