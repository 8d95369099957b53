"""Each learner's exam variant, handed out by the desk at fetch as data (issue 14, part 3).

Variants of simulation tasks are drawn from the course's variant secret
(assessments.questions.identity.variant_secret), which the desk and the grader read and no
learner can (kynangso.exams.course: `variant-key` in the share). At fetch the desk computes
the caller's variant of each task in the released notebook and adds `<exam>.variant.json` to
the files it hands over: the task's inputs only (`Question.inputs`: the HIDDEN parts, such as
a corrected answer, stay out), and any file a task makes from those hidden parts
(`Question.handed_files`). The learner's widgets show those inputs; the grader recomputes the
whole variant and its answer key itself (assessments.grading.keys).
"""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

log = logging.getLogger("kns.exams")


def read_secret(path: Path) -> bytes | None:
    try:
        data = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    return data or None


def task_items(notebook: bytes) -> list[tuple[str, str, dict]]:
    """(task method, item id, spec) of each `bai.task_…("item", …)` call in a notebook."""
    from assessments.questions.tasks import TASKS

    found = []
    for cell in json.loads(notebook).get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in TASKS and node.args
                    and isinstance(node.args[0], ast.Constant)):
                try:
                    spec = {k.arg: ast.literal_eval(k.value) for k in node.keywords
                            if k.arg not in (None, "title")}
                except ValueError:
                    continue
                found.append((node.func.attr, str(node.args[0].value), spec))
    return found


def makes_files(notebooks: list[bytes]) -> bool:
    """True when a task of these notebooks makes files for the learner (`handed_files`)."""
    from assessments.questions.base import Question
    from assessments.questions.tasks import task_class

    default = Question.handed_files.__func__
    return any(task_class(method).handed_files.__func__ is not default
               for notebook in notebooks for method, _item, _spec in task_items(notebook))


def handed(exam: str, learner: str, notebooks: list[bytes], secret: bytes) -> dict[str, bytes]:
    """What the desk adds to `learner`'s fetch, by path in the exam folder: `<exam>.variant.json`
    (the inputs of their variant of every task) and the files a task makes from the hidden parts
    of its variant (`Question.handed_files`: the signed documents to check). {} without a task."""
    from assessments.questions.identity import variant_secret
    from assessments.questions.tasks import task_class

    items: dict[str, dict] = {}
    files: dict[str, bytes] = {}
    for notebook in notebooks:
        for method, item, spec in task_items(notebook):
            cls = task_class(method)
            with variant_secret(secret):
                task = cls.variant(exam, item, learner, **spec)
            items[item] = cls.inputs(task)
            files.update(cls.handed_files(task, learner))
    if not items:
        return {}
    files[f"{exam}.variant.json"] = json.dumps({"exam": exam, "learner": learner, "items": items},
                                               ensure_ascii=False, indent=1).encode("utf-8")
    return files
