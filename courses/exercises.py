"""The exercise widget every lesson uses: a task, input widgets, a "Kiểm tra" button and
immediate, specific feedback; "Bài khác" draws a new task of the same kind.

A subclass says how to make a task (`make_task`, from the sandbox's scenario generators and
rules, seeded per learner), how to show it (`prompt`), which inputs it needs (`build_inputs`),
what the learner's answer is as JSON (`answer_value`) and how to judge an answer (`judge`, with
the sandbox's own rule code). `make_task` and `judge` are class methods that need no widget:
the progress service calls them (through `REGISTRY`) to rebuild the learner's task from
(course, exercise, round, learner) and judge the answer the kernel sent. The widget shows the
service's verdict; without the service it shows its own, saying that progress was not recorded.
Lesson completion is derived by the service, never reported from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as w

from courses import state
from courses.common import esc, rng_for, status_html
from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.progress.client import submit_answer

STYLE = {"description_width": "200px"}
# (course, exercise id) -> the exercise class: what the progress service judges with
REGISTRY: dict[tuple[str, str], type[Exercise]] = {}
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
    # True when the feedback names files in the learner's own folder: the service's verdict
    # decides, and the wording shown is the kernel's when both agree.
    local_wording = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.course and cls.exercise_id:
            REGISTRY[(cls.course, cls.exercise_id)] = cls

    def __init__(self, round_: int = 0):
        self.round = round_
        self.passed = False
        self.task = self.task_for(round_)
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
    @classmethod
    def make_task(cls, rng):  # pragma: no cover - abstract
        """The task (JSON-able dict) drawn from `rng`; no widget, no instance."""
        raise NotImplementedError

    @classmethod
    def judge(cls, task: dict, answer) -> Feedback:  # pragma: no cover - abstract
        """The verdict on `answer` (as `answer_value` gives it) for `task`; no widget."""
        raise NotImplementedError

    def answer_value(self):  # pragma: no cover - abstract
        """The learner's answer read from the inputs, as JSON (None: nothing answered yet)."""
        raise NotImplementedError

    def prompt(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def build_inputs(self) -> list[w.Widget]:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_inputs(self) -> None:
        """Clear the answer fields for a new task (default: nothing to clear)."""

    # -- behaviour -----------------------------------------------------------------------------
    @classmethod
    def task_for(cls, round_: int) -> dict:
        """The task of `round_` for the current learner (courses.common.learner)."""
        return cls.make_task(rng_for(cls.course, cls.exercise_id, round_))

    def evaluate(self) -> Feedback:
        """The in-kernel verdict on the current answer."""
        return self.judge(self.task, self.answer_value())

    def _render_prompt(self) -> None:
        self.prompt_html.value = self.prompt()

    def next_task(self) -> None:
        self.round += 1
        self.task = self.task_for(self.round)
        self.reset_inputs()
        self._render_prompt()
        self.show("", None)

    def show(self, text: str, ok: bool | None) -> None:
        self.feedback_text = text
        self.feedback.value = status_html(text, ok) if text else ""

    def check(self) -> Feedback:
        answer = None
        try:
            answer = self.answer_value()
            fb = self.judge(self.task, answer)
        except KnsError as exc:  # a sandbox refusal is feedback too, already in Vietnamese
            fb = Feedback(False, exc.user_message)
        note = ""
        if answer is not None:  # nothing answered yet: nothing to judge or count
            # The service judges the same answer for the same task; its verdict is the record.
            reply = submit_answer(self.course, self.lesson, self.exercise_id, self.round, answer)
            if reply is None:
                note = t("courses.ui.not_recorded")
            elif "refused" in reply:
                note = reply["refused"]
            elif not (self.local_wording and fb.ok == reply["passed"]):
                fb = Feedback(bool(reply["passed"]), str(reply["feedback"]))
        prefix = t("courses.ui.right") if fb.ok else t("courses.ui.wrong")
        self.show("\n".join(x for x in (f"{prefix} {fb.text}".strip(), note) if x), fb.ok)
        if fb.ok:
            self.passed = True
            state.mark_passed(self.course, self.lesson, self.exercise_id)
        return fb


def choice(options: list[tuple[str, object]], label: str) -> w.RadioButtons:
    """A list of choices with a label (screen readers read the description)."""
    return w.RadioButtons(options=options, value=None, description=label, style=STYLE,
                          layout=w.Layout(width="auto"))


def dropdown(label: str, options=(), **kwargs) -> w.Dropdown:
    """A drop-down list wide enough for its options' text (ipywidgets' default leaves the list
    about 100 px beside a 200 px label, and cuts the options off). Each gets its own Layout:
    the exercises hide some of them one by one."""
    return w.Dropdown(options=options, description=label, style=STYLE,
                      layout=w.Layout(width=WIDE.width), **kwargs)


def text_input(label: str, placeholder: str = "") -> w.Text:
    return w.Text(description=label, placeholder=placeholder, style=STYLE, layout=WIDE)
