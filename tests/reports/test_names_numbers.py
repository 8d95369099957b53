"""What HR reads: numbers in Vietnamese format, and names where the data has ids.

Names come from where they live: the exam's title and each item's question in the exam
notebooks (source/<assignment>/*.ipynb, as nbgrader keeps them), the competence names in the
framework (assessments/competency/framework.yaml).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kynangso.i18n import t
from reports import charts, views

EXAMS = Path(__file__).parents[2] / "assessments" / "exams" / "source"


@pytest.mark.parametrize("value, expected", [
    (7.5, "7,5"), (7, "7"), (7.0, "7"), (0.25, "0,25"), (-2.5, "-2,5"), (1234, "1.234"),
    (1234567, "1.234.567"), (1234.5, "1.234,5"), (2 / 3, "0,67"), (99.95, "99,95"),
    (np.int64(5000), "5.000"), (np.float64(62.5), "62,5"), (None, "–"), (math.nan, "–"),
    (pd.NA, "–"), (True, "1"),
])
def test_number_is_vietnamese(value, expected):
    """Is a number written with a decimal comma and dots between thousands, NaN as a dash?"""
    from reports.numbers import number

    assert number(value) == expected


def test_number_decimals_fixed():
    """Can a caller ask for a fixed number of decimals (a heatmap cell: one)?"""
    from reports.numbers import number

    assert number(1.0, decimals=1) == "1,0"
    assert number(2.25, decimals=1) in ("2,2", "2,3")
    assert number(1500.04, decimals=1) == "1.500,0"


def test_period_label_names_the_exam_and_the_period(data):
    """Is an exam period shown as the exam's title, the period and its date, not its id?"""
    labels = list(data.periods["label"])
    assert labels == ["Bài kiểm tra (mẫu) – kỳ 1 (31/03/2026)",
                      "Bài kiểm tra (mẫu) – kỳ 2 (30/09/2026)"]


def test_evidence_names_the_questions(data):
    """Does the evidence of a level name the questions (with Vietnamese points), not item ids?"""
    lv = data.levels()
    row = lv[(lv["username"] == "an") & (lv["competence"] == "VB.1")].iloc[0]
    assert row["items"] == "Câu 1 (2/2), Câu 2 (3/3), Câu 3 (4/5)"


def test_real_exam_names(tmp_path):
    """Are the real exams' titles and questions found: a multiple-choice prompt, a simulation
    task by its Vietnamese name, a written task by its prompt, and the period's number?"""
    from reports.data import exam_names

    for exam in ("tong-hop", "dich-vu-cong"):
        shutil.copytree(EXAMS / exam, tmp_path / "source" / f"{exam}-ky-1")
    names = exam_names(tmp_path)
    title, items = names["dich-vu-cong-ky-1"]
    assert title == "Kiểm tra năng lực số: dịch vụ công trực tuyến và một cửa"
    assert items["toan-trinh"] == "Câu 1: Dịch vụ công trực tuyến «toàn trình» là gì?"
    assert items["tiep-nhan"] == "Câu 6: " + t("reports.task.task_process_dossier")
    assert items["huong-dan-nop"].startswith("Câu 8: Tình huống: một người dân lớn tuổi")
    assert len(items["huong-dan-nop"]) <= 80
    _title, items = names["tong-hop-ky-1"]
    assert items["dinh-dang"].startswith("Câu ") and "dinh-dang" not in items["dinh-dang"]


def test_every_simulation_task_has_a_name_for_hr():
    """Does every simulation task the exams can call have its Vietnamese name in the reports'
    catalogue (an exam with a task without one could not be read by the dashboards)?"""
    from assessments.questions.tasks import TASKS
    from kynangso.i18n import catalogue

    assert [m for m in TASKS if f"reports.task.{m}" not in catalogue()] == []


def test_competences_carry_their_names(data):
    """Do the tables that had a bare competence code now carry its name beside it?"""
    name = data.framework.competence("KS.2").name
    label = f"KS.2 – {name}"
    assert views.competence_label(data, "KS.2") == label
    needs = views.needs_summary(data, data.needs())
    assert label in set(needs[views.h("competence_name")])
    heat = views.heatmap(data, data.levels())
    assert label in set(heat[views.h("competence_name")])
    hist = views.person_history(data, "an")
    assert label in set(hist[views.h("competence_name")])


def test_tables_and_charts_use_decimal_commas(data):
    """Do the page's tables and the charts' labels write 1,5 and 62,5 rather than 1.5, 62.5?"""
    from reports.dashboard import _table_html

    page = _table_html(pd.DataFrame({"a": [1.5, 1234.0], "b": [62.5, None], "c": ["x.y", "z"]}))
    assert "1,5" in page and "62,5" in page and "1.234" in page and "x.y" in page
    assert "1.5<" not in page and "62.5" not in page and "nan" not in page.lower()
    heat = pd.DataFrame({"Đơn vị": ["A"], "VB.1": [1.5]})
    svg = charts.to_svg(charts.heatmap(heat, "Đơn vị"))
    assert ">1,5<" in svg and ">1.5<" not in svg
    bars = charts.to_svg(charts.horizontal_bars(["x"], [62.5]))
    assert "62,5" in bars or ">63<" in bars  # bar labels whole, never with a point
    assert "62.5" not in bars


def test_person_exams_in_vietnamese_format(data):
    """Is a score like 12/16 and a share like 75 written the Vietnamese way in the profile?"""
    exams = views.person_exams(data, "an")
    assert list(exams[views.h("period")])[0] == "Bài kiểm tra (mẫu) – kỳ 1 (31/03/2026)"
    assert list(exams[views.h("score")])[0] == "12/16"
