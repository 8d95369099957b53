"""Is every exam a valid nbgrader assignment, is its release free of answers, and does the real
`nbgrader autograde` give simulated learners the points their answers deserve?"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from assessments.competency import check_exam_notebook

REPO = Path(__file__).resolve().parents[3]
EXAMS_DIR = REPO / "assessments" / "exams"
sys.path.insert(0, str(EXAMS_DIR))

from exam_items import EXAMS  # noqa: E402

# Learner ids of the shared course (tests/assessments/conftest.py QUALITIES).
STUDENTS = {q: f"a-{q}" for q in ("correct", "partial", "wrong", "blank")}

EXAM_IDS = list(EXAMS)


def auto_and_manual(course, exam_id: str, student: str) -> tuple[float, float, bool]:
    """(auto points earned, auto points possible, needs manual grading) from the gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(exam_id, exam_id, student)
        auto = [g for g in sub.grades if g.cell_type == "code"]
        earned = sum(g.auto_score or 0 for g in auto)
        possible = sum(g.max_score for g in auto)
        return round(earned, 2), possible, sub.needs_manual_grade


@pytest.mark.parametrize("exam_id", EXAM_IDS)
def test_source_notebook_is_tagged_and_current(exam_id):
    """Is every graded cell tagged with a competence, and is the notebook what the builder
    writes (the committed .ipynb and exam_items.py agree)?"""
    from build_notebooks import path_of, render

    path = path_of(exam_id)
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert check_exam_notebook(nb) == []
    assert path.read_text(encoding="utf-8") == render(EXAMS[exam_id])
    minutes = EXAMS[exam_id].minutes
    assert 20 <= minutes <= 40


@pytest.mark.parametrize("exam_id", EXAM_IDS)
def test_code_cells_are_locked_and_hidden(exam_id):
    """Is every code cell read-only and its source hidden, the first one creating the Exam?"""
    from build_notebooks import path_of

    nb = nbformat.read(path_of(exam_id), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source.startswith("from assessments.questions import Exam")
    assert f'bai = Exam("{exam_id}")' in code[0].source
    for c in code:
        assert c.metadata["nbgrader"]["locked"] is True
        assert c.metadata["jupyter"]["source_hidden"] is True
    tasks = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("task")]
    assert 1 <= len(tasks) <= 2
    kinds = {i.kind for i in EXAMS[exam_id].items}
    assert "task" in kinds and len(kinds) >= 4


@pytest.mark.parametrize("exam_id", EXAM_IDS)
def test_release_has_no_answers(course, exam_id):
    """Does the released notebook carry no hidden test, no scorer call and no answer key, and
    is the mark scheme kept out of the release?"""
    release = course / "release" / exam_id
    text = (release / f"{exam_id}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in text
    assert "score_" not in text and "correct=" not in text and "accepted=" not in text
    assert sorted(p.name for p in release.iterdir()) == [f"{exam_id}.ipynb"]
    assert (EXAMS_DIR / "huong-dan-cham" / f"{exam_id}.md").exists()
    assert not list(course.glob("release/**/*.md"))


@pytest.mark.parametrize("exam_id", EXAM_IDS)
def test_autograde_scores(course, exam_id):
    """Does a correct learner get every automatic point, a partial one some but not all, and a
    wrong or blank one none, with the written task left for the instructor?"""
    full = EXAMS[exam_id].auto_points
    got = {q: auto_and_manual(course, exam_id, s) for q, s in STUDENTS.items()}
    for _quality, (_earned, possible, manual) in got.items():
        assert possible == full
        assert manual is True
    assert got["correct"][0] == full
    assert 0 < got["partial"][0] < full
    assert got["wrong"][0] == 0
    assert got["blank"][0] == 0


def test_written_answer_is_shown_to_the_grader(course):
    """Does the autograded notebook show the learner's written answer to the instructor?"""
    nb = nbformat.read(course / "autograded" / STUDENTS["correct"] / "van-ban" / "van-ban.ipynb",
                       as_version=4)
    shown = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    assert "Nghị định 30/2020" in shown
