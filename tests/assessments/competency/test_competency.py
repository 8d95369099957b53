"""The competency framework, the level rule on hand-worked examples, and exam-item tags."""

from __future__ import annotations

import copy

import pytest
import yaml

from assessments.competency import (
    Evidence,
    check_exam_notebook,
    competence_level,
    item_schema,
    levels_for,
    load_framework,
    validate_item_metadata,
)
from assessments.competency.framework import (
    DIGCOMP_CODES,
    ITEM_LEVELS,
    IU_CODES,
    default_framework_path,
    parse_framework,
)
from kynangso.errors import KnsError, ValidationError


@pytest.fixture(scope="module")
def fw():
    return load_framework()


@pytest.fixture
def raw():
    return yaml.safe_load(default_framework_path().read_text(encoding="utf-8"))


def test_shipped_framework_loads(fw):
    """Does the shipped framework load, with four ordered levels and the four simulated systems?"""
    assert [lv.name for lv in fw.levels] == ["Chưa đạt", "Cơ bản", "Thành thạo", "Nâng cao"]
    assert {a.id for a in fw.areas} == {"NT", "VB", "KS", "DVC", "TD"}
    for c in fw.competences.values():
        assert set(c.iu) <= IU_CODES and set(c.digcomp) <= DIGCOMP_CODES


def test_every_problem_listed_in_vietnamese(raw):
    """Is a broken framework refused with every problem listed, not just the first?"""
    raw["areas"][0]["competences"][0]["iu"] = ["IU99"]
    raw["areas"][1]["competences"][1]["id"] = raw["areas"][1]["competences"][0]["id"]
    raw["level_rule"]["thresholds"]["nang_cao"] = 1.5
    raw["areas"][2]["competences"][0]["digcomp"] = ["7.1"]
    with pytest.raises(ValidationError) as exc:
        parse_framework(raw, "khung.yaml")
    text = "\n".join(exc.value.problems)
    assert len(exc.value.problems) == 4
    assert "IU99" in text and "bị trùng" in text and "nang_cao" in text and "7.1" in text
    assert "khung.yaml" in exc.value.user_message


def test_thresholds_must_not_decrease(raw):
    """Is a rule where Nâng cao is easier than Cơ bản refused?"""
    raw["level_rule"]["thresholds"] = {"co_ban": 0.9, "thanh_thao": 0.7, "nang_cao": 0.8}
    with pytest.raises(ValidationError) as exc:
        parse_framework(raw, "x")
    assert any("không giảm" in p for p in exc.value.problems)


def test_competence_must_sit_in_its_area(raw):
    """Is a competence id that does not start with its area's id refused?"""
    raw["areas"][1]["competences"][0]["id"] = "KS.9"
    with pytest.raises(ValidationError) as exc:
        parse_framework(raw, "x")
    assert any("KS.9" in p and "VB." in p for p in exc.value.problems)


def test_missing_file_is_a_clear_error(tmp_path):
    """Does a missing framework file give a Vietnamese error naming the file?"""
    with pytest.raises(ValidationError) as exc:
        load_framework(tmp_path / "khong-co.yaml")
    assert "khong-co.yaml" in exc.value.user_message and "Không đọc được" in exc.value.problems[0]


# -- the level rule: hand-worked examples (thresholds 0.6 / 0.7 / 0.8, min_points 1) ---------

def ev(level, earned, possible, comp="VB.1"):
    return Evidence(comp, level, earned, possible)


@pytest.mark.parametrize("items, expected", [
    # 4/5 = 0.80 ≥ 0.6 at Cơ bản; 5/10 = 0.50 < 0.7 at Thành thạo -> Cơ bản
    ([ev("co_ban", 4, 5), ev("thanh_thao", 5, 10)], "co_ban"),
    # 2/5 = 0.40 < 0.6 at Cơ bản blocks the climb even with 10/10 at Thành thạo -> Chưa đạt
    ([ev("co_ban", 2, 5), ev("thanh_thao", 10, 10)], "chua_dat"),
    # only Thành thạo items, 7/10 = 0.70 exactly -> Thành thạo (Cơ bản not judged)
    ([ev("thanh_thao", 7, 10)], "thanh_thao"),
    # 3/5 = 0.6, 7/10 = 0.7, 4/5 = 0.8, each exactly at its threshold -> Nâng cao
    ([ev("co_ban", 3, 5), ev("thanh_thao", 7, 10), ev("nang_cao", 4, 5)], "nang_cao"),
    # two Cơ bản items summed: (1 + 1) / (2 + 2) = 0.5 < 0.6 -> Chưa đạt
    ([ev("co_ban", 1, 2), ev("co_ban", 1, 2)], "chua_dat"),
    # (2 + 1) / (2 + 2) = 0.75 -> Cơ bản; Nâng cao 3/5 = 0.6 < 0.8 and no Thành thạo -> Cơ bản
    ([ev("co_ban", 2, 2), ev("co_ban", 1, 2), ev("nang_cao", 3, 5)], "co_ban"),
    # no evidence -> not assessed
    ([], None),
])
def test_level_rule_hand_worked(fw, items, expected):
    """Does the rule give the level worked out by hand for each example?"""
    assert competence_level(items, fw.rule) == expected


def test_min_points_skips_thin_evidence(fw, raw):
    """With min_points 5 at Nâng cao, is a single 2-point item at that level ignored?"""
    raw["level_rule"]["min_points"]["nang_cao"] = 5
    rule = parse_framework(raw, "x").rule
    items = [ev("co_ban", 5, 5), ev("thanh_thao", 10, 10), ev("nang_cao", 0, 2)]
    assert competence_level(items, rule) == "thanh_thao"
    assert competence_level(items, fw.rule) == "thanh_thao"  # judged and failed: also stops
    assert competence_level(items[:2] + [ev("nang_cao", 2, 2)], rule) == "thanh_thao"
    assert competence_level(items[:2] + [ev("nang_cao", 2, 2)], fw.rule) == "nang_cao"


def test_levels_for_every_competence(fw):
    """Does levels_for give every competence a level, None where untested?"""
    result = levels_for([ev("co_ban", 1, 1, "KS.3"), ev("co_ban", 0, 1, "DVC.3")], fw)
    assert set(result) == set(fw.competences)
    assert result["KS.3"] == "co_ban" and result["DVC.3"] == "chua_dat"
    assert result["VB.1"] is None
    assert fw.level_name(result["VB.1"]) == "Chưa đánh giá"


def test_unknown_competence_in_evidence_refused(fw):
    """Is evidence for a competence outside the framework refused with its id?"""
    with pytest.raises(KnsError) as exc:
        levels_for([ev("co_ban", 1, 1, "XX.1")], fw)
    assert "XX.1" in exc.value.user_message


def test_evidence_with_more_points_than_possible_refused():
    """Is an item with 3 points earned out of 2 refused?"""
    with pytest.raises(KnsError):
        Evidence("VB.1", "co_ban", 3, 2)


# -- exam-item metadata ---------------------------------------------------------------------

GOOD = {"schema_version": 1, "item_id": "so-ky-hieu-1", "competence": "VB.1", "level": "co_ban",
        "points": 2, "simulation": "documents"}


def test_item_schema_is_versioned():
    """Does the schema carry a version that matches the item levels of the framework?"""
    schema = item_schema()
    assert schema["version"] == 1
    assert set(schema["properties"]["level"]["enum"]) == set(ITEM_LEVELS)


def test_good_item_metadata_passes(fw):
    """Is a complete, correct tag accepted?"""
    assert validate_item_metadata(GOOD, fw) == []


@pytest.mark.parametrize("change, fragment", [
    ({"competence": "VB.9"}, "VB.9"),
    ({"level": "chua_dat"}, "co_ban, thanh_thao hoặc nang_cao"),
    ({"points": 0}, "points"),
    ({"schema_version": 2}, "phiên bản hiện hành là 1"),
    ({"extra": True}, "extra"),
])
def test_bad_item_metadata_explained(fw, change, fragment):
    """Is each kind of bad tag refused with a Vietnamese message that names the problem?"""
    meta = copy.deepcopy(GOOD) | change
    problems = validate_item_metadata(meta, fw)
    assert problems and fragment in " ".join(problems)


def test_missing_fields_listed(fw):
    """Are all missing required fields reported?"""
    problems = validate_item_metadata({"schema_version": 1}, fw)
    text = " ".join(problems)
    for field in ("item_id", "competence", "level", "points"):
        assert field in text


def cell(grade_id, points, tag=None, graded=True):
    meta = {"nbgrader": {"grade": graded, "grade_id": grade_id, "points": points,
                         "solution": False, "locked": True}}
    if tag is not None:
        meta["kynangso"] = tag
    return {"cell_type": "code", "metadata": meta, "source": ""}


def test_exam_notebook_tags_checked(fw):
    """Are an untagged graded cell, a points mismatch, a duplicate id and a tag on an ungraded
    cell all reported, each with its cell?"""
    good = dict(GOOD)
    nb = {"cells": [
        cell("so-ky-hieu-1", 2, good),
        cell("so-ky-hieu-2", 3),                                     # no tag
        cell("so-ky-hieu-3", 1, good | {"points": 2}),                # 2 ≠ 1, and duplicate id
        cell("ghi-chu", 0, good | {"item_id": "ghi-chu"}, graded=False),
    ]}
    problems = check_exam_notebook(nb, fw)
    assert len(problems) == 4
    assert problems[0].startswith("Ô thứ 2") and "chưa gắn năng lực" in problems[0]
    assert any("Ô thứ 3" in p and "(2) khác điểm nbgrader (1)" in p for p in problems)
    assert any("Ô thứ 3" in p and "bị trùng" in p for p in problems)
    assert any("Ô thứ 4" in p and "không được chấm điểm" in p for p in problems)


def test_clean_exam_notebook_passes(fw):
    """Is a notebook whose graded cells are all tagged correctly accepted?"""
    nb = {"cells": [cell("a", 2, GOOD | {"item_id": "a"}),
                    cell("b", 1, GOOD | {"item_id": "b", "points": 1, "level": "nang_cao"})]}
    assert check_exam_notebook(nb, fw) == []
