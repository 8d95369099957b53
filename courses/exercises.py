"""The exercise widget every lesson uses: a task, input widgets, a "Kiểm tra" button and
immediate, specific feedback; "Bài khác" draws a new task of the same kind.

A subclass says how to make a task (`make_task`, from the sandbox's scenario generators and
rules, seeded per learner), how to show it (`prompt`), which inputs it needs (`build_inputs`)
and how to judge an answer (`evaluate`, with the sandbox's own rule code). The base class
reports progress (exercise_attempted / exercise_passed, and lesson_completed when the last
exercise of the lesson is passed) and never lets an error reach the learner as a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import ipywidgets as w

from courses import state
from courses.common import esc, rng_for, status_html
from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.progress.client import record

log = logging.getLogger(__name__)
STYLE = {"description_width": "200px"}
WIDE = w.Layout(width="560px")


@dataclass
class Feedback:
    ok: bool
    text: str  # what was right or wrong and why, citing the rule


class Exercise(w.VBox):
    """Base class; `course`, `lesson` and `exercise_id` name it in the catalogue."""

    course: str = ""
    lesson: str = ""
    exercise_id: str = ""
    title_key: str = ""  # catalogue key of the exercise title

    def __init__(self, round_: int = 0):
        self.round = round_
        self.passed = False
        self.task = self.make_task(rng_for(self.course, self.exercise_id, round_))
        self.prompt_html = w.HTML()
        self.inputs: list[w.Widget] = self.build_inputs()
        self.button = w.Button(description=t("courses.ui.check"), button_style="primary",
                               tooltip=t("courses.ui.check_tip"))
        self.another = w.Button(description=t("courses.ui.another"),
                                tooltip=t("courses.ui.another_tip"))
        self.feedback = w.HTML()
        self.feedback_text = ""
        self.button.on_click(lambda _b: self.check())
        self.another.on_click(lambda _b: self.next_task())
        self._render_prompt()
        super().__init__([
            w.HTML(f"<h3>{esc(t(self.title_key))}</h3>"), self.prompt_html, *self.inputs,
            w.HBox([self.button, self.another]), self.feedback,
        ])

    # -- to implement --------------------------------------------------------------------------
    def make_task(self, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    def prompt(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def build_inputs(self) -> list[w.Widget]:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self) -> Feedback:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_inputs(self) -> None:
        """Clear the answer fields for a new task (default: nothing to clear)."""

    # -- behaviour -----------------------------------------------------------------------------
    def _render_prompt(self) -> None:
        self.prompt_html.value = self.prompt()

    def next_task(self) -> None:
        self.round += 1
        self.task = self.make_task(rng_for(self.course, self.exercise_id, self.round))
        self.reset_inputs()
        self._render_prompt()
        self.show("", None)

    def show(self, text: str, ok: bool | None) -> None:
        self.feedback_text = text
        self.feedback.value = status_html(text, ok) if text else ""

    def check(self) -> Feedback:
        try:
            fb = self.evaluate()
        except KnsError as exc:  # a sandbox refusal is feedback too, already in Vietnamese
            fb = Feedback(False, exc.user_message)
        record("exercise_attempted", self.course, self.lesson, self.exercise_id)
        prefix = t("courses.ui.right") if fb.ok else t("courses.ui.wrong")
        self.show(f"{prefix} {fb.text}".strip(), fb.ok)
        if fb.ok:
            self.passed = True
            record("exercise_passed", self.course, self.lesson, self.exercise_id)
            self._maybe_complete()
        return fb

    def _maybe_complete(self) -> None:
        from courses.catalogue import load_catalogue

        try:
            wanted = set(load_catalogue().lesson(self.course, self.lesson).exercises)
        except KnsError as exc:  # the catalogue is checked by the tests; never break a lesson
            log.warning("catalogue unavailable: %s", exc.log_detail)
            return
        before = state.passed(self.course, self.lesson)
        after = state.mark_passed(self.course, self.lesson, self.exercise_id)
        if wanted <= after and not wanted <= before:
            record("lesson_completed", self.course, self.lesson)


def choice(options: list[tuple[str, object]], label: str) -> w.RadioButtons:
    """A list of choices with a label (screen readers read the description)."""
    return w.RadioButtons(options=options, value=None, description=label, style=STYLE,
                          layout=w.Layout(width="auto"))


def text_input(label: str, placeholder: str = "") -> w.Text:
    return w.Text(description=label, placeholder=placeholder, style=STYLE, layout=WIDE)
