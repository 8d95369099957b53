"""What hidden test cells call: read the learner's answers from the sidecar and score them.

A hidden test cell ends with the score, e.g.

    ### BEGIN HIDDEN TESTS
    from assessments.questions.grading import score_single
    score_single("van-ban", "cau-1", correct="b", points=2)
    ### END HIDDEN TESTS

nbgrader reads a test cell's last value as partial credit (`nbgrader.utils.get_partial_grade`:
a number from 0 to the cell's points is the grade; a number above the points is an error; a
negative number or text is full credit; an error or any stderr output is 0). So every scorer
returns a float in [0, points], rounded to 2 decimals, and nothing here writes to stderr: a
0 returned is a real 0 in the gradebook (checked by tests/assessments/questions/
test_nbgrader_exam.py). A missing answer scores 0.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from assessments.questions.base import bounded
from assessments.questions.choice import MultipleChoice, SingleChoice
from assessments.questions.identity import learner_id
from assessments.questions.numeric import Number
from assessments.questions.ordering import Ordering
from assessments.questions.sidecar import SidecarError, read, sidecar_path
from assessments.questions.text import ShortText
from kynangso.i18n import t

log = logging.getLogger(__name__)


def _exam_id(exam) -> str:
    return getattr(exam, "exam_id", exam)


def answers(exam_id, folder: Path | str | None = None) -> dict[str, Any]:
    """item id -> the learner's answer, from the sidecar in `folder` (default: the cwd).

    No sidecar: {}. A damaged sidecar: {} and one line on stdout saying so (stdout, because
    nbgrader gives 0 to a test cell that writes anything to stderr)."""
    path = sidecar_path(_exam_id(exam_id), folder)
    try:
        data = read(path)
    except SidecarError as exc:
        print(t("questions.grading.damaged", path=path.name,
                reason=t(f"questions.sidecar.reason_{exc.reason}")))
        return {}
    if data is None:
        return {}
    return {item: record.get("value") for item, record in data["answers"].items()
            if isinstance(record, dict)}


def _score(question_class, task: dict[str, Any], exam, item: str, points: float,
           folder: Path | str | None) -> float:
    value = answers(exam, folder).get(item)
    if value is None:
        return 0.0
    try:
        return bounded(question_class.score(task, value, points), points)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # An answer of the wrong shape (a hand-edited sidecar) earns nothing, without a traceback.
        print(t("questions.grading.unusable", item=item))
        log.info("unusable answer %s/%s: %r", _exam_id(exam), item, exc)
        return 0.0


def score_single(exam, item: str, correct: str, points: float, *,
                 folder: Path | str | None = None) -> float:
    """`points` if the chosen option's key is `correct`, else 0."""
    return _score(SingleChoice, {"correct": str(correct)}, exam, item, points, folder)


def score_multiple(exam, item: str, correct, points: float, *,
                   folder: Path | str | None = None) -> float:
    """+points/len(correct) per right key ticked, the same taken away per wrong key, floored at 0."""
    task = {"correct": sorted(str(k) for k in correct)}
    return _score(MultipleChoice, task, exam, item, points, folder)


def score_number(exam, item: str, expected: float, points: float, tolerance: float = 0, *,
                 folder: Path | str | None = None) -> float:
    """`points` if |answer - expected| <= tolerance, else 0."""
    task = {"expected": expected, "tolerance": tolerance}
    return _score(Number, task, exam, item, points, folder)


def score_text(exam, item: str, accepted: list[str], points: float, *,
               folder: Path | str | None = None) -> float:
    """`points` if the answer is one of `accepted`: NFC, case-insensitive, spaces collapsed;
    diacritics must match."""
    accepted = [accepted] if isinstance(accepted, str) else list(accepted)
    return _score(ShortText, {"accepted": accepted}, exam, item, points, folder)


def score_ordering(exam, item: str, correct: list[str], points: float, *,
                   folder: Path | str | None = None) -> float:
    """Share of item pairs in the right relative order, times `points` (see Ordering.score)."""
    return _score(Ordering, {"correct": [str(k) for k in correct]}, exam, item, points, folder)


def score_item(exam, item: str, question_class, points: float, *,
               folder: Path | str | None = None, task: dict[str, Any] | None = None,
               **spec: Any) -> float:
    """Any Question subclass: let the class score the saved answer against this learner's task.

    `task` is the whole variant with its answer key, written into the hidden test by the
    grader before execution (assessments.grading.keys). Without it the variant is recomputed
    from the submission path (never from what the notebook or sidecar says); a class whose
    key only the grader computes (`NEEDS_KEY`, the simulation tasks) then scores 0 with a line
    saying why."""
    if task is None:
        if getattr(question_class, "NEEDS_KEY", False):
            print(t("questions.grading.no_key", item=item))
            return 0.0
        task = question_class.variant(_exam_id(exam), item, learner_id(folder), **spec)
    return _score(question_class, task, exam, item, points, folder)
