"""The exam course built with the real nbgrader commands, and simulated submissions graded with
the real `nbgrader autograde` (session-scoped: built and graded once for all tests, shared
with the equivalence tests, see tests/assessments/conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMS_DIR = REPO / "assessments" / "exams"
sys.path.insert(0, str(EXAMS_DIR))

from exam_items import EXAMS  # noqa: E402

BIN = os.path.dirname(sys.executable)


def env_for(state: Path, home: Path) -> dict[str, str]:
    """nbgrader's environment: its bin folder on PATH (it shells out to alembic), kernels that
    import this working tree, the test's own training CA (KNS_STATE_DIR) and home."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KNS_STATE_DIR=str(state), HOME=str(home))
    for name in ("JUPYTERHUB_USER", "JUPYTERHUB_API_TOKEN", "KNS_SIGNING_URL"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def course(exam_copies, graded):
    """The exam course: released, simulated learners per exam submitted and autograded by the
    real `nbgrader autograde`: the nbgrader copy of the equivalence tests' course
    (tests/assessments/conftest.py), so that each exam is graded once per session."""
    by_nbgrader, _by_kns, _env = exam_copies
    for exam in EXAMS:
        graded(exam)
    return by_nbgrader
