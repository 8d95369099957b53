"""Course delivery into each learner's home, at every server start (the nbgitpuller merge).

- A lesson the learner has never had is copied in.
- A lesson the learner has not changed is updated to the new version.
- A lesson the learner has changed is never overwritten: the new version is put
  beside it as `<name>-ban-moi.ipynb`, so nothing of theirs is lost.
- A lesson the learner deleted is delivered again (as nbgitpuller restores it).

What was delivered is remembered in `.kynangso/delivered.json` in the home (the
SHA-256 of each file as delivered), which is how "changed by the learner" is told
apart from "older version". Files are written atomically.

Who runs it: the hub never touches a learner's home itself. It runs this module as
a child (`python -I -m kynangso.hub.delivery ...`, see `main`), which reads the
course source, drops to the learner's uid and gid, and only then opens the home, so
everything it makes is the learner's and it can reach nothing the learner cannot.
Even then it never follows a link nor opens a special file in the home (folders and
files are opened relative to their parent with O_NOFOLLOW and checked with fstat):
what the learner put there is skipped and logged, so their own links cannot lead it
outside the courses folder and a FIFO cannot block it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import secrets
import stat
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# What a course folder delivers: lessons and their assets, not the Python behind the widgets
# (that is imported from the installed package, so it cannot be edited away).
DELIVERED_SUFFIXES = {".ipynb", ".md", ".png", ".jpg", ".jpeg", ".svg", ".pdf", ".docx", ".xlsx", ".csv"}
MANIFEST = Path(".kynangso") / "delivered.json"
NEW_VERSION_SUFFIX = "-ban-moi"
# Far above any lesson or asset: a bigger file in the home is not read (nor hashed), only skipped.
MAX_FILE_BYTES = 64 * 1024 * 1024

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO swapped in after the lstat check must not wait for a writer.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class DeliveryReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept_changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # a link, special or huge file was in the way


class Refused(Exception):
    """A path in the home that delivery will not follow, read or replace."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lesson_files(source: Path) -> list[Path]:
    """Files of `source` to deliver, relative to it: lesson folders only (`NN-...`)."""
    files = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in DELIVERED_SUFFIXES and "checkpoint" not in str(path):
                files.append(path.relative_to(source))
    return files


def read_source(source: Path) -> dict[str, bytes]:
    """The lessons to deliver, by relative path (the source is the platform's own, trusted)."""
    return {rel.as_posix(): (source / rel).read_bytes() for rel in lesson_files(source)}


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def _open_dir(parent_fd: int, name: str, path: Path) -> int:
    """Open the folder `name` of `parent_fd`, made if missing; never through a link."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError:  # ELOOP: a link; ENOTDIR: a file or special file
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        raise Refused(f"{path}: {_kind(st.st_mode)}, not a folder") from None
    if not stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(f"{path}: not a folder")
    return fd


def _check_regular(st: os.stat_result, path: Path) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{path}: {_kind(st.st_mode)}, not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise Refused(f"{path}: {st.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")


def _read(dir_fd: int, name: str, path: Path) -> bytes | None:
    """The bytes of the regular file `name` of `dir_fd`; None if there is nothing by that name."""
    try:
        _check_regular(os.stat(name, dir_fd=dir_fd, follow_symlinks=False), path)
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except Refused:
        raise
    except OSError as err:  # swapped for a link meanwhile (ELOOP), or unreadable
        raise Refused(f"{path}: {err.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        _check_regular(os.fstat(f.fileno()), path)  # the file opened is the one checked
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Refused(f"{path}: over the {MAX_FILE_BYTES}-byte limit")
    return data


def _write(dir_fd: int, name: str, data: bytes) -> None:
    """Replace `name` atomically, through a new temporary file (O_EXCL: never an existing file
    or link); the rename replaces a link itself, never what it points to."""
    tmp = f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, _WRITE_FLAGS, 0o644, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def _deliver_one(root_fd: int, root: Path, key: str, data: bytes, delivered: dict, report: DeliveryReport):
    *folders, name = key.split("/")
    fds: list[int] = []
    try:
        dir_fd = root_fd
        for i, part in enumerate(folders):
            dir_fd = _open_dir(dir_fd, part, root.joinpath(*folders[: i + 1]))
            fds.append(dir_fd)
        new_hash = _sha256(data)
        current = _read(dir_fd, name, root / key)
        if current is None:
            _write(dir_fd, name, data)
            report.added.append(key)
        elif _sha256(current) == new_hash:
            report.unchanged.append(key)
        elif _sha256(current) == delivered.get(key):
            _write(dir_fd, name, data)  # the learner never touched it: take the new version
            report.updated.append(key)
        else:
            if delivered.get(key) != new_hash:  # there is a version they have not seen
                _write(dir_fd, Path(name).stem + NEW_VERSION_SUFFIX + Path(name).suffix, data)
            report.kept_changed.append(key)
        delivered[key] = new_hash
    finally:
        for fd in fds:
            os.close(fd)


def _load_manifest(state_fd: int | None, path: Path) -> dict[str, str]:
    if state_fd is None:
        return {}
    try:
        data = json.loads((_read(state_fd, MANIFEST.name, path) or b"{}").decode("utf-8"))
    except Refused as err:
        log.warning("skipped %s; delivering as if nothing had been delivered", err)
        return {}
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def merge(lessons: dict[str, bytes], home: Path, folder: str) -> DeliveryReport:
    """Merge `lessons` (relative path: bytes) into `home/folder` as described above."""
    report = DeliveryReport()
    home_fd = os.open(home, _DIR_FLAGS)
    state_fd = root_fd = None
    try:
        try:
            root_fd = _open_dir(home_fd, folder, home / folder)
        except Refused as err:
            log.warning("skipped %s; no course delivered", err)
            report.skipped.extend(lessons)
            return report
        if not lessons:
            return report
        try:
            state_fd = _open_dir(home_fd, MANIFEST.parent.name, home / MANIFEST.parent)
        except Refused as err:
            log.warning("skipped %s; delivering as if nothing had been delivered", err)
        delivered = _load_manifest(state_fd, home / MANIFEST)
        for key, data in lessons.items():
            try:
                _deliver_one(root_fd, home / folder, key, data, delivered, report)
            except (Refused, OSError) as err:  # that lesson only; the learner keeps what is there
                log.warning("skipped %s", err)
                report.skipped.append(key)
        if state_fd is not None:
            _write(state_fd, MANIFEST.name, json.dumps(delivered, indent=1, sort_keys=True).encode("utf-8"))
    finally:
        for fd in (state_fd, root_fd, home_fd):
            if fd is not None:
                os.close(fd)
    log.info("courses delivered to %s: %d added, %d updated, %d kept (changed by the learner), %d skipped",
             home, len(report.added), len(report.updated), len(report.kept_changed), len(report.skipped))
    return report


def deliver(source: Path, home: Path, folder: str) -> DeliveryReport:
    """Merge the courses in `source` into `home/folder`, as the account running it."""
    home.mkdir(parents=True, exist_ok=True)
    return merge(read_source(source), home, folder)


def drop_privileges(uid: int, gid: int) -> None:
    """Become the learner for good (groups, then gid, then uid), and check it holds."""
    if uid == 0 or gid == 0:
        raise SystemExit("refusing to deliver as root")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid) or os.getgroups():
        raise SystemExit(f"could not drop to uid {uid}, gid {gid}")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("root could be taken back after the drop")


def main(argv: list[str] | None = None) -> int:
    """The child the hub runs: read the source, drop to the learner, merge, print the report."""
    parser = argparse.ArgumentParser(prog="python -m kynangso.hub.delivery")
    parser.add_argument("--source", default="", help="course source folder; empty: only make the folder")
    parser.add_argument("--home", required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--uid", type=int, help="the learner's uid (the hub runs as root)")
    parser.add_argument("--gid", type=int)
    args = parser.parse_args(argv)
    if (args.uid is None) != (args.gid is None):
        parser.error("--uid and --gid go together")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(message)s")
    os.umask(0o022)
    lessons = read_source(Path(args.source)) if args.source else {}  # before the drop: the source is root's
    if args.uid is not None:
        drop_privileges(args.uid, args.gid)  # before anything in the home is opened
    else:
        os.makedirs(args.home, exist_ok=True)  # non-isolated: the hub's own folder, as the hub's account
    report = merge(lessons, Path(args.home), args.folder)
    print(json.dumps(asdict(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
