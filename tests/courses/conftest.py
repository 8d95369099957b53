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
def events(home, monkeypatch):
    """Every progress event reported, as (kind, course, lesson, exercise)."""
    seen: list[tuple] = []

    def fake(kind, course, lesson, exercise=None, timeout=5):
        seen.append((kind, course, lesson, exercise))
        return False

    import courses.exercises
    import courses.lesson

    monkeypatch.setattr(courses.exercises, "record", fake)
    monkeypatch.setattr(courses.lesson, "record", fake)
    return seen
