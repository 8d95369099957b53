"""The exchange folder as the exam desk sees it: nbgrader's default layout, written by the
desk on the learners' behalf.

    <exchange>/<course>/outbound/<exam>/…                       released by nbgrader (grader)
    <exchange>/<course>/inbound/<student>+<exam>+<time>+<rnd>/  written here, owned by grader
    <exchange>/<course>/feedback/<hash>.html                    released by nbgrader

The exchange lives inside the grader account's private folder, so learners cannot reach it at
all; the desk (a hub service) reads and writes it for them. Everything a learner sends is data:
relative paths are checked, links and special files do not exist in a JSON body, sizes are
capped, and a submission appears in inbound only once it is complete (written to a hidden
folder, then renamed).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nbgrader.utils import notebook_hash

from kynangso.errors import KnsError

log = logging.getLogger("kns.exams")
# nbgrader's Exchange.timestamp_format, in UTC: collect and autograde parse this.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
NOT_SENT = {"timestamp.txt", "submission_secret.txt"}  # the desk writes these itself


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


class Exchange:
    def __init__(self, root: Path, course_id: str, owner: tuple[int, int] | None = None):
        self.root, self.course_id, self.owner = Path(root), course_id, owner
        self.course = self.root / course_id

    # -- released exams ----------------------------------------------------------------------
    def released(self) -> list[str]:
        outbound = self.course / "outbound"
        return sorted(p.name for p in outbound.iterdir() if p.is_dir()) if outbound.is_dir() else []

    def release_dir(self, exam: str) -> Path:
        safe_relative(exam)
        return self.course / "outbound" / exam

    def notebooks(self, exam: str) -> list[str]:
        return sorted(p.stem for p in self.release_dir(exam).glob("*.ipynb"))

    def released_files(self, exam: str) -> list[FileItem]:
        base = self.release_dir(exam)
        if not base.is_dir():
            raise KnsError("exams.not_released", exam=exam)
        items = []
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.is_symlink():
                items.append(FileItem(path.relative_to(base).as_posix(), path.read_bytes()))
        return items

    # -- submissions -------------------------------------------------------------------------
    def store_submission(self, student: str, exam: str, files: list[FileItem],
                         timestamp: str) -> Path:
        inbound = self.course / "inbound"
        if not inbound.is_dir():
            raise KnsError("exams.not_released", exam=exam)
        name = f"{student}+{exam}+{timestamp}+{secrets.token_urlsafe(9)}"
        staging = inbound / f".incoming-{secrets.token_hex(8)}"
        staging.mkdir(mode=0o700)
        try:
            for item in files:
                if item.path in NOT_SENT:
                    continue  # a learner's own timestamp is never believed
                target = staging / item.path
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(item.data)
            (staging / "timestamp.txt").write_text(timestamp)
            (staging / "submission_secret.txt").write_text(secrets.token_hex(64))
            self._own(staging)
            final = inbound / name
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("submission stored: %s", final.name)
        return final

    def submissions(self, student: str, exam: str) -> list[Path]:
        inbound = self.course / "inbound"
        prefix = f"{student}+{exam}+"
        return sorted(p for p in inbound.iterdir() if p.name.startswith(prefix)) \
            if inbound.is_dir() else []

    def feedback(self, student: str, exam: str) -> list[dict]:
        """Released feedback of the student's submissions: timestamp, notebook, html."""
        found = []
        for sub in self.submissions(student, exam):
            secret_file, stamp_file = sub / "submission_secret.txt", sub / "timestamp.txt"
            if not secret_file.is_file() or not stamp_file.is_file():
                continue
            secret, stamp = secret_file.read_text(), stamp_file.read_text().strip()
            for nb in sorted(sub.glob("*.ipynb")):
                html = self.course / "feedback" / f"{notebook_hash(secret=secret, notebook_id=nb.stem)}.html"
                if html.is_file():
                    found.append({"timestamp": stamp, "notebook_id": nb.stem,
                                  "html": html.read_text(encoding="utf-8")})
        return found

    def _own(self, folder: Path) -> None:
        if self.owner is None:
            return
        uid, gid = self.owner
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, uid, gid, follow_symlinks=False)
