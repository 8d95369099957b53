"""Small helpers shared by the course modules: who the learner is, where practice files go,
a seeded random generator per exercise, and HTML that screen readers announce."""

from __future__ import annotations

import hashlib
import html
import os
import random
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

OK_COLOUR, BAD_COLOUR = "#1b5e20", "#b71c1c"

# Set by the progress service while it rebuilds and judges a learner's task (`acting_for`):
# the learner named by the hub token, and a practice folder of the service's own.
_acting: ContextVar[tuple[str, Path] | None] = ContextVar("kns_courses_acting", default=None)


def learner() -> str:
    """The hub user name (tasks are seeded per learner), "hocvien" outside a hub."""
    acting = _acting.get()
    return acting[0] if acting else os.environ.get("JUPYTERHUB_USER", "hocvien")


def practice_dir() -> Path:
    """Per-learner practice state of the courses (disposable), under the home folder."""
    acting = _acting.get()
    folder = acting[1] if acting else Path.home() / ".kynangso" / "khoa-hoc"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def acting_for(username: str, folder: Path):
    """Make tasks and judge answers as `username` would in their kernel, with practice files
    (desks, practice CA) in `folder` instead of a home folder: what the progress service does."""
    token = _acting.set((username, Path(folder)))
    try:
        yield
    finally:
        _acting.reset(token)


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by the learner and `parts` (course, exercise, round)."""
    digest = hashlib.sha256("|".join(map(str, (learner(), *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def status_html(text: str, ok: bool | None) -> str:
    """A message in a live region (screen readers read it out when it changes)."""
    colour = "#333" if ok is None else (OK_COLOUR if ok else BAD_COLOUR)
    body = "<br>".join(html.escape(line) for line in text.split("\n"))
    return f'<div role="status" aria-live="polite" style="color:{colour}">{body}</div>'


def esc(text: str) -> str:
    return html.escape(text)


def para(key: str, **params: object) -> str:
    """A catalogue message as an HTML paragraph."""
    from kynangso.i18n import t

    return f"<p>{html.escape(t(key, **params))}</p>"


