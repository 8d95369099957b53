"""Rule tables of NĐ 30/2020 as data: document types, copies, marks, registers, layout.

Rows carry `effective_from` (and optionally `effective_to`); `ruleset(on)` returns the
rows in force on a date, so a scenario dated in the past uses the rules of its day.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import yaml

ND30_EFFECTIVE = date(2020, 3, 5)  # NĐ 30/2020 Điều 37: effective on signing


def _nfc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


@cache
def _load(name: str) -> dict:
    text = (resources.files("sandbox.documents") / "rules" / name).read_text(encoding="utf-8")
    return _nfc(yaml.safe_load(text))


def _in_force(row: dict, on: date) -> bool:
    start = row.get("effective_from") or ND30_EFFECTIVE
    end = row.get("effective_to")
    return start <= on and (end is None or on < end)


@dataclass(frozen=True)
class DocType:
    key: str
    name: str
    title: str | None
    abbrev: str | None
    template: str | None
    source: str


@dataclass(frozen=True)
class Mark:
    key: str
    name: str
    stamp: str | None
    source: str
    priority: int | None = None


@dataclass(frozen=True)
class RuleSet:
    """The rules in force on one date."""

    on: date
    types: tuple[DocType, ...]
    copies: tuple[DocType, ...]
    urgency: tuple[Mark, ...]
    secrecy: tuple[Mark, ...]

    def type_by_abbrev(self, abbrev: str) -> DocType | None:
        for row in self.types + self.copies:
            if row.abbrev == abbrev:
                return row
        return None

    def type_by_key(self, key: str) -> DocType | None:
        for row in self.types + self.copies:
            if row.key == key:
                return row
        return None

    def type_by_name(self, name: str) -> DocType | None:
        """A type by its name ("Kế hoạch") or printed title ("KẾ HOẠCH"), case-insensitive."""
        wanted = unicodedata.normalize("NFC", name).strip().casefold()
        for row in self.types:
            if wanted in {row.name.casefold(), (row.title or "").casefold(), row.key}:
                return row
        return None

    def abbrev_case_insensitive(self, abbrev: str) -> DocType | None:
        """The type whose official abbreviation matches `abbrev` ignoring case (QYĐ -> QyĐ)."""
        wanted = abbrev.casefold()
        for row in self.types + self.copies:
            if row.abbrev and row.abbrev.casefold() == wanted:
                return row
        return None

    def urgency_by_key(self, key: str | None) -> Mark:
        for m in self.urgency:
            if m.key == (key or "thuong"):
                return m
        raise KeyError(key)

    def secrecy_by_key(self, key: str | None) -> Mark | None:
        if key is None:
            return None
        for m in self.secrecy:
            if m.key == key:
                return m
        raise KeyError(key)


def ruleset(on: date | None = None) -> RuleSet:
    """The document rules in force on `on` (default: today)."""
    return _ruleset(on or date.today())


@cache
def _ruleset(on: date) -> RuleSet:
    data = _load("doc_types.yaml")

    def rows(section, cls, fields):
        return tuple(
            cls(**{f: r.get(f) for f in fields}) for r in data[section] if _in_force(r, on)
        )

    type_fields = ("key", "name", "title", "abbrev", "template", "source")
    mark_fields = ("key", "name", "stamp", "source")
    return RuleSet(
        on=on,
        types=rows("types", DocType, type_fields),
        copies=tuple(
            DocType(r["key"], r["name"], r["title"], r["abbrev"], None, r["source"])
            for r in data["copies"]
            if _in_force(r, on)
        ),
        urgency=tuple(
            Mark(r["key"], r["name"], r.get("stamp"), r["source"], r["priority"])
            for r in data["urgency"]
            if _in_force(r, on)
        ),
        secrecy=rows("secrecy", Mark, mark_fields),
    )


def register_columns(kind: str) -> list[dict]:
    """Columns of a register of Phụ lục IV: kind is incoming, outgoing or tracking."""
    return _load("registers.yaml")["registers"][kind]["columns"]


def pl6_fields() -> list[dict]:
    """PL VI data fields of an incoming document: tag, item number, view field."""
    return _load("registers.yaml")["pl6_incoming"]["fields"]


def layout_rules() -> dict:
    """The layout rules table (layout.yaml)."""
    return _load("layout.yaml")
