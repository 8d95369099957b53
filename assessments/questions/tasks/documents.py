"""Documents tasks (sandbox.documents): register an incoming document, read a số/ký hiệu, and
count a handling deadline in working days.

Every expected answer is computed by the grader, outside the learner's kernel, with the
sandbox's rule code (assessments/exams/answer_keys.py, never installed): the register's own
numbering, the symbol parser and the working-day calendar. These classes draw the variant,
show it and compare an answer with the key the grader wrote into the hidden test.
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as w

from assessments.questions.base import Question
from assessments.questions.tasks.common import (
    choice_field,
    date_field,
    from_iso,
    iso,
    label,
    listing,
    norm,
    para,
    share,
    text_field,
    vn_date,
)
from kynangso.i18n import t
from sandbox.documents import deadlines, scenarios
from sandbox.documents.rules import ruleset
from sandbox.documents.symbol import SymbolError, parse_symbol

ORG = "UBND"
ORG_NAME = "Ủy ban nhân dân phường Hòa Bình (mô phỏng)"
# Types a ward office registers every week (keys of the sandbox's doc_types.yaml).
COMMON_TYPES = ("cong_van", "quyet_dinh", "ke_hoach", "bao_cao", "thong_bao", "huong_dan",
                "giay_moi", "to_trinh", "chuong_trinh", "cong_dien")
# Assignment days around weekends and the 2026 holidays (Giỗ Tổ, 30/4, Quốc khánh, 24/11).
DEADLINE_STARTS = (dt.date(2026, 4, 22), dt.date(2026, 4, 28), dt.date(2026, 8, 26),
                   dt.date(2026, 3, 5), dt.date(2026, 11, 19), dt.date(2026, 6, 11))


def _scenario_doc(rng, learner: str, want) -> scenarios.ScenarioDocument:
    docs = scenarios.generate(rng.randrange(10**6), learner)
    chosen = [d for d in docs if want(d)]
    return rng.choice(chosen or docs)


def type_options() -> list[tuple[str, str]]:
    rules = ruleset(dt.date(2026, 1, 1))
    return [(rules.type_by_key(k).name.replace(" (cá biệt)", ""),) * 2 for k in COMMON_TYPES]


# -- register an incoming document -------------------------------------------------------------


class RegisterIncoming(Question):
    """Fill the register row of a paper document that has just arrived (Điều 22, PL IV)."""

    kind = "task_register_incoming"
    NEEDS_KEY = True
    FIELDS = ("arrival_number", "arrival_date", "type_name", "symbol", "author", "doc_date",
              "urgency", "secrecy")

    @classmethod
    def variant(cls, exam_id, item_id, learner, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        doc = _scenario_doc(rng, learner, lambda d: not d.mistakes
                            and d.expected["symbol_kind"] == "administrative")
        received = doc.received_at.replace(second=0, microsecond=0)
        return {"author": doc.author, "symbol": doc.symbol, "type_name": doc.type_name,
                "subject": doc.subject, "doc_date": doc.doc_date.isoformat(),
                "urgency": doc.urgency, "secrecy": "mat" if rng.random() < 0.4 else None,
                "received_at": received.isoformat(timespec="minutes"),
                "previous": rng.randrange(3, 25), "previous_secret": rng.randrange(1, 6)}

    def prompt_html(self) -> str:
        k = self.task
        rules = ruleset(dt.date.fromisoformat(k["doc_date"]))
        marks = [rules.urgency_by_key(k["urgency"]).stamp or ""]
        if k["secrecy"]:
            marks.append(rules.secrecy_by_key(k["secrecy"]).stamp)
        marks = " · ".join(m for m in marks if m) or t("questions.tasks.reg_no_marks")
        at = dt.datetime.fromisoformat(k["received_at"])
        doc = listing([
            (label("reg_author"), k["author"]), (label("reg_symbol"), "Số: " + k["symbol"]),
            (label("reg_doc_date"), vn_date(k["doc_date"])),
            (label("reg_type"), k["type_name"]), (label("reg_subject"), k["subject"]),
            (label("reg_marks"), marks)])
        return (para("questions.tasks.reg_prompt", time=at.strftime("%H:%M"),
                     day=vn_date(at.date()))
                + doc + para("questions.tasks.reg_books", year=at.year, normal=k["previous"],
                             secret=k["previous_secret"])
                + para("questions.tasks.reg_fill"))

    def build_inputs(self):
        rules = ruleset(dt.date(2026, 1, 1))
        self.fields = {
            "arrival_number": w.BoundedIntText(value=0, min=0, max=99999,
                                               description=label("reg_arrival_number"),
                                               style={"description_width": "14em"}),
            "arrival_date": date_field("reg_arrival_date"),
            "type_name": choice_field("reg_type", type_options()),
            "symbol": text_field("reg_symbol", "05/KH-UBND"),
            "author": text_field("reg_author"),
            "doc_date": date_field("reg_doc_date"),
            "urgency": choice_field("reg_urgency", [(m.name, m.key) for m in rules.urgency]),
            "secrecy": choice_field("reg_secrecy", [(t("questions.tasks.reg_not_secret"), "")]
                                    + [(m.name, m.key) for m in rules.secrecy]),
        }
        return list(self.fields.values())

    def get_value(self):
        f = self.fields
        value = {
            "arrival_number": f["arrival_number"].value or None,
            "arrival_date": iso(f["arrival_date"].value), "doc_date": iso(f["doc_date"].value),
            "type_name": f["type_name"].value, "symbol": f["symbol"].value.strip(),
            "author": f["author"].value.strip(), "urgency": f["urgency"].value,
            "secrecy": f["secrecy"].value,
        }
        return value if any(v not in (None, "") for v in value.values()) else None

    def set_value(self, value):
        f = self.fields
        f["arrival_number"].value = int(value.get("arrival_number") or 0)
        f["arrival_date"].value = from_iso(value.get("arrival_date"))
        f["doc_date"].value = from_iso(value.get("doc_date"))
        for key in ("type_name", "urgency", "secrecy"):
            f[key].value = value.get(key)
        f["symbol"].value = value.get("symbol") or ""
        f["author"].value = value.get("author") or ""

    @classmethod
    def field_results(cls, task, value) -> dict[str, bool]:
        """Which fields of the learner's row match the row the register writes (the grader's
        key: the sandbox register's own row for this task, assessments/exams/answer_keys.py)."""
        right = task["key"]["row"]
        value = value or {}
        out = {}
        for key in cls.FIELDS:
            got = value.get(key)
            if key == "arrival_number":
                out[key] = got is not None and int(got) == right[key]
            elif key in ("author", "symbol", "type_name"):
                out[key] = bool(got) and norm(got) == norm(right[key])
            else:
                out[key] = (got or "") == (right[key] or "")
        if not value.get("secrecy") and value.get("secrecy") is None:
            out["secrecy"] = False  # never chosen: not an answer
        return out

    @classmethod
    def score(cls, task, value, points):
        if not value:
            return 0.0
        return share([(1.0, ok) for ok in cls.field_results(task, value).values()], points)


# -- read a số, ký hiệu ------------------------------------------------------------------------


class ReadSymbol(Question):
    """Is the số, ký hiệu printed on this document right? If not, write it correctly."""

    kind = "task_read_symbol"
    HIDDEN = ("expected",)  # the corrected số, ký hiệu
    NEEDS_KEY = True

    @classmethod
    def variant(cls, exam_id, item_id, learner, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        faulty = rng.random() < 0.7
        doc = _scenario_doc(rng, learner, (lambda d: "wrong_symbol" in d.mistakes) if faulty
                            else (lambda d: not d.mistakes
                                  and d.expected["symbol_kind"] == "administrative"))
        return {"author": doc.author, "type_name": doc.type_name, "subject": doc.subject,
                "symbol": doc.symbol, "expected": doc.expected["symbol"]}

    def prompt_html(self):
        k = self.task
        return para("questions.tasks.sym_prompt") + listing([
            (label("reg_author"), k["author"]), (label("reg_type"), k["type_name"]),
            (label("reg_subject"), k["subject"]), (label("reg_symbol"), "Số: " + k["symbol"])])

    def build_inputs(self):
        self.verdict = w.RadioButtons(options=[(t("questions.tasks.sym_ok"), "ok"),
                                               (t("questions.tasks.sym_bad"), "bad")],
                                      value=None, description=label("sym_verdict"),
                                      style={"description_width": "14em"})
        self.fixed = text_field("sym_fixed", "05/KH-UBND")
        return [self.verdict, self.fixed]

    def get_value(self):
        if self.verdict.value is None and not self.fixed.value.strip():
            return None
        return {"verdict": self.verdict.value, "fixed": self.fixed.value.strip()}

    def set_value(self, value):
        self.verdict.value = value.get("verdict")
        self.fixed.value = value.get("fixed") or ""

    @classmethod
    def score(cls, task, value, points):
        if not value or value.get("verdict") not in ("ok", "bad"):
            return 0.0
        key = task["key"]
        if not key["faulty"]:
            return float(points) if value["verdict"] == "ok" else 0.0
        if value["verdict"] != "bad":
            return 0.0
        try:
            corrected = parse_symbol(value.get("fixed") or "", dt.date(2026, 1, 1)).text \
                == key["expected"]
        except SymbolError:
            corrected = False
        return share([(1.0, True), (1.0, corrected)], points)


# -- handling deadline in working days ---------------------------------------------------------


class HandlingDeadline(Question):
    """The leader gives N working days from the day of assignment: on which date is it due?"""

    kind = "task_handling_deadline"
    NEEDS_KEY = True

    @classmethod
    def variant(cls, exam_id, item_id, learner, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        cal = deadlines.default_calendar()
        start = rng.choice(DEADLINE_STARTS) + dt.timedelta(days=rng.randrange(3))
        while not cal.is_working_day(start):
            start += dt.timedelta(days=1)
        return {"start": start.isoformat(), "days": rng.choice([3, 5, 7])}

    def prompt_html(self):
        return para("questions.tasks.deadline_prompt", start=vn_date(self.task["start"]),
                    days=self.task["days"])

    def build_inputs(self):
        self.answer = date_field("deadline_answer")
        return [self.answer]

    def get_value(self):
        return iso(self.answer.value)

    def set_value(self, value):
        self.answer.value = from_iso(value)

    @classmethod
    def score(cls, task, value, points):
        return float(points) if value == task["key"]["due"] else 0.0

    def shown(self):
        return {"start": self.task["start"], "days": self.task["days"]}


__all__ = ["HandlingDeadline", "ReadSymbol", "RegisterIncoming"]
