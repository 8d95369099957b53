"""A number typed the way Vietnamese write it ("1.234,5"), or with a decimal point ("1234.5").

How a text is read (`parse_number`), in order:
- spaces (also non-breaking) may group thousands: "1 234 567";
- a unit the question names may follow the number ("15 ngày" for unit "ngày");
- both "." and "," present: the last one is the decimal mark, the other groups thousands;
- only ",": one comma is the decimal mark ("1,5"); several group thousands ("1,234,567");
- only ".": several group thousands ("1.234.567"); one dot followed by exactly three digits
  after a number that does not start with 0 groups thousands, as Vietnamese write it
  ("1.500" is one thousand five hundred); any other single dot is a decimal point ("2.5").
The widget always shows back the number it read, written the Vietnamese way, so an ambiguous
entry is visible to the learner at once.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import ipywidgets as w

from assessments.questions.base import Question, bounded, status_html, text_html
from kynangso.i18n import nfc, t

_GROUPED = {sep: re.compile(r"\d{1,3}(?:" + re.escape(sep) + r"\d{3})+") for sep in ".,"}
_SPACED = re.compile(r"\d{1,3}(?: \d{3})+")


def parse_number(text: str, unit: str = "") -> int | float:
    """The number written in `text`; ValueError if it is not one number."""
    s = nfc(text).replace("\u00a0", " ").replace("\u202f", " ").replace("\u2212", "-").strip()
    if unit and s.casefold().endswith(nfc(unit).casefold()):
        s = s[: -len(unit)].strip()
    sign = ""
    if s and s[0] in "+-":
        sign, s = s[0].replace("+", ""), s[1:].strip()
    if not s or not re.fullmatch(r"[\d., ]+", s) or not s[0].isdigit() or not s[-1].isdigit():
        raise ValueError(text)
    whole, fraction = _split(s)
    if " " in whole:
        if not _SPACED.fullmatch(whole):
            raise ValueError(text)
        whole = whole.replace(" ", "")
    if not whole.isdigit() or (fraction is not None and not fraction.isdigit()):
        raise ValueError(text)
    if fraction is None:
        return int(sign + whole)
    try:
        return float(Decimal(f"{sign}{whole}.{fraction}"))
    except InvalidOperation as exc:  # pragma: no cover - excluded by the checks above
        raise ValueError(text) from exc


def _split(s: str) -> tuple[str, str | None]:
    """(integer digits, possibly grouped; fraction digits or None)."""
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        decimal = "." if s.rfind(".") > s.rfind(",") else ","
        group = "," if decimal == "." else "."
        if s.count(decimal) != 1:
            raise ValueError(s)
        whole, fraction = s.split(decimal)
        return _ungroup(whole, group, s), fraction
    if commas == 1:
        whole, fraction = s.split(",")
        return whole, fraction
    if dots == 1:
        whole, fraction = s.split(".")
        if len(fraction) == 3 and _GROUPED["."].fullmatch(s) and not s.startswith("0"):
            return whole + fraction, None
        return whole, fraction
    if commas or dots:
        return _ungroup(s, "," if commas else ".", s), None
    return s, None


def _ungroup(whole: str, group: str, original: str) -> str:
    if group not in whole:
        return whole
    if not _GROUPED[group].fullmatch(whole):
        raise ValueError(original)
    return whole.replace(group, "")


def format_number(value: int | float) -> str:
    """`value` written the Vietnamese way: "1.234,5"."""
    text = format(Decimal(str(value)), "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    fraction = fraction.rstrip("0")
    return f"{sign}{grouped},{fraction}" if fraction else f"{sign}{grouped}"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Number(Question):
    kind = "number"

    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, prompt: str = "", unit: str = "",
                expected: float | None = None, tolerance: float = 0) -> dict[str, Any]:
        task = {"prompt": prompt, "unit": unit}
        if expected is not None:
            task["expected"], task["tolerance"] = expected, tolerance
        return task

    def prompt_html(self) -> str:
        return text_html(self.task["prompt"])

    def build_inputs(self) -> list[w.Widget]:
        # Saved on Enter or when the field loses focus, not at every key: "1." is not a number yet.
        self.field = w.Text(description=t("questions.number.label"),
                            placeholder=t("questions.number.placeholder"),
                            continuous_update=False, style={"description_width": "initial"})
        unit = w.Label(self.task["unit"])
        return [w.HBox([self.field, unit])]

    def watched(self) -> list[w.Widget]:
        return [self.field]

    def get_value(self) -> int | float | None:
        try:
            return parse_number(self.field.value, self.task["unit"])
        except ValueError:
            return None

    def set_value(self, value: Any) -> None:
        if not is_number(value):
            raise ValueError(f"not a number: {value!r}")
        self.field.value = format_number(value)

    def save(self) -> None:
        if not self._writable:
            return
        text = self.field.value
        if not text.strip():
            self.store(None)  # cleared: the earlier answer must not be graded any more
            return
        try:
            number = parse_number(text, self.task["unit"])
        except ValueError:
            # Say it next to the field and keep whatever was saved before: never save garbage.
            self.status.value = status_html(t("questions.number.unreadable", text=text.strip()), False)
            return
        note = t("questions.number.read_as", number=format_number(number), unit=self.task["unit"])
        self.store(number, note=note.strip())

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        """All points when |value - expected| <= tolerance (absolute, in the question's unit)."""
        if not is_number(value):
            return 0.0
        expected = float(task["expected"])
        slack = float(task.get("tolerance", 0)) + 1e-9 * max(1.0, abs(expected))  # float noise
        return bounded(points if abs(float(value) - expected) <= slack else 0, points)
