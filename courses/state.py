"""Which exercises this learner has passed in this home (even across kernel restarts).

Practice state, not platform data: the progress service holds the record of truth, and
derives lesson completion from its own verdicts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from courses.common import practice_dir


def _file() -> Path:
    return practice_dir() / "da-lam.json"


def passed(course: str, lesson: str) -> set[str]:
    data = _read()
    return set(data.get(f"{course}/{lesson}", []))


def mark_passed(course: str, lesson: str, exercise: str) -> set[str]:
    """Record a pass; returns the lesson's passed exercises after it."""
    data = _read()
    key = f"{course}/{lesson}"
    done = set(data.get(key, [])) | {exercise}
    data[key] = sorted(done)
    tmp = _file().with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, _file())
    return done


def _read() -> dict:
    try:
        return json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
