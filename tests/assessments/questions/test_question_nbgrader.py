"""The real pipeline: an exam built with the question widgets, released with `nbgrader
generate_assignment`, answered through a sidecar, graded with `nbgrader autograde`.

The assertions are on nbgrader's own gradebook: partial credit from a scorer's return value
reaches it as is, and a zero is a zero (not the full points nbgrader gives a test cell that
merely runs without error).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from assessments.questions.sidecar import Sidecar

BIN = os.path.dirname(sys.executable)
REPO = Path(__file__).resolve().parents[3]
EXAM = "thi1"
LETTER = "Kính gửi: <UBND xã> & các phòng ban"


def nbgrader(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the real `nbgrader` (its bin folder on PATH: it shells out to alembic); kernels
    import this working tree, not the installed copy."""
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("JUPYTERHUB_USER", None)
    done = subprocess.run([os.path.join(BIN, "nbgrader"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"nbgrader {args} failed:\n{done.stderr[-3000:]}"
    return done


def cell(kind: str, source: str, grade_id: str, *, grade=False, points=0, task=False):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    c = make(source)
    meta = {"grade": grade, "solution": False, "locked": True, "grade_id": grade_id,
            "schema_version": 3}
    if task:
        meta = {**meta, "task": True, "grade": False}
    if grade or task:
        meta["points"] = points
    c.metadata["nbgrader"] = meta
    return c


def hidden(body: str) -> str:
    return f"### BEGIN HIDDEN TESTS\n{body}\n### END HIDDEN TESTS"


def exam_source():
    imp = "from assessments.questions.grading import score_single, score_number, score_multiple\n"
    cells = [
        cell("code", 'from assessments.questions import Exam\nbai = Exam("thi1")\n'
             'bai.header("Bài thi thử", minutes=30)', "setup"),
        cell("code", 'bai.single_choice("cau-1", "Trụ sở UBND tỉnh đặt ở đâu?", options=['
             '("hn", "Hà Nội"), ("hue", "Huế"), ("sg", "TP. Hồ Chí Minh")])', "cau1"),
        cell("code", hidden(imp + 'score_single("thi1", "cau-1", correct="hn", points=2)'),
             "test_cau1", grade=True, points=2),
        cell("code", 'bai.number("cau-2", "Tổng số văn bản đến?", unit="văn bản")', "cau2"),
        cell("code", hidden(imp + 'score_number("thi1", "cau-2", expected=1234.5, points=1)'),
             "test_cau2", grade=True, points=1),
        cell("code", 'bai.multiple_choice("cau-3", "Chọn các loại văn bản hành chính:", '
             'options=["Công văn", "Luật", "Tờ trình", "Hiến pháp"])', "cau3"),
        cell("code", hidden(imp + 'score_multiple("thi1", "cau-3", correct=["a", "c"], points=2)'),
             "test_cau3", grade=True, points=2),
        cell("code", 'bai.written("cau-4", "Soạn phần mở đầu một công văn.")', "cau4"),
        cell("markdown", "Giảng viên chấm câu 4 theo bài làm hiển thị ở trên.", "task_cau4",
             task=True, points=3),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def submit(course: Path, student: str, release, answers: dict | None, raw: str | None = None):
    folder = course / "submitted" / student / EXAM
    folder.mkdir(parents=True)
    nbformat.write(release, folder / "thi.ipynb")
    (folder / "timestamp.txt").write_text("2026-03-02 08:30:00.000000 UTC", encoding="utf-8")
    if raw is not None:
        (folder / f"{EXAM}.answers.json").write_text(raw, encoding="utf-8")
    for item, value in (answers or {}).items():
        Sidecar(EXAM, student, folder).save(item, value)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course with four submissions (right, partial, no sidecar, damaged), not yet graded."""
    course = tmp_path_factory.mktemp("nbg") / "course"
    (course / "source" / EXAM).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'kns-questions'\n", encoding="utf-8")
    nbformat.write(exam_source(), course / "source" / EXAM / "thi.ipynb")
    nbgrader(["generate_assignment", EXAM], cwd=course)
    release = nbformat.read(course / "release" / EXAM / "thi.ipynb", as_version=4)
    submit(course, "an", release, {"cau-1": "hn", "cau-2": 1234.5, "cau-3": ["a", "c"],
                                   "cau-4": LETTER})
    submit(course, "binh", release, {"cau-1": "hue", "cau-2": 1234.5, "cau-3": ["a", "b", "c"]})
    submit(course, "chi", release, None)
    submit(course, "dung", release, None, raw='{"answers": {"cau-1": ')
    return course


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    """A copy of the course graded by the real `nbgrader autograde`."""
    copy = shutil.copytree(course, tmp_path_factory.mktemp("nbgrader") / "course")
    nbgrader(["autograde", EXAM], cwd=copy)
    return copy


def scores(course: Path, student: str) -> dict[str, float | str]:
    """grade cell -> score, or "manual" for a cell waiting for the instructor."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook("thi", EXAM, student)
        return {g.name: "manual" if g.needs_manual_grade else g.score for g in sub.grades}


def test_release_has_neither_hidden_tests_nor_answer_key(graded):
    """Does the released notebook keep the questions but drop hidden tests and the answer key?"""
    text = (graded / "release" / EXAM / "thi.ipynb").read_text(encoding="utf-8")
    assert "single_choice" in text and "Hà Nội" in text
    for secret in ("HIDDEN TESTS", "score_", "correct=", "expected=", "1234.5"):
        assert secret not in text, secret


def test_right_answers_get_full_points(graded):
    """Do right answers earn every point, cell by cell?"""
    assert scores(graded, "an") == {"test_cau1": 2, "test_cau2": 1, "test_cau3": 2,
                                    "task_cau4": "manual"}


def test_partial_answers_get_partial_credit(graded):
    """Does a wrong choice give 0, and one wrong tick among two right ones give half marks?"""
    got = scores(graded, "binh")
    assert (got["test_cau1"], got["test_cau2"], got["test_cau3"]) == (0, 1, 1)


@pytest.mark.parametrize("student", ["chi", "dung"])
def test_no_or_damaged_sidecar_gives_zero_not_full_points(graded, student):
    """Does a learner with no (or a damaged) sidecar get 0 on every auto-graded item?"""
    got = scores(graded, student)
    assert (got["test_cau1"], got["test_cau2"], got["test_cau3"]) == (0, 0, 0)


def test_damaged_sidecar_is_reported_on_stdout(graded):
    """Does the autograded notebook say the sidecar is damaged (on stdout, not as an error)?"""
    nb = nbformat.read(graded / "autograded" / "dung" / EXAM / "thi.ipynb", as_version=4)
    test_cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "test_cau1")
    streams = [o for o in test_cell.outputs if o.output_type == "stream"]
    assert [o.name for o in streams] == ["stdout"]
    assert "bị hỏng" in streams[0].text
    assert not any(o.output_type == "error" for o in test_cell.outputs)


def test_written_answer_is_shown_escaped_to_the_instructor(graded):
    """Does the autograded notebook show the written answer as static, escaped HTML?"""
    nb = nbformat.read(graded / "autograded" / "an" / EXAM / "thi.ipynb", as_version=4)
    written = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "cau4")
    html = "".join(o.get("data", {}).get("text/html", "") for o in written.outputs)
    assert "Kính gửi: &lt;UBND xã&gt; &amp; các phòng ban" in html
    empty = nbformat.read(graded / "autograded" / "chi" / EXAM / "thi.ipynb", as_version=4)
    written = next(c for c in empty.cells if c.metadata["nbgrader"]["grade_id"] == "cau4")
    assert "Chưa có bài làm" in "".join(o.get("data", {}).get("text/html", "")
                                         for o in written.outputs)


def test_kns_grade_gives_the_same_scores(course, graded, tmp_path, monkeypatch):
    """Does the platform's own grader (`kns grade`) give the same scores as nbgrader?"""
    from click.testing import CliRunner

    from assessments.grading.cli import grade

    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    copy = shutil.copytree(course, tmp_path / "course")
    result = CliRunner().invoke(grade, [EXAM, "--course-dir", str(copy), "--workers", "2"])
    assert result.exit_code == 0, result.output
    for student in ("an", "binh", "chi", "dung"):
        assert scores(copy, student) == scores(graded, student), student
