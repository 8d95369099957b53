"""Issue 16, part 3: one exam graded by several grading workers, submission by submission.

A real nbgrader course whose gradebook is on PostgreSQL (where each submission's grading writes
its own learner's rows), real `nbgrader collect` and `kns grade --student`, the platform's queue
on PostgreSQL, a second worker as its own process (`python -m kynangso.exams.worker`). The
learners' notebooks are tiny, to keep the test cheap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import update

from kynangso import clock, db
from kynangso.exams import course, jobs, worker
from kynangso.models import ExamJob
from tests.assessments.grading.conftest import _cell, run_nbgrader, submit

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
EXAM, COURSE = "kt1", "kns-test"
RIGHT = "def tong(a, b):\n    return a + b"
ANSWERS = {"hv01": RIGHT, "hv02": "def tong(a, b):\n    return a - b"}  # each `kns grade` costs seconds


@dataclasses.dataclass(frozen=True)
class PostgresPlaces(course.ExamPlaces):
    """The course's places, its gradebook on PostgreSQL (the gradebook URL the settings give)."""

    gradebook: str = ""

    @property
    def gradebook_url(self) -> str:
        return self.gradebook


def _course(root: Path, gradebook: str) -> None:
    folder = root / COURSE
    (folder / "source" / EXAM).mkdir(parents=True)
    (root / "exchange" / COURSE / "inbound").mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.CourseDirectory.db_url = {gradebook!r}\nc.Exchange.root = {str(root / 'exchange')!r}\n"
        "c.Execute.iopub_timeout = 120\n", encoding="utf-8")  # generous on a loaded machine
    nb = nbformat.v4.new_notebook(cells=[
        _cell("code", "def tong(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
              "q1", solution=True),
        _cell("code", "assert tong(1, 2) == 3", "test_q1", grade=True, locked=True, points=2)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "source" / EXAM / "exam.ipynb")
    run_nbgrader(["generate_assignment", EXAM], cwd=folder)
    release = nbformat.read(folder / "release" / EXAM / "exam.ipynb", as_version=4)
    for student, answer in ANSWERS.items():
        mine = nbformat.from_dict(json.loads(json.dumps(release)))
        mine.cells[0].source = answer
        submit(folder, EXAM, student, {"exam": mine})


def test_two_workers_grade_one_exam_each_submission_once(tmp_path, postgres, monkeypatch):
    """A grade job on a PostgreSQL gradebook: is it split into one job per learner, each graded
    by one of two workers (one in this process, one its own process), a learner whose worker
    died mid-grading graded again in full, the scores those of the answers, and the grade
    job's summary the sum of theirs?"""
    from nbgrader.api import Gradebook

    platform, gradebook = postgres.create(), postgres.create()
    db.upgrade(platform)
    root = tmp_path / "exams"
    _course(root, gradebook)
    where = PostgresPlaces(root, COURSE, gradebook=gradebook)
    assert worker.by_submission(where)
    # The workers' `kns grade` and the second worker import this working tree.
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    grade_job = jobs.enqueue(platform, EXAM, "grade", "gv")
    parent = jobs.claim(platform, "here")  # before the other worker starts: it takes only parts
    # hv02's grading was begun by a worker that died (SIGKILL) after nbgrader had copied the
    # submission's timestamp into autograded/ and before any notebook: its job still says
    # "running", its lease long run out. Graded again without --force, nbgrader would skip it.
    jobs.spawn(platform, parent, ["hv02"])
    long_ago = clock.now(platform) - dt.timedelta(hours=1)
    with db.session_scope(platform) as s:
        s.execute(update(ExamJob).where(ExamJob.student == "hv02").values(
            status="running", worker="dead", started_at=long_ago, heartbeat_at=long_ago, attempts=1))
    half = root / COURSE / "autograded" / "hv02" / EXAM
    half.mkdir(parents=True)
    shutil.copy(root / COURSE / "submitted" / "hv02" / EXAM / "timestamp.txt", half)
    settings = tmp_path / "settings.yaml"
    settings.write_text(json.dumps({"state_dir": str(tmp_path / "state"), "database": {"url": platform},
                                    "exams": {"root": str(root), "course_id": COURSE}}))
    other = subprocess.Popen([sys.executable, "-m", "kynangso.exams.worker"],
                             env={**os.environ, "KNS_SETTINGS": str(settings), "KNS_ISOLATED": "0"},
                             stdout=subprocess.DEVNULL, stderr=open(tmp_path / "worker.log", "wb"))  # noqa: SIM115
    try:
        with jobs.Lease(platform, parent):
            status, message = worker.grade(platform, where, parent)
    finally:
        other.terminate()
        other.wait(60)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert status == "done", (message, log[-3000:])
    parts = jobs.children(platform, grade_job)
    assert [(p.student, p.status, p.attempts) for p in parts] == [("hv01", "done", 1), ("hv02", "done", 2)]
    assert parts[1].worker != "dead"
    print("graded by:", {p.student: p.worker for p in parts})
    with Gradebook(gradebook, course_id=COURSE) as gb:
        scores = {s: gb.find_submission(EXAM, s).score for s in ANSWERS}
    assert scores == {s: 2.0 if answer == RIGHT else 0.0 for s, answer in ANSWERS.items()}
    summary = worker.merge_reports([json.loads(p.result) for p in parts])
    assert sorted(summary["graded"]) == sorted(ANSWERS) and not summary["failed"]
    assert message == worker.t("exams.grading.done", exam=EXAM, graded=len(ANSWERS), failed=0, flagged=0)


def test_a_grade_job_claimed_again_queues_each_learner_once(tmp_path):
    """A grade job whose worker died is claimed again and spawns its learners' jobs again: is
    each learner's job there once, and are only that grade job's parts claimed for it?"""
    url = f"sqlite:///{tmp_path / 'kns.sqlite'}"
    db.upgrade(url)
    first, second = jobs.enqueue(url, EXAM, "grade", "gv"), jobs.enqueue(url, "kt2", "grade", "gv")
    parent = jobs.claim(url, "w1")
    with db.session_scope(url) as s:  # queued behind it (one whole job at a time)
        other = s.get(ExamJob, second)
    jobs.spawn(url, parent, ["hv01", "hv02"])
    jobs.spawn(url, parent, ["hv01", "hv02", "hv03"])  # claimed again, one more collected
    jobs.spawn(url, other, ["hv01"])
    assert [p.student for p in jobs.children(url, first)] == ["hv01", "hv02", "hv03"]
    claimed = []
    while (part := jobs.claim(url, "w2", parent_id=second)) is not None:
        claimed.append((part.exam, part.student))
    assert claimed == [("kt2", "hv01")]
    assert {p.status for p in jobs.children(url, first)} == {"queued"}
