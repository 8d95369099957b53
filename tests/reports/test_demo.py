"""The demo exam course for `make run`: clearly labelled sample data, read by the real layer."""

from __future__ import annotations

from kynangso.demo import load_demo_office
from kynangso.settings import load_settings
from reports.data import load, sources_from_settings
from reports.demo import DEMO_COURSE, build_demo_gradebook


def test_demo_gradebook(tmp_path, monkeypatch):
    """Is the demo gradebook labelled MẪU, found from the settings, and read with levels?"""
    monkeypatch.delenv("KNS_REPORTS_GRADEBOOKS", raising=False)
    settings = load_settings(overrides={"state_dir": str(tmp_path / "state")})
    load_demo_office(settings)
    course = build_demo_gradebook(settings)
    assert course.name == DEMO_COURSE and "MAU" in DEMO_COURSE
    assert build_demo_gradebook(settings) == course  # idempotent
    url, sources = sources_from_settings(settings)
    data = load(url, sources)
    assert list(data.periods["assignment"]) == ["ky-1-MAU", "ky-2-MAU"]
    assert data.problems == []
    levels = data.levels()
    assessed = levels[levels["level"].notna()]
    assert set(assessed["username"]) == {f"hocvien{i:02d}" for i in range(1, 16)}
    assert "Văn thư" in set(data.needs()["position"])
