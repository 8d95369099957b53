"""The grader's answer keys (assessments/exams/answer_keys.py, never installed), for tests that
score a simulation task as the grader does: the whole variant with its key."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMS_DIR = Path(__file__).resolve().parents[3] / "assessments" / "exams"
if str(EXAMS_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMS_DIR))

import answer_keys as keys  # noqa: E402


def whole(q) -> dict:
    """What the grader scores a widget's task against: its whole variant with the key."""
    cls = type(q)
    return keys.keyed(cls.kind, cls.variant(q.exam.exam_id, q.item_id, q.exam.learner, **q.spec))


def keyed(cls, task: dict) -> dict:
    return keys.keyed(cls.kind, task)


__all__ = ["keyed", "keys", "whole"]
