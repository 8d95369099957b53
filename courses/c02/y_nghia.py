"""Lesson 01: what a digital signature proves; personal vs organisation signatures.
Answers are judged against rules.yaml (each row cites the law)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import ipywidgets as w
import yaml

from courses.c02 import COURSE
from courses.common import esc
from courses.exercises import Exercise, Feedback, choice
from kynangso.i18n import t

LESSON = "01-chu-ky-so-la-gi"


@cache
def rules() -> dict:
    return yaml.safe_load((resources.files("courses.c02") / "rules.yaml").read_text("utf-8"))


class WhatItProves(Exercise):
    """Tick every property a digital signature guarantees."""

    course, lesson, exercise_id = COURSE, LESSON, "chu-ky-bao-dam"
    title_key = "courses.c02.title_proves"

    @classmethod
    def make_task(cls, rng):
        rows = list(rules()["properties"])
        rng.shuffle(rows)
        return {"order": [r["key"] for r in rows]}

    def build_inputs(self):
        self.boxes = {}
        return [w.VBox()]

    def _render_prompt(self):
        self.boxes = {k: w.Checkbox(value=False, description=t(f"courses.c02.prop.{k}"),
                                    indent=False, layout=w.Layout(width="auto"))
                      for k in self.task["order"]}
        self.inputs[0].children = tuple(self.boxes.values())
        super()._render_prompt()

    def prompt(self):
        return f"<p>{esc(t('courses.c02.proves_prompt'))}</p>"

    def answer_value(self):
        return {k: box.value for k, box in self.boxes.items()}

    @classmethod
    def judge(cls, task, answer):
        lines, ok = [], True
        for row in rules()["properties"]:
            ticked = answer[row["key"]]
            if ticked is not row["guaranteed"]:
                ok = False
                key = "courses.c02.prop_missed" if row["guaranteed"] else "courses.c02.prop_wrong"
                lines.append(t(key, prop=t(f"courses.c02.prop.{row['key']}"), source=row["source"]))
        if ok:
            return Feedback(True, t("courses.c02.proves_ok"))
        return Feedback(False, "\n".join(lines))


class WhichSignature(Exercise):
    """A situation: the competent person's signature or the organisation's?"""

    course, lesson, exercise_id = COURSE, LESSON, "ca-nhan-hay-co-quan"
    title_key = "courses.c02.title_which"

    @classmethod
    def make_task(cls, rng):
        return dict(rng.choice(rules()["situations"]))

    def build_inputs(self):
        self.pick = choice([(t("courses.c02.kind_personal"), "personal"),
                            (t("courses.c02.kind_organisation"), "organisation")],
                           t("courses.c02.which_pick"))
        return [self.pick]

    def reset_inputs(self):
        self.pick.value = None

    def prompt(self):
        return (f"<p>{esc(t('courses.c02.which_prompt'))}</p>"
                f"<blockquote>{esc(t('courses.c02.situation.' + self.task['key']))}</blockquote>")

    def answer_value(self):
        return self.pick.value

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        kind = task["kind"]
        text = t(f"courses.c02.why_{kind}", source=task["source"])
        return Feedback(answer == kind, text)


def exercise_proves() -> WhatItProves:
    return WhatItProves()


def exercise_which() -> WhichSignature:
    return WhichSignature()
