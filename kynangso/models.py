"""Platform tables: departments and wards, staff, enrolments (SQLAlchemy 2 typed models).

Schema changes go through Alembic (kynangso/migrations); never `create_all` here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("hocvien", "giangvien", "nhansu", "quantri")
"""Hub groups for the four roles of DESIGN.md (`quantri` = hub admin)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Department(Base):
    """A phòng ban, or a phường/xã unit, of the office."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    staff: Mapped[list[Staff]] = relationship(back_populates="department")


class Staff(Base):
    """A member of staff from HR's directory. `username` is their hub login."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    # Staff who leave are deactivated, never deleted: their results stay in history.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(back_populates="staff")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="staff")


class Enrolment(Base):
    """A staff member enrolled on a course of the catalogue."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("staff_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    course_id: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    staff: Mapped[Staff] = relationship(back_populates="enrolments")


class ActivationCode(Base):
    """A one-time code that lets a staff member set their first password.

    Only a hash is stored: the code itself is shown once, to HR, by `kns accounts invite`.
    """

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProgressEvent(Base):
    """One thing a learner did in a course, as the progress service established it.

    `judged` rows are the service's own record: exercise verdicts it reached by rebuilding the
    task and judging the learner's answer, lesson completions it derived from them, openings
    stamped with its clock (`occurred_at` is always the server's time). Rows from before
    migration 0007 were reported by kernels as they pleased: kept, never counted (`judged` False).
    `event_id` is chosen by the sender for openings (a retried report is stored once) and by
    the service for everything else.
    """

    __tablename__ = "progress_events"
    __table_args__ = (Index("ix_progress_events_user_kind_time", "username", "kind", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    course_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(64))
    exercise_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    judged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    task_round: Mapped[int | None] = mapped_column(Integer)  # exercise_attempted: which task
    answer: Mapped[str | None] = mapped_column(Text)  # exercise_attempted: the answer, JSON


class ExamWindow(Base):
    """When one exam may be fetched and submitted, by which hub group, and what happens late.

    The exam desk (kynangso.exams) is the only way a learner reaches an exam, and it reads
    this table at every request, with its own clock.
    """

    __tablename__ = "exam_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str] = mapped_column(String(64), index=True)
    group: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    late_policy: Mapped[str] = mapped_column(String(16))  # "refuse" | "accept_zero"
    opened_by: Mapped[str] = mapped_column(String(64))
    closed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExamAttempt(Base):
    """One learner's fetch and submissions of one exam window (times from the desk's clock)."""

    __tablename__ = "exam_attempts"
    __table_args__ = (UniqueConstraint("window_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("exam_windows.id"))
    username: Mapped[str] = mapped_column(String(64), index=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    submissions: Mapped[int] = mapped_column(default=0)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bytes of this attempt's stored submissions (the desk's quota per learner per window).
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ExamJob(Base):
    """Work the exam desk asks of the grading workers (the grader account): set a due date,
    collect and grade. A worker claims a row (kynangso.exams.jobs.claim: SKIP LOCKED on
    PostgreSQL, one conditional UPDATE everywhere), so several workers may run; it holds the
    job by a lease it renews (`heartbeat_at`), and writes its progress and result (Vietnamese)
    into `message`. A job whose lease ran out is claimed again (`attempts` counts the claims)."""

    __tablename__ = "exam_jobs"
    __table_args__ = (UniqueConstraint("parent_id", "student", name="uq_exam_jobs_parent_student"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "duedate" | "grade"
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")  # queued|running|done|failed
    requested_by: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A learner's submission of a grade job (kind "submission"): its grade job, the learner,
    # and the report of its grading (JSON).
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    student: Mapped[str | None] = mapped_column(String(64), default=None)
    result: Mapped[str | None] = mapped_column(Text, default=None)


class ServiceLease(Base):
    """Which copy of a service does a duty that one copy should do (the desk's culler
    heartbeat): held until `expires_at` (the database's clock), renewed by its holder."""

    __tablename__ = "service_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExamSubmission(Base):
    """A submission the desk stored in inbound: its folder, time and secret (the secret names
    its feedback files, so the desk finds feedback without listing inbound)."""

    __tablename__ = "exam_submissions"
    __table_args__ = (Index("ix_exam_submissions_user_exam", "username", "exam"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
    folder: Mapped[str] = mapped_column(String(255))
    timestamp: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str] = mapped_column(String(128))
    notebooks: Mapped[str] = mapped_column(Text)  # JSON list of notebook ids


class GradingFlag(Base):
    """A graded submission that a person should look at (cells added or edited, a time-out, a
    missing notebook), written by the grading worker from `kns grade`'s report. HR's person
    page and exports show it beside the score; each grading of a learner replaces their rows."""

    __tablename__ = "grading_flags"
    __table_args__ = (Index("ix_grading_flags_user_exam", "username", "exam"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exam: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
    notebook: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(32))  # a catalogue key under grading.reason
    detail: Mapped[str] = mapped_column(Text, default="")
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
