"""The scorers hidden test cells call: right, partial, wrong and missing answers, rounding, and
the damaged sidecar that must print on stdout, never on stderr."""

from __future__ import annotations

from typing import Any

import pytest

from assessments.questions import Exam, Question
from assessments.questions.choice import SingleChoice
from assessments.questions.grading import (
    answers,
    score_item,
    score_multiple,
    score_number,
    score_ordering,
    score_single,
    score_text,
)
from assessments.questions.sidecar import Sidecar

EXAM = "thi1"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A submission folder as the grader runs it: <course>/autograded/hocvien01/thi1 (the cwd)."""
    here = tmp_path / "course" / "autograded" / "hocvien01" / EXAM
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    return here


def answer(folder, **values):
    for item, value in values.items():
        Sidecar(EXAM, "hocvien01", folder).save(item.replace("_", "-"), value)


def test_answers_reads_the_sidecar_in_the_cwd(folder):
    """Does answers() give item -> value from the sidecar beside the notebook?"""
    answer(folder, cau_1="b", cau_2=12.5)
    assert answers(EXAM) == {"cau-1": "b", "cau-2": 12.5}


def test_missing_sidecar_is_no_answers(folder, capsys):
    """Is a missing sidecar read as no answers, quietly, and scored 0?"""
    assert answers(EXAM) == {}
    assert score_single(EXAM, "cau-1", "b", 2) == 0
    assert capsys.readouterr().out == ""


def test_damaged_sidecar_prints_on_stdout_only(folder, capsys):
    """Does a damaged sidecar give no answers and a line on stdout (stderr would zero the cell)?"""
    (folder / f"{EXAM}.answers.json").write_text("{not json", encoding="utf-8")
    assert score_single(EXAM, "cau-1", "b", 2) == 0
    out, err = capsys.readouterr()
    assert "bị hỏng" in out and "không phải JSON" in out and err == ""


def test_single(folder):
    """Does the right key earn all points, a wrong or missing one 0?"""
    answer(folder, cau_1="b", cau_2="c")
    assert score_single(EXAM, "cau-1", "b", 2) == 2
    assert score_single(EXAM, "cau-2", "b", 2) == 0
    assert score_single(EXAM, "cau-9", "b", 2) == 0


@pytest.mark.parametrize("ticked, expected", [
    (["a", "c"], 2), (["a"], 1), (["a", "b", "c"], 1), (["a", "b"], 0), (["b", "d"], 0),
    (["a", "b", "c", "d"], 0), ([], 0),
])
def test_multiple_partial_credit(folder, ticked, expected):
    """Is each right tick worth points/len(correct), each wrong tick as much taken away, floor 0?"""
    answer(folder, cau_3=ticked)
    assert score_multiple(EXAM, "cau-3", ["a", "c"], 2) == expected


def test_multiple_rounds_to_two_decimals(folder):
    """Are scores rounded to 2 decimals (1 of 3 right keys for 1 point = 0.33)?"""
    answer(folder, cau_3=["a"])
    assert score_multiple(EXAM, "cau-3", ["a", "b", "c"], 1) == 0.33


@pytest.mark.parametrize("value, tolerance, expected", [
    (1234.5, 0, 1), (1234.4, 0, 0), (1234.4, 0.1, 1), (1234.2, 0.1, 0), ("1234.5", 0, 0),
    (True, 0, 0),
])
def test_number(folder, value, tolerance, expected):
    """Is a number right within the tolerance, and a non-number (hand-edited sidecar) wrong?"""
    answer(folder, cau_2=value)
    assert score_number(EXAM, "cau-2", 1234.5, 1, tolerance=tolerance) == expected


@pytest.mark.parametrize("value, expected", [
    ("Ủy ban nhân dân", 1), ("  ỦY BAN   nhân dân ", 1), ("uy ban nhan dan", 0),
    ("Uỷ ban nhân dân", 1), ("UBND", 1), ("Hội đồng nhân dân", 0), ("", 0),
])
def test_text_ignores_case_and_spaces_but_not_diacritics(folder, value, expected):
    """Are case and spacing ignored, old/new tone placement accepted when listed, and missing
    diacritics wrong?"""
    answer(folder, cau_5=value)
    accepted = ["Ủy ban nhân dân", "Uỷ ban nhân dân", "UBND"]
    assert score_text(EXAM, "cau-5", accepted, 1) == expected


def test_text_compares_in_nfc(folder):
    """Is an answer typed with combining accents (NFD) equal to the same word composed?"""
    import unicodedata

    answer(folder, cau_5=unicodedata.normalize("NFD", "Hà Nội"))
    assert score_text(EXAM, "cau-5", ["hà nội"], 1) == 1


@pytest.mark.parametrize("order, expected", [
    (["a", "b", "c", "d"], 3), (["b", "a", "c", "d"], 2.5), (["d", "c", "b", "a"], 0),
    (["a", "c", "b", "d"], 2.5), (["b", "c", "d", "a"], 1.5),
])
def test_ordering_by_pairs(folder, order, expected):
    """Is an order worth the share of pairs in the right relative order?"""
    answer(folder, cau_6=order)
    assert score_ordering(EXAM, "cau-6", ["a", "b", "c", "d"], 3) == expected


def test_ordering_of_other_items_scores_zero_and_says_so(folder, capsys):
    """Does an order of different items (wrong answer key or edited sidecar) earn 0 with a line?"""
    answer(folder, cau_6=["a", "b"])
    assert score_ordering(EXAM, "cau-6", ["x", "y"], 3) == 0
    out, err = capsys.readouterr()
    assert "không đúng dạng" in out and err == ""


def test_score_item_uses_the_class_rules(folder):
    """Does score_item score a built-in question with the spec (e.g. SingleChoice + correct)?"""
    answer(folder, cau_1="hue")
    spec = {"options": [("hn", "Hà Nội"), ("hue", "Huế")]}
    assert score_item(EXAM, "cau-1", SingleChoice, 2, correct="hue", **spec) == 2
    assert score_item(EXAM, "cau-1", SingleChoice, 2, correct="hn", **spec) == 0


class Fee(Question):
    """A per-learner task: the fee to compute differs per learner; the answer is a number."""

    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, **spec: Any) -> dict[str, Any]:
        return {"pages": cls.rng(exam_id, item_id, learner).randint(1, 1000)}

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        right = task["pages"] * 2000
        return points if value == right else (points / 2 if abs(value - right) <= 2000 else 0)


def test_score_item_recomputes_the_variant_from_the_submission_path(folder, tmp_path,
                                                                    monkeypatch):
    """Is the learner's variant recomputed from the folder name, so another learner's right
    answer is wrong here?"""
    mine = Fee.variant(EXAM, "phi", "hocvien01")["pages"] * 2000
    theirs = Fee.variant(EXAM, "phi", "hocvien02")["pages"] * 2000
    assert mine != theirs
    answer(folder, phi=mine)
    assert score_item(EXAM, "phi", Fee, 4) == 4
    answer(folder, phi=mine + 1000)
    assert score_item(EXAM, "phi", Fee, 4) == 2
    answer(folder, phi=theirs)
    assert score_item(EXAM, "phi", Fee, 4) == (2 if abs(theirs - mine) <= 2000 else 0)


def test_scores_never_exceed_points(folder):
    """Is a class that returns too much capped at the item's points (nbgrader errors above it)?"""
    class Generous(Fee):
        @classmethod
        def score(cls, task, value, points):
            return points * 10

    answer(folder, phi=1)
    assert score_item(EXAM, "phi", Generous, 1.5) == 1.5


def test_scorers_accept_an_exam_object(folder):
    """Can a hidden test pass the notebook's Exam object instead of the exam id?"""
    answer(folder, cau_1="b")
    assert score_single(Exam(EXAM), "cau-1", "b", 1) == 1
