"""Settings: embedded defaults, the KNS_SETTINGS overlay, KNS_STATE_DIR, schema errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kynangso.errors import SettingsError
from kynangso.settings import load_settings, merge


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kns.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load_without_a_file(clean_env, tmp_path):
    """Do the embedded defaults load and validate with no settings file at all?"""
    clean_env.chdir(tmp_path)
    settings = load_settings()
    assert settings["hub"]["port"] == 8000
    assert settings["auth"]["type"] == "native"
    assert settings["office"]["demo"] is True
    assert settings.state_dir == tmp_path / "state"
    assert settings.database_url == f"sqlite:///{tmp_path / 'state' / 'kynangso.sqlite'}"
    assert settings.hub_db_url.endswith("/state/hub/jupyterhub.sqlite")


def test_unknown_key_suggests_the_closest(clean_env, tmp_path):
    """Is a misspelt key refused with a 'did you mean' naming the right key?"""
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, "hub:\n  prot: 8001\n"))
    assert "hub.prot" in info.value.user_message
    assert "ý bạn là 'port'" in info.value.user_message


def test_unknown_top_level_key(clean_env, tmp_path):
    """Is a misspelt top-level section refused with the section it resembles?"""
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, "databse:\n  url: null\n"))
    assert "'databse'" in info.value.user_message
    assert "ý bạn là 'database'" in info.value.user_message


def test_wrong_type_names_its_location(clean_env, tmp_path):
    """Is a value of the wrong type refused with its dotted location and the file name?"""
    path = write(tmp_path, "hub:\n  port: tám nghìn\nculler:\n  timeout_seconds: 5\n")
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    message = info.value.user_message
    assert str(path) in message
    assert "hub.port" in message and "culler.timeout_seconds" in message  # every problem listed


def test_settings_file_from_environment_overlays_defaults(clean_env, tmp_path):
    """Does $KNS_SETTINGS overlay the defaults, keeping the keys it does not set?"""
    path = write(tmp_path, "office:\n  name: Văn phòng UBND xã Thử Nghiệm\nhub:\n  port: 8080\n")
    clean_env.setenv("KNS_SETTINGS", str(path))
    settings = load_settings()
    assert settings["office"]["name"] == "Văn phòng UBND xã Thử Nghiệm"
    assert settings["office"]["short_name"] == "VP HĐND-UBND"  # merged, not replaced
    assert settings["hub"]["port"] == 8080 and settings["hub"]["ip"] == "127.0.0.1"


def test_state_dir_from_environment_wins(clean_env, tmp_path):
    """Does $KNS_STATE_DIR set the state folder, over the settings file, and move the database?"""
    path = write(tmp_path, "state_dir: /somewhere/else\n")
    clean_env.setenv("KNS_STATE_DIR", str(tmp_path / "trang-thai"))
    settings = load_settings(path)
    assert settings.state_dir == tmp_path / "trang-thai"
    assert settings.database_url == f"sqlite:///{tmp_path / 'trang-thai' / 'kynangso.sqlite'}"


def test_database_url_setting_is_used(clean_env, tmp_path):
    """Is an explicit database.url used as is (PostgreSQL is a settings change)?"""
    url = "postgresql+psycopg2://kns@db/kynangso"
    settings = load_settings(write(tmp_path, f"database:\n  url: {url}\n"))
    assert settings.database_url == url


def test_missing_and_broken_files(clean_env, tmp_path):
    """Are a missing file, bad YAML and a non-mapping file refused in Vietnamese?"""
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path / "khong-co.yaml")
    assert info.value.key == "core.settings_missing"
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, "hub: [port: 1\n"))
    assert info.value.key == "core.settings_yaml"
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, "- just\n- a list\n"))
    assert info.value.key == "core.settings_yaml"


def test_overrides_are_validated(clean_env):
    """Are programmatic overrides merged and validated like the file?"""
    assert load_settings(overrides={"hub": {"port": 9000}})["hub"]["port"] == 9000
    with pytest.raises(SettingsError):
        load_settings(overrides={"hub": {"port": 0}})


def test_merge_is_deep_and_does_not_mutate():
    """Does merge combine nested mappings without changing its inputs?"""
    base = {"a": {"b": 1, "c": 2}, "d": [1]}
    out = merge(base, {"a": {"c": 3}, "d": [2]})
    assert out == {"a": {"b": 1, "c": 3}, "d": [2]}
    assert base == {"a": {"b": 1, "c": 2}, "d": [1]}
