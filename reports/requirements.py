"""The level each position needs per competence (requirements.yaml, a rule table with sources).

A position matches a row when its name contains one of the row's `positions` (case-insensitive)
or the row says "*"; only rows already in effect on the given date count; the required level is
the highest among the matching rows.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from assessments.competency.framework import ITEM_LEVELS, LEVEL_IDS, Framework, load_framework
from kynangso.errors import ValidationError
from kynangso.i18n import t


@dataclass(frozen=True)
class RequirementRow:
    effective_from: date
    positions: tuple[str, ...]
    competences: dict[str, str]
    source: str

    def matches(self, position: str, on: date) -> bool:
        if on < self.effective_from:
            return False
        pos = unicodedata.normalize("NFC", position or "").casefold()
        return any(p == "*" or p.casefold() in pos for p in self.positions)


@dataclass(frozen=True)
class Requirements:
    rows: tuple[RequirementRow, ...]

    def for_position(self, position: str, on: date | None = None) -> dict[str, str]:
        """{competence: required level id} for one position on a date (default today)."""
        on = on or date.today()
        out: dict[str, str] = {}
        for row in self.rows:
            if row.matches(position, on):
                for comp, level in row.competences.items():
                    if comp not in out or LEVEL_IDS.index(level) > LEVEL_IDS.index(out[comp]):
                        out[comp] = level
        return out


def parse_requirements(data: dict, source: str, framework: Framework | None = None) -> Requirements:
    """Validate the table; ValidationError lists every problem in Vietnamese."""
    fw = framework or load_framework()
    problems: list[str] = []
    rows: list[RequirementRow] = []
    for n, raw in enumerate((data or {}).get("rows") or [], start=1):
        try:
            eff = raw["effective_from"]
            eff = eff if isinstance(eff, date) else date.fromisoformat(str(eff))
            positions = tuple(unicodedata.normalize("NFC", str(p)) for p in raw["positions"])
            comps = {str(k): str(v) for k, v in raw["competences"].items()}
            src = str(raw["source"]).strip()
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(t("reports.requirements.bad_row", row=n))
            continue
        for comp, level in comps.items():
            if comp not in fw.competences:
                problems.append(t("reports.requirements.unknown_competence", row=n, value=comp))
            if level not in ITEM_LEVELS:
                problems.append(t("reports.requirements.bad_level", row=n, value=level))
        if not src or not positions:
            problems.append(t("reports.requirements.bad_row", row=n))
        rows.append(RequirementRow(eff, positions, comps, src))
    if problems:
        raise ValidationError("reports.requirements.invalid", problems, path=source)
    return Requirements(tuple(rows))


def load_requirements(path: str | Path | None = None) -> Requirements:
    if path is None:
        return _default()
    p = Path(path)
    return parse_requirements(yaml.safe_load(p.read_text(encoding="utf-8")), str(p))


@cache
def _default() -> Requirements:
    p = Path(str(resources.files("reports") / "requirements.yaml"))
    return parse_requirements(yaml.safe_load(p.read_text(encoding="utf-8")), str(p))
