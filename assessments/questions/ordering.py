"""Put items in order with ↑/↓ buttons: no dragging, no typing, reachable by keyboard.

Each position is a row with its number, the item's text and two buttons that swap it with
its neighbour; every move is saved at once. The starting order is shuffled per learner (never
the order the author listed, which is usually the answer); "Lưu thứ tự này" saves the order
as shown, for a learner who finds it already right.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from assessments.questions.base import Question, bounded, option_pairs, text_html
from kynangso.i18n import t


class Ordering(Question):
    kind = "ordering"

    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, prompt: str = "", items=(),
                shuffle: bool = True, correct=None) -> dict[str, Any]:
        pairs = option_pairs(items)
        keys = [k for k, _ in pairs]
        order = list(keys)
        if shuffle and len(keys) > 1:
            cls.rng(exam_id, item_id, learner).shuffle(order)
            if order == keys:
                order = order[1:] + order[:1]
        task = {"prompt": prompt, "items": dict(pairs), "order": order}
        if correct is not None:
            task["correct"] = [str(k) for k in correct]
        return task

    def prompt_html(self) -> str:
        return text_html(self.task["prompt"]) + f"<p><em>{t('questions.ordering.hint')}</em></p>"

    def build_inputs(self) -> list[w.Widget]:
        self.order: list[str] = list(self.task["order"])
        self.texts, self.up, self.down, rows = [], [], [], []
        for position in range(len(self.order)):
            text = w.HTML(layout=w.Layout(flex="1 1 auto"))
            up = w.Button(description=t("questions.ordering.up"), layout=w.Layout(width="7em"))
            down = w.Button(description=t("questions.ordering.down"), layout=w.Layout(width="7em"))
            up.on_click(lambda _b, i=position: self.move(i, -1))
            down.on_click(lambda _b, i=position: self.move(i, +1))
            self.texts.append(text)
            self.up.append(up)
            self.down.append(down)
            rows.append(w.HBox([w.Label(f"{position + 1}.", layout=w.Layout(width="2.5em")),
                                text, up, down]))
        self.confirm = w.Button(description=t("questions.ordering.confirm"), icon="check")
        self.confirm.on_click(lambda _b: self.save())
        self._draw()
        return [w.VBox(rows), self.confirm]

    def watched(self) -> list[w.Widget]:
        return []  # the buttons save, not value changes

    def _draw(self) -> None:
        items, last = self.task["items"], len(self.order) - 1
        for position, key in enumerate(self.order):
            label = items[key]
            self.texts[position].value = f"<span>{html.escape(label)}</span>"
            self.up[position].disabled = position == 0
            self.down[position].disabled = position == last
            self.up[position].tooltip = t("questions.ordering.up_tip", item=label)
            self.down[position].tooltip = t("questions.ordering.down_tip", item=label)

    def move(self, position: int, step: int) -> None:
        """Swap the item at `position` with its neighbour above (-1) or below (+1), and save."""
        other = position + step
        if not 0 <= other < len(self.order):
            return
        self.order[position], self.order[other] = self.order[other], self.order[position]
        self._draw()
        self.save()

    def get_value(self) -> list[str]:
        return list(self.order)

    def set_value(self, value: Any) -> None:
        if not isinstance(value, list) or sorted(value) != sorted(self.task["items"]):
            raise ValueError(f"not an order of this question's items: {value!r}")
        self.order = list(value)
        self._draw()

    def shown(self) -> dict[str, Any]:
        return {"start": self.task["order"]}

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        """Partial credit by pairs: of the n(n-1)/2 pairs of items, the share the learner put in
        the same relative order as `correct`, times `points`. All right: all points; reversed:
        0; one neighbouring swap in 4 items: 5/6. An answer that is not an order of the same
        items earns 0 (ValueError: the grading helpers print a line saying so)."""
        correct = [str(k) for k in task["correct"]]
        if not isinstance(value, list) or sorted(map(str, value)) != sorted(correct):
            raise ValueError(f"{value!r} is not an order of {correct!r}")
        if len(correct) < 2:
            return bounded(points, points)
        position = {key: i for i, key in enumerate(map(str, value))}
        pairs = [(a, b) for i, a in enumerate(correct) for b in correct[i + 1:]]
        right = sum(position[a] < position[b] for a, b in pairs)
        return bounded(float(points) * right / len(pairs), points)

