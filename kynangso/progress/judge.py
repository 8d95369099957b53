"""The progress service's judge: rebuild a learner's exercise task and judge their answer.

A task is `make_task(rng_for(course, exercise, round))`, seeded by the learner's hub user
name, exactly as in their kernel; `judge` is the course's own rule code (courses/exercises.py).
Exercises that keep practice files (a document desk, a practice CA) build the service's own
copy for that learner under `workdir` (disposable: rebuilt from the same seeds when missing).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import pkgutil
import re
import threading
from functools import cache
from pathlib import Path

from kynangso.errors import KnsError
from kynangso.progress import store

log = logging.getLogger("kns.progress")
MAX_ANSWER_BYTES = 16_000
MAX_ROUND = 10**6
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@cache
def registry() -> dict:
    """(course, exercise id) -> exercise class, from every course module."""
    import courses
    from courses.exercises import REGISTRY

    for info in pkgutil.walk_packages(courses.__path__, "courses."):
        if re.fullmatch(r"courses\.c\d\d\.\w+", info.name):
            importlib.import_module(info.name)
    return dict(REGISTRY)


def exercise_class(course: str, lesson: str, exercise: str):
    """The class judging `exercise` of the catalogued lesson; a refusal if it is not one."""
    entry = store.lesson_entry(course, lesson)
    cls = registry().get((course, exercise))
    if exercise not in entry.exercises or cls is None or cls.lesson != lesson:
        raise KnsError("progress.unknown_exercise",
                       log_detail=f"unknown exercise {course!r}/{lesson!r}/{exercise!r}")
    return cls


def user_folder(workdir: Path, username: str) -> Path:
    """The service's practice folder for one learner (a safe name, distinct per user)."""
    safe = re.sub(r"[^a-z0-9_.-]", "-", username.lower())[:40]
    digest = hashlib.sha256(username.encode()).hexdigest()[:10]
    return workdir / f"{safe}-{digest}"


# One database transaction of this service at a time: SQLite takes one writer, and threads
# that meet its lock wait in its busy handler, which sleeps (1, 2, 5 … 100 ms) instead of
# taking the lock when it is free. A lock here hands over at once.
_writing = threading.Lock()


def _lock(username: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(username, threading.Lock())


def parse_request(body: dict) -> tuple[str, str, str, int, object]:
    """(course, lesson, exercise, round, answer) from an answer request, or a refusal."""
    try:
        course, lesson, exercise = (str(body[k]) for k in ("course_id", "lesson_id", "exercise_id"))
        round_, answer = body["round"], body["answer"]
    except (KeyError, TypeError) as exc:
        raise KnsError("progress.bad_answer", log_detail=f"answer request without {exc}") from None
    extra = set(body) - {"course_id", "lesson_id", "exercise_id", "round", "answer"}
    if extra:  # a verdict, a time: the service decides those
        raise KnsError("progress.bad_answer", log_detail=f"fields not accepted: {sorted(extra)}")
    if not isinstance(round_, int) or isinstance(round_, bool) or not 0 <= round_ <= MAX_ROUND:
        raise KnsError("progress.bad_answer", log_detail=f"bad round {round_!r}")
    if len(json.dumps(answer, ensure_ascii=False).encode()) > MAX_ANSWER_BYTES:
        raise KnsError("progress.bad_answer", log_detail="answer too large")
    return course, lesson, exercise, round_, answer


def judge(username: str, course: str, lesson: str, exercise: str, round_: int, answer,
          workdir: Path):
    """The course's verdict (courses.exercises.Feedback) on `answer`, as `username`."""
    from courses.common import acting_for
    from courses.exercises import Feedback

    cls = exercise_class(course, lesson, exercise)
    with acting_for(username, user_folder(workdir, username)):
        task = cls.task_for(round_)
        try:
            return cls.judge(task, answer)
        except KnsError as exc:  # a sandbox refusal is feedback, as in the widget
            return Feedback(False, exc.user_message)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise KnsError("progress.bad_answer",
                           log_detail=f"{course}/{exercise} answer {answer!r} not judged: {exc!r}") from None


def judge_and_record(db_url: str, username: str, body: dict, per_minute: int, per_day: int,
                     workdir: Path) -> dict:
    """Everything one answer request does, in order: check, count, judge, store."""
    course, lesson, exercise, round_, answer = parse_request(body)
    exercise_class(course, lesson, exercise)  # unknown names are refused before any quota use
    # one answer of a learner at a time: the quota holds, and their practice files are made once
    with _lock(username):
        with _writing:
            store.check_quota(db_url, username, per_minute, per_day)
        fb = judge(username, course, lesson, exercise, round_, answer, workdir)
        with _writing:
            now = store.utcnow(db_url)
            completed = store.record_verdict(db_url, username, course, lesson, exercise, round_,
                                             answer, fb.ok, now)
    log.info("progress: %s %s/%s/%s round %s: %s", username, course, lesson, exercise, round_,
             "passed" if fb.ok else "not passed")
    return {"passed": fb.ok, "feedback": fb.text, "lesson_completed": completed,
            "judged_at": now.isoformat()}
