"""The level rule: from the points a person earned on exam items to a proficiency level.

Levels are computed, never typed in (DESIGN.md, Competency model). For one competence, the items
are grouped by the level they were written at; for each level in ascending order the share of
points earned is compared with that level's threshold (framework.yaml, `level_rule`):

- a level with fewer than `min_points` points on offer is not judged (skipped);
- a judged level whose share reaches its threshold is attained;
- a judged level below its threshold stops the climb (levels are cumulative).

The result is the highest level attained; "chua_dat" when there is evidence but nothing is
attained; None ("chưa đánh giá") when there is no evidence for the competence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from assessments.competency.framework import ITEM_LEVELS, Framework, LevelRule, load_framework
from kynangso.errors import KnsError


@dataclass(frozen=True)
class Evidence:
    """One graded item: its competence and level (from the cell metadata) and its points."""

    competence: str
    level: str
    earned: float
    possible: float

    def __post_init__(self) -> None:
        if self.level not in ITEM_LEVELS:
            raise KnsError("competency.level.bad_evidence", detail=f"level={self.level!r}")
        if self.possible < 0 or self.earned < 0 or self.earned > self.possible:
            raise KnsError("competency.level.bad_evidence",
                           detail=f"earned={self.earned}, possible={self.possible}")


def shares(evidence: Iterable[Evidence]) -> dict[str, tuple[float, float]]:
    """(earned, possible) per item level, summed over the items given."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for e in evidence:
        totals[e.level][0] += e.earned
        totals[e.level][1] += e.possible
    return {lv: (v[0], v[1]) for lv, v in totals.items()}


def competence_level(evidence: Iterable[Evidence], rule: LevelRule) -> str | None:
    """The level shown by `evidence` (all for one competence) under `rule`, or None."""
    items = list(evidence)
    if not items:
        return None
    by_level = shares(items)
    attained = "chua_dat"
    for lv in ITEM_LEVELS:
        earned, possible = by_level.get(lv, (0.0, 0.0))
        if possible < max(rule.min_points.get(lv, 0), 1e-9):
            continue  # not judged at this level
        if earned / possible >= rule.thresholds[lv]:
            attained = lv
        else:
            break
    return attained


def levels_for(evidence: Iterable[Evidence], framework: Framework | None = None
               ) -> dict[str, str | None]:
    """Level of every competence of the framework (None where there is no evidence)."""
    fw = framework or load_framework()
    grouped: dict[str, list[Evidence]] = defaultdict(list)
    for e in evidence:
        if e.competence not in fw.competences:
            raise KnsError("competency.item.competence", value=e.competence)
        grouped[e.competence].append(e)
    return {cid: competence_level(grouped.get(cid, []), fw.rule) for cid in fw.competences}
