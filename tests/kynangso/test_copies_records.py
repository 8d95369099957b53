"""Issue 16, part 2: what several copies of the exam desk and of the progress service write at
the same moment, on a real PostgreSQL database. Threads stand in for the copies: each has its
own connection, which is all that two processes on two hosts share."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from kynangso import clock, db
from kynangso.exams import windows
from kynangso.models import ExamAttempt, ProgressEvent
from kynangso.progress import store

pytestmark = pytest.mark.postgres

COPIES = 8


def at_once(fn, args_list):
    """Run fn(*args) for each args at the same instant (a barrier), in threads; the results."""
    gate = threading.Barrier(len(args_list))

    def run(args):
        gate.wait(60)
        return fn(*args)

    with ThreadPoolExecutor(len(args_list)) as pool:
        return list(pool.map(run, args_list))


@pytest.fixture
def url(pg_url):
    db.upgrade(pg_url)
    return pg_url


def test_one_first_fetch_recorded_by_many_copies_at_once_is_one_attempt(url):
    """Do eight copies recording the same learners' first fetch at the same instant make one
    attempt row each, with no copy failing?"""
    w = windows.open_window(url, "c", "van-ban", "hocvien", 30, "refuse", "gv")
    now = clock.now(url)
    for name in ("an", "binh", "chi"):
        at_once(windows.record_fetch, [(url, w, name, now + dt.timedelta(seconds=i))
                                       for i in range(COPIES)])
    with db.session_scope(url) as s:
        rows = s.execute(select(ExamAttempt.username, ExamAttempt.fetched_at)).all()
    assert sorted(name for name, _at in rows) == ["an", "binh", "chi"]


def test_submissions_recorded_at_once_keep_the_latest_time_and_the_count(url):
    """Do eight submissions of one learner recorded at once by different copies count eight,
    keep the latest time and stay late if one of them was late?"""
    w = windows.open_window(url, "c", "van-ban", "hocvien", 30, "accept_zero", "gv")
    now = clock.now(url)
    times = [now + dt.timedelta(seconds=i) for i in range(COPIES)]
    at_once(windows.record_submission, [(url, w, "an", at, i == 3) for i, at in enumerate(times)])
    with db.session_scope(url) as s:
        attempt = s.scalar(select(ExamAttempt))
    assert (attempt.submissions, attempt.late) == (COPIES, True)
    assert attempt.submitted_at == max(times)


def test_the_database_clock_is_the_trusted_clock(url):
    """Is the desk's clock the database's, not the host's (a copy on a host whose clock is an
    hour off still judges the window by the database)?"""
    before = clock.now(url)
    later = windows.now_utc(url)
    assert later.tzinfo is not None and later >= before
    with db.engine_for(url).connect() as conn:  # the database's own idea of now, read apart
        from sqlalchemy import text

        server = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    assert server >= later


def test_a_retried_opening_sent_to_many_copies_is_stored_once(url):
    """Is a lesson opening that a kernel retried, reaching eight copies at once, stored once?"""
    event = {"event_id": uuid.uuid4().hex, "kind": "lesson_opened", "course_id": "00-lam-quen",
             "lesson_id": "03-tien-do-cua-toi"}
    stored = at_once(store.record_opening, [(url, "an", dict(event)) for _ in range(COPIES)])
    assert stored.count(True) == 1
    with db.session_scope(url) as s:
        kinds = sorted(s.scalars(select(ProgressEvent.kind).where(ProgressEvent.username == "an")))
    # That lesson has no exercise: opening it completes it, once.
    assert kinds == ["lesson_completed", "lesson_opened"]


def test_the_last_two_exercises_passed_at_once_complete_the_lesson_once(url):
    """Two copies store the passes of a lesson's last two exercises at the same instant: is the
    lesson completed (neither copy saw only its own pass), and completed once?"""
    course, lesson = "01-van-ban-dien-tu", "01-van-ban-den-di"
    first, second = store.lesson_entry(course, lesson).exercises[:2]
    for round_ in range(3):  # the race is short: three tries at it
        name = f"hv{round_}"
        done = at_once(store.record_verdict, [(url, name, course, lesson, ex, 1, "x", True)
                                              for ex in (first, second)])
        with db.session_scope(url) as s:
            completions = s.scalars(select(ProgressEvent.id).where(
                ProgressEvent.username == name, ProgressEvent.kind == "lesson_completed")).all()
        assert len(completions) == 1 and done.count(True) == 1, (name, done)


def test_a_sender_cannot_take_the_id_of_a_completion(url):
    """Is an opening whose id has the form of the service's completion ids refused?"""
    from kynangso.errors import KnsError

    forged = store.completion_id("binh", "00-lam-quen", "01-man-hinh-lam-viec")
    with pytest.raises(KnsError):
        store.record_opening(url, "an", {"event_id": forged, "kind": "lesson_opened",
                                         "course_id": "00-lam-quen",
                                         "lesson_id": "01-man-hinh-lam-viec"})
