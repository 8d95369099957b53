"""Write source/<exam>/<exam>.ipynb for every exam of exam_items.py (the source of truth).

    python assessments/exams/build_notebooks.py          # rewrite the four notebooks
    python assessments/exams/build_notebooks.py --check  # exit 1 if a notebook is stale

Every code cell is read-only (nbgrader `locked`) with its source hidden in JupyterLab, as in
the courses; each graded item is a widget cell followed by a hidden test cell whose last
expression is the score (nbgrader partial credit); a written task is a "Manually graded task"
markdown cell followed by the read-only `bai.written(...)` cell. Every graded cell carries the
competence tag (cell metadata "kynangso", assessments/competency/item_metadata.schema.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from exam_items import EXAMS, ExamDef, Item  # noqa: E402

HIDDEN = {"jupyter": {"source_hidden": True}, "tags": ["hide-input"]}
TASK_CLASSES = "assessments.questions.tasks"


def _meta(grade_id: str, *, grade: bool = False, task: bool = False, points: float = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": True, "schema_version": 3,
            "solution": False, "task": task}
    if grade or task:
        meta["points"] = points
    return meta


def _tag(item: Item) -> dict:
    return {"schema_version": 1, "item_id": item.item_id, "competence": item.competence,
            "level": item.level, "points": item.points, "simulation": item.simulation}


def _code(source: str, nbgrader: dict, tag: dict | None = None):
    cell = nbformat.v4.new_code_cell(source)
    cell.id = nbgrader["grade_id"]  # stable ids: the committed notebook is reproducible
    cell.metadata.update(json.loads(json.dumps(HIDDEN)))
    cell.metadata["nbgrader"] = nbgrader
    if tag is not None:
        cell.metadata["kynangso"] = tag
    return cell


def _markdown(source: str, nbgrader: dict, tag: dict | None = None):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.id = nbgrader["grade_id"]
    cell.metadata["nbgrader"] = nbgrader
    if tag is not None:
        cell.metadata["kynangso"] = tag
    return cell


def _lit(value) -> str:
    """A Python literal for generated code (tuples as lists, text with its diacritics)."""
    if isinstance(value, tuple):
        value = [list(v) if isinstance(v, tuple) else v for v in value]
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, float | int) \
        else repr(value)


def widget_source(exam: ExamDef, item: Item, number: int) -> str:
    title = f"Câu {number} ({_points(item.points)} điểm)"
    args = f"{_lit(item.item_id)}, title={_lit(title)}"
    if item.kind == "task":
        return f"bai.{item.method}({args})"
    prompt = _lit(item.prompt)
    if item.kind == "single":
        return f"bai.single_choice({args},\n    prompt={prompt},\n    options={_lit(item.options)})"
    if item.kind == "multiple":
        return f"bai.multiple_choice({args},\n    prompt={prompt},\n    options={_lit(item.options)})"
    if item.kind == "number":
        return f"bai.number({args},\n    prompt={prompt}, unit={_lit(item.unit)})"
    if item.kind == "text":
        return f"bai.short_text({args},\n    prompt={prompt})"
    if item.kind == "ordering":
        return f"bai.ordering({args},\n    prompt={prompt},\n    items={_lit(item.options)})"
    if item.kind == "written":
        return (f"bai.written({_lit(item.item_id)}, title={_lit(title)},\n"
                f"    prompt={_lit(item.prompt)}, rows={item.rows})")
    raise ValueError(item.kind)


def test_source(exam: ExamDef, item: Item) -> str:
    e, i, p = _lit(exam.exam_id), _lit(item.item_id), _lit(item.points)
    if item.kind == "task":
        from assessments.questions.tasks import TASKS

        module, name = TASKS[item.method]
        body = (f"from assessments.questions.grading import score_item\n"
                f"from {TASK_CLASSES}.{module} import {name}\n\n"
                f"score_item({e}, {i}, {name}, {p})")
    else:
        a = item.answer
        if item.kind == "single":
            helper, arg = "score_single", f"correct={_lit(a)}"
        elif item.kind == "number":
            helper, arg = "score_number", f"expected={_lit(a)}, tolerance={_lit(item.tolerance)}"
        else:
            helper = {"multiple": "score_multiple", "text": "score_text",
                      "ordering": "score_ordering"}[item.kind]
            arg = f"{'accepted' if item.kind == 'text' else 'correct'}={_lit(list(a))}"
        body = (f"from assessments.questions.grading import {helper}\n\n"
                f"{helper}({e}, {i}, {arg}, points={p})")
    return f"### BEGIN HIDDEN TESTS\n{body}\n### END HIDDEN TESTS"


def _points(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def notebook(exam: ExamDef):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    cells = [
        _code(f"from assessments.questions import Exam\n\nbai = Exam({_lit(exam.exam_id)})\n"
              f"bai.header({_lit(exam.title)}, {exam.minutes});", _meta("dau-bai")),
        _markdown(f"# {exam.title}\n\n{exam.intro}\n\nThời gian làm bài: {exam.minutes} phút. "
                  f"Tổng điểm: {_points(exam.auto_points + exam.manual_points)} "
                  f"({_points(exam.manual_points)} điểm do giảng viên chấm).",
                  _meta("gioi-thieu")),
    ]
    for n, item in enumerate(exam.items, 1):
        if item.kind == "written":
            cells.append(_markdown(
                f"### Câu {n} ({_points(item.points)} điểm, giảng viên chấm)\n\n{item.prompt}",
                _meta(item.item_id, task=True, points=item.points), _tag(item)))
            cells.append(_code(widget_source(exam, item, n) + ";", _meta(f"{item.item_id}-tra-loi")))
            continue
        # `;`: the widget is displayed once (by Exam.show), not again as the cell's result.
        cells.append(_code(widget_source(exam, item, n) + ";", _meta(f"{item.item_id}-cau-hoi")))
        cells.append(_code(test_source(exam, item),
                           _meta(item.item_id, grade=True, points=item.points), _tag(item)))
    cells.append(_markdown("---\nHết bài. Anh/Chị kiểm tra lại các câu trả lời (mỗi câu hiện "
                           "«Đã lưu câu trả lời»), rồi nộp bài: menu **Nbgrader › Assignment List**, "
                           "bấm **Submit** bên cạnh tên bài thi.",
                           _meta("ket-thuc")))
    nb.cells = cells
    return nb


def path_of(exam_id: str, root: Path = HERE) -> Path:
    return root / "source" / exam_id / f"{exam_id}.ipynb"


def render(exam: ExamDef) -> str:
    return nbformat.writes(notebook(exam)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a notebook is stale")
    args = parser.parse_args(argv)
    stale = []
    for exam in EXAMS.values():
        path, text = path_of(exam.exam_id), render(exam)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        print(f"wrote {path}")
    if stale:
        print("stale (run build_notebooks.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
