"""The answer sidecar: one JSON file beside the exam notebook that holds every answer.

nbgrader re-executes a submission in a fresh kernel, so what a learner clicked in a widget is
gone by grading time. Each answer is therefore written to `<exam>.answers.json` in the notebook's
folder the moment it is given. nbgrader submits every file of the assignment folder, so the
sidecar travels with the notebook; hidden tests read it back.

Writes are atomic (temporary file in the same folder, fsync, os.replace) and serialised with an
advisory lock, so a kernel restart or a crash never leaves half a file, and two widgets saving at
once never lose each other's answer.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SUFFIX = ".answers.json"


class SidecarError(Exception):
    """The sidecar exists but cannot be used (not JSON, wrong shape). `reason` is a catalogue key."""

    def __init__(self, path: Path, reason: str, detail: str = ""):
        super().__init__(f"{path}: {reason} {detail}".strip())
        self.path, self.reason, self.detail = path, reason, detail


def sidecar_path(exam_id: str, folder: Path | str | None = None) -> Path:
    return Path(folder if folder is not None else os.getcwd()) / f"{exam_id}{SUFFIX}"


def _empty(exam_id: str, learner: str) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "exam": exam_id, "learner": learner, "answers": {}}


def read(path: Path) -> dict[str, Any] | None:
    """The sidecar's content, None if there is none; SidecarError if it is damaged."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SidecarError(path, "unreadable", str(exc)) from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SidecarError(path, "not_json", f"line {exc.lineno}") from exc
    if (not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION
            or not isinstance(data.get("answers"), dict)):
        raise SidecarError(path, "bad_shape")
    return data


@contextmanager
def _locked(path: Path):
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Sidecar:
    """The answers of one learner to one exam, in `folder` (default: the kernel's cwd)."""

    def __init__(self, exam_id: str, learner: str, folder: Path | str | None = None):
        self.exam_id, self.learner = exam_id, learner
        self.path = sidecar_path(exam_id, folder)

    def answers(self) -> dict[str, Any]:
        """item id -> saved record ({"value", "saved_at", "shown"}); {} if there is no sidecar.

        A damaged sidecar raises SidecarError: the widget says so instead of silently
        starting afresh and overwriting what the learner had answered.
        """
        data = read(self.path)
        return {} if data is None else data["answers"]

    def answer(self, item_id: str) -> Any:
        record = self.answers().get(item_id)
        return None if record is None else record.get("value")

    def save(self, item_id: str, value: Any, shown: dict[str, Any] | None = None) -> str:
        """Store `value` for `item_id` at once; returns the time it was saved (ISO, UTC)."""
        saved_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with _locked(self.path):
            data = read(self.path) or _empty(self.exam_id, self.learner)
            record = {"value": value, "saved_at": saved_at}
            if shown:
                record["shown"] = shown
            data["answers"][item_id] = record
            write_atomic(self.path, data)
        log.debug("saved answer %s/%s", self.exam_id, item_id)
        return saved_at
