"""`kns backup` / `kns restore`: a live office backed up, restored on fresh places, the same
gradebook scores and HR numbers; damaged, unsafe archives and non-empty targets refused.

Real SQLite (a writer thread commits during the backup), real PostgreSQL (pg_dump/pg_restore of
the test server), real nbgrader gradebooks (tests/reports/conftest.py's office).
"""

from __future__ import annotations

import io
import json
import os
import pwd
import shutil
import sqlite3
import stat
import tarfile
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kynangso.cli import kns
from kynangso.db import session_scope
from kynangso.models import ProgressEvent
from kynangso.settings import load_settings
from tests.reports.conftest import build_office

COURSE = "thi-nang-luc"


def _settings(folder: Path, **urls):
    """Settings of one machine: state, exam root and share (an isolated hub's layout, so all
    three trees are in the archive) under `folder`; databases SQLite unless given."""
    data = {"state_dir": str(folder / "state"), "isolation": {"mode": "unix_users"},
            "exams": {"root": str(folder / "exams"), "course_id": COURSE}}
    if urls.get("platform"):
        data["database"] = {"url": urls["platform"]}
    if urls.get("hub"):
        data["hub"] = {"db_url": urls["hub"]}
    if urls.get("gradebook"):
        data["exams"]["gradebook_url"] = urls["gradebook"]
    path = folder / "settings.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path, load_settings(path)


def _office(folder: Path, **urls):
    """The office on a machine laid out by `_settings`, with the hub's state and an inbound."""
    path, settings = _settings(folder, **urls)
    (settings.state_dir / "hub").mkdir(parents=True)
    (settings.state_dir / "hub" / "jupyterhub_cookie_secret").write_bytes(b"\x01" * 32)
    if not urls.get("hub"):
        with sqlite3.connect(settings.hub_db_url.removeprefix("sqlite:///")) as hub:
            hub.execute("CREATE TABLE users (name TEXT)")
            hub.execute("INSERT INTO users VALUES ('an')")
    (folder / "exams").mkdir()
    build_office(folder / "exams", settings.database_url, urls.get("gradebook"))
    inbound = folder / "exams-exchange" / "exchange" / COURSE / "inbound" / "an+ky-2+t+r"
    inbound.mkdir(parents=True)
    (inbound / "bai-thi.ipynb").write_text('{"cells": []}')
    return path, settings


def _picture(settings) -> dict:
    """Gradebook scores per student and notebook, and the HR numbers, of one machine."""
    from nbgrader.api import Gradebook

    from reports.data import GradebookSource, load

    url = (settings["exams"]["gradebook_url"]
           or f"sqlite:///{Path(settings['exams']['root']) / COURSE / 'gradebook.db'}")
    scores = {}
    with Gradebook(url) as gb:
        for assignment in gb.assignments:
            for student in gb.students:
                for nb in assignment.notebooks:
                    try:
                        got = gb.find_submission_notebook(nb.name, assignment.name, student.id)
                    except Exception:  # noqa: BLE001 - absent from this exam
                        continue
                    scores[(assignment.name, student.id, nb.name)] = got.score
    data = load(settings.database_url,
                [GradebookSource(url, Path(settings["exams"]["root"]) / COURSE)])
    frames = {"levels": data.levels(), "exams": data.exams, "lessons": data.lessons,
              "needs": data.needs()}
    assert not frames["levels"].empty and not frames["exams"].empty  # something to compare
    # Rows in a canonical order: a database returns rows without ORDER BY in its own order,
    # which a restore need not keep.
    return {"scores": scores, **{name: sorted(json.dumps(row, sort_keys=True) for row in json.loads(
        frame.to_json(orient="records", date_format="iso"))) for name, frame in frames.items()}}


def _run(settings_path: Path, *args: str):
    # The entry points (pyproject.toml) add these once the project is installed; the tests run
    # the worktree's code, so they are added here the same way.
    from kynangso.backup.cli import backup, restore

    kns.add_command(backup, "backup")
    kns.add_command(restore, "restore")
    return CliRunner().invoke(kns, [*args], env={"KNS_SETTINGS": str(settings_path)})


@pytest.fixture(scope="module")
def sqlite_backup(tmp_path_factory):
    """An SQLite office backed up while a writer commits progress events to its platform
    database; (settings of the old machine, picture before, archive, events written)."""
    folder = tmp_path_factory.mktemp("backup")
    path, settings = _office(folder / "old")
    before = _picture(settings)
    stop, written = threading.Event(), []

    errors = []

    def writer():  # completions not yet judged: stored, never counted in the HR numbers
        try:
            while not stop.is_set():
                with session_scope(settings.database_url) as s:
                    s.add(ProgressEvent(event_id=uuid.uuid4().hex, username="an",
                                        kind="lesson_completed", course_id="01-van-ban-dien-tu",
                                        lesson_id="05-luu-tru", occurred_at=datetime.now(UTC),
                                        judged=False))
                written.append(1)
                committed.set()
        except Exception as exc:  # noqa: BLE001 - the backup must not make a writer fail
            errors.append(exc)
            committed.set()

    committed = threading.Event()
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        # The backup starts once the writer has committed and runs while it goes on; a busy
        # 2-core machine may take a while to schedule the thread, hence the generous limit.
        assert committed.wait(timeout=120)
        archive = folder / "kns.tar"
        done = _run(path, "backup", str(archive), "--json")
    finally:
        stop.set()
        thread.join()
    assert done.exit_code == 0, done.output
    assert errors == []  # the writer was never blocked into failing by the backup
    return settings, before, archive, len(written)


def test_sqlite_round_trip_while_a_writer_commits(sqlite_backup, tmp_path):
    """Does a restore on a fresh machine give the same scores and HR numbers, with a platform
    database whole and consistent although a writer committed during the backup?"""
    old, before, archive, written = sqlite_backup
    assert written > 0  # the writer did commit while the backup ran
    path, new = _settings(tmp_path / "new")
    done = _run(path, "restore", str(archive), "--json")
    assert done.exit_code == 0, done.output
    assert _picture(new) == before
    with sqlite3.connect(new.database_url.removeprefix("sqlite:///")) as restored:
        assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = restored.execute("SELECT count(*) FROM progress_events WHERE lesson_id = "
                                  "'05-luu-tru'").fetchone()[0]
    assert 1 <= copied <= written  # what was committed when the copy began, no half row
    assert (new.state_dir / "hub" / "jupyterhub_cookie_secret").read_bytes() == b"\x01" * 32
    assert ((new.state_dir / "hub" / "jupyterhub_cookie_secret").stat().st_mode & 0o777
            == (old.state_dir / "hub" / "jupyterhub_cookie_secret").stat().st_mode & 0o777)
    inbound = tmp_path / "new" / "exams-exchange" / "exchange" / COURSE / "inbound"
    assert (inbound / "an+ky-2+t+r" / "bai-thi.ipynb").read_text() == '{"cells": []}'
    manifest = json.loads(tarfile.open(archive).extractfile("manifest.json").read())
    assert {d["name"]: d["kind"] for d in manifest["databases"]} == {
        "platform": "sqlite", "hub": "sqlite", "gradebook": "sqlite"}
    assert manifest["alembic_revision"]
    assert sorted(manifest["trees"]) == ["exams", "exams-share", "state"]


def _rewrite(archive: Path, target: Path, change) -> None:
    """A copy of `archive` with `change(name, data) -> data` applied to each member."""
    with tarfile.open(archive) as src, tarfile.open(target, "w") as dst:
        for member in src:
            data = src.extractfile(member).read() if member.isreg() else None
            data = change(member.name, data)
            if data is not None:
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)


def _nothing_written(folder: Path) -> bool:
    return not any(folder.rglob("*")) if folder.exists() else True


def test_damaged_and_unsafe_archives_are_refused(sqlite_backup, tmp_path):
    """Are a tampered member, a truncated archive and an archive with a planted link all
    refused with a Vietnamese message, with nothing written on the new machine?"""
    _old, _before, archive, _written = sqlite_backup
    tampered = tmp_path / "tampered.tar"
    _rewrite(archive, tampered, lambda name, data: (
        data.replace(b"cells", b"CELLS") if name.endswith("bai-thi.ipynb") and data else data))
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    linked = tmp_path / "linked.tar"
    with tarfile.open(archive) as src, tarfile.open(linked, "w") as dst:
        link = tarfile.TarInfo("state/hub/planted")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc"
        dst.addfile(link)
        for member in src:
            dst.addfile(member, src.extractfile(member) if member.isreg() else None)
    for bad, words in ((tampered, "hỏng"), (truncated, "hỏng"), (linked, "không an toàn")):
        folder = tmp_path / f"new-{bad.stem}"
        path, _new = _settings(folder)
        # The state folder's parent does not exist yet: made for the restore, removed again.
        path.write_text(path.read_text().replace(str(folder / "state"), str(folder / "srv" / "state")))
        done = _run(path, "restore", str(bad))
        assert done.exit_code == 2, (bad.name, done.output)
        assert words in done.output
        for tree in ("state", "exams", "exams-exchange"):
            assert not (folder / tree).exists(), (bad.name, tree)
        assert [p.name for p in folder.iterdir()] == ["settings.yaml"]


def test_a_non_empty_target_is_refused(sqlite_backup, tmp_path):
    """Is a restore onto a state folder that holds anything refused, and that folder kept?"""
    _old, _before, archive, _written = sqlite_backup
    path, new = _settings(tmp_path / "new")
    new.state_dir.mkdir(parents=True)
    (new.state_dir / "keep.txt").write_text("dữ liệu cũ")
    done = _run(path, "restore", str(archive))
    assert done.exit_code == 2
    assert "đã có dữ liệu" in done.output
    assert sorted(p.name for p in new.state_dir.iterdir()) == ["keep.txt"]
    assert not (tmp_path / "new" / "exams").exists()


def test_postgresql_round_trip(postgres, tmp_path, monkeypatch):
    """With the platform, hub and gradebook on PostgreSQL, does pg_dump / pg_restore into new
    databases give the same scores and HR numbers, and a second restore into a database that
    is no longer empty get refused?"""
    from jupyterhub import orm

    monkeypatch.setenv("PATH", f"{postgres.bindir}:{os.environ['PATH']}")
    old_urls = {k: postgres.create() for k in ("platform", "hub", "gradebook")}
    # A password (the test server trusts loopback, so it is not checked): it must reach
    # pg_dump through a PGPASSFILE, ':' escaped, never through its command line.
    old_urls["platform"] = old_urls["platform"].replace("kns@", "kns:s3:cr%40t@")
    session = orm.new_session_factory(old_urls["hub"])()
    session.add(orm.User(name="an"))
    session.commit()
    session.close()
    path, settings = _office(tmp_path / "old", **old_urls)
    before = _picture(settings)
    archive = tmp_path / "kns.tar.gz"  # compressed, as the nightly example in the docs
    done = _run(path, "backup", str(archive))
    assert done.exit_code == 0, done.output
    names = tarfile.open(archive, "r:gz").getnames()
    assert {"databases/platform.pgdump", "databases/hub.pgdump", "databases/gradebook.pgdump"} <= set(names)

    new_urls = {k: postgres.create() for k in ("platform", "hub", "gradebook")}
    new_path, new = _settings(tmp_path / "new", **new_urls)
    done = _run(new_path, "restore", str(archive))
    assert done.exit_code == 0, done.output
    assert _picture(new) == before
    session = orm.new_session_factory(new_urls["hub"])()
    assert [u.name for u in session.query(orm.User)] == ["an"]
    session.close()

    again_path, _again = _settings(tmp_path / "again", **new_urls)
    done = _run(again_path, "restore", str(archive))
    assert done.exit_code == 2
    assert "đã có dữ liệu" in done.output


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="owners other than one's own need root")
def test_root_keeps_owners_and_opens_others_databases_with_their_rights():
    """Run as root: are the grader's folders and gradebook restored as the grader's, with their
    modes; does an account that cannot read everything get no archive rather than a partial
    one; and is an SQLite database in a folder the grader controls opened with the grader's
    rights only (a link planted there to root's hub database gets nothing)?"""
    from kynangso.backup import archive
    from kynangso.backup.places import places
    from kynangso.errors import KnsError

    nobody = pwd.getpwnam("nobody")  # stands in for the grader account: any non-root account
    # Under /tmp, not pytest's 0700 folder: the grader's rights must reach its own folders.
    base = Path(tempfile.mkdtemp(prefix="kns-backup-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        path, old = _settings(base / "old")
        (old.state_dir / "hub").mkdir(parents=True)
        with sqlite3.connect(old.state_dir / "hub" / "jupyterhub.sqlite") as hub:
            hub.execute("CREATE TABLE api_tokens (hashed TEXT)")
        os.chmod(old.state_dir / "hub" / "jupyterhub.sqlite", 0o600)
        course = base / "old" / "exams" / COURSE
        course.mkdir(parents=True)
        with sqlite3.connect(course / "gradebook.db") as gb:
            gb.execute("CREATE TABLE grade (score REAL)")
            gb.execute("INSERT INTO grade VALUES (4.5)")
        for item, mode in ((course.parent, 0o700), (course, 0o2710), (course / "gradebook.db", 0o640)):
            os.chown(item, nobody.pw_uid, nobody.pw_gid)
            os.chmod(item, mode)
        assert _run(path, "backup", str(base / "kns.tar")).exit_code == 0

        new_path, new = _settings(base / "new")
        done = _run(new_path, "restore", str(base / "kns.tar"))
        assert done.exit_code == 0, done.output
        restored = base / "new" / "exams" / COURSE
        for item, mode in ((restored.parent, 0o700), (restored, 0o2710),
                           (restored / "gradebook.db", 0o640)):
            info = os.lstat(item)
            assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (
                nobody.pw_uid, nobody.pw_gid, mode), item
        with sqlite3.connect(restored / "gradebook.db") as gb:
            assert gb.execute("SELECT score FROM grade").fetchall() == [(4.5,)]

        # An account that cannot read everything gets no archive at all, not a partial one.
        os.chmod(old.state_dir / "hub", 0o700)
        out = base / "out"
        out.mkdir(mode=0o777)
        os.chmod(out, 0o777)
        pid = os.fork()
        if pid == 0:  # the child: nobody's rights, then exit without cleanup
            code = 1
            try:
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                archive.backup(places(old), out / "kns.tar", None)
            except KnsError as exc:
                code = 3 if exc.key == "backup.unreadable" else 4
            finally:
                os._exit(code)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 3
        assert list(out.iterdir()) == []

        # What a race could give SQLite's open (the walk itself never follows a link).
        (course / "planted.sqlite").symlink_to(old.state_dir / "hub" / "jupyterhub.sqlite")
        scratch = Path(tempfile.mkdtemp())
        try:
            with pytest.raises(KnsError):
                archive._sqlite_copy(str(course / "planted.sqlite"), course.parent, scratch)
            assert [p.stat().st_size for p in scratch.iterdir()] == [0]
        finally:
            shutil.rmtree(scratch)
    finally:
        shutil.rmtree(base)
