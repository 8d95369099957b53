"""The documents tasks driven as a learner would (set .value), scored right, partly, wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from assessments.questions import Exam
from assessments.questions.tasks.documents import HandlingDeadline, ReadSymbol, RegisterIncoming
from tests.assessments.questions.keys import keys, whole


@pytest.fixture
def exam(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "hv-tai-lieu")
    return Exam("van-ban", tmp_path)


def fill(q: RegisterIncoming, row: dict) -> None:
    f = q.fields
    f["arrival_number"].value = row["arrival_number"]
    f["arrival_date"].value = dt.date.fromisoformat(row["arrival_date"])
    f["doc_date"].value = dt.date.fromisoformat(row["doc_date"])
    for key in ("type_name", "symbol", "author", "urgency", "secrecy"):
        f[key].value = row[key]


def test_register_right_row_scores_full_and_is_saved(exam):
    """Does the register row the sandbox writes earn all points, and is it saved at once?"""
    q = exam.task_register_incoming("dang-ky-den")
    row = keys.registered(whole(q))
    assert row["arrival_number"] == (q.task["previous_secret"] if q.task["secrecy"]
                                     else q.task["previous"]) + 1
    fill(q, row)
    assert "Đã lưu câu trả lời" in q.status.value
    assert RegisterIncoming.score(whole(q), exam.sidecar.answer("dang-ky-den"), 4) == 4.0
    assert q.task["symbol"] in q.children[0].value  # the learner sees the document


def test_register_wrong_series_loses_points(exam):
    """Is a số đến taken from the wrong register (thường vs mật) and a wrong date marked down?"""
    q = exam.task_register_incoming("dang-ky-den")
    row = keys.registered(whole(q))
    row["arrival_number"] += 1
    row["arrival_date"] = (dt.date.fromisoformat(row["arrival_date"])
                           + dt.timedelta(days=1)).isoformat()
    fill(q, row)
    assert RegisterIncoming.score(whole(q), q.get_value(), 4) == 3.0


def test_register_untouched_is_unanswered(exam):
    """Is an untouched form no answer at all (0 points, nothing saved)?"""
    q = exam.task_register_incoming("dang-ky-den")
    assert q.get_value() is None
    assert RegisterIncoming.score(whole(q), None, 4) == 0.0


def test_register_restored_after_rerun(exam):
    """Does running the cell again show the saved answer?"""
    q = exam.task_register_incoming("dang-ky-den")
    fill(q, keys.registered(whole(q)))
    again = exam.task_register_incoming("dang-ky-den")
    assert again.get_value() == q.get_value()
    assert "trước đó" in again.status.value


def find_symbol_task(exam, faulty: bool) -> ReadSymbol:
    for n in range(40):
        q = ReadSymbol(Exam("van-ban", exam.folder), f"sym-{n}")
        if bool(keys.symbol_faults(q.task["symbol"], q.task["type_name"])) == faulty:
            return q
    raise AssertionError("no such variant")


def test_symbol_fault_found_and_fixed(exam):
    """Does spotting a faulty số, ký hiệu earn half, and writing it right the other half?"""
    q = find_symbol_task(exam, faulty=True)
    q.verdict.value = "bad"
    assert ReadSymbol.score(whole(q), q.get_value(), 2) == 1.0
    q.fixed.value = whole(q)["expected"]
    assert ReadSymbol.score(whole(q), q.get_value(), 2) == 2.0
    q.verdict.value = "ok"
    assert ReadSymbol.score(whole(q), q.get_value(), 2) == 0.0


def test_symbol_right_one_called_right(exam):
    """Is a correct số, ký hiệu worth full points when called right, none when called wrong?"""
    q = find_symbol_task(exam, faulty=False)
    q.verdict.value = "ok"
    assert ReadSymbol.score(whole(q), q.get_value(), 2) == 2.0
    q.verdict.value = "bad"
    assert ReadSymbol.score(whole(q), q.get_value(), 2) == 0.0


def test_deadline_counts_working_days(exam):
    """Is the working-day deadline right and the calendar-day count wrong?"""
    q = exam.task_handling_deadline("han-xu-ly")
    due = keys.handling_due(q.task)
    start = dt.date.fromisoformat(q.task["start"])
    assert due > start + dt.timedelta(days=q.task["days"] - 1)
    q.answer.value = due
    assert HandlingDeadline.score(whole(q), exam.sidecar.answer("han-xu-ly"), 2) == 2.0
    q.answer.value = due - dt.timedelta(days=1)
    assert HandlingDeadline.score(whole(q), q.get_value(), 2) == 0.0


def test_variants_differ_between_learners(tmp_path, monkeypatch):
    """Do two learners get different documents to register?"""
    tasks = []
    for who in ("hv-a", "hv-b"):
        monkeypatch.setenv("JUPYTERHUB_USER", who)
        tasks.append(RegisterIncoming.variant("van-ban", "dang-ky-den", who))
    assert tasks[0] != tasks[1]
