"""A short text answer (a word, a name, a document symbol), compared leniently but with diacritics.

Saved when the learner presses Enter or leaves the field, stored in NFC so that the same
Vietnamese word typed with a different keyboard method (composed or combining accents) is
the same answer.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import ipywidgets as w

from assessments.questions.base import Question, bounded, text_html
from kynangso.i18n import nfc, t


def normalise_text(text: str) -> str:
    """The form answers are compared in: NFC, case-folded, whitespace collapsed.

    Diacritics are kept: "Hà Nội" and "Ha Noi" are different answers, as in Vietnamese.
    """
    folded = unicodedata.normalize("NFC", nfc(text).casefold())
    return " ".join(folded.split())


class ShortText(Question):
    kind = "short_text"

    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, prompt: str = "",
                placeholder: str = "", accepted=None) -> dict[str, Any]:
        task = {"prompt": prompt, "placeholder": placeholder}
        if accepted is not None:
            task["accepted"] = [nfc(a) for a in ([accepted] if isinstance(accepted, str) else accepted)]
        return task

    def prompt_html(self) -> str:
        return text_html(self.task["prompt"])

    def build_inputs(self) -> list[w.Widget]:
        self.field = w.Text(description=t("questions.text.label"),
                            placeholder=self.task["placeholder"], continuous_update=False,
                            layout=w.Layout(width="min(100%, 40em)"),
                            style={"description_width": "initial"})
        return [self.field]

    def get_value(self) -> str:
        return nfc(self.field.value).strip()

    def set_value(self, value: Any) -> None:
        if not isinstance(value, str):
            raise ValueError(f"not a text: {value!r}")
        self.field.value = value

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        """All points when the answer equals one accepted text after `normalise_text`."""
        if not isinstance(value, str):
            return 0.0
        accepted = {normalise_text(a) for a in task["accepted"]}
        return bounded(points if normalise_text(value) in accepted else 0, points)
