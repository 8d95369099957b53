"""The real exam course (assessments/exams) with submissions of every kind, for the equivalence
test of `kns grade` against `nbgrader autograde` (test_equivalence_exams.py).

The course is released with the real `nbgrader generate_assignment`; answers are written by
`simulate_submission` (assessments/exams/answers.py, imported from the checkout: that folder
is deliberately not an installed package), then some submissions are tampered with as a
cheating or careless learner would. Also: an autograded-notebook comparison that ignores what
differs between any two runs (widget model ids, execution timings, the course folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from kynangso.exams.course import answer_keys_config
from tests.assessments.grading.conftest import COURSE_CONFIG, TIMEOUT_S

# The per-cell limit of both graders for the real exams (see TIMEOUT_S's comment).
GRADING_TIMEOUT_S = TIMEOUT_S

REPO = Path(__file__).resolve().parents[3]
EXAMS_DIR = REPO / "assessments" / "exams"
BIN = os.path.dirname(sys.executable)
ON_TIME = "2026-03-02 08:30:00.000000 UTC"
# A student graded first whose answers are copied by the "copied_sidecar" case.
SOURCE_OF_COPY = "a-correct"


def exam_tools():
    """(simulate_submission, EXAMS) from the checkout's assessments/exams."""
    if str(EXAMS_DIR) not in sys.path:
        sys.path.insert(0, str(EXAMS_DIR))
    from answers import simulate_submission
    from exam_items import EXAMS

    return simulate_submission, EXAMS


def grading_env(state: Path, home: Path) -> dict[str, str]:
    """The environment of both graders: the exam tests' own (see that conftest)."""
    from tests.assessments.exams.conftest import env_for

    return env_for(state, home)


def nbgrader(args: list[str], cwd: Path, env: dict[str, str], check: bool = True):
    done = subprocess.run([os.path.join(BIN, "nbgrader"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    if check and done.returncode != 0:
        raise AssertionError(f"nbgrader {args} failed:\n{done.stderr[-3000:]}")
    return done


def kns_grade(exam: str, course: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    """`kns grade EXAM --json` in a subprocess (same environment as nbgrader); its report."""
    done = subprocess.run([sys.executable, "-m", "assessments.grading", exam, "--course-dir",
                           str(course), "--json", *extra], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    out = done.stdout
    if "{" not in out:
        raise AssertionError(f"kns grade {exam} printed no report (exit {done.returncode}):\n"
                             f"{done.stderr[-3000:]}")
    return json.loads(out[out.index("{"):])


def build_course(base: Path, exams: list[str], env: dict[str, str]) -> Path:
    """A course folder holding `exams` from the checkout, each released."""
    root = base / "kiem-tra"
    for exam in exams:
        shutil.copytree(EXAMS_DIR / "source" / exam, root / "source" / exam)
    # As the platform's course: the grader writes the tasks' answer keys into the hidden tests.
    shutil.copyfile(EXAMS_DIR / "answer_keys.py", root / "answer_keys.py")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n" + COURSE_CONFIG + answer_keys_config(root / "answer_keys.py"),
        encoding="utf-8")
    for exam in exams:
        nbgrader(["generate_assignment", exam], root, env)
    return root


# ---------------------------------------------------------------- submissions


@dataclass
class Submitter:
    """Writes submissions of one exam into `course`/submitted, as the exchange would."""

    course: Path
    exam: str
    pki: Any

    def folder(self, student: str) -> Path:
        return self.course / "submitted" / student / self.exam

    def notebook_path(self, student: str) -> Path:
        return self.folder(student) / f"{self.exam}.ipynb"

    def sidecar_path(self, student: str) -> Path:
        return self.folder(student) / f"{self.exam}.answers.json"

    def start(self, student: str, quality: str) -> Path:
        """The released folder, answered at `quality` by `student`, with an on-time timestamp."""
        simulate, _ = exam_tools()
        folder = self.folder(student)
        shutil.copytree(self.course / "release" / self.exam, folder)
        simulate(self.exam, student, folder, quality, pki=self.pki)
        (folder / "timestamp.txt").write_text(ON_TIME, encoding="utf-8")
        return folder

    def edit(self, student: str, change: Callable[[Any], None]) -> None:
        nb = nbformat.read(self.notebook_path(student), as_version=4)
        change(nb)
        nbformat.write(nb, self.notebook_path(student))

    def add_cell(self, student: str, source: str) -> None:
        """A code cell the learner added after the first cell (no nbgrader metadata)."""
        self.edit(student, lambda nb: nb.cells.insert(1, nbformat.v4.new_code_cell(source)))


def _grade_cells(nb) -> list:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and c.cell_type == "code"]


def case_quality(quality: str) -> Callable[[Submitter, str], None]:
    def make(s: Submitter, student: str) -> None:
        s.start(student, quality)
    return make


def case_scorer_cheat(s: Submitter, student: str) -> None:
    """Wrong answers, and a cell that replaces the scoring function every hidden test calls."""
    s.start(student, "wrong")
    s.add_cell(student, "import assessments.questions.grading as g\n"
                        "g._score = lambda cls, task, exam, item, points, folder: float(points)")


def case_fake_sidecar(s: Submitter, student: str) -> None:
    """Wrong answers saved, and a cell that writes this learner's right answers over the
    sidecar while the notebook runs."""
    simulate, _ = exam_tools()
    s.start(student, "wrong")
    with tempfile.TemporaryDirectory() as tmp:
        simulate(s.exam, student, Path(tmp), "correct", pki=s.pki)
        text = (Path(tmp) / s.sidecar_path(student).name).read_text(encoding="utf-8")
    s.add_cell(student, f"with open({s.sidecar_path(student).name!r}, 'w', encoding='utf-8') as f:\n"
                        f"    f.write({text!r})")


def case_copied_sidecar(s: Submitter, student: str) -> None:
    """Everything the learner SOURCE_OF_COPY saved (sidecar, signed files) copied into this
    learner's folder: another variant, so the simulation tasks should score as wrong."""
    s.start(student, "blank")
    for path in s.folder(SOURCE_OF_COPY).iterdir():
        if path.suffix != ".ipynb" and path.name != "timestamp.txt":
            shutil.copy2(path, s.folder(student) / path.name)


WRONG_TYPES = {
    "single": ["b"], "multiple": "abc", "number": "mười hai", "text": 1,
    "ordering": "tiep-nhan,dang-ky", "task": "đã làm", "written": {"text": 1},
}


def case_wrong_types(s: Submitter, student: str) -> None:
    """A hand-edited sidecar: every value of the wrong type, the first record not even a dict."""
    _, exams = exam_tools()
    s.start(student, "blank")
    items = exams[s.exam].items
    answers: dict[str, Any] = {i.item_id: {"value": WRONG_TYPES[i.kind]} for i in items}
    answers[items[0].item_id] = "b"
    data = {"schema_version": 1, "exam": s.exam, "learner": student, "answers": answers}
    s.sidecar_path(student).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def case_edited_test(s: Submitter, student: str) -> None:
    """Right answers; every grade cell's (empty, released) source replaced by full marks."""
    s.start(student, "correct")

    def change(nb):
        for cell in _grade_cells(nb):
            cell.source = str(cell.metadata["nbgrader"]["points"])
    s.edit(student, change)


def case_corrupt_notebook(s: Submitter, student: str) -> None:
    s.start(student, "correct")
    s.notebook_path(student).write_text('{"cells": [ không phải sổ tay', encoding="utf-8")


def case_deleted_cell(s: Submitter, student: str) -> None:
    """Right answers; the last grade cell deleted by the learner."""
    s.start(student, "correct")

    def change(nb):
        nb.cells.remove(_grade_cells(nb)[-1])
    s.edit(student, change)


def case_damaged_sidecar(s: Submitter, student: str) -> None:
    s.start(student, "correct")
    text = s.sidecar_path(student).read_text(encoding="utf-8")
    s.sidecar_path(student).write_text(text[: len(text) // 2], encoding="utf-8")  # cut off


def case_sidecar_bad_shape(s: Submitter, student: str) -> None:
    s.start(student, "correct")
    s.sidecar_path(student).write_text('["b", "a"]', encoding="utf-8")


def case_missing_sidecar(s: Submitter, student: str) -> None:
    """Right answers (and any signed file), the sidecar deleted."""
    s.start(student, "correct")
    s.sidecar_path(student).unlink()


def case_infinite_loop(s: Submitter, student: str) -> None:
    s.start(student, "correct")
    s.add_cell(student, "while True:\n    pass")


def case_huge_output(s: Submitter, student: str) -> None:
    s.start(student, "correct")
    s.add_cell(student, "print('\\n'.join(str(i) for i in range(200000)))")


# Student id -> how the submission is made. Ids sort in the order nbgrader grades them:
# SOURCE_OF_COPY before the copy, the scorer cheat just before an honest learner (no leak).
CASES: dict[str, Callable[[Submitter, str], None]] = {
    "a-correct": case_quality("correct"),
    "a-partial": case_quality("partial"),
    "a-wrong": case_quality("wrong"),
    "a-blank": case_quality("blank"),
    "b-corrupt-notebook": case_corrupt_notebook,
    "b-damaged-sidecar": case_damaged_sidecar,
    "b-deleted-cell": case_deleted_cell,
    "b-huge-output": case_huge_output,
    "b-infinite-loop": case_infinite_loop,
    "b-missing-sidecar": case_missing_sidecar,
    "b-sidecar-bad-shape": case_sidecar_bad_shape,
    "c-copied-sidecar": case_copied_sidecar,
    "c-edited-test": case_edited_test,
    "c-fake-sidecar": case_fake_sidecar,
    "c-scorer-cheat": case_scorer_cheat,
    "c-scorer-cheat-next": case_quality("wrong"),
    "c-wrong-types": case_wrong_types,
}


def submit_cases(course: Path, exam: str, pki, students: list[str]) -> None:
    submitter = Submitter(course, exam, pki)
    for student in students:
        CASES[student](submitter, student)


# ---------------------------------------------------------------- comparison


def _refs(value: Any, found: list[str]) -> None:
    """Widget model ids a widget state refers to ("IPY_MODEL_<id>"), in a fixed order."""
    if isinstance(value, str) and value.startswith("IPY_MODEL_"):
        found.append(value[len("IPY_MODEL_"):])
    elif isinstance(value, dict):
        for key in sorted(value):
            _refs(value[key], found)
    elif isinstance(value, list):
        for item in value:
            _refs(item, found)


def _widget_names(nb: dict) -> dict[str, str]:
    """model id -> a name given by where the model is first reached: from the displayed
    widgets in cell order, then through the references in their state; models never displayed
    (and not referred to by another) are reached in the order of what they hold. Ids are random
    per run and the saved state is sorted by id, so only this order is comparable between runs."""
    state = (nb.get("metadata", {}).get("widgets", {})
             .get("application/vnd.jupyter.widget-state+json", {}).get("state", {}))
    roots = [out["data"]["application/vnd.jupyter.widget-view+json"].get("model_id")
             for cell in nb.get("cells", []) for out in cell.get("outputs", [])
             if isinstance(out.get("data", {}).get("application/vnd.jupyter.widget-view+json"), dict)]
    signatures: dict[str, str] = {}

    def signature(model: str, path: tuple[str, ...] = ()) -> str:
        """What the model holds, with each model it refers to replaced by its own signature."""
        if model not in signatures:
            text = json.dumps(state.get(model), sort_keys=True)
            for ref in set(re.findall(r"IPY_MODEL_([0-9a-f]{32})", text)) - set(path):
                text = text.replace(ref, signature(ref, (*path, model)))
            signatures[model] = text
        return signatures[model]

    referred: list[str] = []
    _refs(state, referred)
    loose = sorted((m for m in state if m not in set(referred)), key=signature)
    names: dict[str, str] = {}
    for start in [r for r in roots if r] + loose:
        pending = [start]
        while pending:
            model = pending.pop(0)
            if model in names:
                continue
            names[model] = f"widget-{len(names)}"
            found: list[str] = []
            _refs(state.get(model, {}), found)
            pending[:0] = found
    for model in sorted(state, key=signature):  # only models in reference cycles are left
        names.setdefault(model, f"widget-{len(names)}")
    # Named by content where the state is known: the order in which a kernel created models
    # with equal content differs between runs on a busy machine, their content does not.
    for model in state:
        names[model] = "widget-" + hashlib.sha1(signature(model).encode()).hexdigest()[:12]
    return names


def _merged_streams(outputs: list) -> list:
    """Consecutive stream outputs of the same name as one, as Jupyter shows them: the kernel
    sends a print in one message or in several (its output thread flushes every 0.2 s), so how
    the same text is cut differs between runs on a busy machine; the text itself does not."""
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and last is not None
                and last.get("output_type") == "stream" and last.get("name") == out.get("name")):
            last["text"] = "".join(_lines(last["text"])) + "".join(_lines(out["text"]))
        else:
            merged.append(dict(out))
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = "".join(_lines(out["text"]))
    return merged


def _lines(text: str | list[str]) -> list[str]:
    return [text] if isinstance(text, str) else list(text)


def comparable_notebook(path: Path, course: Path) -> dict:
    """An autograded notebook without what differs between any two runs of the same grader."""
    text = path.read_text(encoding="utf-8").replace(str(course), "<course>")
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        cell["outputs"] = _merged_streams(cell.get("outputs", []))
    names = _widget_names(nb)
    text = re.sub(r"[0-9a-f]{32}", lambda m: names.get(m.group(0), m.group(0)), json.dumps(nb))
    return json.loads(text)


def autograded_files(course: Path, exam: str) -> dict[str, Any]:
    """Every autograded file of `exam`: notebooks made comparable, other files as bytes."""
    found: dict[str, Any] = {}
    root = course / "autograded"
    for path in sorted(root.glob(f"*/{exam}/**/*")):
        if path.is_file():
            rel = str(path.relative_to(root))
            found[rel] = (comparable_notebook(path, course) if path.suffix == ".ipynb"
                          else path.read_bytes())
    return found
