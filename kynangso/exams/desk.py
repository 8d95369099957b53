"""The exchange folder as the exam desk sees it: nbgrader's default layout, written by the
desk on the learners' behalf.

    <exchange>/<course>/outbound/<exam>/…                       released by nbgrader (grader)
    <exchange>/<course>/inbound/<student>+<exam>+<time>+<rnd>/  written here, owned by grader
    <exchange>/<course>/feedback/<hash>.html                    released by nbgrader

The exchange lives in a folder shared only by the grader account and the desk's account
(course.ExamPlaces.share), so learners cannot reach it at all; the desk (a hub service, its own
unprivileged account) reads and writes it for them. The grader account owns the exchange, so
the desk trusts nothing in it: every path is walked fd-relative with O_NOFOLLOW from the share's
parent (which root owns), and only regular files are read, so a link planted by the grader
cannot make the desk send a learner what the desk can read (the platform database, a key). Everything a learner sends is data:
relative paths are checked, links and special files do not exist in a JSON body, sizes are
capped, and a submission appears in inbound only once it is complete (written to a hidden
folder, then renamed).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kynangso.errors import KnsError

log = logging.getLogger("kns.exams")
# nbgrader's Exchange.timestamp_format, in UTC: collect and autograde parse this.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
NOT_SENT = {"timestamp.txt", "submission_secret.txt"}  # the desk writes these itself
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Walking through a folder needs only its x bit (the share is 0710): O_PATH, not O_RDONLY.
WALK_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_FILE = 64 * 2**20  # a released file or a feedback page larger than this is not sent


@dataclass(frozen=True)
class FileItem:
    path: str  # relative, POSIX
    data: bytes

    def to_json(self) -> dict:
        return {"path": self.path, "data": base64.b64encode(self.data).decode("ascii")}


def safe_relative(path: str) -> PurePosixPath:
    """`path` if it is a plain relative path inside the exam folder, else KnsError."""
    pure = PurePosixPath(path)
    if (not path or pure.is_absolute() or any(part in ("", ".", "..") for part in pure.parts)
            or "\\" in path or "\x00" in path or len(path) > 255):
        raise KnsError("exams.bad_path", path=path[:80])
    return pure


def decode_files(items: object, max_bytes: int) -> list[FileItem]:
    if not isinstance(items, list):
        raise KnsError("exams.bad_body")
    files, total = [], 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise KnsError("exams.bad_body")
        rel = safe_relative(item["path"])
        try:
            data = base64.b64decode(item.get("data", ""), validate=True)
        except (ValueError, TypeError):
            raise KnsError("exams.bad_body") from None
        total += len(data)
        if total > max_bytes:
            raise KnsError("exams.too_big", mb=max_bytes // 2**20)
        files.append(FileItem(str(rel), data))
    return files


def open_dir(anchor: Path, parts: list[str] | tuple[str, ...], read: bool = False) -> int:
    """fd of the folder `anchor`/`parts`, every part opened with O_NOFOLLOW (a link anywhere
    below `anchor` fails with OSError). `anchor` itself is trusted (root's). With `read`, the
    last folder is opened for listing; otherwise the fd serves only as dir_fd."""
    fd = os.open(anchor, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            next_fd = os.open(part, DIR_FLAGS if read and last else WALK_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(name: str, dir_fd: int, limit: int = MAX_FILE) -> bytes | None:
    """The bytes of `name` in dir_fd if it is a regular file (not a link, FIFO, device), else None."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            log.warning("not a regular file (or too big), not sent: %s", name)
            return None
        return fh.read(limit + 1)[:limit]


class Exchange:
    def __init__(self, root: Path, course_id: str, anchor: Path | None = None):
        """`root` is nbgrader's exchange root; `anchor` the trusted folder above it from which
        paths are walked without following links (default: root's parent)."""
        self.root, self.course_id = Path(root), course_id
        self.course = self.root / course_id
        self.anchor = Path(anchor) if anchor else self.root.parent
        self._parts = [*self.root.relative_to(self.anchor).parts, course_id]

    def _dir(self, *parts: str, read: bool = False) -> int:
        return open_dir(self.anchor, [*self._parts, *parts], read)

    # -- released exams ----------------------------------------------------------------------
    def released(self) -> list[str]:
        try:
            fd = self._dir("outbound", read=True)
        except OSError:
            return []
        try:
            with os.scandir(fd) as entries:
                return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
        finally:
            os.close(fd)

    def release_dir(self, exam: str) -> Path:
        safe_relative(exam)
        return self.course / "outbound" / exam

    def notebooks(self, exam: str) -> list[str]:
        safe_relative(exam)
        try:
            fd = self._dir("outbound", exam, read=True)
        except OSError:
            return []
        try:
            with os.scandir(fd) as entries:
                return sorted(e.name[:-6] for e in entries
                              if e.name.endswith(".ipynb") and e.is_file(follow_symlinks=False))
        finally:
            os.close(fd)

    def released_files(self, exam: str) -> list[FileItem]:
        """Every regular file of the released exam; links and special files are left out."""
        safe_relative(exam)
        try:
            top = self._dir("outbound", exam, read=True)
        except OSError:
            raise KnsError("exams.not_released", exam=exam) from None
        items = []
        try:
            for folder, _dirs, files, dir_fd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
                for name in sorted(files):
                    data = read_regular(name, dir_fd)
                    if data is not None:
                        rel = PurePosixPath(folder, name).as_posix().removeprefix("./")
                        items.append(FileItem(rel, data))
        finally:
            os.close(top)
        return sorted(items, key=lambda item: item.path)

    # -- submissions -------------------------------------------------------------------------
    def store_submission(self, student: str, exam: str, files: list[FileItem],
                         timestamp: str) -> tuple[str, str]:
        """Write the submission into inbound (hidden, then renamed whole); its folder name and
        secret (which names its feedback files)."""
        try:
            inbound = self._dir("inbound")
        except OSError:
            raise KnsError("exams.not_released", exam=exam) from None
        name = f"{student}+{exam}+{timestamp}+{secrets.token_urlsafe(9)}"
        staging = f".incoming-{secrets.token_hex(8)}"
        secret = secrets.token_hex(64)
        try:
            os.mkdir(staging, 0o755, dir_fd=inbound)  # the grader account reads it (collect)
            try:
                top = os.open(staging, DIR_FLAGS, dir_fd=inbound)
                try:
                    for item in files:
                        if item.path not in NOT_SENT:  # a learner's own timestamp is never believed
                            _write_new(top, item.path, item.data)
                    _write_new(top, "timestamp.txt", timestamp.encode())
                    _write_new(top, "submission_secret.txt", secret.encode())
                    os.fsync(top)  # its entries on disk before the folder gets its name
                finally:
                    os.close(top)
                # The name is new (random part), and rename never replaces a folder that has
                # files: copies of the desk sharing inbound (NFS, CephFS) never clobber each other.
                os.rename(staging, name, src_dir_fd=inbound, dst_dir_fd=inbound)
                _sync_dir(inbound)  # the rename durable before the learner hears "stored"
            except BaseException:
                _remove_tree(inbound, staging)
                raise
        finally:
            os.close(inbound)
        log.info("submission stored: %s", name)
        return name, secret

    def feedback(self, submissions: list[dict]) -> list[dict]:
        """Released feedback of these submissions (the desk's own records: timestamp, secret,
        notebooks), found by name in feedback/ and read only if it is a regular file."""
        try:
            fd = self._dir("feedback")
        except OSError:
            return []
        found = []
        # Here, not at the top: importing nbgrader loads its server extensions (most of a
        # second of CPU), which `kns exam` (whose window commands import this module) never needs.
        from nbgrader.utils import notebook_hash

        try:
            for sub in submissions:
                for nb in sub["notebooks"]:
                    name = f"{notebook_hash(secret=sub['secret'], notebook_id=nb)}.html"
                    data = read_regular(name, fd)
                    if data is not None:
                        found.append({"timestamp": sub["timestamp"], "notebook_id": nb,
                                      "html": data.decode("utf-8", errors="replace")})
        finally:
            os.close(fd)
        return found


def _write_new(top: int, rel: str, data: bytes) -> None:
    """Create file `rel` (already checked by safe_relative) below folder fd `top`, its folders
    too, never through a link and never over an existing file."""
    parts = PurePosixPath(rel).parts
    fd = os.dup(top)
    try:
        for part in parts[:-1]:
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            next_fd = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        out = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      0o644, dir_fd=fd)
        with os.fdopen(out, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # a crash after the rename must not leave an empty file
    finally:
        os.close(fd)


def _sync_dir(fd: int) -> None:
    """fsync the folder of (O_PATH) fd `fd` if this account may read it. nbgrader makes inbound
    write-only for others (0733): there the rename reaches the disk with the file system's next
    journal commit instead (seconds), while the files themselves were synced before it."""
    try:
        readable = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return
    try:
        os.fsync(readable)
    finally:
        os.close(readable)


def _remove_tree(parent: int, name: str) -> None:
    """Remove folder `name` in parent fd, fd-relative (a failed submission leaves nothing)."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError:
        return
    try:
        with os.scandir(fd) as entries:
            for entry in list(entries):
                if entry.is_dir(follow_symlinks=False):
                    _remove_tree(fd, entry.name)
                else:
                    os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)
