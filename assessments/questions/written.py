"""A written answer graded by the instructor (e.g. drafting a short công văn).

The text is saved when the learner leaves the field and with the explicit "Lưu" button. When
the notebook is executed by the grader, the saved text is also printed as a static HTML block
(escaped), because formgrader shows the autograded notebook as HTML where widgets are blank:
that block is what the instructor reads and grades.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from assessments.questions.base import Question, text_html
from assessments.questions.sidecar import SidecarError
from kynangso.i18n import nfc, t


class Written(Question):
    kind = "written"

    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, prompt: str = "",
                rows: int = 12) -> dict[str, Any]:
        return {"prompt": prompt, "rows": int(rows)}

    def prompt_html(self) -> str:
        return text_html(self.task["prompt"])

    def build_inputs(self) -> list[w.Widget]:
        self.field = w.Textarea(description=t("questions.written.label"),
                                rows=self.task["rows"], continuous_update=False,
                                layout=w.Layout(width="100%"),
                                style={"description_width": "initial"})
        self.save_button = w.Button(description=t("questions.written.save"), icon="save",
                                    tooltip=t("questions.written.save_tip"))
        self.save_button.on_click(lambda _b: self.save())
        return [self.field, self.save_button]

    def watched(self) -> list[w.Widget]:
        return [self.field]

    def get_value(self) -> str:
        return nfc(self.field.value).rstrip()

    def set_value(self, value: Any) -> None:
        if not isinstance(value, str):
            raise ValueError(f"not a text: {value!r}")
        self.field.value = value

    def transcript_html(self) -> str:
        """The saved text as a static block for the instructor (what the sidecar holds)."""
        try:
            saved = self.exam.sidecar.answer(self.item_id)
        except SidecarError:  # the widget's status already says the file is damaged
            saved = None
        heading = html.escape(t("questions.written.transcript", item=self.item_id))
        if isinstance(saved, str) and saved.strip():
            body = (f'<div style="white-space:pre-wrap;font-family:serif">'
                    f"{html.escape(saved)}</div>")
        else:
            body = f"<p><em>{html.escape(t('questions.written.empty'))}</em></p>"
        return (f'<div class="kns-written-transcript" style="border:1px solid #888;'
                f'padding:0.5em 1em;margin:0.5em 0"><p><strong>{heading}</strong></p>{body}</div>')

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        raise NotImplementedError("written answers are graded by the instructor in formgrader")
