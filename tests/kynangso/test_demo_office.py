"""The demo office: fictional, marked DỮ LIỆU MẪU, loaded through the real importer."""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kynangso.db import session_scope
from kynangso.demo import DEMO_ACCOUNTS, load_demo_office, write_demo_csv
from kynangso.models import Staff


def test_demo_office_loads_with_one_account_per_role(settings):
    """Does the demo load 20 staff in 4 units, with the well-known account of each role?"""
    result = load_demo_office(settings)
    assert len(result.created) == 20 and len(result.departments_created) == 4
    with session_scope(settings.database_url) as s:
        staff = {x.username: x for x in s.scalars(select(Staff).options(joinedload(Staff.department)))}
    assert Counter(x.role for x in staff.values()) == {"hocvien": 15, "giangvien": 2, "nhansu": 2,
                                                      "quantri": 1}
    for role, username in DEMO_ACCOUNTS.items():
        assert staff[username].role == role
    assert staff["quantri"].role == "quantri"
    assert {x.department.name for x in staff.values()} == {
        "Văn phòng HĐND và UBND", "Phòng Kinh tế", "Phòng Văn hóa - Xã hội",
        "Trung tâm Phục vụ hành chính công"}
    assert all(unicodedata.is_normalized("NFC", x.full_name) for x in staff.values())
    assert all(x.email is None or x.email.endswith(".example") for x in staff.values())


def test_demo_reload_changes_nothing(settings):
    """Is loading the demo twice harmless?"""
    load_demo_office(settings)
    again = load_demo_office(settings)
    assert not again.changed and len(again.unchanged) == 20


def test_demo_csv_is_marked_as_sample(tmp_path):
    """Is every row of the demo file marked DỮ LIỆU MẪU?"""
    path = write_demo_csv(tmp_path / "mau.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    assert header[:6] == ["Mã cán bộ", "Họ và tên", "Chức vụ", "Đơn vị", "Email", "Vai trò"]
    assert len(rows) == 20 and all("DỮ LIỆU MẪU" in row[6] for row in rows)
