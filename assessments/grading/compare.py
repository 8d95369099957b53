"""A comparable picture of one exam's gradebook rows (used by the equivalence test and the benchmark).

Rows are keyed by student, notebook and grade cell id, never by the database's random ids.
"""

from __future__ import annotations

from typing import Any


def snapshot(db_url: str, exam: str) -> dict[str, Any]:
    """{student: {"total": ..., "notebooks": {nb: {"cells": {grade_id: {...}}, ...}}}}."""
    from nbgrader.api import Gradebook

    out: dict[str, Any] = {}
    with Gradebook(db_url) as gb:
        assignment = gb.find_assignment(exam)
        for sub in assignment.submissions:
            notebooks = {}
            for snb in sub.notebooks:
                cells = {}
                for grade in snb.grades:
                    cells[grade.name] = {
                        "auto_score": grade.auto_score, "manual_score": grade.manual_score,
                        "needs_manual_grade": bool(grade.needs_manual_grade),
                        "max_score": grade.max_score,
                    }
                comments = {c.name: c.auto_comment for c in snb.comments}
                notebooks[snb.name] = {
                    "cells": cells, "comments": comments, "score": snb.score,
                    "max_score": snb.max_score, "needs_manual_grade": bool(snb.needs_manual_grade),
                    "late_submission_penalty": snb.late_submission_penalty,
                    "flagged": bool(snb.flagged),
                }
            out[sub.student_id] = {
                "score": sub.score, "max_score": sub.max_score,
                "timestamp": sub.timestamp.isoformat() if sub.timestamp else None,
                "total_seconds_late": sub.total_seconds_late,
                "late_submission_penalty": sub.late_submission_penalty,
                "needs_manual_grade": bool(sub.needs_manual_grade),
                "notebooks": notebooks,
            }
    return out
