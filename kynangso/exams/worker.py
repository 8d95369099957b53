"""The grading worker: does, as the grader account, what the exam desk may not.

The desk runs as its own account and cannot enter the exam course (sources, gradebook). It
queues jobs in the platform database (kynangso.exams.jobs); this worker, a hub service without
a URL run as the grader account, claims them one at a time:

- `duedate`: write the exam's due date (the latest window close) into the gradebook, and each
  graded learner's own due date, from the desk's record of their own window;
- `grade`: `nbgrader collect --update`, every submitting learner's own due date, then
  `kns grade`, in the course folder;
- `release`: `nbgrader generate_assignment` then `release_assignment` (the instructors' page);
- `feedback`: `nbgrader generate_feedback` then `release_feedback`.

After each job, and whenever the course changes (formgrader's manual grades too), it publishes
the summary the instructors' page reads (kynangso.exams.overview): the desk cannot read the course.

Lateness is the desk's: each learner's latest submission was late or not by their own
window and the desk's clock (kynangso.exams.windows.lateness). Their own due date goes into
the gradebook as an extension of their submission, placed so that nbgrader's late penalty
(LateSubmissionPlugin "zero") reaches the same verdict, whatever other groups' windows do.

Every path it touches is the grader's own, so a link planted there can only hurt the grader
account itself; the gradebook must still be a regular file (course.set_duedate).

Run: `python -m kynangso.exams.worker` (the hub starts it; several copies may run, on any
host that reaches the database and the course folder: kynangso.exams.jobs).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from contextlib import ExitStack

from kynangso.errors import KnsError
from kynangso.exams import course, flags, jobs, overview, windows
from kynangso.hub.system_accounts import hub_isolated
from kynangso.i18n import t
from kynangso.settings import load_settings

log = logging.getLogger("kns.exams.worker")
POLL_SECONDS = 2
BATCH = 20  # learners per `kns grade` run of a split grade job (submission)
# An idle worker rebuilds the instructors' summary when the gradebook changed, at most this
# often: while another worker grades, the gradebook changes at every poll, and a rebuild at
# 2,000 learners took half a core (benchmarks/bench_examday.py). The grading job's own end
# rebuilds it at once.
SUMMARY_EVERY_S = 30
BIN = os.path.dirname(sys.executable)


def due_date(db_url: str, where: course.ExamPlaces, exam: str) -> None:
    found = windows.windows(db_url, exam)
    if found:
        own = {name: record.due_date() for name, record in windows.lateness(db_url, exam).items()}
        course.set_duedate(where, exam, max(w.closes_at for w in found), own)


STEP_KEYS = {"grade": "exams.grading.step", "release": "exams.release_job.step",
             "feedback": "exams.feedback_job.step", "submission": "exams.grading.step"}


def step_label(name: str) -> str:
    """The Vietnamese name of an nbgrader/kns step (what instructors read on the page)."""
    return t(f"exams.app.step.{name}")


def run_steps(db_url: str, where: course.ExamPlaces, job, steps: list[list[str]],
              after=None) -> tuple[bytes, str | None]:
    """Run nbgrader/kns steps in the course folder as this account: (the last one's output,
    the name of the step that failed or None). `after(step name)` runs after each step."""
    env = {**os.environ, "HOME": str(where.root), "PATH": f"{BIN}:/usr/sbin:/usr/bin:/bin"}
    env.pop("JUPYTERHUB_API_TOKEN", None)  # learner code must not inherit the worker's token
    out = b""
    for step in steps:
        name = step[1]
        jobs.report(db_url, job.id, t(STEP_KEYS[job.kind], exam=job.exam, step=step_label(name)),
                    worker=job.worker)
        proc = subprocess.run(step, cwd=str(where.course), env=env, capture_output=True, check=False)
        # kns grade: 1 = some submission not graded, 3 = graded but flagged; both still report
        graded_anyway = name == "grade" and proc.returncode in (1, 3) and proc.stdout.strip()
        if proc.returncode != 0 and not graded_anyway:
            log.error("%s of %s failed at %s: %s", job.kind, job.exam, name,
                      proc.stderr.decode(errors="replace")[-2000:])
            return b"", name
        out = proc.stdout
        if after:
            after(name)
    return out, None


def release(db_url: str, where: course.ExamPlaces, job) -> tuple[str, str]:
    exam = job.exam
    steps = [[f"{BIN}/nbgrader", "generate_assignment", exam, "--force"],
             [f"{BIN}/nbgrader", "release_assignment", exam, "--force"]]
    if run_steps(db_url, where, job, steps)[1]:
        return "failed", t("exams.release_job.failed", exam=exam)
    due_date(db_url, where, exam)
    return "done", t("exams.release_job.done", exam=exam)


def feedback(db_url: str, where: course.ExamPlaces, job) -> tuple[str, str]:
    exam = job.exam
    steps = [[f"{BIN}/nbgrader", "generate_feedback", exam, "--force"],
             [f"{BIN}/nbgrader", "release_feedback", exam]]
    if run_steps(db_url, where, job, steps)[1]:
        return "failed", t("exams.feedback_job.failed", exam=exam)
    return "done", t("exams.feedback_job.done", exam=exam)


def grade(db_url: str, where: course.ExamPlaces, job) -> tuple[str, str]:
    exam = job.exam
    due_date(db_url, where, exam)
    if by_submission(where):
        return grade_by_submission(db_url, where, job)
    # Claimed again after a worker died in it: what that worker half wrote (an autograded
    # folder, unscored rows) would make kns grade skip its learner, so everything is redone.
    again = ["--force"] if job.attempts > 1 else []
    steps = [[f"{BIN}/nbgrader", "collect", exam, "--update"],
             # between the two: every collected learner's own due date (see the docstring)
             [f"{BIN}/kns", "grade", exam, "--course-dir", str(where.course), "--json", *again]]
    out, failed = run_steps(db_url, where, job, steps,
                            after=lambda name: name == "collect" and due_date(db_url, where, exam))
    if failed:
        return "failed", t("exams.grading.failed", exam=exam, step=step_label(failed))
    return graded(db_url, where, exam, json.loads(out))


def graded(db_url: str, where: course.ExamPlaces, exam: str, result: dict) -> tuple[str, str]:
    """What follows a grading (`kns grade --json`'s report): flags, HR's summary, the message."""
    log.info("grading %s done: %s", exam, result)
    flags.record(db_url, exam, result)
    refresh_reports(db_url, where)
    flagged = len({(p["student"], p["notebook"]) for p in result["problems"] if not p["fatal"]})
    return ("failed" if result["failed"] else "done",
            t("exams.grading.done", exam=exam, graded=len(result["graded"]),
              failed=len(result["failed"]), flagged=flagged))


def by_submission(where: course.ExamPlaces) -> bool:
    """Whether a grade job is split into one job per learner's submission, which workers on
    several hosts share: when the gradebook is on PostgreSQL, where each submission's grading
    writes its own learner's rows beside the others'. A SQLite gradebook takes one writer at a
    time: one `kns grade` of the whole exam (its own worker processes in parallel)."""
    return where.gradebook_url.startswith("postgresql")


def grade_by_submission(db_url: str, where: course.ExamPlaces, job) -> tuple[str, str]:
    """Collect, queue one "submission" job per learner (kynangso.exams.jobs.spawn), grade them
    with whichever workers claim them (this one too), then sum their reports up."""
    exam = job.exam
    collect = [[f"{BIN}/nbgrader", "collect", exam, "--update"]]
    _out, failed = run_steps(db_url, where, job, collect, after=lambda _name: due_date(db_url, where, exam))
    if failed:
        return "failed", t("exams.grading.failed", exam=exam, step=step_label(failed))
    submitted = where.course / "submitted"
    students = sorted(p.parent.name for p in submitted.glob(f"*/{exam}") if p.is_dir()) \
        if submitted.is_dir() else []
    jobs.spawn(db_url, job, students)
    jobs.report(db_url, job.id, t(STEP_KEYS["grade"], exam=exam, step=step_label("grade")),
                worker=job.worker)
    while True:
        part = jobs.claim(db_url, job.worker, parent_id=job.id)
        if part is not None:
            with jobs.Lease(db_url, part):
                run_job(db_url, where, part)
            continue
        parts = jobs.children(db_url, job.id)
        if all(p.status not in jobs.ACTIVE for p in parts):
            break
        time.sleep(POLL_SECONDS)  # the others are being graded by other workers
    return graded(db_url, where, exam, merge_reports(
        [json.loads(p.result) if p.result else {"failed": [p.student]} for p in parts]))


def merge_reports(reports: list[dict]) -> dict:
    """One report from those of each learner's `kns grade --student` (lists joined)."""
    merged: dict = {"graded": [], "failed": [], "skipped": [], "problems": [], "flagged": []}
    for one in reports:
        for key, items in merged.items():
            items.extend(one.get(key, []))
    return merged


def submission(db_url: str, where: course.ExamPlaces, job) -> tuple[str, str]:
    """Grade one learner's submission of a grade job, with up to BATCH - 1 more of the same grade
    job still queued, in one `kns grade --student … --student …` (its start, about 3 s of CPU,
    is paid once per batch; each learner stays a job of its own in the queue, so a dead worker
    costs only its batch). --force when one of them is claimed again (a worker died in it:
    what it wrote is redone). Each learner's part of the report goes into its row's `result`;
    the others' rows are ended here, `job`'s by run_job."""
    batch = [job]
    while len(batch) < BATCH:
        more = jobs.claim(db_url, job.worker, parent_id=job.parent_id)
        if more is None:
            break
        batch.append(more)
    with ExitStack() as held:
        for other in batch[1:]:
            held.enter_context(jobs.Lease(db_url, other))
        step = [f"{BIN}/kns", "grade", job.exam, "--course-dir", str(where.course), "--json"]
        for one in batch:
            step += ["--student", one.student]
        if any(one.attempts > 1 for one in batch):
            step.append("--force")
        out, failed = run_steps(db_url, where, job, [step])
        report = json.loads(out) if not failed else None
        for other in batch[1:]:
            part = learner_report(report, other.student)
            jobs.report(db_url, other.id, "", "failed" if part["failed"] else "done",
                        worker=other.worker, result=json.dumps(part))
    part = learner_report(report, job.student)
    jobs.report(db_url, job.id, "", worker=job.worker, result=json.dumps(part))
    return ("failed" if part["failed"] else "done"), ""


def learner_report(report: dict | None, student: str) -> dict:
    """One learner's part of `kns grade --json`'s report (None: the run failed as a whole)."""
    if report is None:
        return {"graded": [], "failed": [student], "skipped": [], "flagged": [],
                "problems": [{"student": student, "notebook": None, "kind": "other",
                              "fatal": True, "detail": "kns grade failed"}]}
    return {key: [x for x in report.get(key, []) if (x.get("student") if isinstance(x, dict)
                                                      else x) == student]
            for key in ("graded", "failed", "skipped", "flagged", "problems")}


def mark(db_url: str, where: course.ExamPlaces, job) -> tuple[str, str]:
    """An instructor's mark of a written answer (queued by the desk's page, which checked it
    against the course summary): written into the gradebook as formgrader's grade API does."""
    from nbgrader.api import Gradebook, MissingEntry

    asked = json.loads(job.message)
    with Gradebook(where.gradebook_url, course_id=where.course_id) as gb:
        try:
            grade = gb.find_grade(asked["grade_id"], asked["notebook"], job.exam, asked["student"])
        except MissingEntry:
            return "failed", t("exams.mark_job.missing", exam=job.exam)
        score = float(asked["score"])
        if not 0 <= score <= grade.max_score:  # the page's summary may be older than the gradebook
            return "failed", t("exams.mark_job.bad_score", exam=job.exam)
        grade.manual_score = score
        grade.needs_manual_grade = False
        gb.db.commit()
    log.info("mark %s/%s/%s in %s: %s (by %s)", asked["student"], asked["notebook"],
             asked["grade_id"], job.exam, score, job.requested_by)
    return "done", t("exams.mark_job.done", exam=job.exam)


def refresh_reports(db_url: str, where: course.ExamPlaces) -> None:
    """Rebuild the HR dashboards' summary of this gradebook (reports.summary), so the next
    dashboard reads a few small tables instead of every grade. Never fails the grading: a
    summary left stale is rebuilt by the next reader."""
    try:
        from reports.data import GradebookSource
        from reports.summary import refresh

        refresh(db_url, [GradebookSource(where.gradebook_url, where.course)])
    except Exception:
        log.exception("reports summary of %s not rebuilt", where.course)


def run_job(db_url: str, where: course.ExamPlaces, job) -> None:
    log.info("job %s: %s %s for %s", job.id, job.kind, job.exam, job.requested_by)
    try:
        if job.kind in RUNNERS:
            status, message = RUNNERS[job.kind](db_url, where, job)
        else:
            due_date(db_url, where, job.exam)
            status, message = "done", t("exams.duedate_written", exam=job.exam)
    except KnsError as exc:
        status, message = "failed", exc.user_message
    except Exception:  # noqa: BLE001 - the worker lives on; the row says it failed
        log.exception("job %s failed", job.id)
        status, message = "failed", t("exams.job_failed", exam=job.exam)
    if not jobs.report(db_url, job.id, message, status, worker=job.worker):
        log.error("job %s: result not written, another worker holds it now", job.id)
    if job.kind != "submission":  # its grade job publishes the summary once, at its end
        overview.refresh(where)


RUNNERS = {"grade": grade, "release": release, "feedback": feedback, "mark": mark,
           "submission": submission}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s")
    settings = load_settings()
    db_url = settings.database_url
    where = course.places(settings, hub_isolated(settings))
    log.info("grading worker for %s (uid %s)", where.course, os.getuid())
    seen, me, rebuilt = None, jobs.worker_name(), -SUMMARY_EVERY_S
    while True:
        job = jobs.claim(db_url, me)
        if job is not None:
            with jobs.Lease(db_url, job):  # a worker killed mid-job: another takes it over
                run_job(db_url, where, job)
            seen = overview.signature(where)
            continue
        time.sleep(POLL_SECONDS)
        if time.monotonic() - rebuilt < SUMMARY_EVERY_S:
            continue
        now = overview.signature(where)
        # e.g. a manual grade in formgrader, or the first start; one idle worker does it
        if now != seen and jobs.hold(db_url, "exam-overview", me, SUMMARY_EVERY_S * 2):
            overview.refresh(where)
            seen, rebuilt = now, time.monotonic()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
