"""The exam desk's rules without a hub: windows, attempts, and what a submission may contain."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os

import pytest
from click.testing import CliRunner

from kynangso import db
from kynangso.errors import KnsError
from kynangso.exams import windows
from kynangso.exams.desk import Exchange, FileItem, decode_files
from kynangso.exams.feedback import HideTestDetails

T0 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def url(tmp_path):
    u = f"sqlite:///{tmp_path / 'kns.sqlite'}"
    db.upgrade(u)
    return u


def test_window_is_open_only_between_its_times(url):
    """Is a window open from its opening until (not at) its closing minute?"""
    w = windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    assert not w.is_open(T0 - dt.timedelta(seconds=1))
    assert w.is_open(T0) and w.is_open(T0 + dt.timedelta(minutes=29, seconds=59))
    assert not w.is_open(T0 + dt.timedelta(minutes=30))


def test_a_second_window_for_the_same_group_is_refused_while_one_is_open(url):
    """Can an instructor not open the same exam twice for one group by mistake?"""
    windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    with pytest.raises(KnsError) as err:
        windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv",
                            at=T0 + dt.timedelta(minutes=5))
    assert "đang mở" in err.value.user_message
    windows.open_window(url, "c", "tong-hop", "phong-kinh-te", 30, "refuse", "gv", at=T0)


def test_bad_policy_and_minutes_are_refused_in_vietnamese(url):
    """Are a made-up late policy and a zero-minute window refused with a message?"""
    with pytest.raises(KnsError, match="Quy định nộp muộn"):
        windows.open_window(url, "c", "x", "hocvien", 30, "late_ok", "gv")
    with pytest.raises(KnsError, match="Thời lượng"):
        windows.open_window(url, "c", "x", "hocvien", 0, "refuse", "gv")


def test_closing_moves_the_end_to_now_and_closing_twice_says_so(url):
    """Does `close` end the window at once, and a second close explain there is nothing open?"""
    windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    closed = windows.close_window(url, "tong-hop", "gv", at=T0 + dt.timedelta(minutes=10))
    assert closed[0].closes_at == T0 + dt.timedelta(minutes=10)
    with pytest.raises(KnsError, match="không mở"):
        windows.close_window(url, "tong-hop", "gv", at=T0 + dt.timedelta(minutes=11))


def test_in_progress_means_fetched_not_submitted_window_open(url):
    """Who does the culler heartbeat protect: only learners mid-exam in an open window?"""
    w = windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    for name in ("an", "binh", "chi"):
        windows.record_fetch(url, w, name, T0 + dt.timedelta(minutes=1))
    windows.record_submission(url, w, "binh", T0 + dt.timedelta(minutes=5), late=False)
    assert windows.in_progress(url, T0 + dt.timedelta(minutes=6)) == {"an", "chi"}
    assert windows.in_progress(url, T0 + dt.timedelta(minutes=31)) == set()
    assert windows.has_fetched(url, w, "an") and not windows.has_fetched(url, w, "dung")
    rows = {a["username"]: a for a in windows.attempts(url, "tong-hop")}
    assert rows["binh"]["submissions"] == 1 and rows["an"]["submitted_at"] is None


def _item(path: str, data: bytes = b"x") -> dict:
    return {"path": path, "data": base64.b64encode(data).decode()}


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "", "a\\b"])
def test_a_submission_cannot_name_a_file_outside_its_folder(path):
    """Is every path that could leave the submission folder refused?"""
    with pytest.raises(KnsError) as err:
        decode_files([_item(path)], 1000)
    assert err.value.key in ("exams.bad_path",)


def test_a_submission_over_the_size_limit_is_refused():
    """Is a submission bigger than the limit refused with the limit in the message?"""
    with pytest.raises(KnsError, match="MB"):
        decode_files([_item("a.bin", b"x" * 600), _item("b.bin", b"x" * 600)], 1000)


def test_stored_submission_has_the_desks_time_not_the_learners(tmp_path):
    """Does the stored submission carry the desk's timestamp even if the learner sent one?"""
    ex = Exchange(tmp_path, "c")
    (tmp_path / "c" / "inbound").mkdir(parents=True)
    files = [FileItem("bai.ipynb", b"{}"), FileItem("timestamp.txt", b"2020-01-01 00:00:00 UTC"),
             FileItem("sub/ghi-chu.txt", "chữ".encode())]
    name, secret = ex.store_submission("an", "tong-hop", files, "2026-11-26 02:10:00.000000 UTC")
    stored = tmp_path / "c" / "inbound" / name
    assert (stored / "submission_secret.txt").read_text() == secret
    assert stored.name.startswith("an+tong-hop+2026-11-26 02:10:00.000000 UTC+")
    assert (stored / "timestamp.txt").read_text() == "2026-11-26 02:10:00.000000 UTC"
    assert (stored / "sub" / "ghi-chu.txt").read_text() == "chữ"
    assert (stored / "submission_secret.txt").stat().st_size == 128
    assert not [p for p in (tmp_path / "c" / "inbound").iterdir() if p.name.startswith(".incoming")]


def test_links_and_special_files_in_the_exchange_are_never_followed(tmp_path):
    """Does the desk refuse what the grader account could plant in the exchange: a link as a
    released exam, a link or a FIFO inside one, a link as a feedback page?"""
    from nbgrader.utils import notebook_hash

    secret = tmp_path / "secret.txt"
    secret.write_text("KNS-SECRET")
    out = tmp_path / "ex" / "c" / "outbound"
    (out / "bai").mkdir(parents=True)
    (out / "bai" / "bai.ipynb").write_text("{}")
    (out / "bai" / "leak.txt").symlink_to(secret)
    os.mkfifo(out / "bai" / "pipe")
    (out / "other").symlink_to(tmp_path)
    ex = Exchange(tmp_path / "ex", "c")
    assert ex.released() == ["bai"] and ex.notebooks("bai") == ["bai"]
    assert [f.path for f in ex.released_files("bai")] == ["bai.ipynb"]
    with pytest.raises(KnsError):
        ex.released_files("other")
    (tmp_path / "ex" / "c" / "feedback").mkdir()
    (tmp_path / "ex" / "c" / "feedback" / f"{notebook_hash(secret='k', notebook_id='bai')}.html") \
        .symlink_to(secret)
    assert ex.feedback([{"timestamp": "t", "secret": "k", "notebooks": ["bai"]}]) == []
    (tmp_path / "ex" / "c" / "inbound").symlink_to(tmp_path)
    with pytest.raises(KnsError):
        ex.store_submission("an", "bai", [FileItem("bai.ipynb", b"{}")], "t")


def test_feedback_shows_scores_not_tests_or_tracebacks():
    """Does the feedback notebook keep a test cell's score and drop its error and traceback?"""
    import nbformat

    cell = nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade": True, "solution": False}})
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="expected 'b'",
                                           traceback=["correct='b'"]),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "0.0"})]
    nb = nbformat.v4.new_notebook(cells=[cell])
    out, _ = HideTestDetails().preprocess(nb, {})
    text = json.dumps(out.cells[0].outputs, ensure_ascii=False)
    assert "expected" not in text and "correct" not in text and "0.0" in text
    assert "chưa được tính điểm" in text


def test_cli_lists_windows_and_refuses_an_unreleased_exam(tmp_path, monkeypatch):
    """Does `kns exam list` show a window, and `kns exam open` refuse an exam not yet released?"""
    from kynangso.cli import kns

    settings = tmp_path / "s.yaml"
    settings.write_text(f"state_dir: {tmp_path / 'state'}\nisolation:\n  mode: unix_users\n"
                        f"exams:\n  root: {tmp_path / 'exams'}\n")
    monkeypatch.setenv("KNS_SETTINGS", str(settings))
    runner = CliRunner()
    r = runner.invoke(kns, ["exam", "open", "tong-hop"])
    assert r.exit_code == 2 and "chưa được phát hành" in r.output
    u = f"sqlite:///{tmp_path / 'state' / 'kynangso.sqlite'}"
    windows.open_window(u, "c", "tong-hop", "hocvien", 30, "refuse", "gv")
    r = runner.invoke(kns, ["exam", "list", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)[0]["assignment_id"] == "tong-hop"


def test_quotas_count_and_bytes_per_learner_per_window(url):
    """Does the desk count each learner's submissions and bytes per window, refuse past either
    limit without counting the refused one, and give back a place when storing failed?"""
    w = windows.open_window(url, "c", "tong-hop", "hocvien", 30, "refuse", "gv", at=T0)
    at = T0 + dt.timedelta(minutes=1)
    assert windows.reserve_submission(url, w, "an", at, 400, 3, 1000) is None
    assert windows.reserve_submission(url, w, "an", at, 500, 3, 1000) is None
    assert windows.reserve_submission(url, w, "an", at, 200, 3, 1000) == "bytes"
    assert windows.reserve_submission(url, w, "an", at, 100, 3, 1000) is None
    assert windows.reserve_submission(url, w, "an", at, 1, 3, 1000) == "count"
    windows.release_submission(url, w, "an", 100)
    assert windows.reserve_submission(url, w, "an", at, 100, 3, 1000) is None
    # Another learner, and the same learner in another window, have their own quotas.
    assert windows.reserve_submission(url, w, "binh", at, 1000, 3, 1000) is None
    w2 = windows.open_window(url, "c", "tong-hop", "nhom-b", 30, "refuse", "gv", at=T0)
    assert windows.reserve_submission(url, w2, "an", at, 1000, 3, 1000) is None
    rows = {(a["username"], a["group"]): a for a in windows.attempts(url, "tong-hop")}
    assert rows[("an", "hocvien")]["submissions"] == 3


def test_lateness_comes_from_each_learners_own_window(url):
    """Group A's window closes and A submits late; B's window opens and closes later and B
    submits on time. Each learner's due date puts nbgrader on the desk's side: A late, B not."""
    wa = windows.open_window(url, "c", "van-ban", "nhom-a", 30, "accept_zero", "gv", at=T0)
    a_late = T0 + dt.timedelta(minutes=31)
    windows.record_submission(url, wa, "an", a_late, late=True)
    wb = windows.open_window(url, "c", "van-ban", "nhom-b", 60, "accept_zero", "gv", at=a_late)
    b_time = a_late + dt.timedelta(minutes=5)
    windows.record_submission(url, wb, "binh", b_time, late=False)
    found = windows.lateness(url, "van-ban")
    assert found["an"].late and not found["binh"].late
    assert a_late > found["an"].due_date()  # nbgrader: late when timestamp > due date
    assert b_time <= found["binh"].due_date() == wb.closes_at
    # A submission exactly at the close is late for the desk, and for nbgrader too.
    at_close = windows.Lateness(wa.closes_at, wa.closes_at, True)
    assert at_close.submitted_at > at_close.due_date()


def test_own_due_dates_go_into_the_gradebook_as_extensions(tmp_path):
    """Is each learner's own due date written as an extension (negative when their window
    closed before the latest one) that nbgrader's lateness then reads, and does moving the
    exam's due date later keep it?"""
    from nbgrader.api import Gradebook

    from kynangso.exams.course import ExamPlaces, set_duedate

    where = ExamPlaces(tmp_path, "c")
    where.course.mkdir()
    (where.course / "submitted" / "an" / "van-ban").mkdir(parents=True)
    a_close, b_close = T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(minutes=90)
    own = {"an": a_close - dt.timedelta(microseconds=1), "binh": b_close}
    set_duedate(where, "van-ban", b_close, own)  # "binh" is not collected: no submission made
    with Gradebook(where.gradebook_url, course_id="c") as gb:
        sub = gb.update_or_create_submission("van-ban", "an", timestamp="2026-11-26 02:31:00 UTC")
        assert sub.total_seconds_late == pytest.approx(60, abs=1)
        assert [s.student_id for s in gb.assignment_submissions("van-ban")] == ["an"]
    set_duedate(where, "van-ban", b_close + dt.timedelta(hours=1), own)  # a later window
    with Gradebook(where.gradebook_url, course_id="c") as gb:
        assert gb.find_submission("van-ban", "an").total_seconds_late == pytest.approx(60, abs=1)


def test_exam_title_is_the_released_notebooks_first_heading():
    """Does the desk name an exam by its notebook's first heading (not its id) for the learner app?"""
    import json

    from kynangso.exams.desk import FileItem
    from kynangso.exams.service import exam_title

    nb = {"cells": [{"cell_type": "code", "source": "# not a heading"},
                    {"cell_type": "markdown", "source": ["Lời dẫn\n", "## Kiểm tra văn bản kỳ 1\n"]}]}
    files = [FileItem("z/other.ipynb", b"{}"), FileItem("de.ipynb", json.dumps(nb).encode()),
             FileItem("data.csv", b"a,b")]
    assert exam_title(files) == "Kiểm tra văn bản kỳ 1"
    assert exam_title([FileItem("de.ipynb", b"not json")]) is None
    assert exam_title([]) is None
