"""The grader computes the answer keys of simulation tasks, outside the learner's kernel.

Exam variants are drawn from a per-course secret (assessments.questions.identity.variant_secret)
that the grader and the exam desk read and learners cannot, and the function from a variant
to its expected answer (`answer_keys.py` in the exam course folder) is never installed, so a
learner's kernel can compute neither. `AnswerKeys` is the last sanitize preprocessor of the
platform's exam course (kynangso.exams.course's NBGRADER_CONFIG), so it runs in `kns grade`
and in `nbgrader autograde` alike, in the grader's own process before the notebook is executed:
in each hidden test cell that calls

    score_item("van-ban", "han-xu-ly", HandlingDeadline, 2)

it recomputes this student's whole variant (the student from nbgrader's submission path) and
its key, and writes them into the call as data:

    score_item("van-ban", "han-xu-ly", HandlingDeadline, 2, task={... "key": {...}})

Strict grading (strict.py) has removed every cell the learner added by then, so only
instructor code reads that data; feedback drops hidden tests (ClearHiddenTests), so the key
never reaches the learner.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from assessments.questions.identity import variant_secret
from assessments.questions.tasks import TASKS, task_class

KEYS_FILE = "answer_keys.py"
VARIANT_SECRET = "variant-key"  # beside nbgrader's exchange (kynangso.exams.course)
BY_CLASS = {name: method for method, (_module, name) in TASKS.items()}


def read_secret(path: str | Path | None) -> bytes | None:
    """The variant secret in `path`; None when no path is given (no secret: public seeds)."""
    if not path:
        return None
    data = Path(path).read_bytes().strip()
    if len(data) < 32:
        raise ValueError(f"variant secret {path} is too short")
    return data


def default_secret_file(config) -> str | None:
    """The platform keeps the secret beside nbgrader's exchange, in the share that only the
    grader and the desk enter (kynangso.exams.course.prepare)."""
    exchange = config.get("Exchange", {}).get("root")
    if not exchange:
        return None
    path = Path(exchange).parent / VARIANT_SECRET
    return str(path) if path.exists() else None


def load_keys(path: str | Path):
    """The course's answer_keys.py, loaded from its file (it is not an installed module)."""
    spec = importlib.util.spec_from_file_location("kns_answer_keys", str(path))
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calls(source: str) -> list[ast.Call]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) and node.func.id == "score_item"
            and len(node.args) >= 3 and isinstance(node.args[2], ast.Name)
            and node.args[2].id in BY_CLASS
            and not any(k.arg == "task" for k in node.keywords)]


def whole_task(exam: str, item: str, class_name: str, student: str, secret: bytes | None,
               keys, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The student's whole variant of `item` with its key (what the grader scores against)."""
    cls = task_class(BY_CLASS[class_name])
    with variant_secret(secret):
        task = cls.variant(exam, item, student, **(spec or {}))
    return keys.keyed(cls.kind, task)


def inject(source: str, student: str, secret: bytes | None, keys) -> str:
    """`source` with the whole task written into each `score_item(..., TaskClass, ...)` call."""
    calls = _calls(source)
    if not calls:
        return source
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits = []
    for call in calls:
        exam, item = (ast.literal_eval(a) for a in call.args[:2])
        spec = {k.arg: ast.literal_eval(k.value) for k in call.keywords
                if k.arg not in ("folder", "task", None)}
        task = whole_task(exam, item, call.args[2].id, student, secret, keys, spec)
        end = offsets[call.end_lineno - 1] + call.end_col_offset - 1  # the closing parenthesis
        edits.append((end, f", task={task!r}"))
    for end, text in sorted(edits, reverse=True):
        source = source[:end] + text + source[end:]
    return source


class AnswerKeys(NbGraderPreprocessor):
    """Write each student's task and its answer key into the hidden tests (see the module)."""

    secret_file = Unicode("", help="File holding the course's variant secret (default: "
                          "`variant-key` beside Exchange.root, when there is one)").tag(config=True)
    keys_file = Unicode("", help="The course's answer_keys.py (default: in the course folder)").tag(
        config=True)

    def preprocess(self, nb, resources):
        student = resources["nbgrader"]["student"]
        cells = [c for c in nb.cells if c.cell_type == "code"
                 and c.metadata.get("nbgrader", {}).get("grade") and _calls(c.source)]
        if not cells:
            return nb, resources
        root = self.config.get("CourseDirectory", {}).get("root") or os.getcwd()
        keys = load_keys(self.keys_file or os.path.join(root, KEYS_FILE))
        secret = read_secret(self.secret_file or default_secret_file(self.config))
        for cell in cells:
            cell.source = inject(cell.source, student, secret, keys)
        self.log.debug("answer keys written for %s (%d cells)", student, len(cells))
        return nb, resources
