"""Grade every submission of one exam: nbgrader's autograde pipeline, in parallel.

The parent process runs nbgrader's `Autograde` converter methods for everything that touches
the gradebook or the course folders, in nbgrader's order (`BaseConverter.convert_notebooks`):
`init_destination`, the pre-convert hook, `init_assignment` (student and submission rows,
timestamp, copied files, missing notebooks scored zero), then for each notebook the
gradebook-writing preprocessors and the file writer, then `set_permissions` and the
post-convert hook. Worker processes (worker.py) do the per-notebook sanitize and execute work
with kernels started ahead. Notebook results are applied in nbgrader's order (sorted by file
name within a submission), so that a notebook failing part-way leaves the same gradebook rows
as nbgrader leaves: earlier notebooks saved, later ones not, the autograded folder removed.

Deviations from `nbgrader autograde` (the gradebook rows and autograded notebooks are the same;
tests/assessments/grading compares them):
- one bad submission never stops the batch: a notebook with a too old or too new nbgrader
  metadata schema (nbgrader stops the run) and a submission whose code kills the grading
  process (nbgrader dies with it) are reported for that submission only, and the others are
  graded;
- kernels (kernels.py): in the sandbox (always, for `kns grade`), started in the notebook's
  folder as soon as a worker is handed the notebook, booting while it is sanitized, client
  connected ahead, and killed with their pid namespace when the last cell ends (nbgrader asks
  the kernel to shut down, which runs exit handlers); forked, where bwrap allows it (not run
  by root), by a zygote living in a sandbox of its own and confined to the notebook's folder
  before it runs anything (zygote.py). Without the sandbox (kernels.py,
  zygote.py; tests only): started ahead, forked from a process that has imported ipykernel,
  started in a neutral folder and moved to the notebook's folder before the first cell. Each
  kernel is used for one notebook only. Kernel stdout/stderr (not cell output) go to
  /dev/null. A relative entry in PYTHONPATH resolves against the worker's folder instead of
  the notebook's;
- gradebook connections are kept open per process and workers read a private snapshot
  (gradebooks.py); the SQL is nbgrader's;
- a notebook crosses from worker to parent as notebook JSON (nbformat.writes/reads) between
  LimitOutput and SaveAutoGrades;
- extra flags for people (not in the gradebook): edited or deleted grade cells, time-outs,
  truncated output, missing notebooks, and in a strict course (strict.py) the cells a learner
  added, removed before execution as nbgrader autograde removes them with the same config.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from assessments.grading.config import ensure_tools_on_path
from assessments.grading.gradebooks import close_gradebooks, share_gradebooks
from assessments.grading.sandbox import refuse_unsandboxed
from assessments.grading.strict import is_strict, read_flags
from assessments.grading.worker import (
    _Collect,
    grade_notebook,
    init_worker,
    make_converter,
    split_preprocessors,
)
from kynangso.errors import KnsError
from kynangso.i18n import t

log = logging.getLogger(__name__)

SANDBOX_KM = "assessments.grading.sandbox.QuietSandboxKernelManager"
TIMEOUT_MARK = "CellTimeoutError"
# A notebook whose grading kills a worker process is tried this often, then flagged; the others
# running at that moment are tried again too.
MAX_ATTEMPTS = 3
TRUNCATED_MARK = "... Output truncated ..."
DUPLICATE_RE = re.compile(r"Cell with id '(\S+)' exists multiple times")
UNKNOWN_CELL_RE = re.compile(r"Cell '(\S+)' does not exist in the database")
RESTORED_RE = re.compile(r"Missing grade cell (\S+) encountered")


@dataclass
class Problem:
    """One thing a person should look at: `kind` is a catalogue key under grading.reason."""

    student: str
    notebook: str | None
    kind: str
    detail: str = ""
    fatal: bool = True  # True: not graded (nbgrader would fail it too); False: graded, but flagged


@dataclass
class Submission:
    student: str
    assignment: str
    folder: str
    notebooks: list[str] = field(default_factory=list)
    results: dict[int, dict] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    applied: int = 0
    state: str = "pending"  # pending, graded, failed, skipped


@dataclass
class Report:
    exam: str
    graded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Notebooks graded strictly with cells removed (strict.py): {student, notebook, removed, excerpts}.
    flagged: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    kernels_started: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "exam": self.exam, "graded": self.graded, "failed": self.failed,
            "skipped": self.skipped, "seconds": round(self.seconds, 2),
            "problems": [p.__dict__ for p in self.problems], "flagged": self.flagged,
        }

    def flag(self, student: str, notebook: str, record: dict[str, Any] | None) -> None:
        """A notebook whose added cells were removed before execution: listed and flagged."""
        if not record or not record.get("flagged"):
            return
        excerpts = [c["excerpt"] for c in record.get("cells", []) if c.get("excerpt")]
        self.flagged.append({"student": student, "notebook": notebook,
                             "removed": record["removed"], "excerpts": excerpts})
        detail = t("grading.added_cells_detail", count=record["removed"],
                   excerpts="; ".join(f"«{e}»" for e in excerpts[:3]))
        self.problems.append(Problem(student, notebook, "added_cells", detail, fatal=False))


ProgressFn = Callable[[int, int, str, str], None]  # (done, total, student, state)


def grade_exam(exam: str, course_dir: Path, *, workers: int | None = None,
               student: str | tuple[str, ...] = "*", timeout: int | None = None,
               force: bool = False, spares: int = 2,
               progress: ProgressFn | None = None) -> Report:
    """Grade all submissions of `exam` in `course_dir` into the course's gradebook (those of
    the learners matching the glob `student`, or of the learners named in a tuple)."""
    started = time.perf_counter()
    ensure_tools_on_path()
    course_root = Path(course_dir).resolve()
    if not course_root.is_dir():
        raise KnsError("grading.course_missing", course=str(course_dir))
    # Learner code runs only in the sandbox (sandbox.py): refuse to grade without it.
    refuse_unsandboxed()
    overrides: dict[str, dict] = {"Execute": {"kernel_manager_class": SANDBOX_KM}}
    if timeout is not None:
        overrides["Execute"]["timeout"] = int(timeout)
    if force:
        overrides["BaseConverter"] = {"force": True}
    cwd = os.getcwd()
    os.chdir(course_root)  # as BaseConverter.start: relative paths in configs are course-relative
    try:
        return _run(exam, course_root, overrides, workers or os.cpu_count() or 1, student, spares,
                    progress, started)
    finally:
        os.chdir(cwd)


def _run(exam, course_root, overrides, workers, student_glob, spares, progress, started) -> Report:
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.converters.base import NbGraderException
    from sqlalchemy.exc import OperationalError

    share_gradebooks()
    # Several learners (a grading worker's batch, kynangso.exams.worker): nbgrader takes one
    # glob, so every submission is listed and those of the others are left out below.
    named = set(student_glob) if isinstance(student_glob, tuple) else None
    converter = make_converter(course_root, exam, "*" if named else student_glob, overrides)
    collector = _Collect()
    converter.log.addHandler(collector)
    converter.log.propagate = False
    coursedir = converter.coursedir
    report = Report(exam=exam)
    try:
        converter.init_notebooks()
    except NbGraderException as exc:
        raise KnsError("grading.no_submissions", exam=exam, course=str(course_root),
                       log_detail=str(exc)) from exc
    try:
        # Also creates the gradebook's course rows once, before workers copy it.
        with Gradebook(coursedir.db_url):
            pass
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            assignment = gb.find_assignment(exam)
            kernel_names = sorted({_kernel_name(nb.kernelspec) for nb in assignment.notebooks})
            grade_cells = {nb.name: [c.name for c in nb.grade_cells] for nb in assignment.notebooks}
    except MissingEntry as exc:
        raise KnsError("grading.exam_not_in_gradebook", exam=exam, log_detail=str(exc)) from exc
    except OperationalError as exc:
        raise KnsError("grading.gradebook_error", db=coursedir.db_url, log_detail=str(exc)) from exc

    _, parent_part = split_preprocessors(converter.autograde_preprocessors)
    pattern = converter._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True)
    submissions: list[Submission] = []
    for folder in sorted(converter.assignments):
        m = re.match(pattern, folder)
        if m is None or (named is not None and m["student_id"] not in named):
            continue
        submissions.append(Submission(student=m["student_id"], assignment=m["assignment_id"],
                                      folder=folder, notebooks=sorted(converter.assignments[folder])))
    total = len(submissions)
    done = 0
    # No more worker processes than notebooks: each one imports nbgrader and starts kernels.
    workers = max(1, min(workers, sum(len(sub.notebooks) for sub in submissions)))

    def finish(sub: Submission, state: str) -> None:
        nonlocal done
        sub.state = state
        getattr(report, state).append(sub.student)
        done += 1
        if progress:
            progress(done, total, sub.student, state)

    def fail(sub: Submission, nb_index: int | None, kind: str, detail: str) -> None:
        notebook = _nb_name(sub.notebooks[nb_index]) if nb_index is not None else None
        log.error("grading %s/%s failed: %s", sub.student, notebook, detail)
        report.problems.append(Problem(sub.student, notebook, kind, detail.strip()[-1500:]))
        for fut, (other, _) in list(futures.items()):
            if other is sub and fut.cancel():
                del futures[fut]
        _remove_destination(converter, sub)
        finish(sub, "failed")

    ctx = get_context("spawn")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=init_worker,
            initargs=(str(course_root), exam, overrides, spares, kernel_names))

    pool = new_pool()
    futures: dict[Future, tuple[Submission, int]] = {}

    # After a worker process dies, the notebooks that were in flight are suspects: each is run
    # again alone (other work held back), so that only the one that kills a worker while
    # running alone is failed, and no innocent notebook is.
    quarantine: list[tuple[Submission, int]] = []
    held: list[tuple[Submission, int]] = []
    solo: list[tuple[Submission, int]] = []  # the suspect now running alone (0 or 1 item)

    def submit(sub: Submission, i: int) -> None:
        if quarantine or solo:
            held.append((sub, i))
            return
        _really_submit(sub, i)

    def _really_submit(sub: Submission, i: int) -> None:
        sub.attempts[i] = sub.attempts.get(i, 0) + 1
        futures[pool.submit(grade_notebook, sub.student, sub.assignment, sub.notebooks[i])] = (sub, i)

    def next_suspect() -> None:
        while not solo and quarantine:
            sub, i = quarantine.pop(0)
            if sub.state != "pending":
                continue
            solo.append((sub, i))
            _really_submit(sub, i)
        if not solo and not quarantine:
            while held:
                _really_submit(*held.pop(0))

    def apply_ready(sub: Submission) -> None:
        """Apply this submission's results in notebook order, as far as they have arrived."""
        while sub.state == "pending" and sub.applied in sub.results:
            i = sub.applied
            result = sub.results.pop(i)
            name = _nb_name(sub.notebooks[i])
            _flag_warnings(report, sub.student, name, result.get("warnings", []))
            if not result["ok"]:
                fail(sub, i, result.get("error", "other"), result.get("detail", ""))
                return
            collector.records = []
            try:
                converter._sanitizing = False
                converter.exporter._preprocessors = []
                for pp in parent_part:
                    converter.exporter.register_preprocessor(pp)
                # The worker read a snapshot of the gradebook; writes go to the real one.
                result["resources"]["nbgrader"]["db_url"] = coursedir.db_url
                nb = nbformat.reads(result["output"], as_version=4)
                output, resources = converter.exporter.from_notebook_node(nb, resources=result["resources"])
                converter.write_single_notebook(output, resources)
            except OperationalError:
                raise
            except Exception as exc:
                _rollback_all()
                fail(sub, i, "other", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
                return
            finally:
                converter._sanitizing = True
            log.debug("%s/%s: worker %.3f s (sanitize %.3f s, pid %s), applied at %.3f s",
                      sub.student, name, result.get("worker_s", 0), result.get("sanitized_s", 0),
                      result.get("pid"), time.perf_counter() - started)
            _flag_warnings(report, sub.student, name, collector.records)
            report.flag(sub.student, name, result.get("strict"))
            _flag_outputs(report, sub.student, name, nb, result.get("grade_ids", []),
                          grade_cells.get(name, []))
            for grade_id in result.get("edited", []):
                report.problems.append(Problem(sub.student, name, "edited_cell", grade_id, fatal=False))
            sub.applied += 1
        if sub.state == "pending" and sub.applied == len(sub.notebooks):
            try:
                converter.notebooks = sub.notebooks
                converter.set_permissions(sub.assignment, sub.student)
                converter.run_post_convert_hook()
            except Exception as exc:
                fail(sub, None, "other", f"{type(exc).__name__}: {exc}")
                return
            finish(sub, "graded")

    def drain(block: bool) -> None:
        nonlocal pool
        if not futures:
            return
        finished, _ = wait(list(futures), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        broken: list[tuple[Submission, int]] = []
        saw_broken = False
        for fut in finished:
            sub, i = futures.pop(fut)
            was_solo = (sub, i) in solo
            if was_solo:
                solo.clear()
            if sub.state == "failed":
                # A later notebook of a failed submission, graded in parallel, was written after
                # the folder was removed: remove it again (nbgrader never writes it).
                _remove_destination(converter, sub)
                saw_broken = saw_broken or isinstance(fut.exception(), BrokenProcessPool)
                continue
            try:
                sub.results[i] = fut.result()
            except BrokenProcessPool:
                saw_broken = True
                if was_solo or sub.attempts[i] >= MAX_ATTEMPTS:
                    sub.results[i] = {"ok": False, "error": "worker", "detail": "worker process died"}
                else:
                    broken.append((sub, i))
            except Exception as exc:
                sub.results[i] = {"ok": False, "error": "other", "detail": repr(exc)}
        if saw_broken:
            log.warning("a worker process died; restarting the workers")
            broken += [job for job in futures.values()]
            futures.clear()
            pool.shutdown(wait=False, cancel_futures=True)
            pool = new_pool()
            quarantine.extend(broken)
        next_suspect()
        for fut_sub in {s.student: s for s in submissions if s.results}.values():
            apply_ready(fut_sub)

    try:
        for sub in submissions:
            converter.notebooks = list(sub.notebooks)
            collector.records = []
            try:
                if not converter.init_destination(sub.assignment, sub.student):
                    finish(sub, "skipped")
                    continue
                converter.run_pre_convert_hook()
                converter.init_assignment(sub.assignment, sub.student)
            except OperationalError:
                raise
            except Exception as exc:
                _rollback_all()
                # nbgrader 0.9.6 reports an unreadable timestamp.txt by calling a missing
                # CourseDirectory.fail: the AttributeError fails this submission only.
                kind = "timestamp" if "attribute 'fail'" in str(exc) else "other"
                fail(sub, None, kind, "timestamp.txt" if kind == "timestamp" else
                     f"{type(exc).__name__}: {exc}")
                continue
            sub.notebooks = list(converter.notebooks)  # only notebooks known to the gradebook
            _flag_warnings(report, sub.student, None, collector.records)
            for i in range(len(sub.notebooks)):
                submit(sub, i)
            drain(block=False)
        while futures:
            drain(block=True)
    except OperationalError as exc:
        raise KnsError("grading.gradebook_error", db=coursedir.db_url, log_detail=str(exc)) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        close_gradebooks()
    if report.skipped and is_strict(converter):
        # Graded before: their flags are on disk, and the summary lists every flagged submission.
        flagged = {(r["student"], r["notebook"]): r for r in read_flags(
            course_root, exam, autograded=coursedir.autograded_directory)}
        for sub in submissions:
            if sub.state == "skipped":
                for (student, notebook), record in sorted(flagged.items()):
                    if student == sub.student:
                        report.flag(student, notebook, record)
    report.seconds = time.perf_counter() - started
    return report


def _rollback_all() -> None:
    """After a failure, as closing nbgrader's per-call session would: drop what was not committed."""
    from assessments.grading import gradebooks

    for gb in gradebooks._OPEN.values():
        gb.db.rollback()


def _kernel_name(kernelspec: str | None) -> str:
    import json

    try:
        return (json.loads(kernelspec) or {}).get("name") or "python3"
    except (TypeError, ValueError):
        return "python3"


def _nb_name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _remove_destination(converter, sub: Submission) -> None:
    """BaseConverter.convert_notebooks' _handle_failure (for notebook_id '*')."""
    dest = os.path.normpath(converter._format_dest(sub.assignment, sub.student))
    if os.path.exists(dest):
        shutil.rmtree(dest, ignore_errors=True)


def _flag_warnings(report: Report, student: str, notebook: str | None, records: list[str]) -> None:
    for message in records:
        for regex, kind in ((DUPLICATE_RE, "duplicate_cell"),
                            (UNKNOWN_CELL_RE, "unknown_cell"), (RESTORED_RE, "restored_cell")):
            m = regex.search(message)
            if m:
                report.problems.append(Problem(student, notebook, kind, m.group(1), fatal=False))
        if message.startswith("No submitted file:"):
            name = _nb_name(message.split(":", 1)[1].strip())
            report.problems.append(Problem(student, name, "missing_notebook", "", fatal=False))


def _flag_outputs(report: Report, student: str, notebook: str, nb, grade_ids: list[str],
                  expected: list[str]) -> None:
    """Flag what a grader should look at: time-outs, truncated output, deleted grade cells."""
    timed_out, truncated = [], False
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") == TIMEOUT_MARK:
                timed_out.append(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?"))
            if out.get("output_type") == "stream" and TRUNCATED_MARK in out.get("text", ""):
                truncated = True
    if timed_out:
        report.problems.append(Problem(student, notebook, "timeout", ", ".join(timed_out), fatal=False))
    if truncated:
        report.problems.append(Problem(student, notebook, "output_truncated", "", fatal=False))
    deleted = [g for g in expected if g not in grade_ids]
    if deleted:
        report.problems.append(Problem(student, notebook, "deleted_cell", ", ".join(deleted), fatal=False))
