"""The backup archive: one tar, its manifest last, written staged-then-renamed.

Members: the trees' folders and regular files (`<tree>/<path>`), the PostgreSQL dumps and the
SQLite databases kept outside the trees (`databases/<name>.*`), then `manifest.json`:

    {"format": 1, "created_at": ..., "alembic_revision": ..., "trees": [...],
     "databases": [{"name", "kind", "member"}],
     "members": [{"name", "type": "dir"|"file", "mode", "owner", "group", "size", "sha256",
                  "sqlite": bool}]}

Backup (run as root on an isolated hub: it reads every account's files) walks each tree
fd-relative without following a link; a link, socket or device is left out with a log line.
A file that starts as an SQLite database is copied with SQLite's online backup API, which
gives one consistent state even while a writer commits (its -wal/-shm/-journal are not taken):
never a file copy of a live database. Other files are read once through an fd, so a file the
desk replaces by rename is taken whole, old or new.

Restore verifies everything before it writes anything: each member's name (no absolute path,
no `..`, only folders and regular files: no link, hard link or device), size and sha256
against the manifest, the set of members against the manifest's. It unpacks into private
staging folders beside the targets, restores PostgreSQL dumps in one transaction each, gives
the folders their owners (bottom-up, so a folder is handed over only once nothing more is
written in it) and then renames each tree into place. Targets must be absent or empty.
"""

from __future__ import annotations

import datetime as dt
import grp
import hashlib
import io
import json
import logging
import os
import pwd
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from kynangso.backup import postgres
from kynangso.backup.places import SKIPPED_IN_STATE, Database, Places
from kynangso.errors import KnsError
from kynangso.exams.course import as_account

log = logging.getLogger("kns.backup")

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
CHUNK = 1 << 20


# --- backup ---------------------------------------------------------------------------------

def _owner(uid: int, gid: int) -> tuple[str, str]:
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    return user, group


class _Writer:
    """Adds members to the tar and records them for the manifest."""

    def __init__(self, tar: tarfile.TarFile, scratch: Path):
        self.tar, self.scratch, self.members = tar, scratch, []

    def folder(self, name: str, info: os.stat_result) -> None:
        entry = tarfile.TarInfo(name)
        entry.type, entry.mode, entry.mtime = tarfile.DIRTYPE, stat.S_IMODE(info.st_mode), int(info.st_mtime)
        self.tar.addfile(entry)
        owner, group = _owner(info.st_uid, info.st_gid)
        self.members.append({"name": name, "type": "dir", "mode": entry.mode, "owner": owner,
                             "group": group})

    def file(self, name: str, source, info: os.stat_result, sqlite: bool = False) -> None:
        """`source`: a binary file object read to its end (spooled, so size and sha256 are of
        exactly what goes into the archive)."""
        digest, size = hashlib.sha256(), 0
        with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK, dir=self.scratch) as spool:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode, entry.mtime = size, stat.S_IMODE(info.st_mode), int(info.st_mtime)
            self.tar.addfile(entry, spool)
        owner, group = _owner(info.st_uid, info.st_gid)
        self.members.append({"name": name, "type": "file", "mode": entry.mode, "owner": owner,
                             "group": group, "size": size, "sha256": digest.hexdigest(),
                             "sqlite": sqlite})


def _online_copy(path: str) -> bytes:
    """A consistent copy of a live SQLite database (the online backup API, read-only)."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    target = sqlite3.connect(":memory:")
    try:
        source.backup(target)  # one step: one read transaction, one consistent state
        return target.serialize()
    finally:
        target.close()
        source.close()


def _write_online_copy(path: str, fd: int) -> None:
    view = memoryview(_online_copy(path))
    while view:
        view = view[os.write(fd, view):]


def _controlled_by_others(top: Path, folder: Path) -> os.stat_result | None:
    """The first folder from `top` down to `folder` that another account owns or may write
    (SQLite opens a database by its path, and such an account could plant a link there)."""
    for part in [top, *[p for p in reversed(folder.parents) if top in p.parents], folder]:
        info = os.lstat(part)
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return info
    return None


def _sqlite_copy(path: str, top: Path, scratch: Path) -> Path:
    """The online copy, into a private file of ours. When another account controls a folder on
    the way (root backing up the grader's gradebook), SQLite opens the path in a child that has
    dropped to that folder's owner and group (nobody, if root owns it): a planted link then
    reaches nothing that account could not read itself."""
    fd, name = tempfile.mkstemp(prefix="db-", dir=scratch)
    copy = Path(name)
    risky = _controlled_by_others(top, Path(path).parent) if os.geteuid() == 0 else None
    if risky is None:
        try:
            _write_online_copy(path, fd)
        finally:
            os.close(fd)
        return copy
    uid = risky.st_uid or pwd.getpwnam("nobody").pw_uid
    try:
        done = as_account((uid, risky.st_gid), _write_online_copy, path, fd)
    finally:
        os.close(fd)
    if not done:
        raise KnsError("backup.sqlite_failed", log_detail=f"online copy of {path} as uid {uid} "
                       "failed", path=path)
    return copy


def _is_sqlite(fd: int) -> bool:
    return os.pread(fd, len(SQLITE_MAGIC), 0) == SQLITE_MAGIC


def _unreadable(exc: OSError) -> None:
    """A folder or file this account may not read makes the backup fail (an archive that
    silently lacks the grader's course is worse than none); one gone since the listing is
    left out."""
    if isinstance(exc, PermissionError):
        log.error("backup: %s", exc)
        raise KnsError("backup.unreadable", log_detail=str(exc), path=str(exc.filename))
    log.warning("backup: left out: %s", exc)


def _walk(writer: _Writer, label: str, top: Path) -> None:
    for folder, dirs, files, dirfd in os.fwalk(top, follow_symlinks=False, onerror=_unreadable):
        rel = PurePosixPath(Path(folder).relative_to(top).as_posix())
        if label == "state" and rel == PurePosixPath("."):
            dirs[:] = [d for d in dirs if d not in SKIPPED_IN_STATE]
        base = label if rel == PurePosixPath(".") else f"{label}/{rel}"
        writer.folder(base, os.fstat(dirfd))
        for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            log.warning("backup: %s/%s is a link: left out", folder, name)
        names = set(files)
        for name in sorted(files):
            if any(name.endswith(s) and name[: -len(s)] in names for s in SQLITE_SIDE_FILES):
                continue  # part of a database taken with the online backup API
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                             dir_fd=dirfd)
            except PermissionError as exc:
                _unreadable(exc)
            except OSError as exc:  # a link (ELOOP), or gone since the listing
                log.warning("backup: %s/%s left out: %s", folder, name, exc)
                continue
            with os.fdopen(fd, "rb") as fh:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    log.warning("backup: %s/%s is not a regular file: left out", folder, name)
                    continue
                if _is_sqlite(fd):
                    copy = _sqlite_copy(os.path.join(folder, name), top, writer.scratch)
                    with open(copy, "rb") as db:
                        writer.file(f"{base}/{name}", db, info, sqlite=True)
                    copy.unlink()
                else:
                    writer.file(f"{base}/{name}", fh, info)


def _databases(writer: _Writer, where: Places) -> list[dict]:
    out = []
    for database in where.databases:
        if database.kind == "postgresql":
            dump = writer.scratch / f"{database.name}.pgdump"
            postgres.dump(database.url, dump)
            member = f"databases/{database.name}.pgdump"
            with open(dump, "rb") as fh:
                writer.file(member, fh, os.stat(dump))
            dump.unlink()
        else:
            member = where.member_of(database.file)
            if member is None:  # an SQLite database outside the trees
                member = f"databases/{database.name}.sqlite"
                if database.file.exists():
                    copy = _sqlite_copy(str(database.file), database.file.parent, writer.scratch)
                    with open(copy, "rb") as fh:
                        writer.file(member, fh, os.stat(database.file), sqlite=True)
                    copy.unlink()
                else:
                    member = None
        out.append({"name": database.name, "kind": database.kind, "member": member})
    return out


def backup(where: Places, dest: Path, revision: str | None) -> dict:
    """Write the archive to `dest` (which must not exist); return its manifest."""
    dest = Path(dest).absolute()
    if os.path.lexists(dest):
        raise KnsError("backup.dest_exists", path=str(dest))
    if not dest.parent.is_dir():
        raise KnsError("backup.dest_folder_missing", path=str(dest.parent))
    fd, partial = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    scratch = Path(tempfile.mkdtemp(prefix="kns-backup-"))
    try:
        with os.fdopen(fd, "wb") as raw:
            mode = "w:gz" if dest.name.endswith((".gz", ".tgz")) else "w"
            with tarfile.open(fileobj=raw, mode=mode, format=tarfile.PAX_FORMAT) as tar:
                writer = _Writer(tar, scratch)
                databases = _databases(writer, where)
                for label, top in where.trees.items():
                    if os.path.islink(top) or not os.path.isdir(top):
                        log.warning("backup: %s (%s) is not a folder: left out", top, label)
                        continue
                    _walk(writer, label, top)
                manifest = {
                    "format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(),
                    "alembic_revision": revision, "trees": sorted(where.trees),
                    "databases": databases, "members": writer.members}
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
                entry = tarfile.TarInfo(MANIFEST)
                entry.size, entry.mode = len(data), 0o600
                entry.mtime = int(dt.datetime.now().timestamp())
                tar.addfile(entry, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.link(partial, dest)  # never replaces a file that appeared meanwhile
    except FileExistsError:
        raise KnsError("backup.dest_exists", path=str(dest)) from None
    finally:
        for path in (partial,):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("backup written to %s: %d members", dest, len(manifest["members"]))
    return manifest


# --- restore --------------------------------------------------------------------------------

def _check_name(member: tarfile.TarInfo) -> PurePosixPath:
    """The member's path, refused unless relative, without `..`, a folder or a regular file."""
    name = PurePosixPath(member.name)
    if (name.is_absolute() or ".." in name.parts or not name.parts or "\\" in member.name
            or not (member.isreg() or member.isdir())):
        detail = f"unsafe member {member.name!r} (type {member.type!r})"
        log.error("restore refused: %s", detail)
        raise KnsError("backup.archive_unsafe", log_detail=detail, member=member.name)
    return name


def _empty_target(path: Path) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode) or os.listdir(path):
        raise KnsError("backup.target_not_empty", folder=str(path))


class _Staging:
    """Private folders (0700, beside each target) the archive is unpacked into."""

    def __init__(self, where: Places):
        self.where, self.folders, self.made = where, {}, []
        self.scratch = Path(tempfile.mkdtemp(prefix="kns-restore-"))
        self.placed = False

    def root_of(self, label: str) -> Path:
        if label not in self.folders:
            if label == "databases":
                self.folders[label] = self.scratch
            elif label in self.where.trees:
                target = self.where.trees[label]
                missing = [p for p in reversed(target.parents) if not os.path.lexists(p)]
                target.parent.mkdir(parents=True, exist_ok=True)
                self.made.extend(missing)  # removed again if the restore fails
                self.folders[label] = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-",
                                                            dir=target.parent))
            else:
                raise KnsError("backup.tree_unknown", tree=label)
        return self.folders[label]

    def path_of(self, name: PurePosixPath) -> Path:
        root = self.root_of(name.parts[0])
        return root.joinpath("tree", *name.parts[1:]) if name.parts[0] != "databases" \
            else root.joinpath(*name.parts[1:])

    def remove(self) -> None:
        for folder in {*self.folders.values(), self.scratch}:
            shutil.rmtree(folder, ignore_errors=True)
        if not self.placed:
            for folder in reversed(self.made):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass  # not empty (another tree was placed there): kept


def _unpack(tar: tarfile.TarFile, staging: _Staging) -> tuple[dict, dict]:
    """Every member into staging, checked; (manifest, {name: (size, sha256, type)})."""
    seen: dict[str, tuple] = {}
    manifest = None
    for member in tar:
        name = _check_name(member)
        if str(name) in seen or manifest is not None:
            raise KnsError("backup.archive_damaged", log_detail=f"member {name} repeated or "
                           f"after the manifest")
        if str(name) == MANIFEST:
            manifest = json.loads(tar.extractfile(member).read().decode("utf-8"))
            continue
        path = staging.path_of(name)
        if member.isdir():
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            seen[str(name)] = ("dir", None, None)
            continue
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest, size = hashlib.sha256(), 0
        source = tar.extractfile(member)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        seen[str(name)] = ("file", size, digest.hexdigest())
    if manifest is None or manifest.get("format") != FORMAT:
        raise KnsError("backup.archive_damaged", log_detail="no manifest, or another format")
    return manifest, seen


def _verify(manifest: dict, seen: dict) -> None:
    expected = {m["name"]: ((m["type"], m.get("size"), m.get("sha256")) if m["type"] == "file"
                            else ("dir", None, None)) for m in manifest["members"]}
    wrong = sorted(n for n in expected.keys() | seen.keys() if expected.get(n) != seen.get(n))
    if wrong:
        detail = f"{len(wrong)} members differ from the manifest, first: {wrong[:5]}"
        log.error("restore refused: %s", detail)
        raise KnsError("backup.archive_damaged", log_detail=detail)


def _ids(owner: str, group: str) -> tuple[int, int]:
    try:
        return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError:
        raise KnsError("backup.account_missing", owner=owner, group=group) from None


def _settle(manifest: dict, staging: _Staging) -> None:
    """Modes, then (root) owners of the staged trees, bottom-up: a folder is handed to its
    account only once nothing more is written in it. fd-relative, no link followed (the
    staging folders are this process's own, 0700)."""
    as_root = os.geteuid() == 0
    wanted = {m["name"]: m for m in manifest["members"] if not m["name"].startswith("databases/")}
    ids = {}
    if as_root:  # every account must exist before anything is placed
        for m in wanted.values():
            ids[m["name"]] = _ids(m["owner"], m["group"])
    for name in sorted(wanted, key=lambda n: n.count("/"), reverse=True):
        m = wanted[name]
        path = staging.path_of(PurePosixPath(name))
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_DIRECTORY if m["type"] == "dir" else 0)
        fd = os.open(path, flags)
        try:
            if as_root:
                os.fchown(fd, *ids[name])
            os.fchmod(fd, m["mode"])
        finally:
            os.close(fd)


def _check_databases(manifest: dict, where: Places) -> list[tuple[Database, dict]]:
    """Each database of the archive against this machine's settings: the same kind, and an
    empty PostgreSQL database, or no SQLite file yet."""
    targets = {d.name: d for d in where.databases}
    pairs = []
    for saved in manifest["databases"]:
        target = targets.get(saved["name"])
        if target is None or target.kind != saved["kind"]:
            raise KnsError("backup.database_kind", database=saved["name"], kind=saved["kind"])
        if saved["member"] is None:
            continue
        if target.kind == "postgresql" and not postgres.is_empty(target.url):
            raise KnsError("backup.database_not_empty", database=saved["name"])
        if target.kind == "sqlite" and saved["member"].startswith("databases/"):
            if os.path.lexists(target.file):
                raise KnsError("backup.target_not_empty", folder=str(target.file))
        elif target.kind == "sqlite" and where.member_of(target.file) != saved["member"]:
            raise KnsError("backup.database_place", database=saved["name"])
        pairs.append((target, saved))
    return pairs


def restore(where: Places, source: Path) -> dict:
    """Put the archive `source` back into this machine's (empty) places; return its manifest."""
    for target in where.trees.values():
        _empty_target(target)
    staging = _Staging(where)
    try:
        try:
            with tarfile.open(source, mode="r:*") as tar:
                manifest, seen = _unpack(tar, staging)
        except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, zlib.error) as exc:
            log.error("restore refused: %s is not a whole archive: %r", source, exc)
            raise KnsError("backup.archive_damaged", log_detail=repr(exc)) from None
        _verify(manifest, seen)
        databases = _check_databases(manifest, where)
        for label in {m["name"].split("/")[0] for m in manifest["members"]} - {"databases"}:
            if label not in where.trees:  # (unpacking already refused it; a manifest could lie)
                raise KnsError("backup.tree_unknown", tree=label)
        _settle(manifest, staging)
        staging.placed = True  # from here on, what is placed stays
        for target, saved in databases:
            staged = staging.path_of(PurePosixPath(saved["member"]))
            if target.kind == "postgresql":
                postgres.restore(target.url, staged)
            elif saved["member"].startswith("databases/"):
                target.file.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{target.file.name}.", dir=target.file.parent)
                try:
                    with os.fdopen(fd, "wb") as out, open(staged, "rb") as src:
                        shutil.copyfileobj(src, out)
                    os.link(tmp, target.file)  # never over a file that appeared meanwhile
                finally:
                    os.unlink(tmp)
        for label, target in where.trees.items():
            if label not in staging.folders:
                continue
            if os.path.lexists(target):
                _empty_target(target)  # still empty: replaced whole by the rename
            os.rename(staging.folders[label] / "tree", target)
    finally:
        staging.remove()
    log.info("restored %s: %d members", source, len(manifest["members"]))
    return manifest
