"""Issue 16, part 3: the grading workers' queue (kynangso.exams.jobs) shared by several workers.

Claims race on a real PostgreSQL server (SKIP LOCKED and the conditional UPDATE) and on SQLite;
a worker process killed with SIGKILL mid-job loses nothing: its lease runs out and another
worker takes the job over; the dead worker's late result would not be written."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, update

from kynangso import clock, db
from kynangso.exams import jobs
from kynangso.i18n import t
from kynangso.models import ExamJob

REPO = Path(__file__).resolve().parents[2]
LEASE = 4.0  # seconds: short, so the test waits little for a dead worker's lease to run out


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    u = (f"sqlite:///{tmp_path / 'kns.sqlite'}" if request.param == "sqlite"
         else request.getfixturevalue("pg_url"))
    db.upgrade(u)
    return u


def test_many_workers_claiming_at_once_handle_every_job_exactly_once(url):
    """Six workers drain a queue of a grade job and its 60 learners' submissions at once: is
    each job claimed by exactly one worker, once, and finished?"""
    first = jobs.enqueue(url, "bai", "grade", "gv")
    with db.session_scope(url) as s:
        parent = s.get(ExamJob, first)
    jobs.spawn(url, parent, [f"hv{i:02d}" for i in range(60)])
    ids = [first] + [p.id for p in jobs.children(url, first)]
    taken: dict[str, list[int]] = {}
    gate = threading.Barrier(6)

    def work(name: str) -> None:
        mine = taken.setdefault(name, [])
        gate.wait(60)
        while True:
            job = jobs.claim(url, name)
            if job is None:
                with db.session_scope(url) as s:  # lost a race, or the queue is empty
                    if s.scalar(select(ExamJob.id).where(ExamJob.status == "queued").limit(1)) is None:
                        return
                continue
            mine.append(job.id)
            assert jobs.report(url, job.id, "xong", "done", worker=name)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    counts = Counter(job_id for mine in taken.values() for job_id in mine)
    assert sorted(counts) == ids and set(counts.values()) == {1}
    with db.session_scope(url) as s:
        rows = s.execute(select(ExamJob.status, ExamJob.attempts)).all()
    assert set(rows) == {("done", 1)}
    assert sum(1 for mine in taken.values() if mine) > 1  # the work was shared


WORKER = textwrap.dedent("""
    import os, sys, time
    from kynangso.exams import jobs
    url = os.environ["KNS_TEST_DB"]
    job = jobs.claim(url, "doomed", lease_seconds=float(sys.argv[1]))
    with jobs.Lease(url, job, lease_seconds=float(sys.argv[1])):
        print(job.id, flush=True)
        time.sleep(3600)  # mid-job: the test kills this process here
""")


@pytest.mark.postgres
def test_a_worker_killed_mid_job_loses_nothing(pg_url):
    """A worker process claims a job and is killed (SIGKILL) in the middle of it: while it
    lived its lease was renewed and nobody else could take the job; once dead, is the job
    claimed again after the lease, finished by the other worker, and would the dead worker's
    result be refused?"""
    db.upgrade(pg_url)
    job_id = jobs.enqueue(pg_url, "van-ban", "grade", "gv")
    env = {**os.environ, "KNS_TEST_DB": pg_url, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(LEASE)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == str(job_id)
        assert jobs.claim(pg_url, "rescuer", lease_seconds=LEASE) is None  # held, fresh lease
        # The lease is renewed while the worker lives (every LEASE/3 s); polled with a generous
        # deadline because a busy machine may delay the worker's thread.
        deadline = time.monotonic() + 120
        while True:
            with db.session_scope(pg_url) as s:
                job = s.get(ExamJob, job_id)
            if job.heartbeat_at > job.started_at:
                break
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.2)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    # Dead: no renewal from now on. Another worker takes the job once the lease has run out
    # (LEASE seconds by the database's clock); a deadline loop, generous for a busy machine.
    deadline = time.monotonic() + 120
    while (again := jobs.claim(pg_url, "rescuer", lease_seconds=LEASE)) is None:
        assert time.monotonic() < deadline, "the dead worker's job was never claimed again"
        time.sleep(0.5)
    assert (again.id, again.attempts, again.worker) == (job_id, 2, "rescuer")
    assert not jobs.report(pg_url, job_id, "late result", "done", worker="doomed")
    assert jobs.report(pg_url, job_id, "xong", "done", worker="rescuer")
    with db.session_scope(pg_url) as s:
        job = s.get(ExamJob, job_id)
    assert (job.status, job.message, job.worker) == ("done", "xong", "rescuer")


def test_a_job_that_keeps_killing_its_worker_is_failed_with_a_message(url):
    """A job whose lease ran out MAX_ATTEMPTS times is not claimed again: is it failed with a
    Vietnamese message for the instructors' page?"""
    job_id = jobs.enqueue(url, "van-ban", "grade", "gv")
    long_ago = clock.now(url) - dt.timedelta(hours=1)
    with db.session_scope(url) as s:
        s.execute(update(ExamJob).where(ExamJob.id == job_id).values(
            status="running", worker="gone", started_at=long_ago, heartbeat_at=long_ago,
            attempts=jobs.MAX_ATTEMPTS))
    assert jobs.claim(url, "w") is None
    with db.session_scope(url) as s:
        job = s.get(ExamJob, job_id)
    assert job.status == "failed"
    assert job.message == t("exams.job_abandoned", exam="van-ban", attempts=jobs.MAX_ATTEMPTS)


def test_one_whole_job_at_a_time_whoever_claims(url):
    """Six workers claim at once from a queue of six whole jobs (they all write the course's
    gradebook): does exactly one get one, and the next only once it is finished?"""
    for exam in ("a", "b", "c", "d", "e", "f"):
        jobs.enqueue(url, exam, "grade", "gv")
    got = [job for job in _at_once(lambda n: jobs.claim(url, f"w{n}"), range(6)) if job is not None]
    assert len(got) == 1
    assert jobs.claim(url, "late") is None
    jobs.report(url, got[0].id, "xong", "done", worker=got[0].worker)
    assert jobs.claim(url, "next").exam == "b"


def _at_once(fn, args):
    args = list(args)
    gate = threading.Barrier(len(args))
    out = [None] * len(args)

    def run(i):
        gate.wait(60)
        out[i] = fn(args[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(args))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return out


def test_one_desk_copy_holds_the_heartbeat_until_it_stops_renewing(url):
    """Does one copy hold the heartbeat duty, keep it while it renews, and another take it over
    once the lease has run out (the holder died)?"""
    from kynangso.models import ServiceLease

    assert jobs.hold(url, "exam-heartbeat", "desk-a", 120)
    assert not jobs.hold(url, "exam-heartbeat", "desk-b", 120)
    assert jobs.hold(url, "exam-heartbeat", "desk-a", 120)  # renewed
    with db.session_scope(url) as s:  # desk-a died two periods ago
        s.execute(update(ServiceLease).values(expires_at=clock.now(url) - dt.timedelta(seconds=1)))
    assert jobs.hold(url, "exam-heartbeat", "desk-b", 120)
    assert not jobs.hold(url, "exam-heartbeat", "desk-a", 120)
