"""Exam courses for tests, the benchmark and the demo (DỮ LIỆU MẪU).

Synthetic courses (tests, benchmark): an nbgrader course folder,
`source/<assignment>/<notebook>.ipynb` whose graded cells carry the competence tag (cell
metadata "kynangso"), and a gradebook built with nbgrader's own `Gradebook` API (assignments,
notebooks, grade cells, students, submissions, grades), so the reports read exactly the tables
nbgrader writes.

The demo office's results (`build_demo_gradebook`, for `make run`) are not synthetic: the real
exams of assessments/exams, simulated learners' submissions, graded by the real grading
pipeline, in a course whose name says it is sample data (`kiem-tra-MAU`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kynangso.errors import KnsError
from kynangso.exams.course import answer_keys_config

log = logging.getLogger(__name__)

DEMO_COURSE = "kiem-tra-MAU"  # the demo exam course; the name says it is sample data


@dataclass(frozen=True)
class Item:
    grade_id: str
    competence: str
    level: str
    points: float


def exam_notebook(items: Iterable[Item]) -> dict:
    """A minimal nbgrader source notebook: one tagged, graded code cell per item."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Bài kiểm tra (mẫu)"}]
    for it in items:
        cells.append({
            "cell_type": "code", "execution_count": None, "outputs": [],
            "source": f"# kiểm tra câu {it.grade_id}\nassert True",
            "metadata": {
                "nbgrader": {"grade": True, "grade_id": it.grade_id, "locked": True,
                             "points": it.points, "schema_version": 3, "solution": False},
                "kynangso": {"schema_version": 1, "item_id": it.grade_id,
                             "competence": it.competence, "level": it.level, "points": it.points},
            },
        })
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                        "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def _gradebook(db_url: str, course_id: str = "default_course"):
    """nbgrader's Gradebook; it shells out to `alembic`, so the venv's bin must be on PATH."""
    import shutil
    import sys

    from nbgrader.api import Gradebook

    if shutil.which("alembic") is None:
        os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable),
                                              os.environ.get("PATH", "")])
    return Gradebook(db_url, course_id)


def add_exam(course_dir: Path, db_url: str, assignment: str, duedate: datetime,
             items: list[Item], notebook: str = "bai-thi") -> None:
    """Write the source notebook and register the assignment and its grade cells."""
    _write_json(Path(course_dir) / "source" / assignment / f"{notebook}.ipynb", exam_notebook(items))
    with _gradebook(db_url) as gb:
        gb.add_assignment(assignment, duedate=duedate)
        gb.add_notebook(notebook, assignment)
        for it in items:
            gb.add_grade_cell(it.grade_id, notebook, assignment, max_score=it.points,
                              cell_type="code")


def add_results(db_url: str, assignment: str, scores: Mapping[str, Mapping[str, float]],
                timestamp: datetime, notebook: str = "bai-thi") -> None:
    """Submissions and automatic grades: {username: {grade_id: points earned}}."""
    with _gradebook(db_url) as gb, warnings.catch_warnings():
        # nbgrader's add_submission trips an SQLAlchemy autoflush warning; harmless here.
        warnings.simplefilter("ignore")
        for user, by_item in scores.items():
            gb.update_or_create_student(user)
            gb.add_submission(assignment, user, timestamp=timestamp)
            for grade_id, earned in by_item.items():
                grade = gb.find_grade(grade_id, notebook, assignment, user)
                grade.auto_score = earned
                grade.needs_manual_grade = False
            gb.db.commit()


def bulk_results(db_url: str, assignment: str, scores: Mapping[str, Mapping[str, float]],
                 timestamp: datetime, notebook: str = "bai-thi") -> None:
    """The rows `add_results` would write, inserted in one transaction (benchmark scale).

    Same nbgrader tables and columns; only the per-submission commits are skipped.
    """
    from nbgrader.api import (
        Assignment,
        Grade,
        GradeCell,
        Notebook,
        Student,
        SubmittedAssignment,
        SubmittedNotebook,
    )
    from sqlalchemy import create_engine, insert, select

    engine = create_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            # Millions of rows keyed by random ids: with SQLite's default 2 MB page cache each
            # insert rereads index pages from disk (50,000 staff took half an hour). 1 GB here.
            conn.exec_driver_sql("PRAGMA cache_size = -1000000")
        a_id = conn.scalar(select(Assignment.id).where(Assignment.name == assignment))
        nb_id = conn.scalar(select(Notebook.id).where(Notebook.assignment_id == a_id,
                                                      Notebook.name == notebook))
        cells = dict(conn.execute(select(GradeCell.name, GradeCell.id)
                                  .where(GradeCell.notebook_id == nb_id)).all())
        known = set(conn.scalars(select(Student.id)))
        new = [{"id": u} for u in scores if u not in known]
        if new:
            conn.execute(insert(Student.__table__), new)
        subs, nbs, grades = [], [], []
        for user, by_item in scores.items():
            sa, sn = uuid.uuid4().hex, uuid.uuid4().hex
            subs.append({"id": sa, "assignment_id": a_id, "student_id": user,
                         "timestamp": timestamp})
            nbs.append({"id": sn, "assignment_id": sa, "notebook_id": nb_id})
            for gid, earned in by_item.items():
                grades.append({"id": uuid.uuid4().hex, "notebook_id": sn, "cell_id": cells[gid],
                               "auto_score": earned, "needs_manual_grade": False})
        conn.execute(insert(SubmittedAssignment.__table__), subs)
        conn.execute(insert(SubmittedNotebook.__table__), nbs)
        conn.execute(insert(Grade.__table__), grades)
    engine.dispose()


# --- the demo office's results: the real exams, simulated learners, the real grading ---------

DEMO_EXAMS = ("tong-hop", "van-ban", "dich-vu-cong", "thu-dien-tu")
# chu-ky-so is left out: its signing task is verified against the platform's training CA, and
# simulating it would issue every demo learner a certificate (with a passphrase they do not
# know) in the CA the hub's signing service uses.
DEMO_PERIODS = ((1, datetime(2026, 3, 31, 17, tzinfo=UTC)),
                (2, datetime(2026, 9, 30, 17, tzinfo=UTC)))
# The e-mail exam (area TD) is newer: released in period 2 only and taken by every other
# learner, so the dashboards show TD through the real pipeline for a seventh of the build's
# cost rather than a third (measured in issue 17's note).
DEMO_ONLY = {"thu-dien-tu": ((2,), 2)}  # exam -> (periods, every n-th learner takes it)
SUBMITTED_BEFORE_DUE = timedelta(days=3)  # every demo submission is on time
# The manual grader's mark on the written task, as a share of its points, by learner quality.
WRITTEN_SHARE = {"correct": 1.0, "partial": 0.5, "wrong": 0.0, "blank": 0.0}
DEMO_CONFIG = '''\
# The demo exam course (DỮ LIỆU MẪU), built by reports.demo.build_demo_gradebook.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.LateSubmissionPlugin.penalty_method = "zero"
c.Execute.timeout = 120
'''
QUALITIES = ("correct", "partial", "wrong", "blank")  # answers.QUALITIES, strongest first


def demo_assignment(exam: str, period: int) -> str:
    return f"{exam}-ky-{period}"


def demo_releases() -> list[tuple[str, int]]:
    """(exam, period) of every demo assignment, period by period."""
    return [(exam, period) for period, _due in DEMO_PERIODS for exam in DEMO_EXAMS
            if period in DEMO_ONLY.get(exam, ((period,), 1))[0]]


def takes(exam: str, index: int) -> bool:
    """Does demo learner number `index` take `exam` at all (DEMO_ONLY)?"""
    return index % DEMO_ONLY.get(exam, ((), 1))[1] == 0


def demo_learners() -> list[str]:
    """The demo office's learners; `$KNS_DEMO_LEARNERS=N` keeps the first N (the test suite:
    the same pipeline on a third of the notebooks; part of the cache key)."""
    from kynangso.demo.office import DEMO_STAFF

    learners = [code.lower() for code, *_rest, role in DEMO_STAFF if role == "hocvien"]
    limit = os.environ.get("KNS_DEMO_LEARNERS", "").strip()
    return learners[:int(limit)] if limit.isdigit() and int(limit) > 0 else learners


# Each demo learner's usual result, hocvien01 first: 0 correct, 1 partial, 2 wrong, 3 blank.
BASE_RANK = (0, 1, 1, 2, 0, 1, 2, 0, 1, 1, 3, 0, 1, 2, 1)


def demo_quality(index: int, exam_index: int, period: int) -> str | None:
    """How well demo learner number `index` does on an exam in a period; None: absent.

    Deterministic spread: some people strong, some weak (BASE_RANK), each with one weaker
    exam, most one step better in period 2, and every fifth person absent from period 1.
    """
    if period == 1 and index % 5 == 4:
        return None
    rank = BASE_RANK[index % len(BASE_RANK)]
    if (index + exam_index) % 3 == 2:
        rank = min(rank + 1, 3)
    if period == 2 and index % 4 != 3:
        rank = max(rank - 1, 0)
    return QUALITIES[rank]


def default_exam_source(settings) -> Path:
    """The exam course to copy: settings `exams.course_source`, else the checkout's
    `assessments/exams` (never installed: it holds the hidden tests)."""
    configured = settings["exams"].get("course_source")
    return Path(configured) if configured else Path(__file__).resolve().parents[1] / "assessments" / "exams"


def _answers(source: Path):
    """The exam course's `answers.py` (simulated learners), loaded from its folder."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("kns_exam_answers", source / "answers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generate_assignment(course: Path, assignment: str) -> None:
    """`nbgrader generate_assignment`, in-process (the command's startup costs seconds)."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    from assessments.grading.config import load_course_config

    config = load_course_config(course)
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(course)
    coursedir.assignment_id = assignment
    GenerateAssignment(coursedir=coursedir, config=config).start()


def build_demo_gradebook(settings, exams_source: Path | None = None,
                         workers: int | None = None, cache_dir: Path | None = None) -> Path:
    """The demo office's exam results (DỮ LIỆU MẪU), made by the real pipeline.

    The real exams (DEMO_EXAMS) are released twice (periods `<exam>-ky-1`, `<exam>-ky-2`;
    the e-mail exam in period 2 only, for every other learner: DEMO_ONLY) in the course `kiem-tra-MAU` under `<state_dir>/exams/`; each demo learner's submission is
    simulated by the exam course's `answers.simulate_submission`, graded by the grading engine
    (nbgrader's autograde), and the written tasks get a deterministic manual mark through
    nbgrader's Gradebook API. Returns the course folder.

    Idempotent: an existing demo gradebook is left as it is. Built in a private folder and
    moved into place at the end, so an interrupted build leaves nothing half made. With
    `cache_dir`, a course built from the same inputs (`demo_inputs_key`) is copied from there
    instead, and a new build is kept there for the next empty state.
    """
    course_dir = settings.state_dir / "exams" / DEMO_COURSE
    if (course_dir / "gradebook.db").exists():
        return course_dir
    source = Path(exams_source) if exams_source else default_exam_source(settings)
    if not (source / "answers.py").is_file() or not (source / "source").is_dir():
        raise KnsError("reports.demo_source_missing", path=str(source))
    if cache_dir and restore_demo_gradebook(settings, cache_dir, source):
        return course_dir
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{DEMO_COURSE}-", dir=settings.state_dir))
    started = time.perf_counter()
    try:
        _build_course(build, source, workers or background_workers())
        if cache_dir:
            _store_in_cache(build, Path(cache_dir), demo_inputs_key(source))
        _move_into_place(build, course_dir)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    log.info("demo exam course %s built in %.1f s", course_dir, time.perf_counter() - started)
    return course_dir


def background_workers() -> int:
    """Grading workers of the demo build: one core fewer than the machine has. The build runs
    while the hub serves its first users (`make run`); each worker keeps a core busy, and a
    worker costs seconds of start-up per exam, which outweighs what a second one saves on the
    few notebooks of one demo exam (2 cores, the tests' 5 learners: 63 s of CPU with one worker
    against 88 s with two, for 62 s against 53 s of wall time)."""
    return max(1, (os.cpu_count() or 1) - 1)


def _move_into_place(build: Path, course_dir: Path) -> None:
    course_dir.parent.mkdir(parents=True, exist_ok=True)
    if course_dir.exists():  # a course folder without a gradebook: nothing to keep
        shutil.rmtree(course_dir)
    os.replace(build, course_dir)


# --- the cache of built demo courses, and the "being prepared" marker ------------------------

def demo_cache_dir() -> Path | None:
    """Where built demo courses are kept between empty states: `$KNS_DEMO_CACHE`, else
    `~/.cache/kynangso/demo` (None without a home folder)."""
    raw = os.environ.get("KNS_DEMO_CACHE")
    if raw:
        return Path(raw)
    home = os.path.expanduser("~")
    return Path(home) / ".cache" / "kynangso" / "demo" if home != "~" else None


def demo_inputs_key(source: Path) -> str:
    """A hash of everything the demo course is made from: the exam course (notebooks, hidden
    tests, simulated answers), the demo staff, this module, the grading engine and nbgrader's
    version. Any change gives a new key, so a cached course is never out of date."""
    import hashlib

    import nbgrader

    import assessments.grading
    from kynangso.demo import office

    h = hashlib.sha256(f"nbgrader {nbgrader.__version__} {demo_learners()}".encode())
    # (name, path): names relative to their folder, so a checkout and an installed copy agree.
    files = [(p.name, p) for p in (Path(__file__), Path(office.__file__))]
    for folder in (Path(source), Path(assessments.grading.__file__).parent):
        files += [(f"{folder.name}/{p.relative_to(folder)}", p) for p in sorted(folder.rglob("*"))
                  if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")]
    for name, path in files:
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def _store_in_cache(build: Path, cache_dir: Path, key: str) -> None:
    """Copy a finished course into the cache (private: it holds the exams' answer keys)."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(cache_dir, 0o700)
        if (cache_dir / key).exists():
            return
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache_dir))
        shutil.copytree(build, tmp, dirs_exist_ok=True)
        os.replace(tmp, cache_dir / key)
        log.info("demo exam course kept in %s for the next empty state", cache_dir / key)
    except OSError as exc:
        log.warning("demo exam course not cached in %s: %s", cache_dir, exc)


def restore_demo_gradebook(settings, cache_dir: Path | None, exams_source: Path | None = None
                           ) -> bool:
    """Put a cached demo course (same inputs) in place; False if there is none."""
    if not cache_dir:
        return False
    source = Path(exams_source) if exams_source else default_exam_source(settings)
    if not (source / "answers.py").is_file():
        return False
    cached = Path(cache_dir) / demo_inputs_key(source)
    if not (cached / "gradebook.db").is_file():
        return False
    st = Path(cache_dir).stat()
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        log.warning("demo cache %s not used: others may write it", cache_dir)
        return False
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{DEMO_COURSE}-", dir=settings.state_dir))
    try:
        shutil.copytree(cached, build, dirs_exist_ok=True)
        _move_into_place(build, settings.state_dir / "exams" / DEMO_COURSE)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    log.info("demo exam course copied from %s", cached)
    return True


def pending_marker(settings) -> Path:
    """Present while `make run` still has to build the demo results (dashboards say so)."""
    return settings.state_dir / "exams" / f".{DEMO_COURSE}.pending"


def demo_pending(settings) -> bool:
    """Are the demo exam results being prepared (marker there, gradebook not yet)?"""
    try:
        return (pending_marker(settings).exists()
                and not (settings.state_dir / "exams" / DEMO_COURSE / "gradebook.db").exists())
    except OSError:  # a state folder this account may not read: nothing to say
        return False


def _build_course(course: Path, source: Path, workers: int | None) -> None:
    from sqlalchemy.exc import SAWarning

    from assessments.grading.config import ensure_tools_on_path
    from assessments.grading.engine import grade_exam

    ensure_tools_on_path()  # nbgrader shells out to alembic
    answers = _answers(source)
    # The grader writes the simulation tasks' answer keys into the hidden tests (issue 14).
    (course / "nbgrader_config.py").write_text(
        DEMO_CONFIG.format(course_id=DEMO_COURSE) + answer_keys_config(source / "answer_keys.py"),
        encoding="utf-8")
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    learners = demo_learners()
    plan: dict[tuple[str, str], str] = {}  # (assignment, learner) -> quality
    dues = dict(DEMO_PERIODS)
    for exam, period in demo_releases():
        e, due = DEMO_EXAMS.index(exam), dues[period]
        name = demo_assignment(exam, period)
        shutil.copytree(source / "source" / exam, course / "source" / name)
        with _gradebook(db_url, DEMO_COURSE) as gb:
            gb.update_or_create_assignment(name, duedate=due)
        _generate_assignment(course, name)
        stamp = (due - SUBMITTED_BEFORE_DUE).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        for i, learner in enumerate(learners):
            quality = demo_quality(i, e, period)
            if quality is None or not takes(exam, i):
                continue
            folder = course / "submitted" / learner / name
            shutil.copytree(course / "release" / name, folder)
            answers.simulate_submission(exam, learner, folder, quality)
            (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
            plan[(name, learner)] = quality
    with warnings.catch_warnings():
        # nbgrader's autograde trips SQLAlchemy autoflush warnings; harmless here.
        warnings.simplefilter("ignore", SAWarning)
        for exam, period in demo_releases():
            name = demo_assignment(exam, period)
            # One spare kernel per worker: ~15 notebooks per exam, so more would be wasted.
            report = grade_exam(name, course, workers=workers, spares=1)
            if report.problems:
                log.warning("demo grading %s: %s", name, [p.__dict__ for p in report.problems])
    _mark_written_tasks(db_url, plan)


def _mark_written_tasks(db_url: str, plan: dict[tuple[str, str], str]) -> None:
    """The instructor's manual marks, as the formgrader saves them (manual score set, no
    longer waiting for a grade)."""
    with _gradebook(db_url, DEMO_COURSE) as gb:
        for (assignment, learner), quality in plan.items():
            for nb in gb.find_submission(assignment, learner).notebooks:
                for grade in nb.grades:
                    if grade.needs_manual_grade:
                        grade.manual_score = round(WRITTEN_SHARE[quality] * grade.max_score, 1)
                        grade.needs_manual_grade = False
        gb.db.commit()


# --- `python -m reports.demo build`: the background build of `make run` ----------------------

def _raise_keyboard_interrupt(*_args) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    """Build the demo results for the settings in the environment (KNS_SETTINGS), with the
    cache, then remove the "being prepared" marker. Run by kynangso.run in its own process
    group; SIGTERM and SIGINT stop it cleanly (grading kernels shut down, temporary folder
    removed, marker kept so that the next `make run` builds again)."""
    import signal
    import sys

    from kynangso.settings import load_settings

    if argv != ["build"]:
        print("usage: python -m reports.demo build", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    settings = load_settings()
    try:
        build_demo_gradebook(settings, cache_dir=demo_cache_dir())
    except KeyboardInterrupt:
        log.info("demo build interrupted; the next `make run` builds it again")
        return 130
    except Exception:
        log.exception("demo build failed")
        pending_marker(settings).unlink(missing_ok=True)
        return 1
    pending_marker(settings).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
