"""Lesson 02: the appointment date in working days. Judged with kynangso.workdays.compute_due,
the same function the one-stop desk uses; its Vietnamese steps explain a wrong answer."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ipywidgets as w

from courses.c03 import COURSE
from courses.common import para
from courses.exercises import STYLE, Exercise, Feedback
from kynangso.i18n import t
from kynangso.workdays import compute_due, default_calendar, fmt_moment
from sandbox.filing.catalogue import default_catalogue

LESSON = "02-thoi-han-giai-quyet"
# Moments that exercise each rule: after 15:00, a Friday, before Tết 2026 (16–20/2), the
# make-up Saturday 22/8/2026 and Quốc khánh, Giỗ Tổ (nghỉ bù 27/4/2026), 24/11/2026.
MOMENTS = [datetime(2026, 2, 12, 9, 30), datetime(2026, 2, 13, 15, 40),
           datetime(2026, 8, 21, 10, 15), datetime(2026, 8, 28, 16, 5),
           datetime(2026, 4, 24, 14, 20), datetime(2026, 11, 23, 15, 30),
           datetime(2026, 3, 6, 15, 5), datetime(2026, 6, 10, 8, 45)]


class Appointment(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "hen-tra-ket-qua"
    title_key = "courses.c03.title_due"

    @classmethod
    def make_task(cls, rng):
        procs = [p for p in default_catalogue() if p.days >= 1]
        proc = rng.choice(procs)
        at = rng.choice(MOMENTS) + timedelta(minutes=rng.randrange(0, 20))
        return {"procedure": proc.code, "at": at.isoformat(timespec="minutes")}

    def build_inputs(self):
        self.answer = w.DatePicker(description=t("courses.c03.due_answer"), style=STYLE)
        return [self.answer]

    def reset_inputs(self):
        self.answer.value = None

    def deadline(self):
        return self.deadline_of(self.task)

    @staticmethod
    def deadline_of(task: dict):
        proc = default_catalogue().get(task["procedure"])
        at = datetime.fromisoformat(task["at"])
        return proc, at, compute_due(default_calendar(), at, proc.days, proc.convention)

    def prompt(self):
        proc, at, _ = self.deadline()
        return para("courses.c03.due_prompt", procedure=proc.name, days=proc.days,
                    moment=fmt_moment(at), source=proc.source)

    def answer_value(self):
        return None if self.answer.value is None else self.answer.value.isoformat()

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        got = date.fromisoformat(answer)
        _, _, due = cls.deadline_of(task)
        steps = "\n".join(due.steps)
        if got == due.due_date:
            return Feedback(True, steps)
        wrong = t("courses.c03.due_wrong", got=got.strftime("%d/%m/%Y"))
        return Feedback(False, wrong + "\n" + steps)


def exercise_appointment() -> Appointment:
    return Appointment()


def example() -> w.HTML:
    """Worked example: a dossier received at 15:40 on the Friday before Tết 2026, step by step."""
    from courses.common import status_html

    due = compute_due(default_calendar(), datetime(2026, 2, 13, 15, 40), 3)
    return w.HTML(status_html("\n".join(due.steps), None))
