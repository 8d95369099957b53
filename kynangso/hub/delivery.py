"""Course delivery into each learner's home, at every server start (the nbgitpuller merge).

- A lesson the learner has never had is copied in.
- A lesson the learner has not changed is updated to the new version.
- A lesson the learner has changed is never overwritten: the new version is put
  beside it as `<name>-ban-moi.ipynb`, so nothing of theirs is lost.
- A lesson the learner deleted is delivered again (as nbgitpuller restores it).

What was delivered is remembered in `.kynangso/delivered.json` in the home (the
SHA-256 of each file as delivered), which is how "changed by the learner" is told
apart from "older version". Files are written atomically and owned by the learner.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# What a course folder delivers: lessons and their assets, not the Python behind the widgets
# (that is imported from the installed package, so it cannot be edited away).
DELIVERED_SUFFIXES = {".ipynb", ".md", ".png", ".jpg", ".jpeg", ".svg", ".pdf", ".docx", ".xlsx", ".csv"}
MANIFEST = Path(".kynangso") / "delivered.json"
NEW_VERSION_SUFFIX = "-ban-moi"


@dataclass
class DeliveryReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept_changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lesson_files(source: Path) -> list[Path]:
    """Files of `source` to deliver, relative to it: lesson folders only (`NN-...`)."""
    files = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix.lower() in DELIVERED_SUFFIXES and "checkpoint" not in str(path):
                files.append(path.relative_to(source))
    return files


def _copy(src: Path, dst: Path, uid: int | None, gid: int | None) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    if uid is not None:
        os.chown(tmp, uid, gid)
    os.replace(tmp, dst)


def _chown_tree(root: Path, top: Path, uid: int | None, gid: int | None) -> None:
    """Give the learner the folders delivery created between `top` and `root`."""
    if uid is None:
        return
    for folder in [top, *[p for p in top.rglob("*") if p.is_dir()]]:
        os.chown(folder, uid, gid)


def deliver(source: Path, home: Path, folder: str, uid: int | None = None, gid: int | None = None) -> DeliveryReport:
    """Merge the courses in `source` into `home/folder` as described above."""
    report = DeliveryReport()
    target_root = home / folder
    manifest_path = home / MANIFEST
    try:
        delivered: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        delivered = {}
    for rel in lesson_files(source):
        key = rel.as_posix()
        src, dst = source / rel, target_root / rel
        new_hash = _sha256(src)
        if not dst.exists():
            _copy(src, dst, uid, gid)
            report.added.append(key)
        else:
            current = _sha256(dst)
            if current == new_hash:
                report.unchanged.append(key)
            elif current == delivered.get(key):
                _copy(src, dst, uid, gid)  # the learner never touched it: take the new version
                report.updated.append(key)
            else:
                if delivered.get(key) != new_hash:  # there is a version they have not seen
                    _copy(src, dst.with_name(dst.stem + NEW_VERSION_SUFFIX + dst.suffix), uid, gid)
                report.kept_changed.append(key)
        delivered[key] = new_hash
    target_root.mkdir(parents=True, exist_ok=True)
    _chown_tree(home, target_root, uid, gid)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(delivered, indent=1, sort_keys=True), encoding="utf-8")
    if uid is not None:
        os.chown(tmp, uid, gid)
        os.chown(manifest_path.parent, uid, gid)
    os.replace(tmp, manifest_path)
    log.info("courses delivered to %s: %d added, %d updated, %d kept (changed by the learner)",
             home, len(report.added), len(report.updated), len(report.kept_changed))
    return report
