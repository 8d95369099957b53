"""Progress in the platform database: the service's own record of what each learner did.

Nothing here takes a learner's word for a verdict or a time. The kernel reports openings and
sends answers; `record_verdict` stores the verdict the service reached, and derives the
lesson's completion from the catalogue; every time is the server's clock (`now`).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from kynangso import clock
from kynangso.db import insert, session_scope
from kynangso.errors import KnsError
from kynangso.models import ProgressEvent

# What a kernel may send in an opening report; anything else (a time, a verdict) is refused.
OPENING_FIELDS = {"event_id", "kind", "course_id", "lesson_id", "exercise_id"}
# A sender's event id: letters, digits, - and _ (a uuid4's hex); the service's own completion
# ids have a ":" (completion_id), so no sender can take one first.
SENDER_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def utcnow(url: str | None = None) -> datetime:
    """The server's time: the platform database's clock (kynangso.clock), the same for every
    copy of the service."""
    return clock.now(url)


def completion_id(username: str, course: str, lesson: str) -> str:
    """The one event id of a learner's completion of a lesson: two copies of the service that
    see the lesson complete at once store it once (ON CONFLICT on event_id)."""
    digest = hashlib.sha256(f"{username}\0{course}\0{lesson}".encode()).hexdigest()[:56]
    return f"done:{digest}"


def lesson_entry(course: str, lesson: str):
    """The catalogue's lesson, or a refusal naming what is unknown."""
    from courses.catalogue import load_catalogue

    try:
        return load_catalogue().lesson(course, lesson)
    except KnsError:
        raise KnsError("progress.unknown_lesson",
                       log_detail=f"unknown course/lesson {course!r}/{lesson!r}") from None


def validate_opening(event: dict) -> dict:
    """Check one report from a kernel: only "lesson_opened" of a catalogued lesson, no time."""
    if not isinstance(event, dict):
        raise KnsError("progress.bad_event", log_detail=f"not an object: {event!r}")
    extra = set(event) - OPENING_FIELDS
    if extra:  # "occurred_at" above all: times are the server's
        raise KnsError("progress.bad_event", log_detail=f"fields not accepted: {sorted(extra)}")
    if event.get("kind") != "lesson_opened":
        raise KnsError("progress.bad_event",
                       log_detail=f"kind {event.get('kind')!r} is decided by the service, not reported")
    try:
        cleaned = {"event_id": str(event["event_id"]), "course_id": str(event["course_id"]),
                   "lesson_id": str(event["lesson_id"])}
    except KeyError as exc:
        raise KnsError("progress.bad_event", log_detail=f"missing {exc}") from None
    if not SENDER_ID.fullmatch(cleaned["event_id"]) or event.get("exercise_id") is not None:
        raise KnsError("progress.bad_event", log_detail=f"bad progress event {event!r}")
    lesson_entry(cleaned["course_id"], cleaned["lesson_id"])
    return cleaned


def record_opening(url: str, username: str, event: dict, now: datetime | None = None) -> bool:
    """Store a lesson opening at the server's time; False if this event_id was already stored
    (a retried report, perhaps sent to another copy of the service: INSERT … ON CONFLICT).

    A lesson without exercises is completed when opened (the catalogue says so)."""
    fields = validate_opening(event)
    now = now or utcnow(url)
    with session_scope(url) as s:
        stored = s.execute(insert(s, ProgressEvent).values(
            username=username, kind="lesson_opened", occurred_at=now, received_at=now, judged=True,
            exercise_id=None, **fields).on_conflict_do_nothing(index_elements=["event_id"]))
        if stored.rowcount != 1:
            owner = s.scalar(select(ProgressEvent.username).where(
                ProgressEvent.event_id == fields["event_id"]))
            if owner != username:  # someone replaying another's id: refuse, learn nothing
                raise KnsError("progress.bad_event", log_detail="event_id reused by another user")
    if not lesson_entry(fields["course_id"], fields["lesson_id"]).exercises:
        # also on a retry: the first report's completion may not have been stored
        _complete_once(url, username, fields["course_id"], fields["lesson_id"], now)
    return stored.rowcount == 1


def _complete_once(url: str, username: str, course: str, lesson: str, now: datetime) -> bool:
    """Store the learner's completion of the lesson unless it is stored: True if this call
    stored it. Its own transaction, run after the verdict's commit, so that of two copies
    recording the lesson's last two exercises at once, the later one sees both."""
    with session_scope(url) as s:
        done = s.scalar(select(ProgressEvent.id).where(
            ProgressEvent.username == username, ProgressEvent.kind == "lesson_completed",
            ProgressEvent.course_id == course, ProgressEvent.lesson_id == lesson,
            ProgressEvent.judged.is_(True)).limit(1))
        if done is not None:  # also one stored under a random id before completion_id existed
            return False
        stored = s.execute(insert(s, ProgressEvent).values(
            event_id=completion_id(username, course, lesson), username=username,
            kind="lesson_completed", course_id=course, lesson_id=lesson, exercise_id=None,
            occurred_at=now, received_at=now, judged=True,
        ).on_conflict_do_nothing(index_elements=["event_id"]))
        return stored.rowcount == 1


def check_quota(url: str, username: str, per_minute: int, per_day: int,
                now: datetime | None = None) -> None:
    """Refuse (KnsError, HTTP 429 in the service) past a learner's answers per minute or day."""
    now = now or utcnow(url)
    minute_ago = now - timedelta(minutes=1)
    with session_scope(url) as s:  # one indexed query for both counts
        day, minute = s.execute(select(
            func.count(), func.coalesce(func.sum(case((ProgressEvent.occurred_at >= minute_ago, 1), else_=0)), 0),
        ).where(ProgressEvent.username == username, ProgressEvent.kind == "exercise_attempted",
                ProgressEvent.judged.is_(True), ProgressEvent.occurred_at >= now - timedelta(days=1))).one()
    for used, limit, key in ((minute, per_minute, "progress.quota_minute"), (day, per_day, "progress.quota_day")):
        if used >= limit:
            raise KnsError(key, limit=limit, log_detail=f"{username}: {used} answers ({key}), limit {limit}")


def record_verdict(url: str, username: str, course: str, lesson: str, exercise: str, round_: int,
                   answer, passed: bool, now: datetime | None = None) -> bool:
    """Store the service's verdict on one answer; True when it completed the lesson."""
    now = now or utcnow(url)
    wanted = set(lesson_entry(course, lesson).exercises)
    common = {"username": username, "course_id": course, "lesson_id": lesson, "exercise_id": exercise,
              "occurred_at": now, "judged": True}
    with session_scope(url) as s:
        s.add(ProgressEvent(event_id=uuid.uuid4().hex, kind="exercise_attempted", task_round=round_,
                            answer=json.dumps(answer, ensure_ascii=False), **common))
        if not passed:
            return False
        s.add(ProgressEvent(event_id=uuid.uuid4().hex, kind="exercise_passed", task_round=round_, **common))
    with session_scope(url) as s:  # committed above: what every copy has stored by now
        have = set(s.scalars(select(ProgressEvent.exercise_id).where(
            ProgressEvent.username == username, ProgressEvent.kind == "exercise_passed",
            ProgressEvent.course_id == course, ProgressEvent.lesson_id == lesson,
            ProgressEvent.judged.is_(True))))
    return wanted <= have and _complete_once(url, username, course, lesson, now)


def events_of(url: str, username: str) -> list[dict]:
    """The learner's judged events, oldest first (rows kernels reported before 0007 are left out)."""
    with session_scope(url) as s:
        rows = s.scalars(
            select(ProgressEvent)
            .where(ProgressEvent.username == username, ProgressEvent.judged.is_(True))
            .order_by(ProgressEvent.occurred_at, ProgressEvent.id)
        )
        return [
            {"kind": e.kind, "course_id": e.course_id, "lesson_id": e.lesson_id, "exercise_id": e.exercise_id,
             "occurred_at": e.occurred_at.isoformat(), "event_id": e.event_id}
            for e in rows
        ]


def summary_of(url: str, username: str) -> dict:
    """Per course and lesson: opened, completed, exercises attempted and passed (judged only)."""
    lessons: dict[tuple[str, str], dict] = {}
    for e in events_of(url, username):
        entry = lessons.setdefault(
            (e["course_id"], e["lesson_id"]),
            {"course_id": e["course_id"], "lesson_id": e["lesson_id"], "opened": False, "completed": False,
             "attempted": set(), "passed": set(), "completed_at": None},
        )
        if e["kind"] == "lesson_opened":
            entry["opened"] = True
        elif e["kind"] == "lesson_completed":
            entry["completed"] = True
            entry["completed_at"] = entry["completed_at"] or e["occurred_at"]
        elif e["kind"] == "exercise_attempted":
            entry["attempted"].add(e["exercise_id"])
        elif e["kind"] == "exercise_passed":
            entry["passed"].add(e["exercise_id"])
    return {
        "username": username,
        "lessons": [
            {**v, "attempted": sorted(v["attempted"]), "passed": sorted(v["passed"])}
            for _, v in sorted(lessons.items())
        ],
    }
