"""The base of every question widget: variant, inputs, save-at-once, saved answer restored.

A subclass says how to draw its variant (`variant`, a classmethod so the grader can call it
with the student id from the submission path), how to show it (`prompt_html`), which inputs it
needs (`build_inputs`), how to read and restore an answer (`get_value` / `set_value`) and how
to score one (`score`, also a classmethod). Answers are saved to the sidecar on every change;
re-running the cell (or nbgrader re-executing the notebook) restores the saved answer and
writes nothing.
"""

from __future__ import annotations

import html
import logging
from typing import Any, ClassVar

import ipywidgets as w

from assessments.questions.identity import rng_for
from assessments.questions.sidecar import SidecarError
from kynangso.i18n import t

log = logging.getLogger(__name__)


def status_html(text: str, ok: bool | None) -> str:
    """A message in a live region (screen readers announce it when it changes)."""
    colour = "#333" if ok is None else ("#1b5e20" if ok else "#b71c1c")
    body = "<br>".join(html.escape(line) for line in text.split("\n"))
    return f'<div role="status" aria-live="polite" style="color:{colour}">{body}</div>'


def bounded(points_earned: float, points: float) -> float:
    """A score as nbgrader takes it: rounded to 2 decimals, never below 0 nor above `points`."""
    return round(min(max(float(points_earned), 0.0), float(points)), 2)


def text_html(text: str) -> str:
    """An author's plain text as HTML: escaped, blank lines start paragraphs, newlines break."""
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.strip().split("\n")) + "</p>"
        for p in paragraphs)


def option_pairs(options) -> list[tuple[str, str]]:
    """(key, text) pairs from an author's options: pairs as given, plain strings keyed a, b, c…"""
    pairs = []
    for index, option in enumerate(options):
        if isinstance(option, str):
            pairs.append((_letter(index), option))
        else:
            key, text = option
            pairs.append((str(key), str(text)))
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"option keys are not unique: {keys}")
    return pairs


def _letter(index: int) -> str:
    """a, b, …, z, aa, ab, … (the key of the index-th option written as a plain string)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("a") + rest) + name
    return name


class Question(w.VBox):
    kind: ClassVar[str] = ""
    # Parts of a variant the learner must not hold (e.g. the corrected answer): the desk hands
    # out `inputs(task)`, the grader keeps the whole task.
    HIDDEN: ClassVar[tuple[str, ...]] = ()
    # True when scoring needs the answer key the grader computes (`task["key"]`, written into
    # the hidden test by assessments.grading.keys): the key function is not in this package.
    NEEDS_KEY: ClassVar[bool] = False

    def __init__(self, exam, item_id: str, title: str = "", **spec: Any):
        self.exam, self.item_id, self.spec = exam, item_id, spec
        handed = exam.handed(item_id) if hasattr(exam, "handed") else None
        self.task = handed if handed is not None else self.inputs(self.variant(
            exam.exam_id, item_id, exam.learner, **spec))
        self.status = w.HTML()
        self.inputs: list[w.Widget] = self.build_inputs()
        self._restoring = False
        self._writable = True
        self._restore()
        for widget in self.watched():
            widget.observe(self._on_change, names="value")
        heading = f"<h3>{html.escape(title)}</h3>" if title else ""
        super().__init__([w.HTML(heading + self.prompt_html()), *self.inputs, self.status])

    # -- to implement ------------------------------------------------------------------------
    @classmethod
    def variant(cls, exam_id: str, item_id: str, learner: str, **spec: Any) -> dict[str, Any]:
        """This learner's task (default: the spec as given, no variant)."""
        return dict(spec)

    @classmethod
    def inputs(cls, task: dict[str, Any]) -> dict[str, Any]:
        """What the learner is handed of `task`: everything but the HIDDEN parts."""
        return {k: v for k, v in task.items() if k not in cls.HIDDEN and k != "key"}

    @classmethod
    def handed_files(cls, task: dict[str, Any], learner: str) -> dict[str, bytes]:
        """Files made from the whole `task` (hidden parts included) that the desk hands out at
        fetch, by path in the exam folder (default: none)."""
        return {}

    @classmethod
    def rng(cls, exam_id: str, item_id: str, learner: str):
        return rng_for(exam_id, item_id, learner)

    def prompt_html(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def build_inputs(self) -> list[w.Widget]:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_value(self) -> Any:
        """The answer as JSON-able data; None while nothing is answered."""
        raise NotImplementedError  # pragma: no cover - abstract

    def set_value(self, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def score(cls, task: dict[str, Any], value: Any, points: float) -> float:
        """Points earned by `value` on `task` (0 ≤ result ≤ points)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def watched(self) -> list[w.Widget]:
        """The inputs whose `value` changes are saved at once (default: every input with one)."""
        return [widget for widget in self.inputs if hasattr(widget, "value")]

    def shown(self) -> dict[str, Any] | None:
        """What the learner saw, stored beside the answer for the instructor (never trusted)."""
        return None

    # -- behaviour ---------------------------------------------------------------------------
    def _restore(self) -> None:
        try:
            saved = self.exam.sidecar.answer(self.item_id)
        except SidecarError as exc:
            # Never overwrite a damaged sidecar: the instructor may still recover answers from it.
            self._writable = False
            log.warning("damaged sidecar %s: %s", exc.path, exc)
            self.status.value = status_html(t("questions.sidecar.damaged", path=exc.path.name), False)
            return
        if saved is None:
            return
        self._restoring = True
        try:
            self.set_value(saved)
            self.status.value = status_html(t("questions.saved_before"), None)
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            log.warning("saved answer %s not restorable: %r", self.item_id, exc)
        finally:
            self._restoring = False

    def _on_change(self, _change) -> None:
        if self._restoring:
            return
        self.save()

    def save(self) -> None:
        if not self._writable:
            return
        value = self.get_value()
        if value is None:
            return
        self.store(value)

    def store(self, value: Any, note: str = "") -> bool:
        """Write `value` (None: the learner cleared the answer) and say so; False if not saved."""
        if not self._writable:
            return False
        try:
            saved_at = self.exam.sidecar.save(self.item_id, value, self.shown())
        except SidecarError as exc:
            # Damaged since this widget was drawn (edited by hand?): stop writing, say so.
            self._writable = False
            log.warning("damaged sidecar %s: %s", exc.path, exc)
            self.status.value = status_html(t("questions.sidecar.damaged", path=exc.path.name), False)
            return False
        except OSError as exc:
            log.error("cannot save answer %s: %s", self.item_id, exc)
            self.status.value = status_html(t("questions.save_failed", detail=exc.strerror or exc), False)
            return False
        message = t("questions.saved", time=self.exam.local_time(saved_at))
        self.status.value = status_html(f"{message}\n{note}" if note else message, True)
        return True
