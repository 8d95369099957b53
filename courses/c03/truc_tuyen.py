"""Lesson 03: online payment, fully-online (toàn trình) dossiers and guiding citizens.

The fee is judged against the procedure catalogue (fee per unit, Decimal); toàn trình against
the sandbox's rule (sandbox.filing.fullyonline.unmet_conditions) on a described dossier."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import ipywidgets as w

from courses.c03 import COURSE
from courses.common import esc, para
from courses.exercises import STYLE, Exercise, Feedback, choice
from kynangso.i18n import t
from sandbox.filing import fullyonline
from sandbox.filing.catalogue import default_catalogue

LESSON = "03-thanh-toan-va-toan-trinh"


def money(value: Decimal) -> str:
    return f"{int(value):,}".replace(",", ".") + " đồng"


class Fee(Exercise):
    """How much does the citizen pay online for this request?"""

    course, lesson, exercise_id = COURSE, LESSON, "tinh-phi"
    title_key = "courses.c03.title_fee"

    @classmethod
    def make_task(cls, rng):
        procs = [p for p in default_catalogue() if p.fee > 0]
        proc = rng.choice(procs)
        per_page = proc.fee_unit in ("trang", "bản")
        qty = rng.randint(2, 6) if per_page else 1
        return {"procedure": proc.code, "qty": qty}

    def build_inputs(self):
        self.answer = w.IntText(value=0, description=t("courses.c03.fee_answer"), style=STYLE)
        return [self.answer]

    def reset_inputs(self):
        self.answer.value = 0

    def prompt(self):
        proc = default_catalogue().get(self.task["procedure"])
        return para("courses.c03.fee_prompt", procedure=proc.name, qty=self.task["qty"],
                    unit=proc.fee_unit, fee=money(proc.fee))

    def answer_value(self):
        return self.answer.value

    @classmethod
    def judge(cls, task, answer):
        if not isinstance(answer, int | None):
            raise ValueError(f"not an amount: {answer!r}")
        proc = default_catalogue().get(task["procedure"])
        qty = task["qty"]
        total = proc.fee * qty
        why = t("courses.c03.fee_why", fee=money(proc.fee), unit=proc.fee_unit, qty=qty,
                total=money(total), source=proc.source)
        if Decimal(answer or 0) == total:
            return Feedback(True, why)
        wrong = t("courses.c03.fee_wrong", got=money(Decimal(answer or 0)))
        return Feedback(False, wrong + " " + why)


@dataclass
class _Payment:
    status: str
    online: bool
    amount_paid: Decimal


@dataclass
class _Doc:
    filename: str


@dataclass
class _Procedure:
    service_level: str


@dataclass
class DescribedDossier:
    """Just the facts the toàn trình rule reads (the shape of sandbox.filing's DossierView)."""

    procedure: _Procedure
    channel: str
    documents: list[_Doc]
    fee_due: Decimal
    payments: list[_Payment] = field(default_factory=list)
    needs_in_person: bool = False
    on_site_check: bool = False
    result_electronic: bool = True
    return_method: str = "truc_tuyen"


# one fact that can break toàn trình, and how to break it
BREAKERS = {
    "submitted_online": lambda d: setattr(d, "channel", "truc_tiep"),
    "files_uploaded": lambda d: d.documents.append(_Doc("")),
    "paid_online": lambda d: setattr(d, "payments", [_Payment("da_thanh_toan", False, d.fee_due)]),
    "no_in_person": lambda d: setattr(d, "needs_in_person", True),
    "electronic_result": lambda d: setattr(d, "result_electronic", False),
    "returned_online": lambda d: setattr(d, "return_method", "truc_tiep"),
}


class FullyOnline(Exercise):
    """Is this dossier processed fully online (toàn trình)? If not, why not?"""

    course, lesson, exercise_id = COURSE, LESSON, "toan-trinh"
    title_key = "courses.c03.title_online"

    @classmethod
    def make_task(cls, rng):
        broken = rng.choice([None, None, *BREAKERS])
        # paying at the desk only breaks toàn trình when there is a fee to pay
        fees = [8000, 100000] if broken == "paid_online" else [0, 8000, 100000]
        return {"broken": broken, "fee": rng.choice(fees)}

    def dossier(self) -> DescribedDossier:
        return self.dossier_of(self.task)

    @staticmethod
    def dossier_of(task: dict) -> DescribedDossier:
        fee = Decimal(task["fee"])
        d = DescribedDossier(_Procedure("toan_trinh"), "truc_tuyen", [_Doc("to-khai.pdf")], fee,
                             [_Payment("da_thanh_toan", True, fee)] if fee else [])
        if task["broken"]:
            BREAKERS[task["broken"]](d)
        return d

    def build_inputs(self):
        self.pick = choice([(t("courses.c03.online_yes"), "yes")] + [
            (t(f"filing.fully_online.{k}"), k) for k in BREAKERS], t("courses.c03.online_pick"))
        return [self.pick]

    def reset_inputs(self):
        self.pick.value = None

    def prompt(self):
        d = self.dossier()
        facts = [t("courses.c03.fact.channel_" + d.channel),
                 t("courses.c03.fact.paper") if any(not x.filename for x in d.documents)
                 else t("courses.c03.fact.files"),
                 t("courses.c03.fact.no_fee") if not d.fee_due else (
                     t("courses.c03.fact.paid_online", fee=money(d.fee_due))
                     if all(p.online for p in d.payments)
                     else t("courses.c03.fact.paid_desk", fee=money(d.fee_due))),
                 t("courses.c03.fact." + ("in_person" if d.needs_in_person else "no_visit")),
                 t("courses.c03.fact." + ("result_e" if d.result_electronic else "result_paper")),
                 t("courses.c03.fact.return_" + d.return_method)]
        items = "".join(f"<li>{esc(f)}</li>" for f in facts)
        return f"<p>{esc(t('courses.c03.online_prompt'))}</p><ul>{items}</ul>"

    def answer_value(self):
        return self.pick.value

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        unmet = fullyonline.unmet_conditions(cls.dossier_of(task))
        if not unmet:
            ok = answer == "yes"
            return Feedback(ok, t("courses.c03.online_is"))
        reasons = "\n".join(t(f"filing.fully_online.{c}") for c in unmet)
        if answer in unmet:
            return Feedback(True, t("courses.c03.online_not") + "\n" + reasons)
        return Feedback(False, t("courses.c03.online_missed") + "\n" + reasons)


def exercise_fee() -> Fee:
    return Fee()


def exercise_fully_online() -> FullyOnline:
    return FullyOnline()


def example():
    """Worked example: the citizen portal of the simulation (search, submit, pay, follow)."""
    from datetime import datetime

    from courses.common import practice_dir
    from sandbox.filing.widgets import citizen_portal

    return citizen_portal(practice_dir() / "mot-cua" / "cong-dich-vu-cong.sqlite",
                          now=datetime(2026, 3, 9, 9, 0))
