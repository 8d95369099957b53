"""Exam windows and attempts in the platform database (times are the desk's clock, UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import case, select, update

from kynangso import clock, db
from kynangso.errors import KnsError
from kynangso.exams import LATE_POLICIES
from kynangso.models import ExamAttempt, ExamWindow


def now_utc(db_url: str | None = None) -> dt.datetime:
    """The desk's trusted clock: the platform database's (kynangso.clock), so that copies of
    the desk on hosts with skewed clocks judge a window alike."""
    return clock.now(db_url)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Window:
    id: int
    course_id: str
    assignment_id: str
    group: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    late_policy: str
    opened_by: str
    closed_by: str | None

    def is_open(self, at: dt.datetime) -> bool:
        return self.opens_at <= at < self.closes_at

    def to_dict(self) -> dict:
        data = asdict(self)
        data["opens_at"] = self.opens_at.isoformat()
        data["closes_at"] = self.closes_at.isoformat()
        return data

    @classmethod
    def of(cls, row: ExamWindow) -> Window:
        return cls(row.id, row.course_id, row.assignment_id, row.group, _aware(row.opens_at),
                   _aware(row.closes_at), row.late_policy, row.opened_by, row.closed_by)


def open_window(db_url: str, course_id: str, assignment_id: str, group: str, minutes: int,
                late_policy: str, by: str, at: dt.datetime | None = None) -> Window:
    """Open `assignment_id` to hub group `group` for `minutes` from now."""
    at = at or now_utc(db_url)
    if late_policy not in LATE_POLICIES:
        raise KnsError("exams.bad_policy", policy=late_policy, choices=", ".join(LATE_POLICIES))
    if not 1 <= minutes <= 24 * 60:
        raise KnsError("exams.bad_minutes", minutes=minutes)
    with db.session_scope(db_url) as session:
        for row in session.scalars(select(ExamWindow).where(
                ExamWindow.assignment_id == assignment_id, ExamWindow.group == group)):
            if Window.of(row).is_open(at):
                raise KnsError("exams.already_open", exam=assignment_id, group=group,
                               closes=local(Window.of(row).closes_at))
        row = ExamWindow(course_id=course_id, assignment_id=assignment_id, group=group, opens_at=at,
                         closes_at=at + dt.timedelta(minutes=minutes), late_policy=late_policy,
                         opened_by=by)
        session.add(row)
        session.flush()
        return Window.of(row)


def close_window(db_url: str, assignment_id: str, by: str, group: str | None = None,
                 at: dt.datetime | None = None) -> list[Window]:
    """Close the open windows of `assignment_id` (of one group, or all) now."""
    at = at or now_utc(db_url)
    closed = []
    with db.session_scope(db_url) as session:
        query = select(ExamWindow).where(ExamWindow.assignment_id == assignment_id)
        if group:
            query = query.where(ExamWindow.group == group)
        for row in session.scalars(query):
            if Window.of(row).is_open(at):
                row.closes_at, row.closed_by = at, by
                closed.append(Window.of(row))
    if not closed:
        raise KnsError("exams.not_open", exam=assignment_id)
    return closed


def windows(db_url: str, assignment_id: str | None = None) -> list[Window]:
    with db.session_scope(db_url) as session:
        query = select(ExamWindow).order_by(ExamWindow.opens_at)
        if assignment_id:
            query = query.where(ExamWindow.assignment_id == assignment_id)
        return [Window.of(row) for row in session.scalars(query)]


def window_for(db_url: str, assignment_id: str, groups: set[str]) -> Window | None:
    """The latest window of `assignment_id` for any of `groups` (open or closed)."""
    mine = [w for w in windows(db_url, assignment_id) if w.group in groups]
    return max(mine, key=lambda w: w.opens_at) if mine else None


def record_fetch(db_url: str, window: Window, username: str, at: dt.datetime) -> None:
    """The learner's attempt of `window` begins at `at`, unless it already began. One INSERT …
    ON CONFLICT DO NOTHING on (window, learner), so two desk copies recording the same first
    fetch at once make one row and neither fails."""
    with db.session_scope(db_url) as session:
        session.execute(db.insert(session, ExamAttempt).values(
            window_id=window.id, username=username, fetched_at=at, submissions=0, late=False,
            stored_bytes=0).on_conflict_do_nothing(index_elements=["window_id", "username"]))


def fetched_at(db_url: str, window: Window, username: str) -> dt.datetime | None:
    """When the learner's attempt of `window` began (their first fetch), or None."""
    with db.session_scope(db_url) as session:
        at = session.scalar(select(ExamAttempt.fetched_at).where(
            ExamAttempt.window_id == window.id, ExamAttempt.username == username))
        return None if at is None else _aware(at)


def in_exam(db_url: str, username: str, at: dt.datetime) -> bool:
    """Whether the learner has an attempt in a window open at `at`, submitted or not: a learner
    who runs code stays in exam mode until their window closes, or they could compute answers
    after a first submission and submit again (kynangso.hub.spawner)."""
    with db.session_scope(db_url) as session:
        rows = session.scalars(select(ExamWindow).join(
            ExamAttempt, ExamAttempt.window_id == ExamWindow.id).where(
            ExamAttempt.username == username)).all()
        return any(Window.of(row).is_open(at) for row in rows)


def has_fetched(db_url: str, window: Window, username: str) -> bool:
    with db.session_scope(db_url) as session:
        return session.scalar(select(ExamAttempt.id).where(
            ExamAttempt.window_id == window.id, ExamAttempt.username == username)) is not None


def attempt_state(db_url: str, window: Window, username: str) -> str:
    """'none' (not fetched), 'in_progress' (fetched, nothing submitted) or 'submitted'."""
    with db.session_scope(db_url) as session:
        attempt = session.scalar(select(ExamAttempt).where(
            ExamAttempt.window_id == window.id, ExamAttempt.username == username))
        if attempt is None:
            return "none"
        return "submitted" if attempt.submitted_at is not None else "in_progress"


def record_submission(db_url: str, window: Window, username: str, at: dt.datetime,
                      late: bool, counted: bool = False, also: tuple = ()) -> None:
    """The submission's time and lateness in the learner's attempt of `window`; `counted` when
    reserve_submission has already counted it. One upsert: an attempt not fetched through the
    desk (e.g. a re-used copy) begins here; the latest time is kept whichever desk copy
    records last, and a late submission leaves the attempt late. `also`: rows stored in the
    same transaction (the submission's own record)."""
    with db.session_scope(db_url) as session:
        session.add_all(also)
        stmt = db.insert(session, ExamAttempt).values(
            window_id=window.id, username=username, fetched_at=at, submitted_at=at,
            submissions=0 if counted else 1, late=late, stored_bytes=0)
        held = ExamAttempt.submitted_at
        stmt = stmt.on_conflict_do_update(index_elements=["window_id", "username"], set_={
            "submitted_at": case((held.is_(None) | (held < stmt.excluded.submitted_at),
                                  stmt.excluded.submitted_at), else_=held),
            "late": ExamAttempt.late | stmt.excluded.late,
            "submissions": ExamAttempt.submissions + stmt.excluded.submissions,
        })
        session.execute(stmt)


def reserve_submission(db_url: str, window: Window, username: str, at: dt.datetime, size: int,
                       max_count: int, max_bytes: int) -> str | None:
    """Count a submission of `size` bytes in the learner's attempt of `window`, if it stays
    within the quotas (submissions and bytes per learner per window); else the quota it would
    pass ("count" or "bytes") and nothing changes. One conditional UPDATE, so two submissions
    sent at once cannot both take the last place (SQLite or PostgreSQL)."""
    record_fetch(db_url, window, username, at)  # the attempt row, if it is not there yet
    with db.session_scope(db_url) as session:
        won = session.execute(update(ExamAttempt).where(
            ExamAttempt.window_id == window.id, ExamAttempt.username == username,
            ExamAttempt.submissions < max_count,
            ExamAttempt.stored_bytes + size <= max_bytes,
        ).values(submissions=ExamAttempt.submissions + 1,
                 stored_bytes=ExamAttempt.stored_bytes + size))
        if won.rowcount == 1:
            return None
        attempt = session.scalar(select(ExamAttempt).where(
            ExamAttempt.window_id == window.id, ExamAttempt.username == username))
        return "count" if attempt.submissions >= max_count else "bytes"


def release_submission(db_url: str, window: Window, username: str, size: int) -> None:
    """Undo reserve_submission (the submission could not be stored)."""
    with db.session_scope(db_url) as session:
        session.execute(update(ExamAttempt).where(
            ExamAttempt.window_id == window.id, ExamAttempt.username == username,
        ).values(submissions=ExamAttempt.submissions - 1,
                 stored_bytes=ExamAttempt.stored_bytes - size))


@dataclass(frozen=True)
class Lateness:
    """What the desk recorded of a learner's latest submission of an exam: the close of the
    window it was made in, when it was made (the desk's clock) and whether it was late."""

    closes_at: dt.datetime
    submitted_at: dt.datetime
    late: bool

    def due_date(self) -> dt.datetime:
        """The due date under which nbgrader (late when its timestamp > due date) reaches the
        desk's own verdict for this submission, whatever other groups' windows say."""
        if self.late:
            return min(self.closes_at, self.submitted_at) - dt.timedelta(microseconds=1)
        return max(self.closes_at, self.submitted_at)


def lateness(db_url: str, assignment_id: str) -> dict[str, Lateness]:
    """Per learner, the desk's record of their latest submission of `assignment_id` (the one
    `nbgrader collect` keeps): its own window's close and its own lateness."""
    found: dict[str, Lateness] = {}
    with db.session_scope(db_url) as session:
        rows = session.execute(select(ExamAttempt, ExamWindow).join(
            ExamWindow, ExamWindow.id == ExamAttempt.window_id).where(
            ExamWindow.assignment_id == assignment_id, ExamAttempt.submitted_at.is_not(None))).all()
        for attempt, window in rows:
            mine = Lateness(_aware(window.closes_at), _aware(attempt.submitted_at), attempt.late)
            held = found.get(attempt.username)
            if held is None or mine.submitted_at > held.submitted_at:
                found[attempt.username] = mine
    return found


def in_progress(db_url: str, at: dt.datetime) -> set[str]:
    """Learners who fetched an exam whose window is open and have not submitted yet."""
    with db.session_scope(db_url) as session:
        rows = session.execute(select(ExamAttempt.username, ExamWindow).join(
            ExamWindow, ExamWindow.id == ExamAttempt.window_id).where(
            ExamAttempt.submitted_at.is_(None))).all()
        return {name for name, row in rows if Window.of(row).is_open(at)}


def attempts(db_url: str, assignment_id: str) -> list[dict]:
    with db.session_scope(db_url) as session:
        rows = session.execute(select(ExamAttempt, ExamWindow.group).join(
            ExamWindow, ExamWindow.id == ExamAttempt.window_id).where(
            ExamWindow.assignment_id == assignment_id).order_by(ExamAttempt.username)).all()
        return [{"username": a.username, "group": group,
                 "fetched_at": _aware(a.fetched_at).isoformat(),
                 "submitted_at": _aware(a.submitted_at).isoformat() if a.submitted_at else None,
                 "submissions": a.submissions, "late": a.late} for a, group in rows]


LOCAL_TZ = dt.timezone(dt.timedelta(hours=7))


def local(value: dt.datetime) -> str:
    """A time as a Vietnamese reader writes it (Vietnam time)."""
    return value.astimezone(LOCAL_TZ).strftime("%H:%M ngày %d/%m/%Y")
