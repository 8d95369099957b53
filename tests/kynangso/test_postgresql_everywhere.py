"""PostgreSQL is one settings change: the platform, the hub and the gradebook all run on it.

Real PostgreSQL (the session `postgres` fixture, kynangso.pgcluster), real Alembic, real
nbgrader and JupyterHub's own database code; no hub is started (its database initialisation is
the part that depends on the URL, and it is run here directly).
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import MetaData, create_engine, inspect

from kynangso import db
from kynangso.models import Base


def _models() -> MetaData:
    """Every table the migrations make: the platform's models and the reports' summary table
    (reports.summary keeps its own metadata: the core does not import reports)."""
    from reports.summary import metadata as reports_tables

    both = MetaData()
    for table in [*Base.metadata.sorted_tables, *reports_tables.sorted_tables]:
        table.to_metadata(both)
    return both


def _migrated_diff(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), _models())
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_match_the_models_and_go_both_ways(kind, tmp_path, request):
    """Does every migration run up to head and back to base on SQLite and on PostgreSQL, with
    the migrated schema equal to the models (no autogenerate difference)?"""
    url = (f"sqlite:///{tmp_path / 'kns.sqlite'}" if kind == "sqlite"
           else request.getfixturevalue("pg_url"))
    db.upgrade(url)
    assert _migrated_diff(url) == []
    assert set(_models().tables) <= _tables(url)
    _downgrade(url)
    assert _tables(url) - {"alembic_version"} == set()
    assert db.current_revision(url) is None


def _downgrade(url: str) -> None:
    from alembic import command

    command.downgrade(db._alembic_config(url), "base")


def test_platform_hub_and_gradebook_on_postgresql(postgres, tmp_path, monkeypatch):
    """With database.url, hub.db_url and exams.gradebook_url set to PostgreSQL, do `kns init`,
    a staff import, an exam window and attempt, nbgrader's gradebook (through the course's own
    nbgrader_config.py) and JupyterHub's database all live on the server, and nothing on disk?"""
    from jupyterhub import orm
    from nbgrader.api import Gradebook
    from traitlets.config import Config

    from assessments.grading.config import load_course_config
    from kynangso.cli import kns
    from kynangso.exams import course, windows
    from kynangso.hub.configurer import HubEnvironment, apply_config
    from kynangso.settings import load_settings

    platform, hub, gradebook = postgres.create(), postgres.create(), postgres.create()
    state = tmp_path / "state"
    settings_file = tmp_path / "settings.yaml"
    settings_file.write_text(yaml.safe_dump({
        "state_dir": str(state), "database": {"url": platform}, "hub": {"db_url": hub},
        "exams": {"gradebook_url": gradebook, "root": str(tmp_path / "exams")}}))
    monkeypatch.setenv("KNS_SETTINGS", str(settings_file))
    monkeypatch.delenv("KNS_STATE_DIR", raising=False)
    settings = load_settings()

    runner = CliRunner()
    for args in (["init", "--json"], ["demo", "--json"]):  # demo: the staff import's own path
        done = runner.invoke(kns, args, catch_exceptions=False)
        assert done.exit_code == 0, done.output
    assert db.current_revision(platform) is not None
    opened = windows.open_window(platform, "c", "ky-1", "hocvien", 40, "refuse", by="test")
    at = windows.now_utc()
    windows.record_fetch(platform, opened, "hv1", at)
    windows.record_submission(platform, opened, "hv1", at + dt.timedelta(minutes=5), late=False)
    assert [a["username"] for a in windows.attempts(platform, "ky-1")] == ["hv1"]

    # The gradebook: the one URL every reader takes, and the course's own nbgrader config.
    where = course.places(settings, isolated=False)
    assert where.gradebook_url == gradebook and where.gradebook_file is None
    where.course.mkdir(parents=True)
    (where.course / "nbgrader_config.py").write_text(course.NBGRADER_CONFIG.format(
        course=str(where.course), course_id=where.course_id, exchange=str(where.exchange)))
    loaded = load_course_config(where.course)
    assert loaded.CourseDirectory.db_url == gradebook
    with Gradebook(loaded.CourseDirectory.db_url, course_id=where.course_id) as gb:
        gb.update_or_create_assignment("ky-1", duedate=dt.datetime(2026, 12, 1, 10))
        gb.update_or_create_student("hv1")
    assert {"assignment", "grade", "submitted_assignment"} <= _tables(gradebook)
    # The instructors' summary is rebuilt when the gradebook changes: on a server, by its rows.
    from kynangso.exams.overview import signature
    from reports.demo import Item, add_exam, add_results

    add_exam(where.course, gradebook, "ky-2", dt.datetime(2026, 12, 2), [Item("a", "VB.1", "co_ban", 2)])
    before = signature(where)
    add_results(gradebook, "ky-2", {"hv1": {"a": 1}}, dt.datetime(2026, 12, 2))
    graded = signature(where)
    with Gradebook(gradebook, course_id=where.course_id) as gb:
        gb.find_grade("a", "bai-thi", "ky-2", "hv1").manual_score = 2
        gb.db.commit()
    assert len({before, graded, signature(where)}) == 3

    # The hub: its configuration points at the server, and JupyterHub's own initialisation
    # (what `jupyterhub` does at start) builds its tables there.
    c = Config()
    apply_config(settings, c, HubEnvironment(is_root=False, templates_dir=tmp_path,
                                             proxy_command=["configurable-http-proxy"]))
    assert c.JupyterHub.db_url == hub
    session = orm.new_session_factory(c.JupyterHub.db_url)()
    session.add(orm.User(name="hv1"))
    session.commit()
    session.close()
    assert {"users", "api_tokens", "servers"} <= _tables(hub)

    # Nothing fell back to a file: no SQLite database anywhere under the folders used.
    assert sorted(p.name for p in tmp_path.rglob("*.sqlite")) == []
    assert sorted(p.name for p in tmp_path.rglob("*.db")) == []


def test_a_course_made_before_the_setting_gets_the_gradebook_line_once(tmp_path, monkeypatch):
    """Does an existing course's nbgrader_config.py (without the gradebook line) get it once,
    so that nbgrader's apps then take exams.gradebook_url from the settings?"""
    from assessments.grading.config import load_course_config
    from kynangso.exams.course import (
        GRADEBOOK_CONFIG,
        NBGRADER_CONFIG,
        ExamPlaces,
        ensure_gradebook_config,
    )

    where = ExamPlaces(tmp_path, "kiem-tra")
    where.course.mkdir()
    config = where.course / "nbgrader_config.py"
    config.write_text(NBGRADER_CONFIG.replace(GRADEBOOK_CONFIG, "").format(
        course=str(where.course), course_id="kiem-tra", exchange=str(tmp_path / "e")))
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump({"exams": {"gradebook_url": "postgresql+psycopg2://g@h/gb"}}))
    monkeypatch.setenv("KNS_SETTINGS", str(settings))
    assert "db_url" not in load_course_config(where.course).CourseDirectory
    ensure_gradebook_config(where)
    ensure_gradebook_config(where)
    assert config.read_text().count("configured_gradebook_url(") == 1
    assert load_course_config(where.course).CourseDirectory.db_url == "postgresql+psycopg2://g@h/gb"


def test_formgrader_and_worker_read_the_settings_that_name_the_gradebook(tmp_path):
    """Do formgrader and the grading worker get the settings file (KNS_SETTINGS), from which
    the course's nbgrader_config.py takes exams.gradebook_url?"""
    from traitlets.config import Config

    from kynangso.hub.configurer import HubEnvironment, apply_config
    from kynangso.settings import load_settings

    settings = load_settings(overrides={"state_dir": str(tmp_path)})
    c = Config()
    apply_config(settings, c, HubEnvironment(
        is_root=False, templates_dir=tmp_path, proxy_command=["configurable-http-proxy"],
        settings_file="/etc/kynangso/settings.yaml", exams_course=str(tmp_path / "course")))
    services = {s["name"]: s for s in c.JupyterHub.services}
    for name in (settings["exams"]["course_id"], "exams-worker"):
        assert services[name]["environment"]["KNS_SETTINGS"] == "/etc/kynangso/settings.yaml"
