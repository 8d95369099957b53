"""The one-stop tasks driven as a learner would, scored right, partly and wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from assessments.questions import Exam
from assessments.questions.tasks.filing import DossierDue, ProcessDossier
from tests.assessments.questions.keys import keyed, keys, whole


@pytest.fixture
def exam(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "hv-mot-cua")
    return Exam("dich-vu-cong", tmp_path)


def test_due_right_partial_wrong(exam):
    """Is the appointment judged by the desk's own rule: both days right = all, start only =
    part, neither = nothing?"""
    q = exam.task_dossier_due("hen-tra")
    _, due = keys.dossier_deadline(q.task)
    q.start.value, q.due.value = due.counted_from, due.due_date
    assert DossierDue.score(whole(q), exam.sidecar.answer("hen-tra"), 5) == 5.0
    q.due.value = due.due_date + dt.timedelta(days=1)
    assert DossierDue.score(whole(q), q.get_value(), 5) == 2.0
    q.start.value = due.counted_from - dt.timedelta(days=1)
    assert DossierDue.score(whole(q), q.get_value(), 5) == 0.0


def test_after_cutoff_counts_from_next_working_day():
    """Does a dossier received after 15:00 count from the next working day?"""
    for n in range(60):
        task = DossierDue.variant("dich-vu-cong", "hen-tra", f"hv{n}")
        at = dt.datetime.fromisoformat(task["at"])
        if at.hour >= 15 and at.minute > 0:
            _, due = keys.dossier_deadline(task)
            assert due.counted_from > at.date()
            return
    raise AssertionError("no after-cut-off variant")


def variant_with(action: str) -> dict:
    for n in range(80):
        task = ProcessDossier.variant("dich-vu-cong", "tiep-nhan", f"hv{n}")
        if keys.dossier_decision(task)[0] == action:
            return task
    raise AssertionError(action)


@pytest.mark.parametrize("action", ["receive", "request_supplement", "refuse"])
def test_process_decision(action):
    """Is each decision (receive, ask for documents, refuse) scored by the desk's rules?"""
    task = variant_with(action)
    right, missing = keys.dossier_decision(task)
    assert ProcessDossier.score(keyed(ProcessDossier, task), {"action": right, "missing": missing}, 5) == 5.0
    other = next(a for a in ("receive", "refuse") if a != right)
    assert ProcessDossier.score(keyed(ProcessDossier, task), {"action": other, "missing": []}, 5) == 0.0


def test_supplement_needs_the_missing_documents(exam, monkeypatch):
    """Does asking for supplementation without naming the missing paper earn only part?"""
    task = variant_with("request_supplement")
    _, missing = keys.dossier_decision(task)
    monkeypatch.setattr(ProcessDossier, "variant", classmethod(lambda cls, *a, **k: task))
    q = exam.task_process_dossier("tiep-nhan")
    q.action.value = "request_supplement"
    assert ProcessDossier.score(whole(q), q.get_value(), 5) == 3.0
    q.missing.value = tuple(missing)
    assert ProcessDossier.score(whole(q), exam.sidecar.answer("tiep-nhan"), 5) == 5.0
    assert missing[0] in q.missing.options
