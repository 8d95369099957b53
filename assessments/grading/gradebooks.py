"""One open gradebook connection per process instead of one per nbgrader call.

nbgrader opens a new `Gradebook` (engine, table reflection, `create_all`, course check) in
each preprocessor and several times per submission: ~50 ms each, more than the rest of the
work on a short exam notebook. `share_gradebooks()` makes the `Gradebook` name in nbgrader's
autograde converter and preprocessors return one kept-open instance per (URL, course id).
Its `close()` rolls back what was not committed, which is what closing the session did, and
keeps the connection. The SQL that runs is nbgrader's own.

Workers only read the gradebook (source cells, checksums, kernelspec), and what they read does
not change while grading; with SQLite each worker reads a private snapshot (SQLite's online
backup), so its reads never wait on the parent's writes.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

MODULES = (
    "nbgrader.converters.autograde",
    "nbgrader.preprocessors.overwritecells",
    "nbgrader.preprocessors.overwritekernelspec",
    "nbgrader.preprocessors.saveautogrades",
    "nbgrader.preprocessors.latesubmissions",
    "assessments.grading.strict",
)

_OPEN: dict[tuple[str, str], object] = {}


def _kept_class():
    from nbgrader.api import Gradebook

    class KeptGradebook(Gradebook):
        def close(self) -> None:
            self.db.rollback()

        def really_close(self) -> None:
            Gradebook.close(self)

    return KeptGradebook


def share_gradebooks() -> None:
    """Patch nbgrader's autograde modules to use kept-open gradebooks (idempotent)."""
    import importlib

    kept = _kept_class()

    def factory(db_url: str, course_id: str = "default_course", authenticator=None):
        key = (db_url, course_id)
        if key not in _OPEN:
            _OPEN[key] = kept(db_url, course_id, authenticator)
        return _OPEN[key]

    for name in MODULES:
        importlib.import_module(name).Gradebook = factory


def close_gradebooks() -> None:
    while _OPEN:
        _, gb = _OPEN.popitem()
        try:
            gb.really_close()
        except Exception:  # closing at exit: nothing left to protect
            pass


def snapshot_url(db_url: str) -> str:
    """A private read-only copy of an SQLite gradebook (other databases: the same URL)."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix) or db_url == "sqlite:///:memory:":
        return db_url
    source = db_url[len(prefix):]
    target = Path(tempfile.mkdtemp(prefix="kns-gradebook-")) / "gradebook.db"
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return prefix + str(target)
