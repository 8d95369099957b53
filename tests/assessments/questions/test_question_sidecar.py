"""The sidecar under stress: concurrent saves, a crash while writing, a damaged file, and the
per-learner variants that the grader must recompute from the submission path alone."""

from __future__ import annotations

import json
import os
import threading

import pytest

from assessments.questions import Exam
from assessments.questions.choice import SingleChoice
from assessments.questions.ordering import Ordering

EXAM = "thi1"
MANY = [f"Phương án {i}" for i in range(8)]


@pytest.fixture(autouse=True)
def learner(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "hocvien01")


def test_two_exams_saving_at_once_lose_nothing(tmp_path):
    """Do two Exam objects saving different items from many threads at once keep every answer?"""
    exams = [Exam(EXAM, tmp_path), Exam(EXAM, tmp_path)]
    start = threading.Barrier(8)

    def answer(exam, item, value):
        start.wait()
        for _ in range(15):
            exam.sidecar.save(item, value)

    threads = [threading.Thread(target=answer, args=(exams[i % 2], f"cau-{i}", i))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = json.loads(exams[0].sidecar.path.read_text(encoding="utf-8"))["answers"]
    assert {item: record["value"] for item, record in answers.items()} == {
        f"cau-{i}": i for i in range(8)}


def test_widgets_of_two_exam_objects_keep_both_answers(tmp_path):
    """Do widgets built from two Exam objects on one folder both end up in the sidecar?"""
    first = SingleChoice(Exam(EXAM, tmp_path), "cau-1", prompt="?", options=MANY)
    second = SingleChoice(Exam(EXAM, tmp_path), "cau-2", prompt="?", options=MANY)
    first.choice.value = "a"
    second.choice.value = "b"
    assert Exam(EXAM, tmp_path).sidecar.answers().keys() == {"cau-1", "cau-2"}


def test_a_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    """If the write fails half-way, is the old sidecar intact, no temp file left, and the
    learner told to call the invigilator?"""
    q = SingleChoice(Exam(EXAM, tmp_path), "cau-1", prompt="?", options=MANY)
    q.choice.value = "a"
    before = q.exam.sidecar.path.read_bytes()

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    q.choice.value = "b"
    monkeypatch.undo()
    assert q.exam.sidecar.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert "Chưa lưu được câu trả lời (No space left on device)" in q.status.value
    assert "giám thị" in q.status.value


@pytest.mark.parametrize("content", ['{"answers": {"cau-1": ', '[1, 2]',
                                     '{"schema_version": 1, "answers": []}'])
def test_a_damaged_sidecar_is_reported_and_never_overwritten(tmp_path, content):
    """Does a damaged sidecar give a message on the widget and no write, whatever is clicked?"""
    path = tmp_path / f"{EXAM}.answers.json"
    path.write_text(content, encoding="utf-8")
    q = SingleChoice(Exam(EXAM, tmp_path), "cau-1", prompt="?", options=MANY)
    assert "bị hỏng" in q.status.value and "giám thị" in q.status.value
    q.choice.value = "c"
    assert path.read_text(encoding="utf-8") == content
    assert "bị hỏng" in q.status.value


def test_damage_after_the_widget_was_drawn_is_reported_too(tmp_path):
    """If the sidecar is damaged after the widget appeared, is the next save refused with a message?"""
    q = SingleChoice(Exam(EXAM, tmp_path), "cau-1", prompt="?", options=MANY)
    q.choice.value = "a"
    q.exam.sidecar.path.write_text("{oops", encoding="utf-8")
    q.choice.value = "b"
    assert q.exam.sidecar.path.read_text(encoding="utf-8") == "{oops"
    assert "bị hỏng" in q.status.value


def test_variants_differ_between_learners(tmp_path, monkeypatch):
    """Do two learners see the options (and the items to order) in different orders?"""
    def orders(user):
        monkeypatch.setenv("JUPYTERHUB_USER", user)
        exam = Exam(EXAM, tmp_path / user)
        return (SingleChoice(exam, "cau-1", prompt="?", options=MANY).task["order"],
                Ordering(exam, "cau-2", prompt="?", items=MANY).task["order"])

    assert orders("hocvien01")[0] != orders("hocvien02")[0]
    assert orders("hocvien01")[1] != orders("hocvien02")[1]


@pytest.mark.parametrize("stage", ["submitted", "autograded"])
def test_the_grader_sees_the_learners_variant(tmp_path, monkeypatch, stage):
    """Run from <course>/<stage>/<learner>/<exam>/ by the grader's account, is the learner the
    one named in the path and the variant exactly what that learner saw?"""
    monkeypatch.setenv("JUPYTERHUB_USER", "hocvien02")
    learner_side = SingleChoice(Exam(EXAM, tmp_path / "home"), "cau-1", prompt="?", options=MANY)
    monkeypatch.setenv("JUPYTERHUB_USER", "giangvien")
    folder = tmp_path / "course" / stage / "hocvien02" / EXAM
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    grader = Exam(EXAM)
    assert grader.learner == "hocvien02" and grader.grading
    grader_side = SingleChoice(grader, "cau-1", prompt="?", options=MANY)
    assert grader_side.task == learner_side.task
