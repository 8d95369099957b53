"""The table of levels required per position (reports/requirements.yaml)."""

from __future__ import annotations

from datetime import date

import pytest

from kynangso.errors import ValidationError
from reports.requirements import load_requirements, parse_requirements


def test_shipped_table_loads_and_cites_sources():
    """Does every row of the shipped table load, with a source and an effective date?"""
    req = load_requirements()
    assert req.rows and all(r.source and r.effective_from for r in req.rows)


def test_highest_matching_requirement_wins():
    """Does a Văn thư need Thành thạo in VB.1 while everyone needs Cơ bản in NT.1?"""
    req = load_requirements()
    vt = req.for_position("Văn thư", date(2026, 6, 1))
    assert vt["VB.1"] == "thanh_thao" and vt["NT.1"] == "co_ban"
    assert "VB.1" not in req.for_position("Kế toán", date(2026, 6, 1))


def test_rows_not_yet_in_effect_are_ignored():
    """Is a row whose effective date has not come yet left out?"""
    req = parse_requirements({"rows": [{"effective_from": "2030-01-01", "positions": ["*"],
                                        "competences": {"NT.1": "nang_cao"}, "source": "x"}]}, "t")
    assert req.for_position("Văn thư", date(2026, 6, 1)) == {}


def test_bad_rows_listed_in_vietnamese():
    """Are an unknown competence, a bad level and a row without source all listed?"""
    with pytest.raises(ValidationError) as err:
        parse_requirements({"rows": [
            {"effective_from": "2026-01-01", "positions": ["*"], "competences": {"XX.9": "co_ban"},
             "source": "a"},
            {"effective_from": "2026-01-01", "positions": ["*"], "competences": {"NT.1": "gioi"},
             "source": "a"},
            {"effective_from": "2026-01-01", "positions": ["*"], "competences": {"NT.1": "co_ban"}},
        ]}, "bang.yaml")
    problems = err.value.problems
    assert any("XX.9" in p for p in problems)
    assert any("gioi" in p for p in problems)
    assert any(p.startswith("Dòng 3") for p in problems)
    assert "bang.yaml" in err.value.user_message
