"""Fixtures: a throwaway home folder per test (practice files, progress queue), and a recorder
of the progress events the courses report."""

from __future__ import annotations

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh learner home; no hub (the progress client queues, as offline)."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.setenv("JUPYTERHUB_USER", "hocvien")
    monkeypatch.delenv("KNS_PROGRESS_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    monkeypatch.delenv("KNS_COURSES_DIR", raising=False)
    return h


@pytest.fixture
def events(home, monkeypatch, tmp_path):
    """Every progress report, as (kind, course, lesson, exercise); answers as ("answer", course,
    lesson, exercise, round, answer, verdict). Answers are judged as the progress service judges
    them (kynangso.progress.judge, its own practice folder), and that verdict is the reply."""
    import json

    from courses.common import learner
    from kynangso.progress import judge

    seen: list[tuple] = []

    def fake(kind, course, lesson, exercise=None, timeout=5):
        seen.append((kind, course, lesson, exercise))
        return False

    def fake_answer(course, lesson, exercise, round_, answer, timeout=5):
        sent = json.loads(json.dumps(answer))  # what travels is JSON
        fb = judge.judge(learner(), course, lesson, exercise, round_, sent, tmp_path / "service")
        seen.append(("answer", course, lesson, exercise, round_, sent, fb))
        return {"passed": fb.ok, "feedback": fb.text}

    import courses.exercises
    import courses.lesson

    monkeypatch.setattr(courses.exercises, "submit_answer", fake_answer)
    monkeypatch.setattr(courses.lesson, "record", fake)
    return seen
