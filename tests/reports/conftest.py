"""A small hand-worked office for the reports tests.

Exam course `thi-nang-luc`, two periods (ky-1 due 31/3/2026, ky-2 due 30/9/2026), the same six
items each time (framework thresholds 0.6 / 0.7 / 0.8, min_points 1):

    vb1-cb1 VB.1 co_ban 2   vb1-cb2 VB.1 co_ban 3   vb1-tt1 VB.1 thanh_thao 5
    ks2-cb1 KS.2 co_ban 2   ks2-tt1 KS.2 thanh_thao 2   ks2-nc1 KS.2 nang_cao 2

People (levels worked by hand in test_data.py):
- an    Văn thư, Văn phòng; both periods.
- binh  Công chức một cửa, Trung tâm; sat ky-1 only (absent from ky-2).
- chi   Chuyên viên, moved from Văn phòng to Phòng Kinh tế (directory says Kinh tế); both periods.
- dung  Chuyên viên, Phòng Kinh tế; never sat an exam.
- cuong graded in ky-1, since deleted from the directory.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kynangso.db import session_scope, upgrade
from kynangso.models import Department, ProgressEvent, Staff
from reports.data import GradebookSource
from reports.demo import Item, add_exam, add_results

ITEMS = [
    Item("vb1-cb1", "VB.1", "co_ban", 2), Item("vb1-cb2", "VB.1", "co_ban", 3),
    Item("vb1-tt1", "VB.1", "thanh_thao", 5),
    Item("ks2-cb1", "KS.2", "co_ban", 2), Item("ks2-tt1", "KS.2", "thanh_thao", 2),
    Item("ks2-nc1", "KS.2", "nang_cao", 2),
]
P1 = datetime(2026, 3, 31, 17, tzinfo=UTC)
P2 = datetime(2026, 9, 30, 17, tzinfo=UTC)
FULL = {it.grade_id: it.points for it in ITEMS}

SCORES_1 = {
    "an": {"vb1-cb1": 2, "vb1-cb2": 2, "vb1-tt1": 3, "ks2-cb1": 2, "ks2-tt1": 2, "ks2-nc1": 1},
    "binh": {"vb1-cb1": 1, "vb1-cb2": 2, "vb1-tt1": 0, "ks2-cb1": 0, "ks2-tt1": 0, "ks2-nc1": 0},
    "chi": FULL,
    "cuong": {"vb1-cb1": 2, "vb1-cb2": 3, "vb1-tt1": 5, "ks2-cb1": 1, "ks2-tt1": 0, "ks2-nc1": 0},
}
SCORES_2 = {
    "an": {"vb1-cb1": 2, "vb1-cb2": 3, "vb1-tt1": 4, "ks2-cb1": 1, "ks2-tt1": 2, "ks2-nc1": 2},
    "chi": FULL,
}

VP, KT, TT = "Văn phòng HĐND và UBND", "Phòng Kinh tế", "Trung tâm Phục vụ hành chính công"
STAFF = [  # username, name, position, department
    ("an", "Nguyễn Thị An", "Văn thư", VP),
    ("binh", "Trần Văn Bình", "Công chức một cửa", TT),
    ("chi", "Lê Thị Chi", "Chuyên viên tổng hợp", KT),
    ("dung", "Phạm Văn Dũng", "Chuyên viên địa chính", KT),
]


def build_office(tmp_path, platform_url: str | None = None, gradebook_url: str | None = None
                 ) -> tuple[str, list[GradebookSource]]:
    platform_url = platform_url or f"sqlite:///{tmp_path / 'kns.sqlite'}"
    upgrade(platform_url)
    with session_scope(platform_url) as s:
        deps = {name: Department(name=name) for name in (VP, KT, TT)}
        s.add_all(deps.values())
        for i, (user, name, pos, dep) in enumerate(STAFF):
            s.add(Staff(code=f"CB{i:03d}", username=user, full_name=name, position=pos,
                        department=deps[dep], role="hocvien"))
        when = datetime(2026, 5, 1, 9, tzinfo=UTC)
        for lesson in ("01-van-ban-den-di", "02-so-ky-hieu", "03-the-thuc", "04-dang-ky-va-thoi-han"):
            s.add(ProgressEvent(event_id=f"an-{lesson}", username="an", kind="lesson_completed",
                                course_id="01-van-ban-dien-tu", lesson_id=lesson, occurred_at=when,
                                judged=True))
        s.add(ProgressEvent(event_id="binh-dvc-1", username="binh", kind="lesson_completed",
                            course_id="03-dich-vu-cong", lesson_id="01-tiep-nhan-ho-so",
                            occurred_at=when, judged=True))
        s.add(ProgressEvent(event_id="binh-dvc-open", username="binh", kind="lesson_opened",
                            course_id="03-dich-vu-cong", lesson_id="02-thoi-han-giai-quyet",
                            occurred_at=when, judged=True))
        # Completions a kernel reported before the service judged answers (migration 0007):
        # kept in the table, never counted by the reports.
        for lesson in ("02-thoi-han-giai-quyet", "03-thanh-toan-va-toan-trinh"):
            s.add(ProgressEvent(event_id=f"binh-legacy-{lesson}", username="binh",
                                kind="lesson_completed", course_id="03-dich-vu-cong",
                                lesson_id=lesson, occurred_at=when, judged=False))
    course_dir = tmp_path / "thi-nang-luc"
    course_dir.mkdir()
    gb_url = gradebook_url or f"sqlite:///{course_dir / 'gradebook.db'}"
    add_exam(course_dir, gb_url, "ky-1", P1, ITEMS)
    add_results(gb_url, "ky-1", SCORES_1, P1)
    add_exam(course_dir, gb_url, "ky-2", P2, ITEMS)
    add_results(gb_url, "ky-2", SCORES_2, P2)
    return platform_url, [GradebookSource(gb_url, course_dir)]


@pytest.fixture(scope="session")
def office(tmp_path_factory):
    """Built once: the tests only read it (the data layer never writes)."""
    return build_office(tmp_path_factory.mktemp("office"))


@pytest.fixture(scope="session")
def data(office):
    from reports.data import load

    return load(*office)
