"""`kns grade` against `nbgrader autograde` on our own exams (assessments/exams): correct, partly
correct, wrong, blank, cheating and broken submissions give identical gradebooks.

One course with the exams is released with the real nbgrader, filled with simulated learners
(exam_cases.py) and copied twice; one copy is graded by `nbgrader autograde`, the other by
`kns grade` (both as subprocesses, same environment: the test's own training CA and home);
then the gradebooks are compared row by row and cell by cell (compare.snapshot), and the
autograded folders file by file.
"""

from __future__ import annotations

import pytest

from tests.assessments.conftest import EXAM_STUDENTS
from tests.assessments.grading.exam_cases import autograded_files, exam_tools

# The course, its submissions and both gradings are session fixtures shared with the exam
# course's tests: `exam_copies` and `graded` in tests/assessments/conftest.py.


def _auto_max(exam: str) -> float:
    return exam_tools()[1][exam].auto_points


@pytest.mark.parametrize("exam", list(EXAM_STUDENTS))
def test_exam_gradebook_identical(exam, graded, exam_copies):
    """Do kns grade and nbgrader autograde write the same gradebook rows, cell by cell, and the
    same autograded files, for every submission of this exam?"""
    expected, got, _ = graded(exam)
    by_nbgrader, by_kns, _ = exam_copies
    assert sorted(got) == sorted(expected)
    for student in expected:
        assert got[student] == expected[student], student
    files_expected, files_got = autograded_files(by_nbgrader, exam), autograded_files(by_kns, exam)
    assert sorted(files_got) == sorted(files_expected)
    for rel in files_expected:
        assert files_got[rel] == files_expected[rel], rel
    # Not two identical failures: the learners got the points their answers deserve.
    full = _auto_max(exam)
    assert expected["a-correct"]["score"] == full > 0
    assert expected["a-correct"]["needs_manual_grade"]  # the written task
    assert 0 < expected["a-partial"]["score"] < full
    assert expected["a-wrong"]["score"] == expected["a-blank"]["score"] == 0


@pytest.mark.parametrize("exam", ["van-ban", "tong-hop", "dich-vu-cong", "chu-ky-so",
                                  "thu-dien-tu"])
def test_copied_and_hand_edited_answers(exam, graded):
    """Does a sidecar copied from another learner lose the points of the per-learner tasks,
    does a sidecar with values of the wrong types earn nothing, and does a deleted sidecar
    count as no answer, with both graders?"""
    expected, got, _ = graded(exam)
    assert got == expected
    assert 0 < expected["c-copied-sidecar"]["score"] < expected["a-correct"]["score"]
    if "c-wrong-types" in expected:
        assert expected["c-wrong-types"]["score"] == 0
    if "b-missing-sidecar" in expected:
        assert expected["b-missing-sidecar"]["score"] == 0


def test_cheats_in_the_notebook(graded):
    """Is an edited test cell put back and graded as released, and does a learner's cell that
    replaces the scorer or rewrites the sidecar score the same under both graders, without
    leaking into the next learner's grading?"""
    for exam in ("van-ban", "tong-hop"):
        expected, got, _ = graded(exam)
        assert got == expected
        # Learner code runs in the grading kernel before the hidden tests, so whether such a
        # cheat pays is the exam's business, not the grader's: both graders must agree (above)
        # and the patch must stay inside the cheater's own kernel.
        assert expected["c-scorer-cheat-next"]["score"] == 0
        assert got["c-scorer-cheat-next"]["score"] == 0
    expected, _, report = graded("van-ban")
    assert expected["c-edited-test"]["score"] == _auto_max("van-ban")
    flagged = {(p["student"], p["kind"]) for p in report["problems"]}
    assert ("c-edited-test", "edited_cell") in flagged


def test_broken_submissions(graded, exam_copies):
    """Are a corrupt notebook, a deleted grade cell, a damaged sidecar, an endless loop and a
    flood of output graded as nbgrader grades them, and listed in kns grade's report?"""
    expected, got, report = graded("van-ban")
    by_nbgrader, by_kns, _ = exam_copies
    assert got == expected
    full = _auto_max("van-ban")
    assert report["failed"] == ["b-corrupt-notebook"]
    for course in (by_nbgrader, by_kns):
        assert not (course / "autograded" / "b-corrupt-notebook" / "van-ban").exists()
    assert expected["b-damaged-sidecar"]["score"] == expected["b-sidecar-bad-shape"]["score"] == 0
    assert 0 < expected["b-deleted-cell"]["score"] < full
    assert expected["b-infinite-loop"]["score"] == full  # the loop is stopped, the rest runs
    assert expected["b-huge-output"]["score"] == full
    flagged = {(p["student"], p["kind"]) for p in report["problems"]}
    assert {("b-corrupt-notebook", "corrupt"), ("b-deleted-cell", "deleted_cell"),
            ("b-infinite-loop", "timeout"), ("b-huge-output", "output_truncated")} <= flagged
