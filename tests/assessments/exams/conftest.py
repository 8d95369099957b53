"""The exam course built with the real nbgrader commands, and simulated submissions graded with
the real `nbgrader autograde` (session-scoped: built and graded once for all tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMS_DIR = REPO / "assessments" / "exams"
sys.path.insert(0, str(EXAMS_DIR))

from answers import simulate_submission  # noqa: E402
from exam_items import EXAMS  # noqa: E402

BIN = os.path.dirname(sys.executable)
QUALITIES = ("correct", "partial", "wrong", "blank")
STUDENTS = {q: f"hv-{q}" for q in QUALITIES}
ON_TIME = "2026-03-02 08:30:00.000000 UTC"


def env_for(state: Path, home: Path) -> dict[str, str]:
    """nbgrader's environment: its bin folder on PATH (it shells out to alembic), kernels that
    import this working tree, the test's own training CA (KNS_STATE_DIR) and home."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KNS_STATE_DIR=str(state), HOME=str(home))
    for name in ("JUPYTERHUB_USER", "JUPYTERHUB_API_TOKEN", "KNS_SIGNING_URL"):
        env.pop(name, None)
    return env


def nbgrader(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([os.path.join(BIN, "nbgrader"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {args} failed:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """The exam course: released, four simulated learners per exam submitted and autograded."""
    base = tmp_path_factory.mktemp("exam-course")
    state, home = base / "state", base / "home"
    home.mkdir()
    env = env_for(state, home)
    root = base / "kiem-tra"
    shutil.copytree(EXAMS_DIR / "source", root / "source")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n", encoding="utf-8")
    from sandbox.signing.pki import TrainingPKI

    pki = TrainingPKI.create(state / "pki")
    for exam in EXAMS:
        nbgrader(["generate_assignment", exam, "--force"], root, env)
        for quality, student in STUDENTS.items():
            folder = root / "submitted" / student / exam
            shutil.copytree(root / "release" / exam, folder)
            simulate_submission(exam, student, folder, quality, pki=pki)
            (folder / "timestamp.txt").write_text(ON_TIME, encoding="utf-8")
        nbgrader(["autograde", exam], root, env)
    return root
