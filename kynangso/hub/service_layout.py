"""The state folder laid out for services that run as their own accounts (isolated hub, root).

Run by the hub at start (`configurer.prepare_environment`), idempotent. What each account gets:

    <state>/                 root:<prefix>grp-platformdb 2770 when the platform database is a
                             SQLite file here (SQLite writes its journal beside the file), else
                             2710 (the services only walk through). Others: nothing.
    <state>/kynangso.sqlite  root:<prefix>grp-platformdb 0660 (see the note on SQLite below)
    <state>/hub/             root 0700: hub database, cookie secret, tokens (unchanged)
    <state>/pki/             the signing account:<prefix>grp-pki 2710: the training CA;
        private/             0700: the CA's keys (the signing account only)
        ca/, registry.sqlite grp-pki may read (the grader grades the signing exam with them)
    <state>/exams/           root:<reports account's group>, 0750/0640: the demo exam course
    <state>/services/        root:<prefix>grp-platformdb 0750
        settings.yaml        root:<prefix>grp-platformdb 0640: the settings without `auth`
        <service>/           the service's account, 0700: its cwd and HOME (Voilà's runtime files)
    <exam root>              the grader's; group <prefix>grp-gradebooks gets traversal of the root
                             and the course, read of gradebook.db and of source/ (tags)

SQLite has no per-table rights: every account in grp-platformdb can write every table of the
platform database (progress needs only progress_event, reports nothing). With PostgreSQL, give
each service its own role instead (docs/security.md lists the GRANTs); until per-service URLs
are a setting, one role per database (docs/operations.md, "PostgreSQL"). A gradebook on
PostgreSQL (exams.gradebook_url) has no file to share: the reports get its URL in their
environment.

Root never follows a path that a service account controls: every change under a folder that a
service can write is made fd-relative (`os.fwalk`, `O_NOFOLLOW`), and the exam root, which the
grader account owns, is changed by a child that has dropped to the grader's uid.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import yaml

from kynangso.errors import SettingsError
from kynangso.hub.system_accounts import (
    ensure_group,
    ensure_system_account,
    service_account,
    service_group,
)
from kynangso.settings import Settings

log = logging.getLogger("kns.hub")

PROGRESS, SIGNING, REPORTS, CULLER = "progress", "signing", "reports", "jupyterhub-idle-culler"
ADMIN = "admin"  # the admin app: reads and writes the staff directory and activation codes
PROXY = "proxy"  # configurable-http-proxy: needs no file of the state folder, only its port
DB_SERVICES = (PROGRESS, SIGNING, REPORTS, ADMIN)
PLATFORM_DB_GROUP = "platformdb"
GRADEBOOK_GROUP = "gradebooks"
PKI_GROUP = "pki"


def prepare(settings: Settings, exams) -> dict:
    """Create the service accounts and lay out the state folder; return the HubEnvironment
    fields (service_users, service_dirs, services_settings_file, reports_gradebooks)."""
    state = settings.state_dir
    for parent in state.parents:  # the service accounts must walk down to their folders
        if not os.stat(parent).st_mode & 0o001:
            raise SettingsError("hub.state_unreachable", folder=str(state), parent=str(parent))
    db_group = service_group(settings, PLATFORM_DB_GROUP)
    db_gid = ensure_group(db_group)
    services_dir = state / "services"
    _mkdir_private(services_dir, 0, db_gid, 0o750)
    users, dirs = {}, {}
    for name in (PROGRESS, SIGNING, REPORTS, CULLER, ADMIN, PROXY):
        account = service_account(settings, name)
        home = services_dir / name
        uid, gid = ensure_system_account(account, home, (db_group,) if name in DB_SERVICES else ())
        if name in (CULLER, PROXY):  # need no file at all: not even a folder is reachable
            users[name], dirs[name] = account, "/"
            continue
        _mkdir_private(home, uid, gid, 0o700)
        users[name], dirs[name] = account, str(home)

    _platform_database(settings, db_gid)
    signing_uid, signing_gid = _ids(users[SIGNING])
    pki_gid = ensure_group(service_group(settings, PKI_GROUP))
    _mkdir_private(state / "pki", signing_uid, pki_gid, 0o2710)
    # Keys made by `kns signing` run as root stay root's until handed to the signing account.
    _chown_tree(state / "pki", signing_uid, signing_gid, only_uid=0)
    _share_pki(settings, state / "pki", signing_uid, pki_gid)
    reports_uid, reports_gid = _ids(users[REPORTS])
    if (state / "exams").is_dir() and not (state / "exams").is_symlink():
        _share_tree(state / "exams", reports_gid)
    settings_file = _services_settings(settings, services_dir / "settings.yaml", db_gid)
    gradebooks = _share_gradebooks(settings, exams, users[REPORTS])
    for path in sorted((state / "exams").glob("*/gradebook.db")):  # the demo course (reports.demo)
        if not path.parent.name.startswith("."):
            gradebooks.append({"db_url": f"sqlite:///{path}", "course_dir": str(path.parent)})
    return {"service_users": users, "service_dirs": dirs,
            "services_settings_file": str(settings_file), "reports_gradebooks": gradebooks}


def _ids(account: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(account)
    return entry.pw_uid, entry.pw_gid


def _mkdir_private(path: Path, uid: int, gid: int, mode: int) -> None:
    """`path` as a real folder (never a link) owned by uid:gid with `mode`."""
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        pass
    _set_mode(path, uid, gid, mode)


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None


def _platform_database(settings: Settings, gid: int) -> None:
    """The services in grp-platformdb reach the database; with SQLite they write the file and
    its folder (journal). Others get nothing."""
    state = settings.state_dir
    db_file = _sqlite_file(settings.database_url)
    if db_file is None or db_file.parent != state:
        if db_file is not None:
            log.warning("platform database %s is outside the state folder: give group %s "
                        "read and write on it and its folder yourself", db_file, gid)
        _set_mode(state, 0, gid, 0o2710)
        return
    _set_mode(state, 0, gid, 0o2770)
    # WAL mode: readers too write the -shm file. SQLite gives new -wal/-shm/-journal files the
    # database file's owner and mode.
    for path in (db_file, *(db_file.with_name(db_file.name + x) for x in ("-wal", "-shm", "-journal"))):
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.fchown(fd, 0, gid)
                os.fchmod(fd, 0o660)
        finally:
            os.close(fd)


def _set_mode(path: Path, uid: int, gid: int, mode: int) -> None:
    """uid:gid and `mode` on the folder `path`, refused if it is a link."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _open_entry(name: str, dir_fd: int) -> int | None:
    """fd of a regular file or folder `name` in dir_fd, never through a link; None otherwise."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return fd
    os.close(fd)
    return None


def _chown_tree(top: Path, uid: int, gid: int, only_uid: int | None = None) -> None:
    """chown every folder and file under `top` (fd-relative, links never followed)."""
    for _root, dirnames, filenames, dirfd in os.fwalk(top, follow_symlinks=False):
        if only_uid is None or os.fstat(dirfd).st_uid == only_uid:
            os.fchown(dirfd, uid, gid)
        for name in filenames + dirnames:
            fd = _open_entry(name, dirfd)
            if fd is not None:
                try:
                    if only_uid is None or os.fstat(fd).st_uid == only_uid:
                        os.fchown(fd, uid, gid)
                finally:
                    os.close(fd)


def _share_tree(top: Path, gid: int) -> None:
    """Group `gid` reads the tree: folders 0750, files 0640, owner kept (fd-relative)."""
    for _root, _dirs, filenames, dirfd in os.fwalk(top, follow_symlinks=False):
        os.fchown(dirfd, -1, gid)
        os.fchmod(dirfd, 0o750)
        for name in filenames:
            fd = _open_entry(name, dirfd)
            if fd is not None:
                try:
                    os.fchown(fd, -1, gid)
                    os.fchmod(fd, 0o640)
                finally:
                    os.close(fd)


def _services_settings(settings: Settings, path: Path, gid: int) -> Path:
    """The settings as the services read them: the `auth` section (LDAP bind password, OIDC
    client secret) left out; root's 0640, readable by the database services."""
    data = {k: v for k, v in settings.data.items() if k != "auth"}
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        os.fchown(f.fileno(), 0, gid)
        os.fchmod(f.fileno(), 0o640)
        f.write(text)
    os.replace(tmp, path)
    return path


def _share_pki(settings: Settings, pki: Path, signing_uid: int, gid: int) -> None:
    """The grader grades the signing exam in its sandbox against the training CA: it reads the
    CA's public part (ca/) and its registry (who holds which certificate) through grp-pki.
    The CA's keys (private/, 0700) stay the signing account's alone."""
    import pwd

    try:
        grader = pwd.getpwnam(settings["exams"]["grader_account"])
    except KeyError:
        grader = None
    if grader is not None:
        ensure_system_account(grader.pw_name, grader.pw_dir, (service_group(settings, PKI_GROUP),))
    top = os.open(pki, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name, mode in (("ca", 0o2750), ("registry.sqlite", 0o640)):
            fd = _open_entry(name, top)
            if fd is None:
                continue
            try:
                os.fchown(fd, signing_uid, gid)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
    finally:
        os.close(top)


def _share_gradebooks(settings: Settings, exams, reports_account: str) -> list[dict]:
    """Let the reports account read the exam course's gradebook and its source notebooks (the
    competence tags), and nothing else that is not already open to every account.

    The exam root belongs to the grader account, so root does not touch it: a child drops to
    the grader's uid (a member of grp-gradebooks, which a chgrp to it needs) and sets
    root 0710, course 2710 (a gradebook made later gets the group), gradebook.db 0640, and
    source/ g+rX (setgid, so a new exam's folder gets the group too).
    """
    import pwd

    group = service_group(settings, GRADEBOOK_GROUP)
    ensure_system_account(reports_account, pwd.getpwnam(reports_account).pw_dir, (group,))
    grader = settings["exams"]["grader_account"]
    try:
        entry = pwd.getpwnam(grader)
    except KeyError:
        return []
    ensure_system_account(grader, entry.pw_dir, (group,))
    gid = ensure_group(group)
    pid = os.fork()
    if pid == 0:  # the child: the grader's rights only, then exit without cleanup
        code = 1
        try:
            os.setgroups([entry.pw_gid, gid])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            _open_gradebook(exams.root, exams.course, gid)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - logged, the hub starts anyway
            log.warning("exam gradebooks not shared with the reports account: %r", exc)
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return []
    return [{"db_url": exams.gradebook_url, "course_dir": str(exams.course)}]


def _open_gradebook(root: Path, course: Path, gid: int) -> None:
    """As the grader: what the gradebook group may reach in the exam root."""
    for folder, mode in ((root, 0o710), (course, 0o2710)):
        os.chown(folder, -1, gid)
        os.chmod(folder, mode)
    gradebook = course / "gradebook.db"
    if gradebook.exists():
        os.chown(gradebook, -1, gid)
        os.chmod(gradebook, 0o640)
    source = course / "source"
    if source.is_dir():
        for folder, _dirs, files in os.walk(source):
            os.chown(folder, -1, gid)
            os.chmod(folder, 0o2750)
            for name in files:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    os.chown(path, -1, gid)
                    os.chmod(path, 0o640)
