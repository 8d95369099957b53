"""Courses for the grading tests: nbgrader's quickstart course and a small exam-like course,
each with correct, partly correct, wrong, cheating and broken submissions.

Both are built with the real nbgrader commands (quickstart, generate_assignment), so the
tests grade exactly what an instructor's course folder holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

BIN = os.path.dirname(sys.executable)
ON_TIME = "2026-01-01 10:00:00.000000 UTC"
LATE = "2026-01-03 10:00:00.000000 UTC"
DUE = "2026-01-02 00:00:00"
# Per-cell limit for both graders in the tests (nbgrader's default is 30 s). Every finite cell
# of the test courses runs in well under 1 s on an idle machine (0.6 s at most with a load of
# 6 on 2 cores); 15 s leaves a margin of 25x so that only the infinite loops, never a slow but
# finite cell on a busy CI machine, reach it. (It was 5 s: a cell stalled past it under load
# in one grader and not the other, and the autograded notebooks differed.) Each infinite loop
# costs this much per grader, hence not more.
TIMEOUT_S = 15
# How long both graders wait for a cell's last output after the kernel's reply (nbclient's
# iopub_timeout, 4 s by default; nbgrader then records a "Timeout waiting for IOPub output"
# error). On an idle machine the outputs come at once; on a loaded one they may lag by
# seconds, so the wait is generous: it costs nothing when the outputs arrive.
IOPUB_TIMEOUT_S = 120
# For a course's nbgrader_config.py (both graders read it).
COURSE_CONFIG = f"c.Execute.iopub_timeout = {IOPUB_TIMEOUT_S}\n"


def run_nbgrader(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `nbgrader` command (its bin folder on PATH: it shells out to alembic)."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run([os.path.join(BIN, "nbgrader"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"nbgrader {args} failed:\n{done.stderr[-3000:]}")
    return done


def submit(course: Path, exam: str, student: str, notebooks: dict[str, object],
           timestamp: str = ON_TIME, files: dict[str, str] | None = None) -> None:
    """Put a submission in submitted/: notebooks (NotebookNode or raw text), extra files."""
    folder = course / "submitted" / student / exam
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        text = nb if isinstance(nb, str) else nbformat.writes(nb)
        (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")


def cells_by_id(nb) -> dict[str, object]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")}


def strip_solution(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


# ---------------------------------------------------------------- quickstart course


@pytest.fixture(scope="session")
def quickstart(tmp_path_factory) -> Path:
    """nbgrader's example course (ps1: two notebooks) with five submissions."""
    base = tmp_path_factory.mktemp("quickstart")
    run_nbgrader(["quickstart", "course101"], cwd=base)
    course = base / "course101"
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(COURSE_CONFIG)
    run_nbgrader(["generate_assignment", "ps1"], cwd=course)
    release = {n: nbformat.read(course / "release" / "ps1" / f"{n}.ipynb", as_version=4)
               for n in ("problem1", "problem2")}
    source = {n: nbformat.read(course / "source" / "ps1" / f"{n}.ipynb", as_version=4)
              for n in ("problem1", "problem2")}

    def solved(name: str, only: set[str] | None = None):
        nb = nbformat.from_dict(json.loads(json.dumps(release[name])))
        src = cells_by_id(source[name])
        for grade_id, cell in cells_by_id(nb).items():
            if cell.metadata["nbgrader"].get("solution") and (only is None or grade_id in only):
                cell.source = strip_solution(src[grade_id].source)
        return nb

    submit(course, "ps1", "bob", {"problem1": solved("problem1"), "problem2": solved("problem2")})
    submit(course, "ps1", "cat", {"problem1": solved("problem1", {"squares"}),
                                  "problem2": release["problem2"]})
    cheat = solved("problem1", {"squares"})
    cells_by_id(cheat)["correct_sum_of_squares"].source = "assert True"
    submit(course, "ps1", "dan", {"problem1": cheat, "problem2": solved("problem2")})
    submit(course, "ps1", "eve", {"problem1": solved("problem1")})  # problem2 missing
    submit(course, "ps1", "fay", {"problem1": '{"cells": [', "problem2": solved("problem2")})
    return course


# ---------------------------------------------------------------- exam-like course

EXAM = "kt1"
SIDECAR = "answers.json"


def _cell(kind: str, source: str, grade_id: str | None = None, *, grade=False, solution=False,
          locked=False, points=0):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    if grade_id:
        meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id,
                "schema_version": 3}
        if grade:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


def exam_source():
    """An exam notebook: auto-graded answers, hidden tests, partial credit, a sidecar answer
    read by a hidden test, and a manually graded written answer."""
    cells = [
        _cell("markdown", "# Bài kiểm tra 1\nTrả lời các câu hỏi dưới đây."),
        _cell("code", "def tong(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
              "q1", solution=True),
        _cell("code", "assert tong(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert tong(-1, 1) == 0\n"
              "### END HIDDEN TESTS", "test_q1", grade=True, locked=True, points=2),
        _cell("code", "def so_van_ban(ds):\n    ### BEGIN SOLUTION\n    return len([d for d in ds if d])\n"
              "    ### END SOLUTION", "q2", solution=True),
        _cell("code", "assert so_van_ban(['a']) == 1", "test_q2_a", grade=True, locked=True, points=1),
        _cell("code", "### BEGIN HIDDEN TESTS\nassert so_van_ban(['a', '', 'b']) == 2\n"
              "### END HIDDEN TESTS", "test_q2_b", grade=True, locked=True, points=1),
        _cell("code", "### BEGIN HIDDEN TESTS\nimport json\nwith open('answers.json', encoding='utf-8') as f:\n"
              "    assert json.load(f)['q3'] == 'B'\n### END HIDDEN TESTS",
              "test_q3", grade=True, locked=True, points=2),
        _cell("markdown", "Vì sao cần ký số văn bản đi?", "q4_intro", locked=True),
        _cell("markdown", "YOUR ANSWER HERE", "q4", grade=True, solution=True, points=3),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="session")
def exam_course(tmp_path_factory) -> Path:
    """A course generated with `nbgrader generate_assignment` from exam_source(), with a due
    date, a zero-score late policy and thirteen submissions of every kind."""
    course = tmp_path_factory.mktemp("exam") / "course"
    (course / "source" / EXAM).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'kns-test'\n"
        "c.LateSubmissionPlugin.penalty_method = 'zero'\n" + COURSE_CONFIG, encoding="utf-8")
    nbformat.write(exam_source(), course / "source" / EXAM / "exam.ipynb")
    run_nbgrader(["db", "assignment", "add", EXAM, f"--duedate={DUE}"], cwd=course)
    run_nbgrader(["generate_assignment", EXAM], cwd=course)
    release = nbformat.read(course / "release" / EXAM / "exam.ipynb", as_version=4)

    def answer(q1=None, q2=None, q4=None, edit=None):
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        cells = cells_by_id(nb)
        for grade_id, text in (("q1", q1), ("q2", q2), ("q4", q4)):
            if text is not None:
                cells[grade_id].source = text
        for grade_id, text in (edit or {}).items():
            cells[grade_id].source = text
        return nb

    good_q1 = "def tong(a, b):\n    return a + b"
    good_q2 = "def so_van_ban(ds):\n    return len([d for d in ds if d])"
    half_q2 = "def so_van_ban(ds):\n    return len(ds)"
    right = json.dumps({"q3": "B"})
    submit(course, EXAM, "hv01", {"exam": answer(good_q1, good_q2, "Bảo đảm giá trị pháp lý.")},
           files={SIDECAR: right})
    submit(course, EXAM, "hv02", {"exam": answer(good_q1, half_q2)}, files={SIDECAR: json.dumps({"q3": "A"})})
    submit(course, EXAM, "hv03", {"exam": answer()})  # nothing answered, no sidecar
    submit(course, EXAM, "hv04", {"exam": answer(good_q1, half_q2, edit={"test_q2_b": "pass"})},
           files={SIDECAR: "{q3: B"})  # edited hidden-test cell, hand-edited broken sidecar
    deleted = answer(good_q1, half_q2)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_q2_b"]
    submit(course, EXAM, "hv05", {"exam": deleted}, files={SIDECAR: right})
    # An endless loop that sleeps: the graders stop it at TIMEOUT_S as they stop a busy one
    # (the real exams' b-infinite-loop case is busy), without burning a core for that long.
    submit(course, EXAM, "hv06", {"exam": answer("import time\ndef tong(a, b):\n    while True:\n        time.sleep(0.5)", good_q2)},
           files={SIDECAR: right})
    submit(course, EXAM, "hv07", {"exam": answer(good_q1, good_q2 + "\nprint(\"\\n\".join(str(i) for i in range(200000)))")},
           files={SIDECAR: right})
    submit(course, EXAM, "hv08", {"exam": answer(good_q1, good_q2)}, timestamp=LATE, files={SIDECAR: right})
    submit(course, EXAM, "hv09", {"exam": "{ this is not a notebook"})
    bad_meta = answer(good_q1, good_q2)
    cells_by_id(bad_meta)["test_q1"].metadata["nbgrader"]["grade"] = "maybe"
    submit(course, EXAM, "hv10", {"exam": bad_meta})
    patcher = answer("import json\njson.load = lambda f: {'q3': 'B'}\ndef tong(a, b):\n    return a + b",
                     good_q2)
    wrong = json.dumps({"q3": "A"})
    submit(course, EXAM, "hv11", {"exam": patcher}, files={SIDECAR: wrong})  # cheats its own check
    # graded after hv11 with the same wrong sidecar: full marks on q3 would mean hv11's patch leaked
    submit(course, EXAM, "hv12", {"exam": answer(good_q1, good_q2)}, files={SIDECAR: wrong})
    submit(course, EXAM, "hv13", {"exam": answer(good_q1, good_q2)}, timestamp="hôm qua",
           files={SIDECAR: right})  # a hand-edited timestamp.txt
    return course


def copy_course(course: Path, dest: Path) -> Path:
    shutil.copytree(course, dest)
    return dest
