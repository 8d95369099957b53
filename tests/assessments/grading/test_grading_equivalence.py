"""`kns grade` against `nbgrader autograde` on the same submissions: identical gradebooks.

Each course is copied twice; one copy is graded by the real `nbgrader autograde`, the other
by `kns grade`; then the gradebooks are compared cell by cell, and the autograded notebooks
output by output (execution timing metadata aside).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessments.grading.cli import grade
from assessments.grading.compare import snapshot
from tests.assessments.grading.conftest import EXAM, TIMEOUT_S, copy_course, run_nbgrader

pytestmark = pytest.mark.slow(180)


def _notebooks(course: Path) -> dict[str, object]:
    """Every autograded file; notebooks without per-cell execution timings and course paths."""
    found: dict[str, object] = {}
    root = course / "autograded"
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if path.is_dir():
            continue
        rel = str(path.relative_to(root))
        if path.suffix != ".ipynb":
            found[rel] = path.read_bytes()
            continue
        nb = json.loads(path.read_text(encoding="utf-8").replace(str(course), "<course>"))
        for cell in nb["cells"]:
            cell.get("metadata", {}).pop("execution", None)
            if "was missing from the submission" in "".join(cell.get("source", [])):
                cell.pop("id", None)  # nbgrader re-adds the cell without an id: nbformat draws one
        found[rel] = nb
    return found


def _grade_both(course: Path, tmp_path: Path, exam: str, *extra: str):
    by_nbgrader = copy_course(course, tmp_path / "nbgrader")
    by_kns = copy_course(course, tmp_path / "kns")
    run_nbgrader(["autograde", exam, f"--Execute.timeout={TIMEOUT_S}"], cwd=by_nbgrader, check=False)
    result = CliRunner().invoke(grade, [exam, "--course-dir", str(by_kns), "--timeout", str(TIMEOUT_S),
                                        "--workers", "2", *extra])
    return by_nbgrader, by_kns, result


def _assert_same(by_nbgrader: Path, by_kns: Path, exam: str) -> dict:
    expected = snapshot(f"sqlite:///{by_nbgrader}/gradebook.db", exam)
    got = snapshot(f"sqlite:///{by_kns}/gradebook.db", exam)
    assert sorted(got) == sorted(expected)
    for student in expected:
        assert got[student] == expected[student], student
    nb_expected, nb_got = _notebooks(by_nbgrader), _notebooks(by_kns)
    assert sorted(nb_got) == sorted(nb_expected)
    for rel in nb_expected:
        assert nb_got[rel] == nb_expected[rel], rel
    return expected


@pytest.fixture(scope="module")
def quickstart_graded(quickstart, tmp_path_factory):
    return _grade_both(quickstart, tmp_path_factory.mktemp("qs"), "ps1")


@pytest.fixture(scope="module")
def exam_graded(exam_course, tmp_path_factory):
    return _grade_both(exam_course, tmp_path_factory.mktemp("exam"), EXAM)


def test_quickstart_gradebook_identical(quickstart_graded):
    """Does kns grade write the same gradebook and notebooks as nbgrader on the quickstart course?"""
    by_nbgrader, by_kns, _ = quickstart_graded
    rows = _assert_same(by_nbgrader, by_kns, "ps1")
    bob = rows["bob"]["notebooks"]["problem1"]["cells"]
    assert all(c["auto_score"] == c["max_score"] for c in bob.values() if not c["needs_manual_grade"])
    assert rows["bob"]["score"] == 3.0  # the rest (9 points) is graded by hand
    assert rows["dan"]["notebooks"]["problem1"]["cells"]["correct_sum_of_squares"]["auto_score"] == 0.0
    assert not (by_kns / "autograded" / "fay" / "ps1").exists()  # removed, as nbgrader does


def test_exam_gradebook_identical(exam_graded):
    """Does kns grade match nbgrader on correct, partial, wrong, cheating, broken, late, looping submissions?"""
    by_nbgrader, by_kns, _ = exam_graded
    rows = _assert_same(by_nbgrader, by_kns, EXAM)
    cells = rows["hv02"]["notebooks"]["exam"]["cells"]
    assert (cells["test_q2_a"]["auto_score"], cells["test_q2_b"]["auto_score"]) == (1.0, 0.0)  # partial
    assert cells["q4"]["needs_manual_grade"] is False  # unanswered essay: 0, "No response."
    assert rows["hv01"]["notebooks"]["exam"]["cells"]["q4"]["needs_manual_grade"] is True
    assert rows["hv04"]["notebooks"]["exam"]["cells"]["test_q2_b"]["auto_score"] == 0.0  # edit undone
    assert rows["hv08"]["late_submission_penalty"] == rows["hv08"]["score"] > 0
    assert rows["hv11"]["notebooks"]["exam"]["cells"]["test_q3"]["auto_score"] == 2.0
    assert rows["hv12"]["notebooks"]["exam"]["cells"]["test_q3"]["auto_score"] == 0.0  # no leak


def test_exam_summary_lists_every_failure(exam_graded):
    """Are broken submissions listed in Vietnamese, with the student, notebook, reason and next step, exit 1?"""
    _, by_kns, result = exam_graded
    assert result.exit_code == 1, result.output
    out = result.output
    assert "Học viên hv09, sổ tay exam: tệp sổ tay bị hỏng" in out
    assert "Học viên hv10, sổ tay exam: siêu dữ liệu chấm điểm" in out
    assert "Học viên hv04, sổ tay exam: ô chấm điểm \"test_q2_b\" đã bị học viên sửa" in out
    assert "Học viên hv05, sổ tay exam: ô chấm điểm bị xóa: test_q2_b" in out
    assert "Học viên hv06, sổ tay exam: ô test_q1 chạy quá thời gian" in out
    assert "Học viên hv07, sổ tay exam: bài in ra quá nhiều dòng" in out
    assert "Học viên hv01," not in out  # hidden tests put back by nbgrader are no edit
    assert "kns grade kt1 --student MÃ_HỌC_VIÊN --force" in out
    assert "Học viên hv13: tệp thời điểm nộp (timestamp.txt) sai định dạng" in out
    assert "10 bài đã chấm, 3 bài lỗi" in out
    assert "Đã chấm 13/13 bài (100%)" in out  # progress lines (not a terminal: plain lines)


def test_quickstart_missing_notebook_and_json(quickstart_graded, tmp_path):
    """Is a missing notebook flagged, and does --json report failures for machines?"""
    _, by_kns, result = quickstart_graded
    assert "Học viên eve, sổ tay problem2: học viên không nộp sổ tay này" in result.output
    again = CliRunner().invoke(grade, ["ps1", "--course-dir", str(by_kns), "--student", "f*",
                                       "--force", "--json"])
    assert again.exit_code == 1
    data = json.loads(again.output[again.output.index("{"):])
    assert data["failed"] == ["fay"] and data["graded"] == []
    assert [(p["student"], p["notebook"], p["kind"]) for p in data["problems"]] == [
        ("fay", "problem1", "corrupt")]


def test_unknown_exam_is_a_clear_error(quickstart, tmp_path):
    """Is an exam that is not in the gradebook refused with a Vietnamese message and exit status 2?"""
    from kynangso.cli import KnsGroup

    course = copy_course(quickstart, tmp_path / "c")
    (course / "submitted" / "bob" / "ps9").mkdir(parents=True)
    (course / "submitted" / "bob" / "ps9" / "x.ipynb").write_text("{}", encoding="utf-8")
    group = KnsGroup("kns")  # as `kns` runs its sub-commands, without touching the real group
    group.add_command(grade, "grade")
    result = CliRunner().invoke(group, ["grade", "ps9", "--course-dir", str(course)])
    assert result.exit_code == 2
    assert "nbgrader generate_assignment ps9" in result.output


def test_add_missing_cells_setting_is_honoured(exam_course, tmp_path):
    """With OverwriteCells.add_missing_cells on, is a deleted test cell put back and graded as nbgrader does?"""
    course = copy_course(exam_course, tmp_path / "course")
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write("c.OverwriteCells.add_missing_cells = True\n")
    by_nbgrader, by_kns = copy_course(course, tmp_path / "nbgrader"), copy_course(course, tmp_path / "kns")
    run_nbgrader(["autograde", EXAM, "--student", "hv05"], cwd=by_nbgrader, check=False)
    result = CliRunner().invoke(grade, [EXAM, "--course-dir", str(by_kns), "--student", "hv05"])
    assert result.exit_code == 3, result.output  # graded, and flagged for the restored cell
    assert "Học viên hv05, sổ tay exam: ô chấm điểm \"test_q2_b\" bị học viên xóa và đã được" in result.output
    rows = _assert_same(by_nbgrader, by_kns, EXAM)
    assert rows["hv05"]["notebooks"]["exam"]["cells"]["test_q2_b"]["auto_score"] == 0.0


def test_a_submission_that_kills_its_worker_does_not_stop_the_batch(exam_course, tmp_path):
    """If a learner's code kills the grading process, are the others still graded and that one flagged?"""
    import nbformat

    course = copy_course(exam_course, tmp_path / "course")
    killer = course / "submitted" / "hv01x" / EXAM
    shutil.copytree(course / "submitted" / "hv01" / EXAM, killer)
    nb = nbformat.read(killer / "exam.ipynb", as_version=4)
    # Aims at the kernel's grandparent (the worker, once: nbgrader itself would die). In the
    # sandbox the kernel's parent is the sandbox's init, whose parent is out of sight: the
    # learner kills only their own kernel. Forked by the sandboxed zygote (grading as an
    # unprivileged account), the kernel is pid 1 of its own namespace, with no parent in sight
    # and immune to its own signals: it can only end itself.
    nb.cells[1].source = ("import os, signal\nif os.getppid() == 0:\n    os._exit(1)\n"
                          "with open(f'/proc/{os.getppid()}/stat') as f:\n"
                          "    os.kill(int(f.read().rsplit(')', 1)[1].split()[1]), signal.SIGKILL)")
    nbformat.write(nb, killer / "exam.ipynb")
    result = CliRunner().invoke(grade, [EXAM, "--course-dir", str(course), "--student", "hv01*",
                                        "--json"])
    data = json.loads(result.output[result.output.index("{"):])
    assert data["graded"] == ["hv01"] and data["failed"] == ["hv01x"]
    assert [(p["student"], p["kind"]) for p in data["problems"]] in ([("hv01x", "kernel")],
                                                                     [("hv01x", "worker")])
    rows = snapshot(f"sqlite:///{course}/gradebook.db", EXAM)
    assert rows["hv01"]["score"] == 6.0
