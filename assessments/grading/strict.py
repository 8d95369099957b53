"""Strict grading of widget exams: cells that were not released are removed before execution.

A widget exam notebook is one without code answer cells (nbgrader solution cells of type code):
the learner answers through widgets, whose answers are kept in the sidecar. Every released
cell of our exams is locked and known to the gradebook (nbgrader's source cells), and nbgrader
puts each locked cell back as released (OverwriteCells). A cell the
learner added is the only learner code that would still run in the grading kernel, before the
hidden tests: one line patching the scorer gave full points. `RemoveAddedCells` drops every
cell that is not one of the notebook's source cells, matched by nbgrader grade_id:

- a cell without nbgrader metadata, or with a grade_id the gradebook does not know;
- a second cell with a known grade_id (a copy of a released cell's metadata): the copy that
  matches the released checksum is kept (for a cell the learner may edit, the last one, as
  nbgrader's DeduplicateIds keeps), the others are removed.

So the hidden tests run only instructor code over the sidecar (parsed as JSON, never run).
A notebook with code answer cells (a programming exercise) is left as it is: the cells a
learner adds there are part of their answer, and run in the grading sandbox like the rest.

It is an nbgrader sanitize preprocessor, placed in `Autograde.sanitize_preprocessors` of the
platform's exam course (kynangso.exams.course.NBGRADER_CONFIG) right after ClearOutput and
before DeduplicateIds, OverwriteCells and CheckCellMetadata. nbgrader writes the sanitized
notebook to the autograded folder and executes that file, so what is removed here never runs;
`kns grade` runs the course's sanitize preprocessors in its workers (worker.py), so both
graders do the same.

The record (the flag): `<notebook>.strict-grading.json` beside the autograded notebook,
written by nbgrader's own writer (resources["outputs"]) for every notebook graded strictly,
so a file of that name planted in a submission is overwritten:

    {"schema_version": 1, "notebook": "van-ban", "strict": true, "removed": 1, "flagged": true,
     "cells": [{"index": 1, "cell_type": "code", "excerpt": "import assessments..."}]}

`removed` counts every removed cell; `flagged` is true when one of them had content (an empty
cell added by a stray Shift+Enter is removed without a flag); `cells` lists the first
MAX_LISTED removed cells with a short excerpt of their text (control and bidi characters
dropped). Instructors find it in the autograded folder; `kns grade` lists flagged submissions
in its summary; `read_flags` is what reports read.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

SCHEMA_VERSION = 1
SUFFIX = ".strict-grading.json"
EXCERPT_CHARS = 160
MAX_LISTED = 10


def flag_name(notebook_id: str) -> str:
    return f"{notebook_id}{SUFFIX}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters, safe to print on a terminal or a page: line
    breaks become " ⏎ ", other control and format characters (escapes, bidi overrides) go."""
    text = unicodedata.normalize("NFC", str(text)).strip()
    text = " ⏎ ".join(line.strip() for line in text.splitlines() if line.strip())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RemoveAddedCells(NbGraderPreprocessor):
    """Remove every cell that is not one of the notebook's released (source) cells."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            released = {c.name: (c.checksum, c.locked) for c in notebook.source_cells}
            code = {c.name for c in notebook.source_cells if c.cell_type == "code"}
            widget_exam = not code & {c.name for c in notebook.solution_cells}
        if widget_exam:
            keep = self._kept(nb.cells, released)
        else:
            # The learner writes code in this notebook: cells they add are their code too.
            self.log.debug("%s has code answer cells: not graded strictly", info["notebook"])
            keep = set(range(len(nb.cells)))
        removed = [(i, c) for i, c in enumerate(nb.cells) if i not in keep]
        nb.cells = [c for i, c in enumerate(nb.cells) if i in keep]
        record = {
            "schema_version": SCHEMA_VERSION, "notebook": info["notebook"],
            "strict": widget_exam, "removed": len(removed),
            "flagged": any(str(c.get("source", "")).strip() for _, c in removed),
            "cells": [{"index": i, "cell_type": c.get("cell_type", "?"),
                       "excerpt": excerpt(c.get("source", ""))} for i, c in removed[:MAX_LISTED]],
        }
        if removed:
            self.log.warning("Removed %d cell(s) not in the released notebook %s",
                             len(removed), info["notebook"])
        outputs = resources.setdefault("outputs", {})
        outputs[flag_name(info["notebook"])] = json.dumps(
            record, ensure_ascii=False, indent=1).encode("utf-8")
        return nb, resources

    @staticmethod
    def _kept(cells, released: dict[str, tuple[str, bool]]) -> set[int]:
        """Indexes of the cells to keep: one per released grade_id."""
        by_id: dict[str, list[int]] = {}
        for i, cell in enumerate(cells):
            meta = cell.get("metadata", {}).get("nbgrader")
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(grade_id, str) and grade_id in released:
                by_id.setdefault(grade_id, []).append(i)
        keep = set()
        for grade_id, found in by_id.items():
            checksum, locked = released[grade_id]
            chosen = found[-1]  # as DeduplicateIds: the last one
            if locked and len(found) > 1:
                intact = [i for i in found if _checksum(cells[i]) == checksum]
                chosen = intact[-1] if intact else chosen
            keep.add(chosen)
        return keep

    def preprocess_cell(self, cell, resources, index):  # preprocess() does the work
        return cell, resources


def _checksum(cell) -> str | None:
    try:
        return utils.compute_checksum(cell)
    except Exception:  # malformed metadata: not the released cell
        return None


def is_strict(converter) -> bool:
    """Whether this Autograde converter's course grades strictly (the preprocessor is configured)."""
    from traitlets.utils.importstring import import_item

    for pp in converter.sanitize_preprocessors:
        cls = import_item(pp) if isinstance(pp, str) else pp
        if isinstance(cls, type) and issubclass(cls, RemoveAddedCells):
            return True
    return False


def read_flag(path: Path | str) -> dict[str, Any] | None:
    """One flag file, None if it is missing or unreadable (it is a record for people only)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("removed"), int):
        return None
    cells = data.get("cells") if isinstance(data.get("cells"), list) else []
    return {"notebook": str(data.get("notebook", "")), "strict": bool(data.get("strict", True)),
            "removed": data["removed"],
            "flagged": bool(data.get("flagged")),
            "cells": [{"index": c.get("index"), "cell_type": str(c.get("cell_type", "?")),
                       "excerpt": excerpt(c.get("excerpt", ""))}
                      for c in cells if isinstance(c, dict)]}


def read_flags(course_dir: Path | str, exam: str, autograded: str = "autograded") -> list[dict]:
    """Every flagged notebook of `exam` in a course folder: [{"student", "notebook", "removed",
    "flagged", "cells"}], by student then notebook (what reports show beside the score)."""
    rows = []
    root = Path(course_dir) / autograded
    for path in sorted(root.glob(f"*/{exam}/*{SUFFIX}")):
        if path.is_symlink():  # not written by nbgrader's writer
            continue
        student = path.parent.parent.name
        record = read_flag(path)
        if record and record["flagged"]:
            rows.append({"student": student, **record})
    return rows
