"""The real exams (assessments/exams) released in one course, with simulated learners of every
kind, graded once per session by `nbgrader autograde` and by `kns grade`.

Shared by the exam course's tests (exams/: the nbgrader copy's scores) and the equivalence
tests (grading/test_equivalence_exams.py: both copies compared), so that each exam is
released, submitted and graded once per session instead of once per module.
"""

from __future__ import annotations

import shutil

import pytest

QUALITIES = ["a-correct", "a-partial", "a-wrong", "a-blank"]
# van-ban gets every case; the others the qualities and the cases their items make different
# (variant tasks for a copied sidecar, the signed PDF of chu-ky-so), to stay within minutes.
# The case names are in tests/assessments/grading/exam_cases.py (CASES).
EXAM_STUDENTS = {
    "van-ban": None,  # every case
    "tong-hop": [*QUALITIES, "c-copied-sidecar", "c-scorer-cheat", "c-scorer-cheat-next",
                 "c-wrong-types"],
    "dich-vu-cong": [*QUALITIES, "c-copied-sidecar", "c-wrong-types"],
    "chu-ky-so": [*QUALITIES, "b-missing-sidecar", "c-copied-sidecar"],
    # The phishing judgement's answer is a dict per message: a copied sidecar is another
    # learner's messages (wrong shapes are unit-tested in questions/test_tasks_mail.py).
    "thu-dien-tu": [*QUALITIES, "c-copied-sidecar"],
}


def exam_students() -> dict[str, list[str]]:
    from tests.assessments.grading.exam_cases import CASES

    return {exam: list(CASES) if students is None else students
            for exam, students in EXAM_STUDENTS.items()}


@pytest.fixture(scope="session")
def exam_copies(tmp_path_factory):
    """(copy for nbgrader, copy for kns, environment) of the course with every submission."""
    from sandbox.signing.pki import TrainingPKI
    from tests.assessments.grading.exam_cases import build_course, grading_env, submit_cases

    base = tmp_path_factory.mktemp("real-exams")
    state, home = base / "state", base / "home"
    home.mkdir()
    env = grading_env(state, home)
    students = exam_students()
    course = build_course(base, list(students), env)
    pki = TrainingPKI.create(state / "pki")  # the platform CA the signing exam is graded against
    for exam, names in students.items():
        submit_cases(course, exam, pki, names)
    by_nbgrader, by_kns = base / "nbgrader", base / "kns"
    shutil.copytree(course, by_nbgrader)
    shutil.copytree(course, by_kns)
    return by_nbgrader, by_kns, env


@pytest.fixture(scope="session")
def graded(exam_copies):
    """exam -> (nbgrader's rows, kns's rows, kns's report); each exam graded once, on demand."""
    from assessments.grading.compare import snapshot
    from tests.assessments.grading.exam_cases import GRADING_TIMEOUT_S, kns_grade, nbgrader

    by_nbgrader, by_kns, env = exam_copies
    done: dict[str, tuple] = {}

    def grade(exam: str):
        if exam not in done:
            nbgrader(["autograde", exam, f"--Execute.timeout={GRADING_TIMEOUT_S}"], by_nbgrader,
                     env, check=False)
            report = kns_grade(exam, by_kns, env, "--timeout", str(GRADING_TIMEOUT_S),
                               "--workers", "2")
            done[exam] = (snapshot(f"sqlite:///{by_nbgrader}/gradebook.db", exam),
                          snapshot(f"sqlite:///{by_kns}/gradebook.db", exam), report)
        return done[exam]

    return grade
