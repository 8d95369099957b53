"""The grading worker: does, as the grader account, what the exam desk may not.

The desk runs as its own account and cannot enter the exam course (sources, gradebook). It
queues jobs in the platform database (kynangso.exams.jobs); this worker, a hub service without
a URL run as the grader account, claims them one at a time:

- `duedate`: write the exam's due date (the latest window close) into the gradebook, and each
  graded learner's own due date, from the desk's record of their own window;
- `grade`: `nbgrader collect --update`, every submitting learner's own due date, then
  `kns grade`, in the course folder.

Lateness is the desk's: each learner's latest submission was late or not by their own
window and the desk's clock (kynangso.exams.windows.lateness). Their own due date goes into
the gradebook as an extension of their submission, placed so that nbgrader's late penalty
(LateSubmissionPlugin "zero") reaches the same verdict, whatever other groups' windows do.

Every path it touches is the grader's own, so a link planted there can only hurt the grader
account itself; the gradebook must still be a regular file (course.set_duedate).

Run: `python -m kynangso.exams.worker` (the hub starts it; several copies may run).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

from kynangso.errors import KnsError
from kynangso.exams import course, flags, jobs, windows
from kynangso.hub.system_accounts import hub_isolated
from kynangso.i18n import t
from kynangso.settings import load_settings

log = logging.getLogger("kns.exams.worker")
POLL_SECONDS = 2


def due_date(db_url: str, where: course.ExamPlaces, exam: str) -> None:
    found = windows.windows(db_url, exam)
    if found:
        own = {name: record.due_date() for name, record in windows.lateness(db_url, exam).items()}
        course.set_duedate(where, exam, max(w.closes_at for w in found), own)


def grade(db_url: str, where: course.ExamPlaces, job) -> tuple[str, str]:
    exam = job.exam
    due_date(db_url, where, exam)
    bin_dir = os.path.dirname(sys.executable)
    steps = [[f"{bin_dir}/nbgrader", "collect", exam, "--update"],
             # between the two: every collected learner's own due date (see the docstring)
             [f"{bin_dir}/kns", "grade", exam, "--course-dir", str(where.course), "--json"]]
    env = {**os.environ, "HOME": str(where.root), "PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/bin"}
    env.pop("JUPYTERHUB_API_TOKEN", None)  # learner code must not inherit the worker's token
    out = b""
    for step in steps:
        jobs.report(db_url, job.id, t("exams.grading.step", exam=exam, step=step[1]))
        proc = subprocess.run(step, cwd=str(where.course), env=env, capture_output=True, check=False)
        # kns grade: 1 = some submission not graded, 3 = graded but flagged; both still report
        graded_anyway = step[1] == "grade" and proc.returncode in (1, 3) and proc.stdout.strip()
        if proc.returncode != 0 and not graded_anyway:
            log.error("grading %s failed at %s: %s", exam, step[1],
                      proc.stderr.decode(errors="replace")[-2000:])
            return "failed", t("exams.grading.failed", exam=exam, step=step[1])
        out = proc.stdout
        if step[1] == "collect":
            due_date(db_url, where, exam)
    result = json.loads(out)
    log.info("grading %s done: %s", exam, result)
    flags.record(db_url, exam, result)
    flagged = len({(p["student"], p["notebook"]) for p in result["problems"] if not p["fatal"]})
    return ("failed" if result["failed"] else "done",
            t("exams.grading.done", exam=exam, graded=len(result["graded"]),
              failed=len(result["failed"]), flagged=flagged))


def run_job(db_url: str, where: course.ExamPlaces, job) -> None:
    log.info("job %s: %s %s for %s", job.id, job.kind, job.exam, job.requested_by)
    try:
        if job.kind == "grade":
            status, message = grade(db_url, where, job)
        else:
            due_date(db_url, where, job.exam)
            status, message = "done", t("exams.duedate_written", exam=job.exam)
    except KnsError as exc:
        status, message = "failed", exc.user_message
    except Exception:  # noqa: BLE001 - the worker lives on; the row says it failed
        log.exception("job %s failed", job.id)
        status, message = "failed", t("exams.job_failed", exam=job.exam)
    jobs.report(db_url, job.id, message, status)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s")
    settings = load_settings()
    db_url = settings.database_url
    where = course.places(settings, hub_isolated(settings))
    log.info("grading worker for %s (uid %s)", where.course, os.getuid())
    while True:
        job = jobs.claim(db_url)
        if job is None:
            time.sleep(POLL_SECONDS)
            continue
        run_job(db_url, where, job)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
