"""RemoveAddedCells (assessments/grading/strict.py) on a real nbgrader gradebook, without kernels:
which cells are kept, what is recorded, and the hub's upgrade of an existing course config.
The graded attacks themselves are in tests/security/test_strict_grading.py."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbgrader import utils
from nbgrader.api import Gradebook

from assessments.grading.strict import RemoveAddedCells, excerpt, read_flag, read_flags

EXAM = "kt"


def _cell(source: str, grade_id: str, kind: str = "code", **flags):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True,
                                 "grade_id": grade_id, "schema_version": 3, **flags}
    return cell


def _released(with_code_answer: bool = False):
    cells = [_cell("bai = 1", "dau-bai"), _cell("# Câu hỏi", "gioi-thieu", "markdown"),
             _cell("bai + 1", "cau-1", grade=True, points=2)]
    if with_code_answer:
        cells.append(_cell("x = None", "tra-loi", solution=True, locked=False))
    return cells


def _gradebook(tmp_path: Path, notebook: str, cells) -> str:
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        if not gb.assignments:
            gb.add_assignment(EXAM)
        gb.add_notebook(notebook, EXAM)
        for cell in cells:
            meta = cell.metadata["nbgrader"]
            gb.add_source_cell(meta["grade_id"], notebook, EXAM, cell_type=cell.cell_type,
                               locked=utils.is_locked(cell), source=cell.source,
                               checksum=utils.compute_checksum(cell))
            if meta.get("grade"):
                gb.add_grade_cell(meta["grade_id"], notebook, EXAM, max_score=meta["points"],
                                  cell_type=cell.cell_type)
            if meta.get("solution"):
                gb.add_solution_cell(meta["grade_id"], notebook, EXAM)
    return url


def _run(url: str, notebook: str, cells) -> tuple[list, dict]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(json.loads(json.dumps(c))) for c in cells])
    resources = {"nbgrader": {"db_url": url, "notebook": notebook, "assignment": EXAM}}
    nb, resources = RemoveAddedCells().preprocess(nb, resources)
    return nb.cells, json.loads(resources["outputs"][f"{notebook}.strict-grading.json"])


def _ids(cells) -> list:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]


def test_an_untouched_widget_exam_is_kept_whole(tmp_path):
    url = _gradebook(tmp_path, "bai", _released())
    cells, record = _run(url, "bai", _released())
    assert _ids(cells) == ["dau-bai", "gioi-thieu", "cau-1"]
    assert record["strict"] and record["removed"] == 0 and not record["flagged"]


def test_added_cloned_and_forged_cells_are_removed(tmp_path):
    url = _gradebook(tmp_path, "bai", _released())
    released = _released()
    clone_before = _cell("g._score = 'before'", "cau-1", grade=True, points=2)
    tampered_copy = _cell("g._score = 'after'", "dau-bai")  # the original stays intact
    cells = [released[0], nbformat.v4.new_code_cell("import os\nprint('\x1b[31mđáp án\u202e')"),
             released[1], clone_before, released[2], tampered_copy,
             _cell("g._score = 'forged'", "o-them"), nbformat.v4.new_markdown_cell("  ")]
    kept, record = _run(url, "bai", cells)
    assert [c.source for c in kept] == [c.source for c in released]
    assert record["removed"] == 5 and record["flagged"]
    assert [c["index"] for c in record["cells"]] == [1, 3, 5, 6, 7]
    assert record["cells"][0]["excerpt"] == "import os ⏎ print('[31mđáp án')"
    assert record["cells"][4]["excerpt"] == ""


def test_only_empty_added_cells_are_removed_without_a_flag(tmp_path):
    url = _gradebook(tmp_path, "bai", _released())
    kept, record = _run(url, "bai", [*_released(), nbformat.v4.new_code_cell("")])
    assert len(kept) == 3 and record["removed"] == 1 and not record["flagged"]


def test_a_notebook_with_code_answers_is_not_graded_strictly(tmp_path):
    """A programming exercise: the cells a learner adds are part of their answer."""
    url = _gradebook(tmp_path, "lap-trinh", _released(with_code_answer=True))
    cells = [*_released(with_code_answer=True), nbformat.v4.new_code_cell("def f(): pass")]
    kept, record = _run(url, "lap-trinh", cells)
    assert len(kept) == 5 and not record["strict"] and record["removed"] == 0


def test_excerpt_is_one_safe_short_line():
    assert excerpt("a\n\n  b\t\x07c\u202e") == "a ⏎ bc"
    assert len(excerpt("x" * 1000)) == 160


def test_read_flags_lists_flagged_notebooks_only(tmp_path):
    for student, flagged in (("hv1", True), ("hv2", False)):
        folder = tmp_path / "autograded" / student / EXAM
        folder.mkdir(parents=True)
        (folder / "bai.strict-grading.json").write_text(json.dumps(
            {"notebook": "bai", "strict": True, "removed": 1, "flagged": flagged,
             "cells": [{"index": 1, "cell_type": "code", "excerpt": "print(1)"}]}))
    (tmp_path / "autograded" / "hv2" / EXAM / "x.strict-grading.json").write_text("{hỏng")
    rows = read_flags(tmp_path, EXAM)
    assert [(r["student"], r["removed"], r["cells"][0]["excerpt"]) for r in rows] == [("hv1", 1, "print(1)")]
    assert read_flag(tmp_path / "missing.json") is None


@pytest.mark.parametrize("has_it", [False, True])
def test_an_existing_course_config_gets_strict_grading_once(tmp_path, has_it):
    from kynangso.exams.course import (
        NBGRADER_CONFIG,
        STRICT_CONFIG,
        ExamPlaces,
        ensure_strict_grading,
    )

    where = ExamPlaces(tmp_path, "kiem-tra")
    where.course.mkdir()
    text = NBGRADER_CONFIG if has_it else NBGRADER_CONFIG.replace(STRICT_CONFIG, "")
    config = where.course / "nbgrader_config.py"
    config.write_text(text.format(course="c", course_id="kiem-tra", exchange="e"), encoding="utf-8")
    ensure_strict_grading(where)
    ensure_strict_grading(where)
    assert config.read_text(encoding="utf-8").count("RemoveAddedCells") == 1
