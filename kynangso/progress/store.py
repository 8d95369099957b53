"""Progress events in the platform database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kynangso.db import session_scope
from kynangso.errors import KnsError
from kynangso.models import ProgressEvent
from kynangso.progress import KINDS

ID_FIELDS = ("course_id", "lesson_id")


def validate_event(event: dict) -> dict:
    """Check one event as sent by a kernel; return the cleaned fields."""
    try:
        kind = event["kind"]
        cleaned = {
            "event_id": str(event["event_id"]),
            "kind": kind,
            "course_id": str(event["course_id"]),
            "lesson_id": str(event["lesson_id"]),
            "exercise_id": None if event.get("exercise_id") is None else str(event["exercise_id"]),
            "occurred_at": datetime.fromisoformat(event["occurred_at"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise KnsError("progress.bad_event", log_detail=f"bad progress event {event!r}: {exc}") from None
    if kind not in KINDS or not 8 <= len(cleaned["event_id"]) <= 64:
        raise KnsError("progress.bad_event", log_detail=f"bad progress event {event!r}")
    if cleaned["occurred_at"].tzinfo is None:
        raise KnsError("progress.bad_event", log_detail="occurred_at without a time zone")
    if kind.startswith("exercise") and not cleaned["exercise_id"]:
        raise KnsError("progress.bad_event", log_detail="exercise event without exercise_id")
    return cleaned


def record(url: str, username: str, event: dict) -> bool:
    """Store `event` for `username`; False if this event_id was already stored (idempotent)."""
    fields = validate_event(event)
    try:
        with session_scope(url) as s:
            existing = s.scalar(select(ProgressEvent).where(ProgressEvent.event_id == fields["event_id"]))
            if existing is not None:
                if existing.username != username:  # someone replaying another's id: refuse, learn nothing
                    raise KnsError("progress.bad_event", log_detail="event_id reused by another user")
                return False
            s.add(ProgressEvent(username=username, **fields))
        return True
    except IntegrityError:  # two identical reports raced; the other one stored it
        return False


def events_of(url: str, username: str) -> list[dict]:
    with session_scope(url) as s:
        rows = s.scalars(
            select(ProgressEvent).where(ProgressEvent.username == username).order_by(ProgressEvent.occurred_at)
        )
        return [
            {"kind": e.kind, "course_id": e.course_id, "lesson_id": e.lesson_id, "exercise_id": e.exercise_id,
             "occurred_at": e.occurred_at.isoformat(), "event_id": e.event_id}
            for e in rows
        ]


def summary_of(url: str, username: str) -> dict:
    """Per course and lesson: opened, completed, exercises attempted and passed."""
    lessons: dict[tuple[str, str], dict] = {}
    for e in events_of(url, username):
        entry = lessons.setdefault(
            (e["course_id"], e["lesson_id"]),
            {"course_id": e["course_id"], "lesson_id": e["lesson_id"], "opened": False, "completed": False,
             "attempted": set(), "passed": set()},
        )
        if e["kind"] == "lesson_opened":
            entry["opened"] = True
        elif e["kind"] == "lesson_completed":
            entry["completed"] = True
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
