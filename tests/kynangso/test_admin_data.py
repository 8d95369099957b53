"""The admin app's data: the directory with account states, the import error path, activation
codes, who is online and the services' health (kynangso.admin.data), without a hub."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kynangso.accounts.activation import consume_code
from kynangso.admin import data
from kynangso.db import session_scope
from kynangso.errors import ValidationError
from kynangso.i18n import t
from kynangso.models import Staff
from kynangso.staff import import_file

HEADER = "Mã cán bộ,Họ và tên,Chức vụ,Đơn vị,Email,Vai trò\n"
ROWS = [
    "CB001,Nguyễn Văn Bình,Chủ tịch UBND phường,Văn phòng HĐND và UBND,binh@p.example,Học viên",
    "CB002,Trần Thị Thu Hương,Chuyên viên nội vụ,Văn phòng HĐND và UBND,huong@p.example,Nhân sự",
    "CB003,Đỗ Mạnh Hùng,Trưởng phòng Kinh tế,Phòng Kinh tế,hung@p.example,Học viên",
    "CB004,Lưu Đức Thịnh,Chuyên viên công nghệ thông tin,Văn phòng HĐND và UBND,,Quản trị",
]


@pytest.fixture
def office(db_url, tmp_path):
    """Four staff: cb001 activated, cb002 with a code not yet used, cb003 left, cb004 nothing."""
    path = tmp_path / "ds.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    import_file(path, db_url)
    codes = data.issue(db_url, ["cb001", "cb002"], 14, by="test")
    assert consume_code(db_url, "cb001", dict((p.username, c) for p, c, _ in codes)["cb001"])
    with session_scope(db_url) as s:
        s.scalar(select(Staff).where(Staff.username == "cb003")).active = False
    return db_url


def test_directory_shows_each_persons_state(office):
    """Is each person's account state what an admin must act on: active once their code was
    used, awaiting until then, locked once they left?"""
    found = data.directory(office)
    states = {p.username: p.state for p in found.people}
    assert states == {"cb001": "active", "cb002": "awaiting", "cb003": "locked", "cb004": "awaiting"}
    assert found.counts == {"active": 1, "awaiting": 2, "locked": 1} and found.total == 4
    assert found.departments == ["Phòng Kinh tế", "Văn phòng HĐND và UBND"]
    binh = next(p for p in found.people if p.username == "cb001")
    assert (binh.full_name, binh.department, binh.role_label, binh.state_label) == (
        "Nguyễn Văn Bình", "Văn phòng HĐND và UBND", "Học viên", t("admin.state.active"))
    # External login (LDAP/OIDC): nobody activates, so nobody awaits.
    assert {p.state for p in data.directory(office, native=False).people} == {"active", "locked"}


def test_directory_filters(office):
    """Do search (no diacritics needed), unit, role and state filter the list?"""
    def names(**kw):
        return [p.username for p in data.directory(office, **kw).people]

    assert names(query="nguyen van binh") == ["cb001"]
    assert names(query="CB00") == ["cb003", "cb001", "cb002", "cb004"]  # by unit, then given name
    assert names(department="Phòng Kinh tế") == ["cb003"]
    assert names(role="quantri") == ["cb004"]
    assert names(state="awaiting") == ["cb002", "cb004"]
    assert names(department="Văn phòng HĐND và UBND", state="awaiting", role="nhansu") == ["cb002"]
    assert names(query="không có ai") == []


def test_awaiting_and_code_status(office):
    """Who awaits activation, and what became of their last code?"""
    now = datetime.now(UTC)
    waiting = {p.username: p for p in data.awaiting(office)}
    assert set(waiting) == {"cb002", "cb004"}
    assert waiting["cb004"].code_status(now) == t("admin.codes.never")
    assert waiting["cb002"].code_status(now).startswith("Đã cấp, còn hạn đến ")
    assert waiting["cb002"].code_status(now + timedelta(days=15)).startswith("Đã hết hạn")
    assert [p.username for p in data.awaiting(office, department="Phòng Kinh tế")] == []


def test_issued_codes_download(office):
    """Does the one-click list hold each person's name, unit, login and a working code, readable
    by Excel (UTF-8 with BOM)? Does a new code cancel the earlier one?"""
    first = dict((p.username, c) for p, c, _ in data.issue(office, ["cb002"], 14, by="test"))
    issued = data.issue(office, ["cb004", "cb002"], 14, by="test")
    body = data.codes_csv(issued)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Họ và tên", "Đơn vị", "Tên đăng nhập", "Mã kích hoạt"]
    assert [r[0] for r in rows[1:]] == ["Trần Thị Thu Hương", "Lưu Đức Thịnh"]
    codes = {r[2]: r[3] for r in rows[1:]}
    assert not consume_code(office, "cb002", first["cb002"])  # cancelled by the new one
    assert consume_code(office, "cb004", codes["cb004"])


def test_bad_upload_imports_nothing_and_says_where(office, tmp_path):
    """A file with one bad row among good ones: is it refused whole, with the row number, the
    column and what to do, in Vietnamese, and is the database unchanged?"""
    before = [p for p in data.people(office)]
    bad = (HEADER + ROWS[0] + "\n"
           + "CB010,Phạm Quốc Việt,Phó Chánh Văn phòng,Văn phòng HĐND và UBND,viet@p.example,Giảng viên\n"
           + "CB011,Hoàng Thị Ánh,Chuyên viên,Phòng Kinh tế,khong-phai-email,Học viên\n")
    with pytest.raises(ValidationError) as info:
        data.import_upload(office, "danh-sach.csv", bad.encode("utf-8"), deactivate_missing=False,
                           by="quantri")
    assert "danh-sach.csv" in info.value.user_message and "KHÔNG được nhập" in info.value.user_message
    assert len(info.value.problems) == 1
    problem = info.value.problems[0]
    assert problem.startswith("Dòng 4") and "khong-phai-email" in problem
    assert data.people(office) == before


def test_upload_limits(office):
    """Are a file too big and a name without a staff-file suffix refused before reading?"""
    with pytest.raises(ValidationError) as info:
        data.import_upload(office, "ds.csv", b"x" * (data.MAX_UPLOAD_BYTES + 1),
                           deactivate_missing=False, by="quantri")
    assert info.value.key == "admin.import.too_big" and "5 MB" in info.value.user_message
    for name in ("ds.exe", "../../etc/passwd", ".csv", ""):
        with pytest.raises(ValidationError) as info:
            data.import_upload(office, name, b"a,b\n", deactivate_missing=False, by="quantri")
        assert info.value.key == "admin.import.bad_name"


def test_good_upload_reports_what_changed(office):
    """Does a good upload apply and describe the change (the missing people kept, by name)?"""
    good = HEADER + ROWS[0] + "\nCB020,Vũ Thị Lan,Văn thư,Phòng Kinh tế,,Học viên\n"
    result = data.import_upload(office, "C:\\Users\\hr\\moi.csv", good.encode("utf-8-sig"),
                                deactivate_missing=False, by="quantri")
    assert result.source == "moi.csv" and result.created == ["cb020"]
    names = {p.username: p.full_name for p in data.people(office)}
    lines = data.describe(result, names)
    assert lines[0].startswith("Đã nhập tệp moi.csv: 1 cán bộ mới")
    assert "Lưu Đức Thịnh" in lines[1] and "cb004" not in lines[1]


def test_relative_time_in_vietnamese():
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    assert data.relative_time(now - timedelta(seconds=20), now) == "vừa xong"
    assert data.relative_time("2026-12-06T07:54:59.500000Z", now) == "5 phút trước"
    assert data.relative_time(now - timedelta(hours=3, minutes=5), now) == "3 giờ trước"
    assert data.relative_time(now - timedelta(days=2), now) == "2 ngày trước"
    assert data.relative_time(None, now) == t("admin.time.never")


def test_online_from_the_hubs_user_list(office):
    """Does the hub's user list become names, units and Vietnamese times, latest activity first
    (a server still starting, with none yet, last), and are starting servers told apart?"""
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    users = [
        {"name": "cb001", "last_activity": "2026-12-06T07:50:00Z",
         "servers": {"": {"ready": True, "pending": None, "started": "2026-12-06T06:00:00Z",
                          "last_activity": "2026-12-06T07:58:00Z"}}},
        {"name": "cb002", "servers": {"": {"ready": False, "pending": "spawn",
                                          "started": "2026-12-06T07:59:30Z", "last_activity": None}}},
        {"name": "ghost", "servers": {"": {"ready": True, "started": "2026-12-05T08:00:00Z",
                                           "last_activity": "2026-12-05T09:00:00Z"}}},
        {"name": "cb004", "servers": {}},
    ]
    rows = data.online(users, data.people(office), now)
    assert [(r.full_name, r.department, r.server, r.started, r.last_activity) for r in rows] == [
        ("Nguyễn Văn Bình", "Văn phòng HĐND và UBND", "Đang chạy", "2 giờ trước", "2 phút trước"),
        (t("admin.online.unknown_person"), "", "Đang chạy", "1 ngày trước", "23 giờ trước"),
        ("Trần Thị Thu Hương", "Văn phòng HĐND và UBND", "Đang khởi động", "vừa xong", "chưa có"),
    ]


def test_health_of_expected_and_other_services():
    """Is every expected service listed by its Vietnamese name, a missing one as down, a token
    without a process left out, and a site's own service kept under its name?"""
    services = {
        "exams": {"url": "http://127.0.0.1:1", "command": ["python"]},
        "jupyterhub-idle-culler": {"url": "", "command": ["python"], "pid": os.getpid()},
        "kns-sync": {"url": "", "command": ""},
        "site-extra": {"url": "http://127.0.0.1:2", "command": ""},
    }
    probes = {"exams": (True, "ok"), "jupyterhub-idle-culler": data.probe_process(os.getpid()),
              "site-extra": (False, "refused")}
    rows = data.health(services, probes, ["exams", "progress", "jupyterhub-idle-culler"], "kt")
    assert [(r.label, r.up) for r in rows] == [
        ("Bàn thi (đợt thi, nộp bài)", True), ("Tiến độ học tập", False),
        ("Tự tắt máy chủ không dùng", True), ("site-extra", False)]
    assert rows[1].detail == t("admin.health.missing")
    assert data.probe_process(0)[0] is False
    assert data.service_label("kt", "kt") == t("admin.health.name.formgrader")
