"""Grading flags in the platform database (kynangso.models.GradingFlag).

Only the grading worker writes them, from the report of `kns grade` it ran itself (the learner
cannot reach that report nor the database); the reports account reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, column, delete, insert, select, table

from kynangso.db import engine_for, session_scope

# The model's table as a plain clause: the dashboards' kernels read the flags without importing
# SQLAlchemy's ORM (tests/reports/test_cold_start.py checks it names the model's columns).
TABLE = table("grading_flags", column("id", Integer), column("exam", String),
              column("username", String), column("notebook", String), column("kind", String),
              column("detail", Text), column("graded_at", DateTime(timezone=True)))
COLUMNS = ("exam", "username", "notebook", "kind", "detail", "graded_at")


def record(db_url: str, exam: str, report: dict) -> int:
    """Replace the flags of every learner this report graded; return how many were stored."""
    graded = set(report.get("graded", [])) | set(report.get("failed", []))
    now = datetime.now(UTC)
    rows = [{"exam": exam, "username": p["student"], "notebook": p.get("notebook") or "",
             "kind": p["kind"], "detail": (p.get("detail") or "")[:2000], "graded_at": now}
            for p in report.get("problems", []) if not p.get("fatal", True) and p["student"] in graded]
    with session_scope(db_url) as s:
        if graded:
            s.execute(delete(TABLE).where(TABLE.c.exam == exam, TABLE.c.username.in_(sorted(graded))))
        if rows:
            s.execute(insert(TABLE), rows)
    return len(rows)


def query(username: str | None = None):
    """Flags, oldest first: every learner's, or one learner's (the reports read this query)."""
    f = TABLE.c
    ordered = select(*(f[name] for name in COLUMNS)).order_by(f.graded_at, f.id)
    return ordered if username is None else ordered.where(f.username == username)


def of(db_url: str, username: str | None = None) -> list[dict]:
    with engine_for(db_url).connect() as conn:
        return [dict(row) for row in conn.execute(query(username)).mappings()]
