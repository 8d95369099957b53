"""One-stop tasks (sandbox.filing): the appointment date of a dossier, and the reception
decision on a dossier.

The expected answers are computed by the grader, outside the learner's kernel
(assessments/exams/answer_keys.py, never installed): the appointment with
`kynangso.workdays.compute_due` and the procedure's own convention, the decision with the
desk's completeness rule over the catalogue's thành phần hồ sơ. These classes draw the
variant, show it and compare an answer with the key written into the hidden test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ipywidgets as w

from assessments.questions.base import Question
from assessments.questions.tasks.common import (
    STYLE,
    WIDE,
    date_field,
    esc,
    from_iso,
    iso,
    label,
    para,
    share,
)
from kynangso.i18n import t
from kynangso.workdays import fmt_moment
from sandbox.filing.catalogue import default_catalogue

# Moments that exercise each rule: after the 15:00 cut-off, a Friday, before Tết 2026
# (16–20/2), the make-up Saturday 22/8/2026 and Quốc khánh, Giỗ Tổ (nghỉ bù 27/4/2026),
# 24/11/2026 (domain README §3.4–3.5).
MOMENTS = (dt.datetime(2026, 2, 12, 9, 30), dt.datetime(2026, 2, 13, 15, 40),
           dt.datetime(2026, 8, 21, 10, 15), dt.datetime(2026, 8, 28, 16, 5),
           dt.datetime(2026, 4, 24, 14, 20), dt.datetime(2026, 11, 23, 15, 30),
           dt.datetime(2026, 3, 6, 15, 5), dt.datetime(2026, 4, 29, 15, 10))
ACTIONS = ("receive", "request_supplement", "refuse")


class DossierDue(Question):
    """A dossier is received at a given moment: from which day is the period counted, and on
    which day is the result due?"""

    kind = "task_dossier_due"
    NEEDS_KEY = True

    @classmethod
    def variant(cls, exam_id, item_id, learner, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        proc = rng.choice([p for p in default_catalogue() if p.days >= 1])
        at = rng.choice(MOMENTS) + dt.timedelta(minutes=rng.randrange(0, 20))
        return {"procedure": proc.code, "at": at.isoformat(timespec="minutes")}

    def prompt_html(self):
        proc = default_catalogue().get(self.task["procedure"])
        at = dt.datetime.fromisoformat(self.task["at"])
        return para("questions.tasks.due_prompt", procedure=proc.name, days=proc.days,
                    moment=fmt_moment(at), source=proc.source)

    def build_inputs(self):
        self.start = date_field("due_start")
        self.due = date_field("due_answer")
        return [self.start, self.due]

    def get_value(self):
        if self.start.value is None and self.due.value is None:
            return None
        return {"start": iso(self.start.value), "due": iso(self.due.value)}

    def set_value(self, value):
        self.start.value = from_iso(value.get("start"))
        self.due.value = from_iso(value.get("due"))

    @classmethod
    def score(cls, task, value, points):
        if not value:
            return 0.0
        key = task["key"]
        return share([(2.0, value.get("start") == key["start"]),
                      (3.0, value.get("due") == key["due"])], points)


def _person(rng) -> str:
    return (f"{rng.choice(('Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ'))} "
            f"{rng.choice(('Văn', 'Thị', 'Minh', 'Thu', 'Đức'))} "
            f"{rng.choice(('An', 'Bình', 'Hà', 'Lan', 'Nam', 'Trang'))}")


class ProcessDossier(Question):
    """Receive, ask for supplementation (naming what is missing) or refuse a dossier."""

    kind = "task_process_dossier"
    NEEDS_KEY = True

    @classmethod
    def variant(cls, exam_id, item_id, learner, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        procs = list(default_catalogue())
        proc = rng.choice(procs)
        full = {d.key: d.quantity for d in proc.documents if d.required}
        case = rng.choice(("thieu_giay_to", "thieu_giay_to", "sai_thu_tuc", "day_du"))
        given, request = dict(full), proc.name
        if case == "thieu_giay_to":
            drop = rng.choice(list(full))
            if full[drop] > 1 and rng.random() < 0.5:
                given[drop] = full[drop] - 1  # one copy short is missing too
            else:
                given.pop(drop)
        elif case == "sai_thu_tuc":
            request = rng.choice([p for p in procs if p.field != proc.field]).name
        return {"procedure": proc.code, "applicant": _person(rng), "given": given,
                "request": request}

    def prompt_html(self):
        k = self.task
        proc = default_catalogue().get(k["procedure"])
        required = "".join(f"<li>{esc(d.name)} ({esc(d.form_label)}, {d.quantity})</li>"
                           for d in proc.documents if d.required)
        given = "".join(f"<li>{esc(proc.document(key).name)}: {n}</li>"
                        for key, n in k["given"].items())
        return (para("questions.tasks.dossier_prompt", name=k["applicant"],
                     procedure=proc.name)
                + para("questions.tasks.dossier_request", request=k["request"])
                + f"<p>{esc(label('dossier_required'))}</p><ul>{required}</ul>"
                + f"<p>{esc(label('dossier_given'))}</p><ul>{given}</ul>")

    def build_inputs(self):
        proc = default_catalogue().get(self.task["procedure"])
        self.action = w.RadioButtons(
            options=[(t(f"questions.tasks.action_{a}"), a) for a in ACTIONS], value=None,
            description=label("dossier_action"), style=STYLE)
        self.missing = w.SelectMultiple(
            options=[d.name for d in proc.documents if d.required], value=(),
            description=label("dossier_missing"), style=STYLE, layout=WIDE)
        return [self.action, self.missing]

    def get_value(self) -> Any:
        if self.action.value is None and not self.missing.value:
            return None
        return {"action": self.action.value, "missing": sorted(self.missing.value)}

    def set_value(self, value):
        self.action.value = value.get("action")
        self.missing.value = tuple(m for m in value.get("missing") or ()
                                   if m in self.missing.options)

    @classmethod
    def score(cls, task, value, points):
        if not value or value.get("action") not in ACTIONS:
            return 0.0
        action, missing = task["key"]["action"], task["key"]["missing"]
        if value["action"] != action:
            return 0.0
        return share([(3.0, True), (2.0, sorted(value.get("missing") or []) == sorted(missing))],
                     points)


__all__ = ["DossierDue", "ProcessDossier"]
