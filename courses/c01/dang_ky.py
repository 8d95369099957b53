"""Lesson 04: đăng ký văn bản đến in the simulation, and the handling deadline in working days.

The registration is done in the sandbox's own form (sandbox.documents.widgets.registration_form,
over a practice registry of the course) and checked by reading that registry; the deadline is
judged with sandbox.documents.deadlines (kynangso.workdays calendar)."""

from __future__ import annotations

from datetime import date, timedelta

import ipywidgets as w

from courses.c01 import COURSE
from courses.common import esc, para, practice_dir
from courses.exercises import STYLE, Exercise, Feedback
from kynangso.i18n import t
from sandbox.documents import deadlines, scenarios
from sandbox.documents.rules import ruleset
from sandbox.documents.storage import Registry
from sandbox.documents.widgets import registration_form

LESSON = "04-dang-ky-va-thoi-han"


def practice_registry() -> Registry:
    """The course's own document registry (not the learner's free-practice one)."""
    return Registry(practice_dir() / "van-ban.sqlite")


class RegisterDocument(Exercise):
    """Register a paper document that has just arrived, using the simulation's form."""

    course, lesson, exercise_id = COURSE, LESSON, "dang-ky-van-ban-den"
    title_key = "courses.c01.title_register"

    def __init__(self, registry: Registry | None = None):
        self.registry = registry or practice_registry()
        super().__init__()

    @classmethod
    def make_task(cls, rng):
        docs = scenarios.generate(rng.randrange(10**6), "khoa-hoc")
        doc = rng.choice([d for d in docs if not d.mistakes])
        return {"author": doc.author, "symbol": doc.symbol, "type_name": doc.type_name,
                "subject": doc.subject, "doc_date": doc.doc_date.isoformat(),
                "urgency": doc.urgency}

    def build_inputs(self):
        self.form = registration_form(registry=self.registry)
        return [self.form]

    def prompt(self):
        k = self.task
        urgency = ruleset().urgency_by_key(k["urgency"]).name
        d = date.fromisoformat(k["doc_date"]).strftime("%d/%m/%Y")
        return (f"<p>{esc(t('courses.c01.register_prompt'))}</p><ul>"
                f"<li>{esc(t('courses.c01.f_author'))}: {esc(k['author'])}</li>"
                f"<li>{esc(t('courses.c01.f_symbol'))}: Số: {esc(k['symbol'])}</li>"
                f"<li>{esc(t('courses.c01.f_date'))}: {d}</li>"
                f"<li>{esc(t('courses.c01.f_type'))}: {esc(k['type_name'])}</li>"
                f"<li>{esc(t('courses.c01.f_subject'))}: {esc(k['subject'])}</li>"
                f"<li>{esc(t('courses.c01.f_urgency'))}: {esc(urgency)}</li></ul>")

    def answer_value(self):
        """The learner's registration of this document in the practice registry (the last
        one), or {} when it is not registered: what they did is the answer."""
        k = self.task
        rows = [r for r in self.registry.inbox("UBND") if r["symbol"] == k["symbol"]
                and r["author"] == k["author"]]
        if not rows:
            return {}
        r = rows[-1]
        return {"symbol": r["symbol"], "author": r["author"], "type_name": r["type_name"],
                "doc_date": r["doc_date"].isoformat(), "urgency": r["urgency"],
                "arrival_number": r["arrival_number"]}

    @classmethod
    def judge(cls, task, answer):
        k = task
        if not answer or answer.get("symbol") != k["symbol"] or answer.get("author") != k["author"]:
            return Feedback(False, t("courses.c01.not_registered", symbol=k["symbol"]))
        r = answer
        problems = []
        if str(r["type_name"]).replace(" (cá biệt)", "") != k["type_name"]:
            problems.append(t("courses.c01.reg_type", got=r["type_name"], right=k["type_name"]))
        if date.fromisoformat(r["doc_date"]) != date.fromisoformat(k["doc_date"]):
            problems.append(t("courses.c01.reg_date",
                              right=date.fromisoformat(k["doc_date"]).strftime("%d/%m/%Y")))
        if r["urgency"] != k["urgency"]:
            problems.append(t("courses.c01.reg_urgency",
                              right=ruleset().urgency_by_key(k["urgency"]).name))
        if problems:
            return Feedback(False, "\n".join(problems))
        return Feedback(True, t("courses.c01.registered", number=r["arrival_number"],
                                symbol=k["symbol"]))


class HandlingDeadline(Exercise):
    """The leader gives N working days: on which date is the document due?"""

    course, lesson, exercise_id = COURSE, LESSON, "han-giai-quyet"
    title_key = "courses.c01.title_deadline"

    @classmethod
    def make_task(cls, rng):
        cal = deadlines.default_calendar()
        # days around weekends and the 2026 holidays (Giỗ Tổ, 30/4, Quốc khánh) make it real
        start = rng.choice([date(2026, 4, 22), date(2026, 4, 28), date(2026, 8, 26),
                            date(2026, 3, 5), date(2026, 11, 19), date(2026, 6, 11)])
        start += timedelta(days=rng.randrange(3))
        while not cal.is_working_day(start):
            start += timedelta(days=1)
        days = rng.choice([3, 5, 7])
        return {"start": start.isoformat(), "days": days,
                "due": deadlines.due_date(start, days, cal).isoformat()}

    def build_inputs(self):
        self.answer = w.DatePicker(description=t("courses.c01.due_answer"), style=STYLE)
        return [self.answer]

    def reset_inputs(self):
        self.answer.value = None

    def prompt(self):
        start = date.fromisoformat(self.task["start"]).strftime("%d/%m/%Y")
        return para("courses.c01.deadline_prompt", start=start, days=self.task["days"])

    def answer_value(self):
        return None if self.answer.value is None else self.answer.value.isoformat()

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        got = date.fromisoformat(answer)
        cal = deadlines.default_calendar()
        start, due = date.fromisoformat(task["start"]), date.fromisoformat(task["due"])
        off = []
        d = start + timedelta(days=1)
        while d <= due:
            reason = cal.reason_off(d)
            if reason is not None:
                label = t("courses.c01.weekend") if reason == "weekend" else reason
                off.append(f"{d.strftime('%d/%m')} ({label})")
            d += timedelta(days=1)
        skipped = "; ".join(off) or t("courses.c01.no_days_off")
        due_text = due.strftime("%d/%m/%Y")
        if got == due:
            return Feedback(True, t("courses.c01.deadline_ok", due=due_text, skipped=skipped))
        calendar_days = start + timedelta(days=task["days"])
        key = ("courses.c01.deadline_calendar" if got == calendar_days
               else "courses.c01.deadline_wrong")
        return Feedback(False, t(key, due=due_text, skipped=skipped,
                                 got=got.strftime("%d/%m/%Y")))


def exercise_register(registry: Registry | None = None) -> RegisterDocument:
    return RegisterDocument(registry)


def exercise_deadline() -> HandlingDeadline:
    return HandlingDeadline()


def example() -> w.HTML:
    """Worked example: a deadline over the Quốc khánh 2026 holidays, counted by the calendar."""
    from courses.common import status_html

    start, days = date(2026, 8, 27), 3
    cal = deadlines.default_calendar()
    due = deadlines.due_date(start, days, cal)
    lines = [t("courses.c01.ex_start", start=start.strftime("%d/%m/%Y"), days=days)]
    d = start
    n = 0
    while d < due:
        d += timedelta(days=1)
        reason = cal.reason_off(d)
        if reason is None:
            n += 1
            lines.append(t("courses.c01.ex_count", day=d.strftime("%d/%m/%Y"), n=n))
        else:
            lines.append(t("courses.c01.ex_skip", day=d.strftime("%d/%m/%Y"),
                           reason=t("courses.c01.weekend") if reason == "weekend" else reason))
    lines.append(t("courses.c01.ex_due", due=due.strftime("%d/%m/%Y")))
    return w.HTML(status_html("\n".join(lines), None))
