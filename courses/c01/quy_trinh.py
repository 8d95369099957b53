"""Lesson 01: văn bản đến and văn bản đi. Put the steps in order; each choice is checked with
the sandbox's own state machine (sandbox.documents.workflow, NĐ 30/2020 Điều 14, 20)."""

from __future__ import annotations

import ipywidgets as w

from courses.c01 import COURSE
from courses.common import esc, para
from courses.exercises import Exercise, Feedback, dropdown
from kynangso.i18n import t
from sandbox.documents import workflow

LESSON = "01-van-ban-den-di"
# The main path of each flow: (machine, starting state, steps); the steps are the sandbox's own
# action names, and the labels and legal sources come from its tables.
FLOWS = {
    "den_dien_tu": ("incoming", "pending", ["receive", "submit", "assign", "start", "complete"]),
    "den_giay": ("incoming", "registered", ["submit", "assign", "start", "complete"]),
    "di": ("outgoing", "approved", ["sign", "number", "register", "issue", "archive"]),
}


class StepOrder(Exercise):
    """Choose the action of each step; the first step the state machine refuses is explained."""

    course, lesson = COURSE, LESSON
    flows: tuple[str, ...] = ()  # which FLOWS a task is drawn from (set by each exercise)

    @classmethod
    def make_task(cls, rng):
        flow = rng.choice(cls.flows)
        kind, start, steps = FLOWS[flow]
        options = list(steps)
        rng.shuffle(options)
        return {"flow": flow, "kind": kind, "start": start, "steps": steps, "options": options}

    def build_inputs(self):
        self.steps = [dropdown(t("courses.c01.step", n=i + 1)) for i in range(5)]
        return [w.VBox(self.steps)]

    def _fill(self):
        opts = [(t("courses.c01.choose"), None)] + [
            (workflow.action_label(a).capitalize(), a) for a in self.task["options"]]
        for i, dd in enumerate(self.steps):
            dd.options = opts
            dd.index = 0  # shows "— chọn thao tác —" (its value is None), not an empty box
            dd.layout.display = None if i < len(self.task["steps"]) else "none"

    def _render_prompt(self):
        self._fill()
        super()._render_prompt()

    def prompt(self):
        return para(f"courses.c01.flow.{self.task['flow']}",
                    state=workflow.state_label(self.task["start"]))

    def answer_value(self):
        chosen = [dd.value for dd in self.steps[:len(self.task["steps"])]]
        return None if all(c is None for c in chosen) else chosen

    @classmethod
    def judge(cls, task, answer):
        n = len(task["steps"])
        chosen = list(answer or [])[:n]
        if len(chosen) < n or any(c is None for c in chosen):
            return Feedback(False, t("courses.ui.need_answer"))
        machine = workflow.MACHINES[task["kind"]]
        state = task["start"]
        for i, action in enumerate(chosen, 1):
            step = machine.get((state, action))
            if step is None:
                allowed = ", ".join(workflow.action_label(a) for a in
                                    workflow.allowed_actions(task["kind"], state))
                return Feedback(False, t("courses.c01.step_refused", n=i,
                                         action=workflow.action_label(action),
                                         state=workflow.state_label(state), allowed=allowed))
            state = workflow.next_state(task["kind"], state, action, step[1][0])
        sources = "; ".join(dict.fromkeys(machine[(s, a)][2] for (s, a) in machine
                                          if a in chosen))
        return Feedback(True, t("courses.c01.order_ok", final=workflow.state_label(state),
                                sources=sources))


class IncomingOrder(StepOrder):
    """Steps of an incoming document (paper or electronic)."""

    flows, exercise_id = ("den_dien_tu", "den_giay"), "thu-tu-van-ban-den"
    title_key = "courses.c01.title_incoming"


class OutgoingOrder(StepOrder):
    """Steps of an outgoing document after the signer approved the draft."""

    flows, exercise_id = ("di",), "thu-tu-van-ban-di"
    title_key = "courses.c01.title_outgoing"


def exercise_incoming() -> StepOrder:
    return IncomingOrder()


def exercise_outgoing() -> StepOrder:
    return OutgoingOrder()


def example() -> w.HTML:
    """Worked example: the incoming flow as the simulation enforces it (state, step, who, rule)."""
    rows = "".join(
        f"<tr><td>{esc(workflow.state_label(src))}</td><td>{esc(workflow.action_label(a))}</td>"
        f"<td>{esc(workflow.state_label(dst))}</td>"
        f"<td>{esc(', '.join(t('documents.role.' + r) for r in roles))}</td>"
        f"<td>{esc(src_law)}</td></tr>"
        for (src, a), (dst, roles, src_law) in workflow.INCOMING.items())
    head = "".join(f"<th scope='col'>{esc(t('courses.c01.col_' + c))}</th>"
                   for c in ("from", "action", "to", "who", "rule"))
    return w.HTML(f"<table border='1' cellpadding='4'><caption>{esc(t('courses.c01.flow_caption'))}"
                  f"</caption><tr>{head}</tr>{rows}</table>")
