"""The course catalogue: complete, consistent with the notebooks and the framework."""

from __future__ import annotations

import copy

import pytest
import yaml

from assessments.competency import load_framework
from courses.catalogue import load_catalogue, package_root, parse_catalogue
from kynangso.errors import ValidationError


@pytest.fixture
def raw():
    return yaml.safe_load((package_root() / "catalogue.yaml").read_text(encoding="utf-8"))


def test_catalogue_loads_with_five_courses():
    """Does the shipped catalogue load, with the courses of issues 6 and 17 and 3–4 lessons
    each?"""
    cat = load_catalogue()
    assert [c.id for c in cat.courses] == ["00-lam-quen", "01-van-ban-dien-tu", "02-chu-ky-so",
                                           "03-dich-vu-cong", "04-thu-dien-tu"]
    assert all(3 <= len(c.lessons) <= 4 for c in cat.courses)
    assert all(1 <= lesson.minutes <= 15 for lesson in cat.lessons())


def test_every_notebook_is_catalogued_and_vice_versa():
    """Is every lesson notebook on disk in the catalogue, and every catalogue entry on disk?"""
    root = package_root()
    on_disk = {p.relative_to(root).as_posix() for p in root.glob("[0-9][0-9]-*/*.ipynb")}
    listed = {lesson.notebook for lesson in load_catalogue().lessons()}
    assert on_disk == listed


def test_competences_come_from_the_framework():
    """Does every lesson train at least one competence of the framework, and every area get one?"""
    fw = load_framework()
    used = {c for lesson in load_catalogue().lessons() for c in lesson.competences}
    assert used <= set(fw.competences)
    assert {fw.competence(c).area for c in used} == {a.id for a in fw.areas}


def test_all_problems_listed(raw):
    """Are an unknown competence, a missing notebook and a prerequisite cycle all reported?"""
    bad = copy.deepcopy(raw)
    lessons = bad["courses"][1]["lessons"]
    lessons[0]["competences"] = ["VB.99"]
    lessons[1]["notebook"] = "01-van-ban-dien-tu/khong-co.ipynb"
    lessons[0]["prerequisites"] = ["01-van-ban-dien-tu/03-the-thuc"]  # 03 -> 02 -> 01 -> 03
    bad["courses"][0]["prerequisites"] = ["03-dich-vu-cong"]  # 00 -> 03 -> 00
    with pytest.raises(ValidationError) as exc:
        parse_catalogue(bad, package_root(), "catalogue.yaml")
    text = "\n".join(exc.value.problems)
    assert "VB.99" in text and "khong-co.ipynb" in text
    assert sum("vòng lặp" in p for p in exc.value.problems) == 2
    assert "01-van-ban-dien-tu/03-the-thuc" in text and "00-lam-quen → 03-dich-vu-cong" in text
    assert "catalogue.yaml" in exc.value.user_message


def test_unknown_prerequisite_and_bad_minutes(raw):
    """Are a prerequisite that does not exist and a duration of 0 minutes refused?"""
    bad = copy.deepcopy(raw)
    bad["courses"][2]["lessons"][0]["prerequisites"] = ["02-chu-ky-so/99-khong-co"]
    bad["courses"][2]["lessons"][1]["minutes"] = 0
    with pytest.raises(ValidationError) as exc:
        parse_catalogue(bad, package_root(), "x")
    text = "\n".join(exc.value.problems)
    assert "99-khong-co" in text and "thời lượng" in text
