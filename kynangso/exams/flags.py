"""Grading flags in the platform database (kynangso.models.GradingFlag).

Only the grading worker writes them, from the report of `kns grade` it ran itself (the learner
cannot reach that report nor the database); the reports account reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text, column, delete, insert, select, table

from kynangso.db import engine_for

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
    with engine_for(db_url).begin() as conn:  # one transaction: committed whole or not at all
        if graded:
            conn.execute(delete(TABLE).where(TABLE.c.exam == exam, TABLE.c.username.in_(sorted(graded))))
        if rows:
            conn.execute(insert(TABLE), rows)
    return len(rows)


def query(username: str | None = None, columns: tuple[str, ...] = COLUMNS):
    """Flags, oldest first: every learner's, or one learner's (the reports read this query)."""
    f = TABLE.c
    ordered = select(*(f[name] for name in columns)).order_by(f.graded_at, f.id)
    return ordered if username is None else ordered.where(f.username == username)


def of(db_url: str, username: str | None = None) -> list[dict]:
    with engine_for(db_url).connect() as conn:
        return [dict(row) for row in conn.execute(query(username)).mappings()]
