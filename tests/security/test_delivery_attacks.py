"""Attacks on course delivery: a learner's links and special files must not lead it outside their
courses folder, and must not hang the hub (security issue 13, part 1: "no learner reaches root").

The unit tests run the delivery function on a temporary home. The hub tests play the attacker for
real: the links and FIFOs are made by the learner's own Unix account (`runuser`), the learner's
server is restarted through the hub API, and the root-owned targets under /tmp are checked.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from kynangso.hub import delivery
from kynangso.hub.delivery import MANIFEST, deliver
from kynangso.hub.harness import IS_ROOT, api_token, new_session, open_lab

LESSON_DIR = "00-lam-quen"
LESSON = "00-lam-quen/01-dang-nhap.ipynb"


def lesson(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [{"source": text}]}, ensure_ascii=False), encoding="utf-8")


def make_source(root: Path) -> Path:
    src = root / "courses"
    lesson(src / LESSON, "Bài 1")
    lesson(src / "01-van-ban" / "01-so-ky-hieu.ipynb", "Số, ký hiệu")
    return src


def outside(root: Path) -> Path:
    """A folder delivery must never write into, with one file in it."""
    target = root / "outside"
    target.mkdir()
    (target / "victim").write_text("original")
    return target


def untouched(target: Path) -> None:
    assert sorted(p.name for p in target.iterdir()) == ["victim"], "delivery wrote into the link's target"
    assert (target / "victim").read_text() == "original", "delivery wrote through a link"


# --- the delivery function itself, on a temporary home ----------------------------------------

def test_link_in_place_of_the_temporary_file_is_not_written_through(tmp_path):
    """Attack: the learner deletes a lesson and puts a link where delivery writes its temporary
    copy (`.<name>.tmp`), so the re-delivery would write the lesson into the link's target."""
    src, home, target = make_source(tmp_path), tmp_path / "home", outside(tmp_path)
    deliver(src, home, "KhoaHoc")
    dst = home / "KhoaHoc" / LESSON
    dst.unlink()
    (dst.parent / f".{dst.name}.tmp").symlink_to(target / "victim")
    report = deliver(src, home, "KhoaHoc")
    untouched(target)
    assert LESSON in report.added and dst.is_file() and not dst.is_symlink()


def test_link_in_place_of_a_lesson_folder_is_not_followed(tmp_path):
    """Attack: the learner replaces a lesson folder with a link, so delivery would copy the
    lessons into (and hand over) the folder the link points to."""
    src, home, target = make_source(tmp_path), tmp_path / "home", outside(tmp_path)
    deliver(src, home, "KhoaHoc")
    folder = home / "KhoaHoc" / LESSON_DIR
    shutil.rmtree(folder)
    folder.symlink_to(target)
    report = deliver(src, home, "KhoaHoc")
    untouched(target)
    assert LESSON in report.skipped


def test_link_in_place_of_the_courses_folder_is_not_followed(tmp_path):
    """Attack: `~/KhoaHoc` itself is a link to another folder."""
    src, home, target = make_source(tmp_path), tmp_path / "home", outside(tmp_path)
    home.mkdir()
    (home / "KhoaHoc").symlink_to(target)
    deliver(src, home, "KhoaHoc")
    untouched(target)


def test_links_in_place_of_the_manifest_are_not_written_through(tmp_path):
    """Attack: the manifest's temporary file, the manifest, or its folder is a link."""
    src, home = make_source(tmp_path), tmp_path / "home"
    deliver(src, home, "KhoaHoc")
    for attack in ("tmp", "manifest", "folder"):
        (tmp_path / attack).mkdir()
        target = outside(tmp_path / attack)
        manifest = home / MANIFEST
        if attack == "tmp":
            manifest.with_suffix(".tmp").symlink_to(target / "victim")
        elif attack == "manifest":
            manifest.unlink()
            manifest.symlink_to(target / "victim")
        else:
            shutil.rmtree(manifest.parent)
            manifest.parent.symlink_to(target)
        deliver(src, home, "KhoaHoc")
        untouched(target)
        for leftover in (manifest.with_suffix(".tmp"), manifest, manifest.parent):
            if leftover.is_symlink():
                leftover.unlink()


def test_fifo_in_place_of_a_lesson_does_not_block_delivery(tmp_path):
    """Attack: a FIFO in place of a lesson, so reading it to hash it blocks delivery forever."""
    src, home = make_source(tmp_path), tmp_path / "home"
    deliver(src, home, "KhoaHoc")
    fifo = home / "KhoaHoc" / LESSON
    fifo.unlink()
    os.mkfifo(fifo)
    result = {}
    worker = threading.Thread(target=lambda: result.update(report=deliver(src, home, "KhoaHoc")), daemon=True)
    worker.start()
    worker.join(timeout=120)  # generous: a busy machine; a blocked read never ends at all
    try:
        assert not worker.is_alive(), "delivery blocked on the FIFO"
        assert LESSON in result["report"].skipped
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the learner's FIFO was replaced"
    finally:
        release(fifo)


def test_huge_file_is_not_read(tmp_path):
    """Attack: a lesson replaced by a file larger than any lesson (sparse, so cheap to make),
    to make delivery read gigabytes in the hub's time."""
    src, home = make_source(tmp_path), tmp_path / "home"
    deliver(src, home, "KhoaHoc")
    huge = home / "KhoaHoc" / LESSON
    with huge.open("r+b") as f:
        f.truncate(delivery.MAX_FILE_BYTES + 1)
    report = deliver(src, home, "KhoaHoc")
    assert LESSON in report.skipped
    assert huge.stat().st_size == delivery.MAX_FILE_BYTES + 1, "the learner's file was replaced"


def release(fifo: Path) -> None:
    """Unblock a reader stuck on `fifo` (if any) and remove it."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as err:
        if err.errno not in (errno.ENXIO, errno.ENOENT):
            raise
    fifo.unlink(missing_ok=True)


# --- the real hub, as root: the learner's account plants the links ---------------------------

needs_root = pytest.mark.skipif(not IS_ROOT, reason="isolated hub (per-learner Unix accounts) needs root")
LEARNER = "hocvien01"


def as_learner(hub, code: str) -> None:
    """Run Python as the learner's own Unix account, as their terminal or kernel would."""
    account = hub.unix_name(LEARNER)
    subprocess.run(["runuser", "-u", account, "--", "python3", "-c", code], check=True, timeout=120,
                   cwd="/")


def learner_home(hub) -> Path:
    return Path(hub.settings["isolation"]["home_root"]) / hub.unix_name(LEARNER)


def root_target() -> Path:
    """Root-owned folders and a file under /tmp that only root may change (like /etc)."""
    base = Path(f"/tmp/knsatk{secrets.token_hex(3)}")
    base.mkdir(mode=0o755)
    for name in ("dir1", "dir2", "dir3", "dir4"):
        (base / name).mkdir(mode=0o755)
    for name in ("victim", "victim2"):
        (base / name).write_text("root's")
        os.chmod(base / name, 0o644)
    return base


def snapshot(base: Path) -> dict:
    return {str(p): (p.lstat().st_uid, p.lstat().st_gid, p.lstat().st_mode,
                     p.read_text() if p.is_file() else None)
            for p in [base, *base.rglob("*")]}


def stop_server(hub, token: str) -> None:
    http = new_session()
    auth = {"Authorization": f"token {token}"}
    http.delete(f"{hub.url}/hub/api/users/{LEARNER}/server", headers=auth, timeout=120)
    for _ in range(120):  # generous: stopping a server takes a while on a busy machine
        if not http.get(f"{hub.url}/hub/api/users/{LEARNER}", headers=auth, timeout=30).json().get("servers"):
            return
        time.sleep(1)
    raise TimeoutError(f"{LEARNER}'s server did not stop")


def start_server(hub, token: str):
    """Ask the hub API to start the server; the answer comes once the spawn has begun."""
    # Generous: the hub answers within seconds unless something blocks its event loop.
    return new_session().post(f"{hub.url}/hub/api/users/{LEARNER}/server",
                              headers={"Authorization": f"token {token}"}, timeout=120)


@pytest.fixture
def learner(hub, login):
    session = login(LEARNER)
    open_lab(hub, session, LEARNER)  # the account and the home exist from here on
    token = api_token(hub, session, LEARNER)
    yield session, token
    # Leave a usable home for the other tests: the attacker's links and FIFOs go, and the server
    # is stopped so that the next start delivers the courses again.
    home = learner_home(hub)
    for path in [home / "KhoaHoc", home / ".kynangso"]:
        if path.is_symlink():
            path.unlink()
    for path in list((home / "KhoaHoc").rglob("*")) + list((home / ".kynangso").rglob("*")):
        if path.is_symlink():
            path.unlink()
        elif path.exists() and stat.S_ISFIFO(path.lstat().st_mode):
            release(path)
    stop_server(hub, token)


@needs_root
@pytest.mark.hub
def test_learners_links_inside_the_courses_folder_do_not_reach_root_files(hub, learner):
    """Attack: the learner plants links inside `~/KhoaHoc` and `~/.kynangso` (a dot file, a lesson
    folder, the temporary file of a deleted lesson, the manifest's temporary file) pointing at
    root-owned files and folders, then restarts their server so that delivery runs again."""
    session, token = learner
    base, home = root_target(), learner_home(hub)
    before = snapshot(base)
    gone = "02-bai-tap-va-phan-hoi.ipynb"  # a lesson of the installed courses
    as_learner(hub, f"""
import os, shutil
home = os.path.expanduser("~")
k = os.path.join(home, "KhoaHoc")
os.symlink("{base}/dir1", os.path.join(k, ".probe"))
os.remove(os.path.join(k, "{LESSON_DIR}", "{gone}"))
os.symlink("{base}/victim", os.path.join(k, "{LESSON_DIR}", ".{gone}.tmp"))
shutil.rmtree(os.path.join(k, "01-van-ban-dien-tu"))
os.symlink("{base}/dir2", os.path.join(k, "01-van-ban-dien-tu"))
os.symlink("{base}/victim2", os.path.join(home, ".kynangso", "delivered.tmp"))
""")
    try:
        stop_server(hub, token)
        assert start_server(hub, token).status_code in (201, 202)
        open_lab(hub, session, LEARNER)
        assert snapshot(base) == before, "delivery changed a root-owned file or folder through a link"
        assert (home / "KhoaHoc" / LESSON_DIR / gone).is_file(), "the deleted lesson was not delivered again"
        assert f"{home}/KhoaHoc/01-van-ban-dien-tu" in hub.log(), "no log line names the skipped link"
    finally:
        shutil.rmtree(base)


@needs_root
@pytest.mark.hub
def test_learners_courses_and_manifest_folders_as_links_do_not_reach_root_folders(hub, learner):
    """Attack: the learner replaces `~/KhoaHoc` and `~/.kynangso` themselves with links to
    root-owned folders, then restarts their server (the hub used to make and chown `~/KhoaHoc`)."""
    session, token = learner
    base = root_target()
    before = snapshot(base)
    as_learner(hub, f"""
import os, shutil
home = os.path.expanduser("~")
for name, target in (("KhoaHoc", "dir3"), (".kynangso", "dir4")):
    shutil.rmtree(os.path.join(home, name))
    os.symlink("{base}/" + target, os.path.join(home, name))
""")
    try:
        stop_server(hub, token)
        assert start_server(hub, token).status_code in (201, 202)
        open_lab(hub, session, LEARNER)  # the server starts anyway
        assert snapshot(base) == before, "delivery changed a root-owned folder through a link"
    finally:
        shutil.rmtree(base)


@needs_root
@pytest.mark.hub
def test_fifo_in_place_of_a_lesson_does_not_hang_the_hub(hub, learner):
    """Attack: the learner replaces a lesson with a FIFO and restarts their server, so that the
    hub blocks reading it (to hash it) and stops answering everyone."""
    session, token = learner
    home = learner_home(hub)
    fifo = home / "KhoaHoc" / LESSON_DIR / "01-man-hinh-lam-viec.ipynb"  # a lesson of the installed courses
    as_learner(hub, f"import os; os.path.lexists('{fifo}') and os.remove('{fifo}'); os.mkfifo('{fifo}')")
    try:
        stop_server(hub, token)
        started = start_server(hub, token)
        assert started.status_code in (201, 202), started.text
        # The FIFO is still there, nobody writes to it, and the hub answers.
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
        assert new_session().get(f"{hub.url}/hub/api/", timeout=60).status_code == 200
        open_lab(hub, session, LEARNER)  # and the server starts
        assert str(fifo) in hub.log(), "no log line names the skipped FIFO"
    finally:
        release(fifo)


# --- the child the hub runs: it is the learner before it opens anything in the home ------------

def run_child(source: Path, home: Path, uid: int, gid: int) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run([sys.executable, "-I", "-m", "kynangso.hub.delivery", "--source", str(source),
                           "--home", str(home), "--folder", "KhoaHoc", "--uid", str(uid), "--gid", str(gid)],
                          capture_output=True, text=True, timeout=300, cwd="/", env={"PATH": os.defpath})


@needs_root
def test_delivery_child_is_the_learner_in_the_home(tmp_path):
    """Attack surface: whatever the child makes in the home must be the learner's, and a home
    the learner cannot open (root's 0700 folder) must stay closed to it: it is not root there."""
    src = make_source(tmp_path)  # under pytest's 0700 folder: read by the child before the drop
    nobody = 65534
    base = Path(f"/tmp/knsdel{secrets.token_hex(3)}")  # the homes: reachable by the learner
    base.mkdir(mode=0o755)
    try:
        home = base / "home"
        home.mkdir(mode=0o700)
        os.chown(home, nobody, nobody)
        done = run_child(src, home, nobody, nobody)
        assert done.returncode == 0, done.stderr
        assert LESSON in json.loads(done.stdout)["added"]
        made = [home / "KhoaHoc", *(home / "KhoaHoc").rglob("*"), home / ".kynangso", home / MANIFEST]
        assert {(p.lstat().st_uid, p.lstat().st_gid) for p in made} == {(nobody, nobody)}
        closed = base / "root-only"
        closed.mkdir(mode=0o700)
        refused = run_child(src, closed, nobody, nobody)
        assert refused.returncode != 0 and "Permission denied" in refused.stderr
        assert list(closed.iterdir()) == []
    finally:
        shutil.rmtree(base)


@needs_root
def test_delivery_child_refuses_to_stay_root(tmp_path):
    """The child must never deliver as root, even if asked to."""
    src, home = make_source(tmp_path), tmp_path / "home"
    home.mkdir()
    done = run_child(src, home, 0, 0)
    assert done.returncode != 0 and list(home.iterdir()) == []


def test_delivery_over_its_time_is_killed_and_the_start_goes_on(tmp_path, caplog):
    """Whatever makes delivery slow (a home on a hung disk, a learner's trick not foreseen here),
    the hub kills the child after `delivery_timeout`, logs it and carries on with the start."""
    import asyncio
    import logging

    from kynangso.hub.spawner import _CoursesFolderMixin

    class Courses(_CoursesFolderMixin):  # the spawners' delivery part alone: no user, no server
        pass

    # A timeout of 0 runs out before any child could finish: the kill path, without a wait.
    courses = Courses(courses_source=str(make_source(tmp_path)), delivery_timeout=0,
                      log=logging.getLogger("kns-delivery-test"))
    with caplog.at_level(logging.INFO, logger="kns-delivery-test"):
        asyncio.run(courses._deliver_courses(str(tmp_path / "home")))
    assert "killed after 0 s; starting the server anyway" in caplog.text


def test_non_isolated_delivery_takes_the_same_child(tmp_path, caplog):
    """The non-isolated spawner delivers through the same child, only without the drop."""
    import asyncio
    import logging

    from kynangso.hub.spawner import _CoursesFolderMixin

    class Courses(_CoursesFolderMixin):
        pass

    courses = Courses(courses_source=str(make_source(tmp_path)), log=logging.getLogger("kns-delivery-test"))
    home = tmp_path / "home"
    with caplog.at_level(logging.INFO, logger="kns-delivery-test"):
        asyncio.run(courses._deliver_courses(str(home)))
    assert (home / "KhoaHoc" / LESSON).is_file()
    assert "2 added, 0 updated" in caplog.text  # the summary of the child's JSON report
