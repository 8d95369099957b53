"""Shared fixtures for the platform-core tests: settings with a private state folder and DB."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook

from kynangso import db
from kynangso.settings import Settings, load_settings

HEADER = ["Mã cán bộ", "Họ và tên", "Chức vụ", "Đơn vị", "Email", "Vai trò"]


@pytest.fixture
def clean_env(monkeypatch):
    """No settings file or state folder leaks in from the developer's shell."""
    monkeypatch.delenv("KNS_SETTINGS", raising=False)
    monkeypatch.delenv("KNS_STATE_DIR", raising=False)
    return monkeypatch


@pytest.fixture
def settings(tmp_path, clean_env) -> Settings:
    """Defaults with state_dir in tmp_path (also set in the environment, for the CLI),
    and an upgraded SQLite database."""
    clean_env.setenv("KNS_STATE_DIR", str(tmp_path / "state"))
    loaded = load_settings()
    db.upgrade(loaded.database_url)
    return loaded


@pytest.fixture
def db_url(settings) -> str:
    return settings.database_url


def write_csv(path: Path, rows: list[list[str]], *, header=HEADER, encoding="utf-8-sig",
              delimiter=",") -> Path:
    """A staff file as Excel would save it (header first)."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return path


def write_xlsx(path: Path, rows: list[list], *, header=HEADER) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def make_csv(tmp_path):
    """Write a CSV staff file in tmp_path: make_csv(rows, name=..., **write_csv options)."""

    def make(rows, name="can-bo.csv", **options) -> Path:
        return write_csv(tmp_path / name, rows, **options)

    return make


@pytest.fixture
def make_xlsx(tmp_path):
    def make(rows, name="can-bo.xlsx", **options) -> Path:
        return write_xlsx(tmp_path / name, rows, **options)

    return make
