"""Lesson 01: the learner's app (home, lessons as apps, exam mode). Questions and answers are in screen.yaml."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from courses.c00 import COURSE
from courses.common import esc
from courses.exercises import Exercise, Feedback, choice
from kynangso.i18n import t

LESSON = "01-man-hinh-lam-viec"


@cache
def questions() -> list[dict]:
    return yaml.safe_load((resources.files("courses.c00") / "screen.yaml").read_text("utf-8"))[
        "questions"]


class ScreenQuestion(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "vung-man-hinh"
    title_key = "courses.c00.title_screen"

    @classmethod
    def make_task(cls, rng):
        q = dict(rng.choice(questions()))
        q["options"] = list(q["options"])
        rng.shuffle(q["options"])
        return q

    def build_inputs(self):
        self.pick = choice([], t("courses.c00.pick"))
        return [self.pick]

    def _render_prompt(self):
        self.pick.options = [(t(f"courses.c00.option.{o}"), o) for o in self.task["options"]]
        self.pick.value = None
        super()._render_prompt()

    def prompt(self):
        return f"<p>{esc(t('courses.c00.question.' + self.task['key']))}</p>"

    def answer_value(self):
        return self.pick.value

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        why = t(f"courses.c00.why.{task['key']}")
        return Feedback(answer == task["answer"], why)


def exercise_screen() -> ScreenQuestion:
    return ScreenQuestion()
