"""The grading workers' queue in the platform database (table exam_jobs).

The desk queues a job; a worker claims the oldest one it may take and holds it by a lease:

- claiming reads the candidate row with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (a row
  another worker is claiming is skipped, not waited for) and takes it with one conditional
  UPDATE (… WHERE status = 'queued' or the lease ran out), which is also all that SQLite needs
  (its writers take turns), so any number of workers on any hosts share the queue;
- the claiming worker renews the lease (`heartbeat_at`, the database's clock) while it works
  (`Lease`); a worker that dies stops renewing it, and once LEASE_SECONDS have passed the job
  is claimed again, up to MAX_ATTEMPTS claims, then failed with a message;
- progress and the result are written only by the job's current holder (… WHERE worker = me
  AND status = 'running'), so a worker that lost its lease writes nothing more;
- the course's gradebook has one writer: one whole job (release, grade, feedback, mark, due
  date) is held at a time, whichever worker holds it, so no exam is graded twice at once; the
  parallel work is a grade job's submissions (kind "submission", `spawn`), which any worker
  may claim while the grade job waits for them.

The desk's page shows the row's message.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import aliased

from kynangso import clock, db
from kynangso.i18n import t
from kynangso.models import ExamJob, ServiceLease

log = logging.getLogger("kns.exams.jobs")
LEASE_SECONDS = 120  # no renewal for this long: the worker is taken for dead
MAX_ATTEMPTS = 3  # a job that takes its worker down this many times is not run again
CLAIM_LOCK = 0x4B4E534A  # PostgreSQL advisory lock key of claims ("KNSJ")

# A mark's request is its message (JSON); a "submission" is one learner's part of a grade job.
KINDS = ("duedate", "grade", "release", "feedback", "mark", "submission")
SHOWN = ("release", "grade", "feedback")  # the jobs an instructor asked for on the page
ACTIVE = ("queued", "running")


def enqueue(db_url: str, exam: str, kind: str, by: str, message: str = "") -> int:
    assert kind in KINDS
    with db.session_scope(db_url) as session:
        job = ExamJob(exam=exam, kind=kind, status="queued", requested_by=by, message=message,
                      created_at=clock.now(db_url))
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


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(db_url: str, worker: str | None = None, lease_seconds: float = LEASE_SECONDS,
          parent_id: int | None = None) -> ExamJob | None:
    """The oldest queued job (of grade job `parent_id` only, if given), or a running one whose
    lease ran out, now held by this worker; None if there is none or another worker won it."""
    worker = worker or worker_name()
    at = clock.now(db_url)
    stale = at - dt.timedelta(seconds=lease_seconds)
    lapsed = (ExamJob.status == "running") & (ExamJob.heartbeat_at < stale)
    with db.session_scope(db_url) as session:
        # Jobs that took their worker down too often end here, with a message for the page.
        for job_id, kind, exam, attempts in session.execute(select(
                ExamJob.id, ExamJob.kind, ExamJob.exam, ExamJob.attempts).where(
                lapsed, ExamJob.attempts >= MAX_ATTEMPTS)).all():
            session.execute(update(ExamJob).where(ExamJob.id == job_id, lapsed).values(
                status="failed", finished_at=at,
                message=t("exams.job_abandoned", exam=exam, attempts=attempts)))
            log.error("job %s (%s of %s) abandoned after %s claims", job_id, kind, exam, attempts)
    # The course's gradebook takes one job at a time (a release, a grade, a mark…), as with one
    # worker; only a grade job's submissions are shared: a job of its own is claimed only
    # while no other one is held (by a live lease).
    other = aliased(ExamJob)
    held = select(other.id).where(other.parent_id.is_(None), other.status == "running",
                                  other.heartbeat_at >= stale).exists()
    may = [or_(ExamJob.status == "queued", lapsed), or_(ExamJob.parent_id.is_not(None), ~held)]
    if parent_id is not None:
        may.append(ExamJob.parent_id == parent_id)
    with db.session_scope(db_url) as session:
        if parent_id is None and session.get_bind().dialect.name == "postgresql":
            # Claims of whole jobs take turns (until commit), so two workers cannot each see
            # "none held" and both take one; SQLite's writers take turns anyway.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        job_id = session.scalar(select(ExamJob.id).where(*may).order_by(ExamJob.id).limit(1)
                                .with_for_update(skip_locked=True))  # nothing on SQLite
        if job_id is None:
            return None
        won = session.execute(update(ExamJob).where(ExamJob.id == job_id, *may).values(
            status="running", worker=worker, started_at=at, heartbeat_at=at,
            attempts=ExamJob.attempts + 1))
        if won.rowcount != 1:
            return None
    with db.session_scope(db_url) as session:
        job = session.get(ExamJob, job_id)
    if job.attempts > 1:
        log.warning("job %s (%s of %s) claimed again by %s: its lease had run out (claim %s)",
                    job.id, job.kind, job.exam, worker, job.attempts)
    return job


def renew(db_url: str, job: ExamJob) -> bool:
    """Extend this worker's lease on `job`; False if it is no longer this worker's."""
    with db.session_scope(db_url) as session:
        return session.execute(update(ExamJob).where(
            ExamJob.id == job.id, ExamJob.worker == job.worker, ExamJob.status == "running",
        ).values(heartbeat_at=clock.now(db_url))).rowcount == 1


class Lease:
    """`with Lease(db_url, job):` renews the lease on `job` every third of LEASE_SECONDS from
    a thread while the block runs (a step may hold the main thread for minutes)."""

    def __init__(self, db_url: str, job: ExamJob, lease_seconds: float = LEASE_SECONDS):
        self.db_url, self.job, self.every = db_url, job, lease_seconds / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{job.id}")
        self.lost = False

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not renew(self.db_url, self.job):
                    self.lost = True
                    log.error("job %s: lease lost to another worker", self.job.id)
                    return
            except Exception:  # noqa: BLE001 - the database may be back before the lease ends
                log.exception("job %s: lease not renewed", self.job.id)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def report(db_url: str, job_id: int, message: str, status: str | None = None,
           worker: str | None = None, result: str | None = None) -> bool:
    """Progress (status unchanged) or the end (status 'done' or 'failed') of a job, and its
    `result` if given; with `worker`, only while that worker holds the job (it writes nothing
    once its lease is lost). Whether the row was written."""
    values: dict = {"message": message}
    if result is not None:
        values["result"] = result
    if status:
        values.update(status=status, finished_at=clock.now(db_url))
    held = [] if worker is None else [ExamJob.worker == worker, ExamJob.status == "running"]
    with db.session_scope(db_url) as session:
        return session.execute(update(ExamJob).where(ExamJob.id == job_id, *held)
                               .values(**values)).rowcount == 1


def hold(db_url: str, duty: str, holder: str, seconds: float) -> bool:
    """Take or keep the lease on `duty` for `seconds`: True if `holder` has it now (it was
    free, expired, or already `holder`'s). Copies of a service each ask before doing the duty;
    one does it, and if it dies another takes over once its lease has run out."""
    at = clock.now(db_url)
    until = at + dt.timedelta(seconds=seconds)
    with db.session_scope(db_url) as session:
        if session.execute(db.insert(session, ServiceLease).values(
                name=duty, holder=holder, expires_at=until,
        ).on_conflict_do_nothing(index_elements=["name"])).rowcount == 1:
            return True
        return session.execute(update(ServiceLease).where(
            ServiceLease.name == duty,
            or_(ServiceLease.holder == holder, ServiceLease.expires_at < at),
        ).values(holder=holder, expires_at=until)).rowcount == 1


def spawn(db_url: str, parent: ExamJob, students: list[str]) -> None:
    """Queue one "submission" job per learner of grade job `parent`; a learner's is made once,
    however often the grade job is claimed again (ON CONFLICT on parent and learner)."""
    if not students:
        return
    with db.session_scope(db_url) as session:
        session.execute(db.insert(session, ExamJob).values([
            {"exam": parent.exam, "kind": "submission", "status": "queued",
             "requested_by": parent.requested_by, "message": "", "parent_id": parent.id,
             "student": student, "attempts": 0, "created_at": clock.now(db_url)}
            for student in students]).on_conflict_do_nothing(index_elements=["parent_id", "student"]))


def children(db_url: str, parent_id: int) -> list[ExamJob]:
    """The "submission" jobs of a grade job, by learner."""
    with db.session_scope(db_url) as session:
        return list(session.scalars(select(ExamJob).where(ExamJob.parent_id == parent_id)
                                    .order_by(ExamJob.student)))
