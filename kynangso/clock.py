"""The platform's trusted clock: the platform database's.

Several copies of the exam desk and the progress service may run on hosts whose clocks differ
by seconds; a window's close, a submission's lateness and a grading job's lease must be judged
by one clock, so every service asks the database (PostgreSQL's `clock_timestamp()`). A SQLite
database is a file on one host, read by processes of that host only, so its clock is that
host's: no round trip is needed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from kynangso import db


def now(db_url: str | None = None) -> dt.datetime:
    """The current time (UTC, aware) by the database at `db_url`; the host's without a URL or
    with SQLite (same host)."""
    if db_url is None or db_url.startswith("sqlite"):
        return dt.datetime.now(dt.UTC)
    with db.engine_for(db_url).connect() as conn:
        # clock_timestamp(), not now(): now() is the start of the transaction.
        value = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    return value.astimezone(dt.UTC)
