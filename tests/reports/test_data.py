"""The data layer: levels computed by the framework's rule from the gradebook, with evidence."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from assessments.competency import Evidence, load_framework
from assessments.competency.levels import competence_level
from reports.data import apply_level_rule, load


def level(data, user, comp, period=None):
    lv = data.levels(period)
    row = lv[(lv["username"] == user) & (lv["competence"] == comp)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize(("user", "comp", "expected", "period"), [
    # ky-2: VB.1 co_ban 5/5 >= .6, thanh_thao 4/5 = .8 >= .7 -> thanh_thao
    ("an", "VB.1", "thanh_thao", "thi-nang-luc/ky-2"),
    # ky-2: KS.2 co_ban 1/2 = .5 < .6 stops the climb although the higher items are full
    ("an", "KS.2", "chua_dat", "thi-nang-luc/ky-2"),
    # binh: VB.1 co_ban 3/5 = .6 exactly at the threshold; thanh_thao 0/5 -> co_ban
    ("binh", "VB.1", "co_ban", "thi-nang-luc/ky-1"),
    # chi: everything full; VB.1 has no nang_cao item (not judged) -> thanh_thao, KS.2 -> nang_cao
    ("chi", "VB.1", "thanh_thao", "thi-nang-luc/ky-2"),
    ("chi", "KS.2", "nang_cao", "thi-nang-luc/ky-2"),
])
def test_hand_worked_levels(data, user, comp, expected, period):
    """Are the current levels those worked by hand, taken from the right period?"""
    row = level(data, user, comp)
    assert (row["level"], row["period_id"]) == (expected, period)


def test_levels_as_of_first_period(data):
    """Does the view as of ky-1 show the levels of ky-1 (an: VB.1 co_ban, KS.2 thanh_thao)?"""
    assert level(data, "an", "VB.1", "thi-nang-luc/ky-1")["level"] == "co_ban"
    assert level(data, "an", "KS.2", "thi-nang-luc/ky-1")["level"] == "thanh_thao"


def test_evidence_names_items_and_date(data):
    """Does each level say which items, with points, and which date it comes from?"""
    row = level(data, "an", "VB.1")
    assert row["items"] == "Câu 1 (2/2), Câu 2 (3/3), Câu 3 (4/5)"
    assert pd.Timestamp(row["date"]).date().isoformat() == "2026-09-30"


def test_person_without_exam_is_not_assessed(data):
    """Is someone who never sat an exam 'Chưa đánh giá' everywhere, not 'Chưa đạt'?"""
    lv = data.levels()
    dung = lv[lv["username"] == "dung"]
    assert len(dung) == len(data.framework.competences)
    assert dung["level"].isna().all()
    assert set(dung["level_name"]) == {"Chưa đánh giá"}


def test_absent_from_a_period_keeps_earlier_level(data):
    """Does someone absent from ky-2 keep their ky-1 level, dated ky-1, and have no ky-2 row?"""
    row = level(data, "binh", "VB.1")
    assert (row["level"], row["period_id"]) == ("co_ban", "thi-nang-luc/ky-1")
    hist = data.history[data.history["username"] == "binh"]
    assert set(hist["period_id"]) == {"thi-nang-luc/ky-1"}


def test_moved_department_follows_the_person(data):
    """Is someone who moved counted once, under the department the directory gives today?"""
    lv = data.levels()
    chi = lv[lv["username"] == "chi"]
    assert set(chi["department"]) == {"Phòng Kinh tế"}
    assert len(chi) == len(data.framework.competences)
    assert set(data.history[data.history["username"] == "chi"]["period_id"]) == {
        "thi-nang-luc/ky-1", "thi-nang-luc/ky-2"}


def test_deleted_staff_keep_history_but_leave_needs(data):
    """Are results of someone deleted from the directory kept, and are they left out of needs?"""
    row = level(data, "cuong", "VB.1")
    assert row["level"] == "thanh_thao" and not row["in_directory"]
    assert row["department"] == "(Không còn trong danh bạ)"
    assert "cuong" not in set(data.needs()["username"])


def test_training_needs_compare_with_position(data):
    """Is the Văn thư below Thành thạo in KS.2 listed, and someone meeting it not?"""
    needs = data.needs()
    an = needs[needs["username"] == "an"].set_index("competence")
    assert an.loc["KS.2", "level_name"] == "Chưa đạt"
    assert an.loc["KS.2", "required_name"] == "Thành thạo"
    assert "VB.1" not in an.index  # thanh_thao meets the requirement
    assert "Chữ ký số" in an.loc["KS.2", "recommended"]


def test_course_completion(data):
    """Is a course completed only when every lesson of it is completed, by the progress
    service's judgement (binh's kernel-reported completions of two lessons do not count)?"""
    c = data.courses.set_index(["username", "course_id"])
    assert bool(c.loc[("an", "01-van-ban-dien-tu"), "completed"])
    assert not bool(c.loc[("binh", "03-dich-vu-cong"), "completed"])
    assert c.loc[("binh", "03-dich-vu-cong"), "lessons_done"] == 1


def test_exam_totals(data):
    """Are exam totals per person and period the sums of the graded items?"""
    e = data.exams.set_index(["username", "period_id"])
    assert e.loc[("an", "thi-nang-luc/ky-1"), "earned"] == 12
    assert e.loc[("an", "thi-nang-luc/ky-1"), "possible"] == 16


def test_untagged_item_is_reported_and_left_out(tmp_path):
    """Is a graded cell without a competence tag left out of the levels and named in problems?"""
    import json

    from tests.reports.conftest import build_office

    platform, sources = build_office(tmp_path)
    nb = sources[0].course_dir / "source" / "ky-2" / "bai-thi.ipynb"
    doc = json.loads(nb.read_text(encoding="utf-8"))
    for cell in doc["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "ks2-cb1":
            del cell["metadata"]["kynangso"]
    nb.write_text(json.dumps(doc), encoding="utf-8")
    d = load(platform, sources)
    assert any("ks2-cb1" in p and "ky-2" in p for p in d.problems)
    # Without its co_ban item, an's KS.2 in ky-2 is judged on thanh_thao and nang_cao only.
    assert level(d, "an", "KS.2")["level"] == "nang_cao"


def test_vectorised_rule_equals_framework_rule():
    """Does the vectorised rule give exactly `competence_level` on many random cases?"""
    fw = load_framework()
    rng = random.Random(7)
    rows, expected = [], []
    for _ in range(3000):
        ev, row = [], {}
        for lv in ("co_ban", "thanh_thao", "nang_cao"):
            if rng.random() < 0.7:
                possible = rng.choice([0.5, 1, 2, 3, 5, 10])
                earned = rng.choice([0, possible * rng.random(), possible * 0.6, possible * 0.7,
                                     possible * 0.8, possible])
                ev.append(Evidence("VB.1", lv, earned, possible))
                row[f"earned_{lv}"], row[f"possible_{lv}"] = earned, possible
        if not ev:
            continue
        rows.append(row)
        expected.append(competence_level(ev, fw.rule))
    got = apply_level_rule(pd.DataFrame(rows), fw)
    assert list(got) == expected


def test_late_penalty_gives_net_evidence(tmp_path):
    """Does a late submission's penalty scale its evidence: none left with nbgrader's "zero"
    method (chi, ky-2), half of each item with a penalty of half the score (an, ky-2)?"""
    from reports.demo import _gradebook
    from tests.reports.conftest import build_office

    platform, sources = build_office(tmp_path)
    with _gradebook(sources[0].db_url) as gb:
        # chi scored 16 in ky-2; "zero": penalty = score. an scored 2+3+4+1+2+2 = 14.
        gb.find_submission_notebook("bai-thi", "ky-2", "chi").late_submission_penalty = 16.0
        gb.find_submission_notebook("bai-thi", "ky-2", "an").late_submission_penalty = 7.0
        gb.db.commit()
    d = load(platform, sources)
    e = d.exams.set_index(["username", "period_id"])
    assert e.loc[("chi", "thi-nang-luc/ky-2"), "earned"] == 0
    assert e.loc[("an", "thi-nang-luc/ky-2"), "earned"] == 7
    assert e.loc[("an", "thi-nang-luc/ky-1"), "earned"] == 12  # on time: untouched
    # chi: everything full in ky-2 but zeroed: co_ban 0/5 -> chua_dat, from ky-2.
    row = level(d, "chi", "VB.1")
    assert (row["level"], row["period_id"]) == ("chua_dat", "thi-nang-luc/ky-2")
    assert row["items"].startswith("Câu 1 (0/2), Câu 2 (0/3)")
    # an: VB.1 co_ban (2 + 3) * 0.5 = 2.5/5 = .5 < .6 -> chua_dat (was thanh_thao on time).
    row = level(d, "an", "VB.1")
    assert row["level"] == "chua_dat"
    assert row["items"].startswith("Câu 1 (1/2), Câu 2 (1,5/3)")


def test_gradebook_not_created_yet_is_skipped(office, tmp_path):
    """Does a configured exam course with no gradebook yet (nothing graded on a fresh install)
    leave the reports working on the other courses, instead of failing them all?"""
    from reports.data import GradebookSource, load

    platform, sources = office
    missing = GradebookSource(f"sqlite:///{tmp_path / 'moi' / 'gradebook.db'}", tmp_path / "moi")
    d = load(platform, [missing, *sources])
    assert len(d.periods) == 2
    assert not (tmp_path / "moi" / "gradebook.db").exists()


def test_levels_from_codes_equal_the_sorted_way(data):
    """The latest level per person and competence is found from integer codes (a province has
    millions of levels per period); with the names as text, pandas' sort and drop_duplicates
    find it. Do both give the same table, for every period?"""
    import dataclasses

    keys = ["username", "period_id", "competence"]
    text = dataclasses.replace(data, history=data.history.assign(
        **{k: data.history[k].astype(str) for k in keys}), _levels={})
    for period in [None, *data.period_ids]:
        fast, slow = data.levels(period, evidence=False), text.levels(period, evidence=False)
        # (The dates are a categorical where the periods are: a type, not a number.)
        fast = fast.assign(date=fast["date"].astype(slow["date"].dtype))
        pd.testing.assert_frame_equal(fast, slow, check_dtype=False, check_categorical=False,
                                      obj=f"levels {period}")


def test_levels_kept_for_the_needs_are_not_changed_by_a_caller(data):
    """The table of levels is kept for the needs list asked next: a caller that changes the
    table it got must not change what the next caller gets."""
    first = data.levels(evidence=False)
    want = first.copy()
    first["level_name"] = "đã sửa"
    first.loc[0, "rank"] = 99
    pd.testing.assert_frame_equal(data.levels(evidence=False), want)
