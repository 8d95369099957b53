"""Synthetic exam courses for tests, the benchmark and the demo (DỮ LIỆU MẪU).

An exam course is an nbgrader course folder: `source/<assignment>/<notebook>.ipynb` whose graded
cells carry the competence tag (cell metadata "kynangso"), and a gradebook built with nbgrader's
own `Gradebook` API (assignments, notebooks, grade cells, students, submissions, grades), so the
reports read exactly the tables nbgrader writes. `build_demo_gradebook` makes the demo office's
clearly labelled sample results; the real ones come from the grading pipeline.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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


def _gradebook(db_url: str):
    """nbgrader's Gradebook; it shells out to `alembic`, so the venv's bin must be on PATH."""
    import shutil
    import sys

    from nbgrader.api import Gradebook

    if shutil.which("alembic") is None:
        os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable),
                                              os.environ.get("PATH", "")])
    return Gradebook(db_url)


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


def build_demo_gradebook(settings) -> Path:
    """A sample exam course for the demo office (usernames of kynangso/demo/office.py).

    Labelled DỮ LIỆU MẪU by its name (`kiem-tra-MAU`); returns the course folder.
    Idempotent: an existing demo gradebook is left as it is.
    """
    from datetime import UTC

    from kynangso.demo.office import DEMO_STAFF

    course_dir = settings.state_dir / "exams" / DEMO_COURSE
    db_path = course_dir / "gradebook.db"
    if db_path.exists():
        return course_dir
    course_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{db_path}"
    items = [Item(f"{c.lower().replace('.', '-')}-{lv.replace('_', '-')}", c, lv, 2.0)
             for c in ("NT.1", "VB.1", "VB.3", "KS.2", "KS.3", "DVC.2", "DVC.3")
             for lv in ("co_ban", "thanh_thao")]
    learners = [code.lower() for code, *_rest, role in DEMO_STAFF if role == "hocvien"]
    for n, (name, due) in enumerate((("ky-1-MAU", datetime(2026, 3, 31, tzinfo=UTC)),
                                     ("ky-2-MAU", datetime(2026, 9, 30, tzinfo=UTC)))):
        add_exam(course_dir, db_url, name, due, items)
        scores = {}
        for i, user in enumerate(learners):
            if n == 0 and i % 5 == 4:
                continue  # absent from the first period
            # Deterministic spread: some people strong, some weak, improving in period 2.
            scores[user] = {it.grade_id: min(it.points, float((i * 7 + j * 3 + n * 4) % 3))
                            for j, it in enumerate(items)}
        add_results(db_url, name, scores, due)
    return course_dir
