"""Load and validate the competency framework (framework.yaml).

The whole file is checked and every problem is listed in Vietnamese at once (ValidationError);
nothing is returned if any part is wrong. Courses and exams both read it through
`load_framework()`, so a competence id means the same thing everywhere.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kynangso.errors import ValidationError
from kynangso.i18n import nfc, t

log = logging.getLogger(__name__)

LEVEL_IDS = ("chua_dat", "co_ban", "thanh_thao", "nang_cao")
ITEM_LEVELS = LEVEL_IDS[1:]  # an exam item is written at an attainable level
IU_CODES = frozenset(f"IU{n:02d}" for n in range(1, 16))  # TT 03/2014, Phụ lục 01–02
# DigComp 2.2 competences (5 areas) plus TT 02/2025 domain 6 (AI): domain README §4.2–4.3.
DIGCOMP_CODES = frozenset(
    [f"1.{i}" for i in range(1, 4)] + [f"2.{i}" for i in range(1, 7)]
    + [f"3.{i}" for i in range(1, 5)] + [f"4.{i}" for i in range(1, 5)]
    + [f"5.{i}" for i in range(1, 5)] + [f"6.{i}" for i in range(1, 4)]
)
_ID = re.compile(r"^[A-Z]{2,4}$")


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    rank: int
    description: str


@dataclass(frozen=True)
class Competence:
    id: str
    area: str
    name: str
    description: str
    iu: tuple[str, ...]
    digcomp: tuple[str, ...]


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    description: str
    competences: tuple[Competence, ...]


@dataclass(frozen=True)
class LevelRule:
    """Parameters of the rule in levels.py: share of points per item level, minimum points."""

    thresholds: dict[str, float]
    min_points: dict[str, float]


@dataclass(frozen=True)
class Framework:
    version: int
    effective_from: date
    levels: tuple[Level, ...]
    rule: LevelRule
    areas: tuple[Area, ...]

    @property
    def competences(self) -> dict[str, Competence]:
        return {c.id: c for a in self.areas for c in a.competences}

    def competence(self, cid: str) -> Competence:
        return self.competences[cid]

    def level(self, lid: str) -> Level:
        return next(lv for lv in self.levels if lv.id == lid)

    def level_name(self, lid: str | None) -> str:
        return t("competency.level.not_assessed") if lid is None else self.level(lid).name



def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_framework(data: Any, source: str) -> Framework:
    """Validate parsed YAML and build the Framework; ValidationError lists every problem."""
    data = nfc(data)
    problems: list[str] = []

    def bad(key: str, **params: Any) -> None:
        problems.append(t(f"competency.problem.{key}", **params))

    if not isinstance(data, dict):
        raise ValidationError("competency.framework_invalid", [t("competency.problem.not_mapping")],
                              path=source)
    for name in ("version", "effective_from", "levels", "level_rule", "areas"):
        if name not in data:
            bad("missing", where=source, field=name)
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 1):
        bad("bad_version", value=version)
    eff = data.get("effective_from")
    if eff is not None and not isinstance(eff, date):
        try:
            eff = date.fromisoformat(str(eff))
        except ValueError:
            bad("bad_date", value=eff)

    levels: list[Level] = []
    rows = data.get("levels") or []
    ids = [r.get("id") if isinstance(r, dict) else None for r in rows]
    if ids != list(LEVEL_IDS):
        bad("level_ids", expected=", ".join(LEVEL_IDS), got=ids)
    else:
        for rank, r in enumerate(rows):
            if r.get("rank") != rank:
                bad("level_rank", level=r["id"], expected=rank, got=r.get("rank"))
            if not str(r.get("name") or "").strip():
                bad("missing", where=f"levels/{r['id']}", field="name")
            levels.append(Level(r["id"], str(r.get("name") or ""), rank,
                                str(r.get("description") or "")))

    rule_data = data.get("level_rule") if isinstance(data.get("level_rule"), dict) else {}
    thresholds: dict[str, float] = {}
    minimum: dict[str, float] = {}
    for lid in ITEM_LEVELS:
        raw = (rule_data.get("thresholds") or {}).get(lid)
        value = _number(raw)
        if value is None or not 0 <= value <= 1:
            bad("threshold", level=lid, value=raw)
        else:
            thresholds[lid] = value
        raw = (rule_data.get("min_points") or {}).get(lid, 0)
        value = _number(raw)
        if value is None or value < 0:
            bad("min_points", level=lid, value=raw)
        else:
            minimum[lid] = value
    if len(thresholds) == len(ITEM_LEVELS):
        values = [thresholds[lid] for lid in ITEM_LEVELS]
        if values != sorted(values):
            bad("thresholds_order", values=values)

    areas: list[Area] = []
    seen_areas: set[str] = set()
    seen_comp: set[str] = set()
    for a in data.get("areas") or []:
        aid = str(a.get("id") or "") if isinstance(a, dict) else ""
        if not aid or not _ID.match(aid):
            bad("missing", where=f"areas/{aid or '?'}", field="id")
            continue
        if aid in seen_areas:
            bad("duplicate_area", id=aid)
        seen_areas.add(aid)
        if not str(a.get("name") or "").strip():
            bad("missing", where=f"areas/{aid}", field="name")
        comps: list[Competence] = []
        for c in a.get("competences") or []:
            cid = str(c.get("id") or "") if isinstance(c, dict) else ""
            where = f"{aid}/{cid or '?'}"
            if not cid:
                bad("missing", where=where, field="id")
                continue
            if not cid.startswith(aid + "."):
                bad("competence_prefix", id=cid, area=aid)
            if cid in seen_comp:
                bad("duplicate_competence", id=cid)
            seen_comp.add(cid)
            if not str(c.get("name") or "").strip():
                bad("missing", where=where, field="name")
            iu = [str(x) for x in c.get("iu") or []]
            dc = [str(x) for x in c.get("digcomp") or []]
            if not iu or not dc:
                bad("no_alignment", where=where)
            for x in iu:
                if x not in IU_CODES:
                    bad("bad_iu", where=where, value=x)
            for x in dc:
                if x not in DIGCOMP_CODES:
                    bad("bad_digcomp", where=where, value=x)
            comps.append(Competence(cid, aid, str(c.get("name") or ""),
                                    str(c.get("description") or ""), tuple(iu), tuple(dc)))
        if not comps:
            bad("no_competences", id=aid)
        areas.append(Area(aid, str(a.get("name") or ""), str(a.get("description") or ""),
                          tuple(comps)))

    if problems:
        log.warning("competency framework %s rejected: %d problem(s)", source, len(problems))
        raise ValidationError("competency.framework_invalid", problems, path=source)
    return Framework(version, eff, tuple(levels), LevelRule(thresholds, minimum), tuple(areas))


def default_framework_path() -> Path:
    return Path(str(resources.files("assessments.competency") / "framework.yaml"))


def load_framework(path: str | Path | None = None) -> Framework:
    """Read and validate a framework file (default: the one shipped in this package)."""
    if path is None:
        return _default()
    return _load(Path(path))


@cache
def _default() -> Framework:
    return _load(default_framework_path())


def _load(p: Path) -> Framework:
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        problems = [t("competency.problem.unreadable", detail=exc)]
        raise ValidationError("competency.framework_invalid", problems, path=str(p)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError("competency.framework_invalid",
                              [t("competency.problem.yaml", detail=exc)], path=str(p)) from exc
    return parse_framework(data, str(p))
