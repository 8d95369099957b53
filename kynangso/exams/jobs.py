"""The grading worker's queue in the platform database (table exam_jobs).

The desk queues a job; a worker claims the oldest queued one with a single conditional
UPDATE (… WHERE status = 'queued'), so several workers can share the queue, on SQLite or
PostgreSQL; it writes its progress and its result into the row, which the desk's page shows.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import select, update

from kynangso import db
from kynangso.models import ExamJob

KINDS = ("duedate", "grade", "release", "feedback", "mark")  # a mark's request is its message (JSON)
SHOWN = ("release", "grade", "feedback")  # the jobs an instructor asked for on the page
ACTIVE = ("queued", "running")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def enqueue(db_url: str, exam: str, kind: str, by: str, message: str = "") -> int:
    assert kind in KINDS
    with db.session_scope(db_url) as session:
        job = ExamJob(exam=exam, kind=kind, status="queued", requested_by=by, message=message)
        session.add(job)
        session.flush()
        return job.id


def active(db_url: str, exam: str, kind: str) -> ExamJob | None:
    """The queued or running job of this kind for `exam`, if any."""
    with db.session_scope(db_url) as session:
        return session.scalar(select(ExamJob).where(
            ExamJob.exam == exam, ExamJob.kind == kind, ExamJob.status.in_(ACTIVE)))


def latest(db_url: str, exam: str, kind: str | tuple[str, ...] = "grade") -> ExamJob | None:
    kinds = (kind,) if isinstance(kind, str) else kind
    with db.session_scope(db_url) as session:
        return session.scalar(select(ExamJob).where(ExamJob.exam == exam, ExamJob.kind.in_(kinds))
                              .order_by(ExamJob.id.desc()).limit(1))


def claim(db_url: str, worker: str | None = None) -> ExamJob | None:
    """The oldest queued job, now marked running for this worker; None if there is none or
    another worker won it."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    with db.session_scope(db_url) as session:
        job_id = session.scalar(select(ExamJob.id).where(ExamJob.status == "queued")
                                .order_by(ExamJob.id).limit(1))
        if job_id is None:
            return None
        won = session.execute(update(ExamJob).where(ExamJob.id == job_id, ExamJob.status == "queued")
                              .values(status="running", worker=worker, started_at=now()))
        if won.rowcount != 1:
            return None
    with db.session_scope(db_url) as session:
        return session.get(ExamJob, job_id)


def report(db_url: str, job_id: int, message: str, status: str | None = None) -> None:
    """Progress (status unchanged) or the end (status 'done' or 'failed') of a job."""
    values: dict = {"message": message}
    if status:
        values.update(status=status, finished_at=now())
    with db.session_scope(db_url) as session:
        session.execute(update(ExamJob).where(ExamJob.id == job_id).values(**values))
