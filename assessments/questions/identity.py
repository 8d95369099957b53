"""Who is answering, and the per-learner variant of each item.

In the learner's kernel the learner is the hub user (`$JUPYTERHUB_USER`). When nbgrader (or
`kns grade`) executes a submission, the kernel runs in `<course>/submitted/<student>/<exam>/`
(nbconvert sets the kernel's working folder to the notebook's folder), so the student id is
read from that path: the grader recomputes each learner's variant without trusting anything
the learner wrote.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import random
from pathlib import Path

GRADER_FOLDERS = ("submitted", "autograded")


def learner_id(cwd: Path | str | None = None) -> str:
    here = Path(cwd if cwd is not None else os.getcwd()).resolve()
    if here.parent.parent.name in GRADER_FOLDERS:
        return here.parent.name
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def seed_for(exam_id: str, item_id: str, learner: str) -> int:
    digest = hashlib.sha256(f"kns-exam|{exam_id}|{item_id}|{learner}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def rng_for(exam_id: str, item_id: str, learner: str) -> random.Random:
    """The generator of one learner's variant of one item (same on the grader's side)."""
    return random.Random(seed_for(exam_id, item_id, learner))
