"""Who is answering, and the per-learner variant of each item.

In the learner's kernel the learner is the hub user (`$JUPYTERHUB_USER`). When nbgrader (or
`kns grade`) executes a submission, the kernel runs in `<course>/submitted/<student>/<exam>/`
(nbconvert sets the kernel's working folder to the notebook's folder), so the student id is
read from that path: the grader recomputes each learner's variant without trusting anything
the learner wrote.

Exam variants on the platform are drawn from a per-course secret (`HMAC(secret, exam|item|
learner)`) that only the grader and the exam desk read (kynangso.exams.variants): the desk hands
each learner the inputs of their variant at fetch, the grader recomputes the whole variant
(hidden parts included) outside the learner's kernel. Without a secret (practice, a course
folder outside the hub, tests) the seed is the public hash below.
"""

from __future__ import annotations

import contextvars
import getpass
import hashlib
import hmac
import os
import random
from contextlib import contextmanager
from pathlib import Path

GRADER_FOLDERS = ("submitted", "autograded")


def learner_id(cwd: Path | str | None = None) -> str:
    here = Path(cwd if cwd is not None else os.getcwd()).resolve()
    if here.parent.parent.name in GRADER_FOLDERS:
        return here.parent.name
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


_SECRET: contextvars.ContextVar[bytes | None] = contextvars.ContextVar("kns_variant_secret",
                                                                      default=None)


@contextmanager
def variant_secret(secret: bytes | None):
    """Draw variants from `secret` inside this block (the desk and the grader only)."""
    token = _SECRET.set(secret or None)
    try:
        yield
    finally:
        _SECRET.reset(token)


def seed_for(exam_id: str, item_id: str, learner: str) -> int:
    message = f"kns-exam|{exam_id}|{item_id}|{learner}".encode()
    secret = _SECRET.get()
    if secret:
        digest = hmac.new(secret, message, hashlib.sha256).digest()
    else:
        digest = hashlib.sha256(message).digest()
    return int.from_bytes(digest[:8], "big")


def rng_for(exam_id: str, item_id: str, learner: str) -> random.Random:
    """The generator of one learner's variant of one item (same on the grader's side)."""
    return random.Random(seed_for(exam_id, item_id, learner))
