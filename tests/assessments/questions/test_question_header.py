"""The exam's first widget: what a learner reads about time, late policy and how to submit."""

from __future__ import annotations

import json

import pytest

from assessments.questions import Exam


@pytest.fixture
def exam(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "hocvien01")
    monkeypatch.setattr("IPython.display.display", lambda *objs: None)
    return Exam("thi1", tmp_path)


def info(exam, **fields):
    data = {"exam": "thi1", "title": "Bài thi", "opens_at": "2026-03-02T01:00:00+00:00",
            "closes_at": "2026-03-02T02:30:00+00:00", "late_policy": "refuse", **fields}
    (exam.folder / "exam-info.json").write_text(json.dumps(data), encoding="utf-8")


def test_header_names_the_exam_learner_and_duration(exam):
    """Does the header show the title, the learner and the duration, with how to submit?"""
    text = exam.header("Kiểm tra <Văn bản>", minutes=45).value
    assert "<h2>Kiểm tra &lt;Văn bản&gt;</h2>" in text
    assert "Người dự thi: hocvien01" in text and "Thời gian làm bài: 45 phút." in text
    assert "được lưu tự động" in text and "«Nộp bài»" in text


def test_without_exam_info_the_times_come_from_the_desk(exam):
    """Without exam-info.json, does the header say the times come from the exam organisers?"""
    text = exam.header("Bài thi", minutes=30).value
    assert "bộ phận tổ chức thi" in text and "Hạn nộp" not in text


def test_closing_time_is_in_vietnam_time_and_refusal_is_said(exam):
    """Is a UTC closing time shown in Vietnam time, with "bị từ chối" for the refuse policy?"""
    info(exam)
    text = exam.header("Bài thi", minutes=30).value
    assert "Hạn nộp bài: 09:30 ngày 02/03/2026 (giờ Việt Nam)." in text
    assert "Sau 09:30 ngày 02/03/2026, bài nộp sẽ bị từ chối." in text


def test_accept_zero_policy_is_said_plainly(exam):
    """Is the accept-with-zero policy said in plain Vietnamese, across midnight too?"""
    info(exam, closes_at="2026-03-02T23:15:00+07:00", late_policy="accept_zero")
    text = exam.header("Bài thi", minutes=30).value
    assert "Sau 23:15 ngày 02/03/2026, bài nộp vẫn được nhận nhưng bị chấm 0 điểm." in text
    info(exam, closes_at="2026-03-02T17:30:00+00:00", late_policy="accept_zero")
    assert "Sau 00:30 ngày 03/03/2026" in exam.header("Bài thi", minutes=30).value


@pytest.mark.parametrize("content", ["{broken", json.dumps({"closes_at": "2026-03-02T09:00"}),
                                     json.dumps({"closes_at": "2026-03-02T09:00+07:00",
                                                 "late_policy": "maybe"})])
def test_unusable_exam_info_falls_back_to_the_note(exam, content):
    """Is an unusable exam-info.json (broken, no time zone, unknown policy) not guessed from?"""
    (exam.folder / "exam-info.json").write_text(content, encoding="utf-8")
    text = exam.header("Bài thi", minutes=30).value
    assert "bộ phận tổ chức thi" in text and "Hạn nộp" not in text
