"""Grading flags in the platform database (kynangso.models.GradingFlag).

Only the grading worker writes them, from the report of `kns grade` it ran itself (the learner
cannot reach that report nor the database); the reports account reads them.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from kynangso.db import session_scope
from kynangso.models import GradingFlag


def record(db_url: str, exam: str, report: dict) -> int:
    """Replace the flags of every learner this report graded; return how many were stored."""
    graded = set(report.get("graded", [])) | set(report.get("failed", []))
    rows = [p for p in report.get("problems", []) if not p.get("fatal", True)
            and p["student"] in graded]
    with session_scope(db_url) as s:
        if graded:
            s.execute(delete(GradingFlag).where(GradingFlag.exam == exam,
                                                GradingFlag.username.in_(sorted(graded))))
        s.add_all(GradingFlag(exam=exam, username=p["student"], notebook=p.get("notebook") or "",
                              kind=p["kind"], detail=(p.get("detail") or "")[:2000])
                  for p in rows)
    return len(rows)


def of(db_url: str, username: str | None = None) -> list[dict]:
    """Flags, oldest first: every learner's, or one learner's."""
    query = select(GradingFlag).order_by(GradingFlag.graded_at, GradingFlag.id)
    if username is not None:
        query = query.where(GradingFlag.username == username)
    with session_scope(db_url) as s:
        return [{"exam": f.exam, "username": f.username, "notebook": f.notebook, "kind": f.kind,
                 "detail": f.detail, "graded_at": f.graded_at} for f in s.scalars(query)]
