"""The reports' frames computed from the gradebooks, kept on disk between dashboard kernels.

Every dashboard page runs in a fresh kernel (Voilà), and reading a province's 1.5 million
grades takes seconds each time. The frames are the same as long as the gradebooks are, so the
first kernel after a change computes them and the next ones read them back (issue 15).

The key (`source_key`) is a hash of everything the frames depend on:
- each SQLite gradebook file's size, modification time and SQLite's own file change counter
  (bytes 24-27 of the header, incremented by every committed write), and the same for its
  `-wal` and `-journal` files;
- each exam notebook of the course folder (`source/*/*.ipynb`: competence tags, item names);
- the competence framework, the report messages, and the code of reports/data.py.
A gradebook in a database server has no such fingerprint: then there is no key and the frames
are always read from the database.

The folder holds personal results: it is made private (0700) and a file is read only if this
account owns it and no one else may write it (the files are pickles).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

KEEP = 4  # cache files kept (older ones are removed when a new one is written)


def default_dir() -> Path | None:
    """`$KNS_REPORTS_CACHE`, else `~/.cache/kynangso/reports` of the account the reports run
    as; None when there is no such place (the frames are then computed every time)."""
    raw = os.environ.get("KNS_REPORTS_CACHE")
    if raw:
        return Path(raw)
    home = os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(os.path.expanduser("~"), ".cache") if os.path.expanduser("~") != "~" else "")
    return Path(home) / "kynangso" / "reports" if home else None


def _sqlite_path(db_url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _file_state(path: Path) -> tuple:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (str(path), None)
    counter = b""
    if path.suffix == ".db":
        with path.open("rb") as f:
            counter = f.read(28)[24:28]
    return (str(path), st.st_size, st.st_mtime_ns, st.st_ino, counter.hex())


def source_key(gradebooks, framework) -> str | None:
    """The hash of everything the gradebook frames depend on; None if a source has none."""
    from kynangso.i18n import catalogue

    h = hashlib.sha256()
    for src in gradebooks:
        db = _sqlite_path(src.db_url)
        if db is None:
            return None
        h.update(repr((src.db_url, src.name, str(src.course_dir))).encode())
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-journal")):
            h.update(repr(_file_state(path)).encode())
        for nb in sorted(Path(src.course_dir).glob("source/*/*.ipynb")):
            h.update(repr(_file_state(nb)).encode())
    h.update(repr(framework).encode())
    h.update(repr(sorted((k, v) for k, v in catalogue().items() if k.startswith("reports."))).encode())
    for code in ("data.py", "summary.py"):
        h.update((Path(__file__).parent / code).read_bytes())
    return h.hexdigest()


def _private_dir(folder: Path) -> bool:
    """Make `folder` (0700, ours) if needed; False if it is not safe to use."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.stat()
    except OSError as exc:
        log.info("reports: no frame cache at %s: %s", folder, exc)
        return False
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        log.warning("reports: frame cache %s not used: not private to this account", folder)
        return False
    return True


def read(folder: Path, key: str):
    """The object stored under `key`, or None (absent, unsafe or unreadable)."""
    path = Path(folder) / f"{key}.pickle"
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_uid != os.geteuid() or st.st_mode & 0o022 or not _private_dir(Path(folder)):
        log.warning("reports: frame cache file %s ignored: not private to this account", path)
        return None
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except Exception as exc:  # a truncated or foreign file: compute again
        log.warning("reports: frame cache file %s unreadable (%s); computing again", path, exc)
        return None


def write(folder: Path, key: str, value) -> None:
    """Store `value` under `key` (atomically), keeping the newest KEEP files."""
    folder = Path(folder)
    if not _private_dir(folder):
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{key}.pickle")
    except OSError as exc:
        log.warning("reports: could not write the frame cache in %s: %s", folder, exc)
        return
    old = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
    for p in old:
        p.unlink(missing_ok=True)
