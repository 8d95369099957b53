"""The signature policy table (rules.yaml): the row in force on a given day."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources

import yaml


@cache
def _table() -> dict:
    text = (resources.files("sandbox.signing") / "rules.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def rule(name: str, on: dt.date | dt.datetime) -> dict:
    """The row of table `name` in force on `on` (the earliest row before the first date)."""
    day = on.date() if isinstance(on, dt.datetime) else on
    rows = sorted(_table()[name], key=lambda r: r["effective_from"])
    chosen = rows[0]
    for row in rows:
        if row["effective_from"] <= day:
            chosen = row
    return chosen
