"""Single and multiple choice: options shuffled per learner, answers stored as option keys.

The key (not the position) is stored, so a learner's answer means the same thing whatever
order their variant showed; the order they saw is kept beside it for the instructor.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from assessments.questions.base import Question, bounded, option_pairs, text_html
from kynangso.i18n import t

# A plain dict: each widget gets its own Layout, and importing this module makes no widget.
FULL_WIDTH = {"width": "auto"}


def shuffled_keys(cls, exam_id: str, item_id: str, learner: str, keys: list[str],
                  shuffle: bool) -> list[str]:
    order = list(keys)
    if shuffle:
        cls.rng(exam_id, item_id, learner).shuffle(order)
    return order


class SingleChoice(Question):
    kind = "single_choice"

    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, prompt: str = "",
                options=(), shuffle: bool = True, correct: str | None = None) -> dict[str, Any]:
        pairs = option_pairs(options)
        order = shuffled_keys(cls, exam_id, item_id, learner, [k for k, _ in pairs], shuffle)
        task = {"prompt": prompt, "options": dict(pairs), "order": order}
        if correct is not None:  # only the grader passes it
            task["correct"] = str(correct)
        return task

    def prompt_html(self) -> str:
        return text_html(self.task["prompt"])

    def build_inputs(self) -> list[w.Widget]:
        options = self.task["options"]
        # value=None: nothing preselected, so an untouched question is unanswered, not "a".
        self.choice = w.RadioButtons(
            options=[(options[key], key) for key in self.task["order"]], value=None,
            description=t("questions.choice.single_label"), layout=FULL_WIDTH,
            style={"description_width": "initial"})
        return [self.choice]

    def get_value(self) -> str | None:
        return self.choice.value

    def set_value(self, value: Any) -> None:
        if value not in self.task["options"]:
            raise ValueError(f"unknown option {value!r}")
        self.choice.value = value

    def shown(self) -> dict[str, Any]:
        return {"order": self.task["order"]}

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        return bounded(points if value == task["correct"] else 0, points)


class MultipleChoice(Question):
    kind = "multiple_choice"

    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, prompt: str = "",
                options=(), shuffle: bool = True, correct=None) -> dict[str, Any]:
        pairs = option_pairs(options)
        order = shuffled_keys(cls, exam_id, item_id, learner, [k for k, _ in pairs], shuffle)
        task = {"prompt": prompt, "options": dict(pairs), "order": order}
        if correct is not None:
            task["correct"] = sorted(str(k) for k in correct)
        return task

    def prompt_html(self) -> str:
        return text_html(self.task["prompt"]) + f"<p><em>{t('questions.choice.multiple_hint')}</em></p>"

    def build_inputs(self) -> list[w.Widget]:
        options = self.task["options"]
        self.boxes = {key: w.Checkbox(value=False, description=options[key], indent=False,
                                      layout=FULL_WIDTH)
                      for key in self.task["order"]}
        return list(self.boxes.values())

    def get_value(self) -> list[str]:
        # An empty list is an answer too: unticking everything must replace the saved ticks.
        return sorted(key for key, box in self.boxes.items() if box.value)

    def set_value(self, value: Any) -> None:
        if not isinstance(value, list) or any(k not in self.boxes for k in value):
            raise ValueError(f"not a list of option keys: {value!r}")
        for key, box in self.boxes.items():
            box.value = key in value

    def shown(self) -> dict[str, Any]:
        return {"order": self.task["order"]}

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        """Each right key ticked earns points/len(correct); each wrong key ticked takes the same
        amount away; the total is floored at 0 (ticking every option earns nothing when at
        least half of them are wrong)."""
        if not isinstance(value, list):
            return 0.0
        correct = set(task["correct"])
        if not correct:
            return bounded(points if not value else 0, points)
        ticked = {str(k) for k in value}
        per_key = float(points) / len(correct)
        return bounded(per_key * (len(ticked & correct) - len(ticked - correct)), points)
