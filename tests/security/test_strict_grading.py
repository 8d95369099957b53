"""Security issue 14, part 2: strict grading of widget exams.

The attacker is a learner who keeps JupyterLab (the "advanced" group, or a course outside exam
mode) and adds cells to a real exam notebook (assessments/exams, `tong-hop`) before submitting
it with wrong answers in the sidecar:

- "patch": the cell from the issue, `import assessments.questions.grading as g;
  g._score = lambda *a: float(a[4])`, which made every hidden test give full points;
- "clone": the same patch in a cell that copies a released cell's nbgrader metadata (its
  grade_id), placed before the original, so that nbgrader keeps the original and runs the clone
  as an ordinary cell;
- "forged": the patch in a cell with nbgrader metadata and a grade_id the exam never had;
- "print": a cell that prints an answer (its output would reach the autograded notebook and the
  feedback).

The course is laid out and configured as the platform does it (kynangso.exams.course's
NBGRADER_CONFIG, owned by a grader account) and graded as that account, as the exams service
does: with `kns grade` (once with --json, once for the human summary) and with `nbgrader
autograde`. Each attack must score what the same wrong answers score without the added cell,
the added cell must not be in the autograded notebook, and the submission must be flagged (the
flag file beside the autograded notebook, kns grade's JSON report and its summary). An honest
learner's submission is graded as before and not flagged. Real accounts, real bwrap, real
nbgrader; no hub is started (the exams service only runs these commands as the grader).
"""

from __future__ import annotations

import json
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from kynangso.exams.course import NBGRADER_CONFIG
from kynangso.hub.system_accounts import ensure_system_account
from tests.assessments.grading.conftest import IOPUB_TIMEOUT_S
from tests.assessments.grading.exam_cases import EXAMS_DIR, Submitter, autograded_files
from tests.security.test_grading_sandbox import BIN, _as, _env, pytestmark  # noqa: F401

EXAM = "tong-hop"
COURSE_ID = "kiem-tra"
SCORER_PATCH = "import assessments.questions.grading as g; g._score = lambda *a: float(a[4])"
ANSWER_MARK = "DAP-AN-" + secrets.token_hex(4)
PRINT_ANSWER = f"print({ANSWER_MARK!r}, 'câu 1: b')"


def _first_grade_cell(nb) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                and c.cell_type == "code")


def _clone(nb) -> None:
    """A copy of the first hidden-test cell's metadata (its grade_id), holding the patch, before it."""
    original = _first_grade_cell(nb)
    cell = nbformat.v4.new_code_cell(SCORER_PATCH)
    cell.metadata["nbgrader"] = json.loads(json.dumps(original.metadata["nbgrader"]))
    nb.cells.insert(nb.cells.index(original), cell)


def _forged(nb) -> None:
    cell = nbformat.v4.new_code_cell(SCORER_PATCH)
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True,
                                 "grade_id": "o-them-vao", "schema_version": 3}
    nb.cells.insert(1, cell)


# student -> (quality, change to the notebook or None, what the added cell holds)
STUDENTS = {
    "a-honest": ("partial", None, None),
    "c-patch": ("wrong", lambda nb: nb.cells.insert(1, nbformat.v4.new_code_cell(SCORER_PATCH)),
                 "g._score"),
    "x-clone": ("wrong", _clone, "g._score"),
    "x-forged": ("wrong", _forged, "g._score"),
    "c-print": ("wrong", lambda nb: nb.cells.append(nbformat.v4.new_code_cell(PRINT_ANSWER)),
                 ANSWER_MARK),
    "a-wrong": ("wrong", None, None),  # the reference: the same answers, no added cell
}
# Ids sort in grading order: the x- cases (cells with nbgrader metadata) last, because nbgrader
# stops the whole run on a cell whose metadata DeduplicateIds or OverwriteCells emptied.
CHEATERS = [s for s, (_, change, _) in STUDENTS.items() if change]


def _write_config(course: Path, root: Path) -> None:
    text = NBGRADER_CONFIG.format(course=str(course), course_id=COURSE_ID,
                                  exchange=str(root / "exchange"))
    # Both graders wait generously for a cell's output on a busy machine (see that constant).
    text += f"c.Execute.iopub_timeout = {IOPUB_TIMEOUT_S}\n"
    (course / "nbgrader_config.py").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def strict():
    """The exam course as the platform lays it out, with every submission, copied three times
    and graded: by `kns grade --json`, by `nbgrader autograde`, by `kns grade` (human summary)."""
    tag = f"knss{secrets.token_hex(2)}"
    grader = f"{tag}-grader"
    root = Path(f"/tmp/{tag}-exams")  # not under pytest's 0700 folder: the grader must reach it
    ensure_system_account(grader, root)
    pw = pwd.getpwnam(grader)
    try:
        root.mkdir(mode=0o700)
        course = root / "kns"
        shutil.copytree(EXAMS_DIR / "source" / EXAM, course / "source" / EXAM)
        shutil.copyfile(EXAMS_DIR / "answer_keys.py", course / "answer_keys.py")  # as the hub does
        _write_config(course, root)
        subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", str(root)], check=True)
        env = _env(root)
        _as(grader, [f"{BIN}/nbgrader", "generate_assignment", EXAM], course, env, check=True)
        submitter = Submitter(course, EXAM, None)
        for student, (quality, change, _) in STUDENTS.items():
            submitter.start(student, quality)
            if change:
                submitter.edit(student, change)
        copies = {"kns": course, "nbgrader": root / "nbgrader", "human": root / "human"}
        for name in ("nbgrader", "human"):
            shutil.copytree(course, copies[name])
            _write_config(copies[name], root)
        subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", str(root)], check=True)

        done = _as(grader, [f"{BIN}/kns", "grade", EXAM, "--course-dir", str(course), "--json"],
                   course, env)
        out = done.stdout
        assert "{" in out, f"kns grade printed no report:\n{done.stderr[-3000:]}"
        report = json.loads(out[out.index("{"):])
        nbg = _as(grader, [f"{BIN}/nbgrader", "autograde", EXAM], copies["nbgrader"], env)
        human = _as(grader, [f"{BIN}/kns", "grade", EXAM, "--course-dir", str(copies["human"])],
                    copies["human"], env)
        yield {"copies": copies, "report": report, "summary": human.stdout,
               "nbgrader_log": nbg.stderr}
    finally:
        subprocess.run(["pkill", "-KILL", "-u", grader], check=False)
        subprocess.run(["userdel", grader], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _scores(course: Path) -> dict[str, float]:
    from assessments.grading.compare import snapshot

    return {s: row["score"] for s, row in snapshot(f"sqlite:///{course}/gradebook.db", EXAM).items()}


def _autograded(course: Path, student: str) -> Path:
    return course / "autograded" / student / EXAM / f"{EXAM}.ipynb"


def _check_graded_strictly(course: Path, graded_by: str, log: str = "") -> None:
    scores = _scores(course)
    assert set(scores) == set(STUDENTS), f"{graded_by} did not grade every submission:\n{log[-3000:]}"
    reference = scores["a-wrong"]
    assert reference == 0  # wrong answers earn nothing
    assert 0 < scores["a-honest"]  # an honest learner is still graded
    paid = {s: scores[s] for s in CHEATERS if scores[s] != reference}
    assert not paid, f"added cells changed the score under {graded_by} (reference {reference}): {paid}"
    for student in CHEATERS:
        text = _autograded(course, student).read_text(encoding="utf-8")
        mark = STUDENTS[student][2]
        assert mark not in text, f"{student}'s added cell ran or stayed in the notebook ({graded_by})"


def _flags(course: Path) -> dict[str, dict]:
    """student -> the strict-grading record beside the autograded notebook."""
    from assessments.grading.strict import read_flags

    return {row["student"]: row for row in read_flags(course, EXAM)}


def _check_flags(course: Path, graded_by: str) -> None:
    flags = _flags(course)
    for student in CHEATERS:
        assert student in flags, f"{student} not flagged by {graded_by}: {sorted(flags)}"
        record = flags[student]
        assert record["removed"] == 1, (student, record)
        excerpt = " ".join(c["excerpt"] for c in record["cells"])
        assert STUDENTS[student][2] in excerpt, (student, record)
    for honest in ("a-honest", "a-wrong"):
        assert honest not in flags, f"{honest} added no cell but is flagged by {graded_by}"


def test_kns_grade_removes_added_cells(strict):
    """Attack: cells added to a widget exam (scorer patch, cloned id, forged id, printed answer),
    graded by `kns grade` as the exams service runs it. The score must be that of the same
    answers without the cell, the cell gone from the autograded notebook, the submission flagged."""
    _check_graded_strictly(strict["copies"]["kns"], "kns grade")
    _check_flags(strict["copies"]["kns"], "kns grade")


def test_nbgrader_autograde_with_platform_config_removes_added_cells(strict):
    """Attack: the same submissions graded by `nbgrader autograde` with the nbgrader_config the
    platform writes (as an instructor or formgrader does). Same expectations as kns grade."""
    course = strict["copies"]["nbgrader"]
    _check_graded_strictly(course, "nbgrader autograde", strict["nbgrader_log"])
    _check_flags(course, "nbgrader autograde")


def test_kns_grade_summary_lists_every_flagged_submission(strict):
    """Attack: a cheat that is silently neutralised leaves no trace for instructors and HR.
    kns grade's JSON report and its human summary must list every submission with added cells,
    with the count and an excerpt, and no honest one."""
    report = strict["report"]
    flagged = {row["student"]: row for row in report.get("flagged", [])}
    assert set(flagged) == set(CHEATERS), report
    for student in CHEATERS:
        row = flagged[student]
        assert row["notebook"] == EXAM and row["removed"] == 1, row
        assert STUDENTS[student][2] in " ".join(row["excerpts"]), row
    kinds = {(p["student"], p["kind"]) for p in report["problems"]}
    assert {(s, "added_cells") for s in CHEATERS} <= kinds
    summary = strict["summary"]
    for student in CHEATERS:
        line = next((x for x in summary.splitlines() if f"Học viên {student}," in x), None)
        assert line is not None, f"{student} missing from the summary:\n{summary}"
        assert "ô do học viên tự thêm" in line, line
    for honest in ("a-honest", "a-wrong"):
        assert f"Học viên {honest}," not in summary, summary


def test_both_graders_agree_on_the_strict_course(strict):
    """With the platform's config, kns grade and nbgrader autograde write the same gradebook
    rows and the same autograded files (flag files included) for honest and cheating learners."""
    from assessments.grading.compare import snapshot
    kns, nbg = strict["copies"]["kns"], strict["copies"]["nbgrader"]
    got = snapshot(f"sqlite:///{kns}/gradebook.db", EXAM)
    expected = snapshot(f"sqlite:///{nbg}/gradebook.db", EXAM)
    assert got == expected
    files_got, files_expected = autograded_files(kns, EXAM), autograded_files(nbg, EXAM)
    assert sorted(files_got) == sorted(files_expected)
    for rel in files_expected:  # notebooks without what differs between any two runs
        assert files_got[rel] == files_expected[rel], rel
