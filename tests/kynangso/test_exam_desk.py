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
