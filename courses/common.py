"""Small helpers shared by the course modules: who the learner is, where practice files go,
a seeded random generator per exercise, and HTML that screen readers announce."""

from __future__ import annotations

import hashlib
import html
import os
import random
from pathlib import Path

OK_COLOUR, BAD_COLOUR = "#1b5e20", "#b71c1c"


def learner() -> str:
    """The hub user name (tasks are seeded per learner), "hocvien" outside a hub."""
    return os.environ.get("JUPYTERHUB_USER", "hocvien")


def practice_dir() -> Path:
    """Per-learner practice state of the courses (disposable), under the home folder."""
    folder = Path.home() / ".kynangso" / "khoa-hoc"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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


