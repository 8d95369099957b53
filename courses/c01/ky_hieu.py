"""Lesson 02: số và ký hiệu. Documents come from the sandbox's scenario generator (seeded per
learner); answers are judged with its parser (sandbox.documents.symbol, NĐ 30/2020 Phụ lục I
Mục II.3 and Phụ lục III)."""

from __future__ import annotations

from courses.c01 import COURSE
from courses.common import esc, para
from courses.exercises import Exercise, Feedback, choice, text_input
from kynangso.i18n import t
from sandbox.documents import scenarios
from sandbox.documents.rules import ruleset
from sandbox.documents.symbol import SymbolError, format_symbol, parse_symbol

LESSON = "02-so-ky-hieu"
ISSUERS = ["UBND", "SNV", "STC", "SYT", "CAP"]
UNITS = ["VP", "KT", "VX", "TCCB", "NC"]
# Types a commune office meets every week (keys of the sandbox's doc_types.yaml).
COMMON_TYPES = ["quyet_dinh", "ke_hoach", "bao_cao", "thong_bao", "to_trinh", "giay_moi",
                "cong_van", "quy_dinh", "chuong_trinh", "huong_dan", "bien_ban", "cong_dien"]


def expected_type(type_name: str):
    """The DocType of the title printed on a document (Công văn has no abbreviation)."""
    rules = ruleset()
    return rules.type_by_name(type_name) or rules.type_by_key("cong_van")


def symbol_faults(symbol: str, type_name: str) -> list[str]:
    """What is wrong with `symbol` on a document titled `type_name` (empty: nothing)."""
    try:
        sym = parse_symbol(symbol)
    except SymbolError as exc:
        return [p for p in exc.problems if not p.startswith(t("documents.symbol.suggestion",
                                                             suggestion="")[:10])]
    dtype = expected_type(type_name)
    got = sym.doc_type.abbrev if sym.doc_type else None
    if got != dtype.abbrev:
        if dtype.abbrev is None:
            return [t("courses.c01.cv_has_type", got=got)]
        return [t("courses.c01.type_mismatch", name=dtype.name, abbrev=dtype.abbrev,
                  got=got or t("courses.c01.none"), source=dtype.source)]
    return []


class ReadSymbol(Exercise):
    """Is the số, ký hiệu on this incoming document right? If not, write it correctly."""

    course, lesson, exercise_id = COURSE, LESSON, "doc-so-ky-hieu"
    title_key = "courses.c01.title_read"

    @classmethod
    def make_task(cls, rng):
        docs = scenarios.generate(rng.randrange(10**6), "khoa-hoc")
        wrong = [d for d in docs if "wrong_symbol" in d.mistakes]
        fine = [d for d in docs if not d.mistakes and d.expected["symbol_kind"] == "administrative"]
        doc = rng.choice(wrong if (rng.random() < 0.6 and wrong) or not fine else fine)
        return {"author": doc.author, "type_name": doc.type_name, "subject": doc.subject,
                "symbol": doc.symbol, "expected": doc.expected["symbol"]}

    def build_inputs(self):
        self.verdict = choice([(t("courses.c01.verdict_ok"), "ok"),
                               (t("courses.c01.verdict_bad"), "bad")], t("courses.c01.verdict"))
        self.fixed = text_input(t("courses.c01.fixed"), "05/KH-UBND")
        return [self.verdict, self.fixed]

    def reset_inputs(self):
        self.verdict.value = None
        self.fixed.value = ""

    def prompt(self):
        k = self.task
        return (f"<p>{esc(t('courses.c01.read_prompt'))}</p><ul>"
                f"<li>{esc(t('courses.c01.f_author'))}: {esc(k['author'])}</li>"
                f"<li>{esc(t('courses.c01.f_type'))}: {esc(k['type_name'])}</li>"
                f"<li>{esc(t('courses.c01.f_subject'))}: {esc(k['subject'])}</li>"
                f"<li>{esc(t('courses.c01.f_symbol'))}: <b>Số: {esc(k['symbol'])}</b></li></ul>")

    def answer_value(self):
        if self.verdict.value is None:
            return None
        return {"verdict": self.verdict.value, "fixed": self.fixed.value}

    @classmethod
    def judge(cls, task, answer):
        if not answer or answer.get("verdict") is None:
            return Feedback(False, t("courses.ui.need_answer"))
        faults = symbol_faults(task["symbol"], task["type_name"])
        if answer["verdict"] == "ok":
            if faults:
                return Feedback(False, t("courses.c01.missed_fault") + "\n" + "\n".join(faults))
            return Feedback(True, t("courses.c01.symbol_fine", symbol=task["symbol"]))
        if not faults:
            return Feedback(False, t("courses.c01.false_alarm", symbol=task["symbol"]))
        answer = str(answer.get("fixed") or "").strip()
        if not answer:
            return Feedback(False, t("courses.c01.need_fixed") + "\n" + "\n".join(faults))
        still = symbol_faults(answer, task["type_name"])
        if still:
            return Feedback(False, t("courses.c01.fixed_still_wrong", symbol=answer) + "\n"
                            + "\n".join(still))
        if parse_symbol(answer).text != task["expected"]:
            return Feedback(False, t("courses.c01.fixed_changed", symbol=answer))
        return Feedback(True, t("courses.c01.fixed_ok", symbol=answer) + "\n" + "\n".join(faults))


class WriteSymbol(Exercise):
    """Write the số, ký hiệu of a document the office issues."""

    course, lesson, exercise_id = COURSE, LESSON, "viet-so-ky-hieu"
    title_key = "courses.c01.title_write"

    @classmethod
    def make_task(cls, rng):
        dtype = ruleset().type_by_key(rng.choice(COMMON_TYPES))
        number = rng.choice([rng.randrange(1, 10), rng.randrange(10, 400)])
        issuer, unit = rng.choice(ISSUERS), rng.choice(UNITS)
        right = (format_symbol(number, issuer, dtype.abbrev) if dtype.abbrev
                 else format_symbol(number, issuer, unit=unit))
        return {"type": dtype.key, "name": dtype.name, "number": number, "issuer": issuer,
                "unit": unit, "right": right}

    def build_inputs(self):
        self.answer = text_input(t("courses.c01.answer_symbol"), "05/KH-UBND")
        return [self.answer]

    def reset_inputs(self):
        self.answer.value = ""

    def prompt(self):
        k = self.task
        return para("courses.c01.write_prompt", name=k["name"], number=k["number"],
                    issuer=k["issuer"], unit=k["unit"])

    def answer_value(self):
        return self.answer.value

    @classmethod
    def judge(cls, task, answer):
        text = str(answer or "").strip()
        if not text:
            return Feedback(False, t("courses.ui.need_answer"))
        faults = symbol_faults(text, task["name"])
        if faults:
            return Feedback(False, "\n".join(faults))
        sym = parse_symbol(text)
        if sym.number != task["number"]:
            return Feedback(False, t("courses.c01.wrong_number", got=sym.number,
                                     number=task["number"]))
        if sym.text != task["right"]:
            return Feedback(False, t("courses.c01.wrong_groups", got=sym.text,
                                     right=task["right"]))
        return Feedback(True, parse_symbol(text).as_dict()["explanation"])


def exercise_read() -> ReadSymbol:
    return ReadSymbol()


def exercise_write() -> WriteSymbol:
    return WriteSymbol()


def example():
    """Worked example: type any số, ký hiệu and see how the simulation reads it."""
    import ipywidgets as w

    from courses.common import status_html

    box = text_input(t("courses.c01.try_symbol"), "4391/KH-UBND")
    box.value = "4391/KH-UBND"
    out = w.HTML()

    def show(*_):
        try:
            out.value = status_html(parse_symbol(box.value).as_dict()["explanation"], True)
        except SymbolError as exc:
            out.value = status_html("\n".join([exc.user_message, *exc.problems]), False)

    box.observe(show, names="value")
    show()
    return w.VBox([box, out])
