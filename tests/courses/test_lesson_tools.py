"""The lesson toolbar: 'Nghe bài' (offline Vietnamese speech), 'Làm lại bài' (restore with a
backup), progress events, and the 'Tiến độ của tôi' page."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest

from courses import lesson, readaloud, reset
from courses.c00.tien_do import my_progress
from courses.catalogue import load_catalogue

COURSE, LESSON = "01-van-ban-dien-tu", "02-so-ky-hieu"


def test_markdown_stripped_for_speech():
    """Are headings, emphasis, links, images (-> alt text), tables and code removed or spoken?"""
    md = ("# Số và ký hiệu\n\n**Số** nhỏ hơn 10 có số 0. Xem [Phụ lục I](http://x).\n\n"
          "![Sơ đồ quy trình văn bản đến](so-do.png)\n\n"
          "| A | B |\n|---|---|\n| Công văn | UBND-VP |\n"
          "```python\nprint(1)\n```\n- Không có khoảng trắng")
    text = readaloud.strip_markdown(md)
    assert text.splitlines()[0] == "Số và ký hiệu"
    assert "**" not in text and "#" not in text and "http" not in text and "print" not in text
    assert "Sơ đồ quy trình văn bản đến" in text and "Phụ lục I" in text
    assert "Công văn, UBND-VP" in text and "Không có khoảng trắng" in text


def test_lesson_text_reads_markdown_only():
    """Is the lesson text its Markdown cells, without the hidden code?"""
    path = load_catalogue().notebook_path(load_catalogue().lesson(COURSE, LESSON))
    text = readaloud.lesson_text(path)
    assert text.startswith("Số và ký hiệu văn bản")
    assert "4391/KH-UBND" in text and "import" not in text


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_listen_button_produces_vietnamese_wav(home):
    """Does 'Nghe bài' make a non-empty WAV with espeak-ng's Vietnamese voice and show a player?"""
    bar = lesson.LessonBar(COURSE, LESSON)
    bar.parts["listen"].click()
    out = home / ".kynangso" / "khoa-hoc" / "nghe-bai" / f"{COURSE}-{LESSON}.wav"
    data = out.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 44 + 16000
    # It plays at once, once, with the player's controls (pause) and a stop button.
    assert bar.audio.value == data and bar.audio.autoplay is True and bar.audio.loop is False
    assert bar.audio.controls is True and bar.parts["stop"].layout.display is None
    assert "Đang đọc bài" in bar.parts["listen_message"].value
    bar.parts["stop"].click()
    assert bar.audio.value == b"" and bar.audio.layout.display == "none"
    assert bar.parts["stop"].layout.display == "none"


def test_listen_without_engine_says_what_to_do(home, monkeypatch):
    """Without espeak-ng, does 'Nghe bài' say so in Vietnamese instead of failing?"""
    monkeypatch.setattr(readaloud.shutil, "which", lambda _name: None)
    bar = lesson.LessonBar(COURSE, LESSON)
    bar.parts["listen"].click()
    assert "espeak-ng" in bar.parts["listen_message"].value
    assert bar.audio.value == b""


def test_reset_needs_confirmation(home):
    """Is 'Làm lại bài' refused until the confirmation box is ticked?"""
    bar = lesson.LessonBar(COURSE, LESSON)
    bar.parts["reset"].click()
    assert "Tôi muốn khôi phục" in bar.parts["reset_message"].value
    assert not (home / "KhoaHoc").exists()


def test_reset_restores_original_and_keeps_backup(home):
    """Does 'Làm lại bài' restore the original and keep the learner's copy as a backup?"""
    entry = load_catalogue().lesson(COURSE, LESSON)
    mine = home / "KhoaHoc" / entry.notebook
    mine.parent.mkdir(parents=True)
    mine.write_text('{"my": "work"}', encoding="utf-8")
    bar = lesson.LessonBar(COURSE, LESSON)
    bar.parts["confirm"].value = True
    bar.parts["reset"].click()
    original = load_catalogue().notebook_path(entry).read_bytes()
    assert mine.read_bytes() == original
    backups = list(mine.parent.glob("02-so-ky-hieu.ban-cu-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == '{"my": "work"}'
    assert backups[0].name in bar.parts["reset_message"].value
    assert bar.parts["confirm"].value is False


def test_reset_into_configured_folder_without_previous_copy(home, tmp_path, monkeypatch):
    """With KNS_COURSES_DIR set and no copy yet, is the lesson simply delivered there?"""
    monkeypatch.setenv("KNS_COURSES_DIR", str(tmp_path / "bai-hoc"))
    target, backup = reset.reset_lesson(COURSE, LESSON, now=datetime(2026, 3, 2, 8, 0))
    assert target == tmp_path / "bai-hoc" / "01-van-ban-dien-tu" / "02-so-ky-hieu.ipynb"
    assert backup is None and json.loads(target.read_text(encoding="utf-8"))["cells"]


def test_start_reports_opening_and_completes_lessons_without_exercises(events):
    """Does opening a lesson report lesson_opened, and a page without exercises count as done?"""
    lesson.start(COURSE, LESSON)
    lesson.start("00-lam-quen", "03-tien-do-cua-toi")
    assert events == [("lesson_opened", COURSE, LESSON, None),
                      ("lesson_opened", "00-lam-quen", "03-tien-do-cua-toi", None),
                      ("lesson_completed", "00-lam-quen", "03-tien-do-cua-toi", None)]


def test_offline_progress_is_queued_not_lost(home):
    """Without a hub, are progress events kept in the learner's queue file?"""
    lesson.start(COURSE, LESSON)
    queued = (home / ".kynangso" / "progress-queue.jsonl").read_text(encoding="utf-8")
    event = json.loads(queued.splitlines()[-1])
    assert (event["kind"], event["course_id"], event["lesson_id"]) == (
        "lesson_opened", COURSE, LESSON)


def test_my_progress_table():
    """Does 'Tiến độ của tôi' show each lesson's state and the number completed?"""
    data = {"username": "hocvien", "lessons": [
        {"course_id": COURSE, "lesson_id": LESSON, "opened": True, "completed": True,
         "attempted": ["doc-so-ky-hieu"], "passed": ["doc-so-ky-hieu", "viet-so-ky-hieu"]},
        {"course_id": COURSE, "lesson_id": "03-the-thuc", "opened": True, "completed": False,
         "attempted": ["dong-ngay-thang"], "passed": ["dong-ngay-thang"]}]}
    page = my_progress(fetch=lambda: data)
    total = len(load_catalogue().lessons())
    assert f"đã hoàn thành 1/{total} bài học" in page.message.value
    assert "Đang học: đúng 1/2 bài tập" in page.table.value
    assert page.table.value.count("Chưa mở") == total - 2


def test_my_progress_offline_says_so():
    """When the service cannot be reached, does the page say so plainly, with what to do?"""
    page = my_progress(fetch=lambda: None)
    assert "Chưa kết nối được" in page.message.value and "Làm mới" in page.message.value
    assert page.table.value == ""
    calls = []
    page.fetch = lambda: calls.append(1)
    page.refresh_button.click()
    assert calls == [1]


def test_reset_panel_restores_any_lesson(home):
    """From the progress page, can a learner restore a lesson chosen from the list?"""
    panel = reset.ResetPanel()
    panel.parts["reset"].click()
    assert "Hãy chọn bài học" in panel.parts["message"].value
    panel.parts["lesson"].value = ("02-chu-ky-so", "02-ky-so")
    panel.parts["reset"].click()
    assert "Tôi muốn khôi phục" in panel.parts["message"].value
    panel.parts["confirm"].value = True
    target, backup = panel.reset()
    assert target == home / "KhoaHoc" / "02-chu-ky-so" / "02-ky-so.ipynb"
    assert backup is None and target.exists()
    assert "Đã khôi phục" in panel.parts["message"].value


def test_reopened_lesson_says_what_was_already_passed(home):
    """Does a lesson opened again (a fresh app page) say which of its exercises were passed?"""
    from courses import state
    from kynangso.i18n import t

    assert lesson.LessonBar(COURSE, LESSON).done_msg.value == ""
    entry = load_catalogue().lesson(COURSE, LESSON)
    state.mark_passed(COURSE, LESSON, entry.exercises[0])
    state.mark_passed(COURSE, LESSON, "khong-thuoc-bai-nay")  # not this lesson's: not counted
    bar = lesson.LessonBar(COURSE, LESSON)
    assert t("courses.ui.already_passed", done=1, total=len(entry.exercises)) in bar.done_msg.value


def test_back_home_link_only_on_the_learner_app(home, monkeypatch):
    """Is the link back to the learner's home shown on the app, and not inside JupyterLab?"""
    from kynangso.i18n import t

    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/hocvien07/")
    monkeypatch.delenv("KNS_LEARNER_APP", raising=False)
    assert t("learner.app.back_home") not in str([c.value for c in lesson.LessonBar(COURSE, LESSON).children
                                                  if hasattr(c, "value")])
    monkeypatch.setenv("KNS_LEARNER_APP", "1")
    link = lesson.LessonBar(COURSE, LESSON).children[0].value
    assert "href='/user/hocvien07/kns/home'" in link and t("learner.app.back_home") in link
