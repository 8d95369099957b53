"""The staff directory import: good files, every kind of bad row, encodings, re-imports."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kynangso.db import session_scope
from kynangso.errors import ValidationError
from kynangso.models import Department, Staff
from kynangso.staff import desired_hub_state, import_file, list_staff
from kynangso.staff.export import rows_for, write_rows

GOOD = [
    ["CB001", "Nguyễn Thị Thu Hương", "Chánh Văn phòng", "Văn phòng HĐND và UBND",
     "huong.ntt@phuong.example", "Giảng viên"],
    ["CB002", "Đặng Văn Đức", "Công chức một cửa", "Trung tâm Phục vụ hành chính công", "",
     "Học viên"],
    ["CB003", "Lê Thị Ánh Tuyết", "Chuyên viên nội vụ", "Văn phòng HĐND và UBND",
     "Tuyet.LTA@Phuong.Example", "nhansu"],
    ["ADMIN", "Trần Quốc Việt", "Chuyên viên công nghệ thông tin", "Văn phòng HĐND và UBND",
     "viet.tq@phuong.example", "Quản trị"],
]


def snapshot(url: str) -> list[tuple]:
    """Every staff and department column, to prove a failed import changed nothing."""
    with session_scope(url) as s:
        staff = [
            (x.code, x.username, x.full_name, x.position, x.department.name, x.email, x.role,
             x.active, x.updated_at)
            for x in s.scalars(select(Staff).order_by(Staff.code))
        ]
        departments = [d.name for d in s.scalars(select(Department).order_by(Department.name))]
    return staff + [tuple(departments)]


def staff_by_username(url: str) -> dict[str, Staff]:
    with session_scope(url) as s:
        return {x.username: x for x in s.scalars(select(Staff).options(joinedload(Staff.department)))}


def rejected(path, url) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        import_file(path, url)
    return info.value


# --- good files ------------------------------------------------------------------


def test_good_csv_creates_staff_and_departments(db_url, make_csv):
    """Does a good CSV create every staff member, department and role, names in NFC?"""
    result = import_file(make_csv(GOOD), db_url)
    assert sorted(result.created) == ["admin", "cb001", "cb002", "cb003"]
    assert result.updated == [] and result.unchanged == []
    assert result.departments_created == ["Văn phòng HĐND và UBND", "Trung tâm Phục vụ hành chính công"]
    staff = staff_by_username(db_url)
    assert staff["cb001"].full_name == "Nguyễn Thị Thu Hương"
    assert unicodedata.is_normalized("NFC", staff["cb002"].full_name)
    assert staff["cb001"].role == "giangvien"
    assert staff["cb003"].role == "nhansu"  # the group name is accepted too
    assert staff["admin"].role == "quantri"
    assert staff["cb002"].email is None
    assert staff["cb003"].email == "tuyet.lta@phuong.example"
    assert staff["cb001"].code == "CB001"


def test_good_xlsx_matches_csv(db_url, make_xlsx):
    """Does an XLSX file (first sheet, numeric code cell) import like the CSV?"""
    rows = [list(r) for r in GOOD] + [[1024, "Phạm Minh Khôi", "Văn thư", "Phòng Kinh tế", None,
                                       "Học viên"]]
    result = import_file(make_xlsx(rows), db_url)
    assert sorted(result.created) == ["1024", "admin", "cb001", "cb002", "cb003"]
    assert result.encoding is None
    assert staff_by_username(db_url)["1024"].full_name == "Phạm Minh Khôi"


def test_tolerant_headers_semicolons_blank_rows_and_spaces(db_url, make_csv):
    """Are headers matched without case or diacritics, ';' sniffed, blank rows and extra spaces dropped?"""
    header = ["STT", "MA CAN BO", "HỌ VÀ TÊN", "chức  vụ", "Đơn Vị", "E-mail", "Vai trò", "Ghi chú"]
    rows = [
        ["1", " CB001 ", "Nguyễn   Thị Thu Hương ", "Chánh Văn phòng", "Văn phòng", "", "Học viên", "x"],
        ["", "", "", "", "", "", "", ""],
        ["2", "CB002", "Vũ Hải Yến", "Chuyên viên", "văn phòng", "", "GIẢNG VIÊN", ""],
    ]
    path = make_csv(rows, header=header, delimiter=";")
    result = import_file(path, db_url)
    assert sorted(result.created) == ["cb001", "cb002"]
    assert result.departments_created == ["Văn phòng"]  # "văn phòng" is the same unit
    staff = staff_by_username(db_url)
    assert staff["cb001"].full_name == "Nguyễn Thị Thu Hương"
    assert staff["cb002"].role == "giangvien"


# --- bad rows: the file is rejected whole, every row listed ----------------------


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (["CB001", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "", "Học viên"],
         'Dòng 6: mã cán bộ "CB001" trùng với dòng 2'),
        (["cb001", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "", "Học viên"],
         'Dòng 6: mã cán bộ "cb001" trùng với dòng 2'),
        (["CB010", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "", "Khách mời"],
         'Dòng 6: vai trò "Khách mời" không hợp lệ'),
        (["CB010", "", "Chuyên viên", "Phòng Kinh tế", "", "Học viên"],
         "Dòng 6: thiếu Họ và tên."),
        (["CB010", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "nam@@phuong", "Học viên"],
         'Dòng 6: email "nam@@phuong" không đúng dạng'),
        (["CB010", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "HUONG.NTT@phuong.example",
          "Học viên"], 'Dòng 6: email "HUONG.NTT@phuong.example" trùng với dòng 2'),
        (["CB 10", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "", "Học viên"],
         'Dòng 6: mã cán bộ "CB 10" không dùng làm tên đăng nhập được'),
        (["ĐT01", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "", "Học viên"],
         'Dòng 6: mã cán bộ "ĐT01" không dùng làm tên đăng nhập được'),
        (["X", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "", "Học viên"],
         'Dòng 6: mã cán bộ "X" không dùng làm tên đăng nhập được'),
        (["CB010", "Hồ Văn Nam", "", "Phòng Kinh tế", "", "Học viên"], "Dòng 6: thiếu Chức vụ."),
        (["CB010", "Hồ Văn Nam", "Chuyên viên", "", "", "Học viên"], "Dòng 6: thiếu Đơn vị."),
        (["CB010", "Hồ Văn Nam", "Chuyên viên", "Phòng Kinh tế", "", ""], "Dòng 6: thiếu Vai trò."),
        (["CB010", "Hồ Văn Nam", "Chuyên viên", "Phßng Kinh tÕ", "", "Học viên"],
         'Dòng 6: Đơn vị "Phßng Kinh tÕ" có ký tự lạ: \'ß\' (U+00DF)'),
    ],
    ids=["duplicate-code", "duplicate-code-case", "unknown-role", "missing-name", "bad-email",
         "duplicate-email", "code-with-space", "code-with-diacritics", "code-too-short",
         "missing-position", "missing-department", "missing-role", "legacy-font-department"],
)
def test_bad_row_rejects_whole_file(db_url, make_csv, bad_row, expected):
    """Is a file with one bad row rejected whole, the row named by its Excel row number?"""
    error = rejected(make_csv([*GOOD, bad_row]), db_url)
    assert len(error.problems) == 1, error.problems
    assert error.problems[0].startswith(expected)
    assert "KHÔNG được nhập" in error.user_message
    assert staff_by_username(db_url) == {}


def test_unsafe_code_message_explains_the_rule(db_url, make_csv):
    """Does the unsafe-code message say what a login name may contain?"""
    error = rejected(make_csv([["Cán bộ 1", "Hồ Văn Nam", "CV", "VP", "", "Học viên"]]), db_url)
    assert "2–31 ký tự" in error.problems[0] and "a–z" in error.problems[0]


def test_every_problem_is_listed_in_row_order(db_url, make_csv):
    """Are all problems of all rows reported together, sorted by row, header as row 1?"""
    rows = [
        ["CB001", "Hồ Văn Nam", "CV", "VP", "nam@x", "Học viên"],  # row 2: bad email
        ["CB002", "Lê Na", "CV", "VP", "", "Học viên"],  # row 3: good
        [],  # row 4: blank, skipped but counted
        ["CB001", "", "CV", "VP", "", "Lãnh đạo"],  # row 5: duplicate, no name, bad role
    ]
    error = rejected(make_csv(rows), db_url)
    rows_named = [p.split(":")[0] for p in error.problems]
    assert rows_named == ["Dòng 2", "Dòng 5", "Dòng 5", "Dòng 5"]
    assert "có 4 lỗi" in error.user_message


def test_xlsx_row_numbers_are_excel_rows(db_url, make_xlsx):
    """In an XLSX file, is a bad row reported with the row number Excel shows?"""
    rows = [GOOD[0], [None] * 6, GOOD[1], ["CB009", "Vũ Lan", "CV", "VP", "", "Thủ quỹ"]]
    error = rejected(make_xlsx(rows), db_url)
    assert error.problems == [
        'Dòng 5: vai trò "Thủ quỹ" không hợp lệ. Hãy ghi một trong: Học viên, Giảng viên, '
        "Nhân sự, Quản trị."
    ]


def test_missing_column_is_named(db_url, make_csv):
    """Is a file without a required column rejected with the column's name?"""
    header = ["Mã cán bộ", "Họ và tên", "Đơn vị", "Vai trò"]
    error = rejected(make_csv([["CB1", "A B", "VP", "Học viên"]], header=header), db_url)
    assert "thiếu cột: Chức vụ" in error.user_message


def test_duplicate_column_and_empty_files(db_url, make_csv, tmp_path):
    """Are a doubled column, an empty file and a header-only file refused clearly?"""
    header = ["Mã cán bộ", "Họ và tên", "Chức vụ", "Đơn vị", "Email", "Vai trò", "E-mail"]
    error = rejected(make_csv([GOOD[0] + [""]], header=header), db_url)
    assert 'hai cột "Email" (cột E và cột G)' in error.user_message
    (tmp_path / "empty.csv").write_bytes(b"")
    assert "trống" in rejected(tmp_path / "empty.csv", db_url).user_message
    assert "chỉ có dòng tiêu đề" in rejected(make_csv([], name="h.csv"), db_url).user_message


def test_mojibake_name_is_refused(db_url, make_csv):
    """Is a name double-encoded by a wrong save (UTF-8 read as Windows-1252) refused?"""
    garbled = "Nguyễn Văn An".encode().decode("cp1252", errors="replace")
    error = rejected(make_csv([["CB001", garbled, "CV", "VP", "", "Học viên"]]), db_url)
    assert error.problems[0].startswith("Dòng 2: họ và tên")
    assert "CSV UTF-8" in error.problems[0]


# --- transactions, re-imports, updates --------------------------------------------


def test_reimport_changes_nothing(db_url, make_csv):
    """Does importing the same file twice create and update nothing the second time?"""
    path = make_csv(GOOD)
    import_file(path, db_url)
    before = snapshot(db_url)
    again = import_file(path, db_url)
    assert (again.created, again.updated, again.departments_created) == ([], [], [])
    assert sorted(again.unchanged) == ["admin", "cb001", "cb002", "cb003"]
    assert not again.changed
    assert snapshot(db_url) == before


def test_failed_import_after_good_one_leaves_db_unchanged(db_url, make_csv):
    """After a good import, does a file with good changes and one bad row change nothing at all?"""
    import_file(make_csv(GOOD), db_url)
    before = snapshot(db_url)
    rows = [list(r) for r in GOOD]
    rows[0][2] = "Phó Chủ tịch"  # a good change ...
    rows.append(["CB010", "Mai Văn Tú", "CV", "Phòng mới", "", "Học viên"])  # ... a new staff ...
    rows.append(["CB011", "Mai Văn Tâm", "CV", "VP", "tam@", "Học viên"])  # ... and a bad row
    error = rejected(make_csv(rows, name="v2.csv"), db_url)
    assert error.problems[0].startswith("Dòng 7:")
    assert snapshot(db_url) == before


def test_changes_are_reported_field_by_field(db_url, make_csv):
    """Is an updated staff member reported with each field that changed, old and new?"""
    import_file(make_csv(GOOD), db_url)
    rows = [list(r) for r in GOOD]
    rows[1][2], rows[1][3], rows[1][5] = "Phó Giám đốc", "Phòng Kinh tế", "Giảng viên"
    result = import_file(make_csv(rows, name="v2.csv"), db_url)
    assert result.created == [] and len(result.unchanged) == 3
    (update,) = result.updated
    assert update.username == "cb002"
    assert update.changes == {
        "position": ["Công chức một cửa", "Phó Giám đốc"],
        "department": ["Trung tâm Phục vụ hành chính công", "Phòng Kinh tế"],
        "role": ["hocvien", "giangvien"],
    }
    assert result.departments_created == ["Phòng Kinh tế"]
    staff = staff_by_username(db_url)["cb002"]
    assert (staff.position, staff.role) == ("Phó Giám đốc", "giangvien")


def test_dry_run_writes_nothing(db_url, make_csv):
    """Does a dry run report the changes it would make without storing any?"""
    result = import_file(make_csv(GOOD), db_url, dry_run=True)
    assert result.dry_run and len(result.created) == 4
    assert len(result.departments_created) == 2
    assert snapshot(db_url) == [()]


def test_missing_staff_kept_unless_deactivate_missing(db_url, make_csv):
    """Are staff absent from the file kept, and only set inactive with deactivate_missing?"""
    import_file(make_csv(GOOD), db_url)
    shorter = make_csv(GOOD[:2], name="v2.csv")
    kept = import_file(shorter, db_url)
    assert kept.missing == ["admin", "cb003"] and kept.deactivated == []
    assert all(s.active for s in staff_by_username(db_url).values())

    gone = import_file(shorter, db_url, deactivate_missing=True)
    assert gone.deactivated == ["admin", "cb003"]
    staff = staff_by_username(db_url)
    assert len(staff) == 4  # never deleted
    assert not staff["cb003"].active and staff["cb001"].active

    back = import_file(make_csv(GOOD, name="v3.csv"), db_url)
    assert sorted(u.username for u in back.updated) == ["admin", "cb003"]
    assert back.updated[0].changes == {"active": [False, True]}


def test_email_of_someone_not_in_file_is_refused(db_url, make_csv):
    """Is an e-mail already held by an active staff member absent from the file refused?"""
    import_file(make_csv(GOOD), db_url)
    newcomer = ["CB020", "Hà Thị Mai", "CV", "VP", "viet.tq@phuong.example", "Học viên"]
    path = make_csv([GOOD[0], newcomer], name="v2.csv")
    error = rejected(path, db_url)
    assert error.problems[0].startswith('Dòng 3: email "viet.tq@phuong.example" đang là email '
                                        "của cán bộ ADMIN")
    # With the others deactivated the address is free.
    assert import_file(path, db_url, deactivate_missing=True).created == ["cb020"]


# --- encodings ---------------------------------------------------------------------

_TONES = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """Encode like Windows: base letters precomposed (ê, ơ, ...), tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in decomposed if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        out.append(base + tones)
    return "".join(out).encode("cp1258")


def csv_text(rows) -> str:
    header = "Mã cán bộ,Họ và tên,Chức vụ,Đơn vị,Email,Vai trò"
    return "\r\n".join([header] + [",".join(r) for r in rows]) + "\r\n"


def test_windows_1258_is_decoded_to_nfc(db_url, tmp_path):
    """Is a Windows-1258 CSV (combining tone marks) decoded correctly, to NFC?"""
    path = tmp_path / "cp1258.csv"
    data = windows_1258(csv_text(GOOD))
    assert "Nguyễn".encode() not in data  # really not UTF-8
    path.write_bytes(data)
    result = import_file(path, db_url)
    assert result.encoding == "cp1258" and len(result.created) == 4
    staff = staff_by_username(db_url)
    assert staff["cb001"].full_name == "Nguyễn Thị Thu Hương"
    assert staff["cb002"].department.name == "Trung tâm Phục vụ hành chính công"
    assert all(unicodedata.is_normalized("NFC", s.full_name) for s in staff.values())


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_tab_separated_is_decoded(db_url, tmp_path, encoding):
    """Is Excel's "Unicode Text" (UTF-16 with BOM, tab-separated) read correctly?"""
    text = csv_text(GOOD).replace(",", "\t")
    data = text.encode("utf-16") if encoding == "utf-16" else b"\xfe\xff" + text.encode("utf-16-be")
    path = tmp_path / "unicode.txt"
    path.write_bytes(data)
    result = import_file(path, db_url)
    assert result.encoding == "utf-16" and len(result.created) == 4
    assert staff_by_username(db_url)["cb003"].full_name == "Lê Thị Ánh Tuyết"


def test_nfd_utf8_is_normalised(db_url, tmp_path):
    """Is a UTF-8 file in decomposed form (as macOS writes) stored in NFC?"""
    path = tmp_path / "nfd.csv"
    path.write_bytes(unicodedata.normalize("NFD", csv_text(GOOD)).encode())
    import_file(path, db_url)
    assert staff_by_username(db_url)["cb001"].full_name == "Nguyễn Thị Thu Hương"


@pytest.mark.parametrize(
    "data",
    [
        # TCVN3 (ABC) legacy font encoding: "Họ và tên" is stored as "Hä vµ tªn".
        "M· c¸n bé,Hä vµ tªn,Chøc vô,§¬n vÞ,Email,Vai trß\r\nCB1,NguyÔn V¨n An,CV,VP,,Häc viªn\r\n"
        .encode("cp1252"),
        # A Western-European file: "Müller" is not Vietnamese.
        b"Ma can bo,Ho va ten,Chuc vu,Don vi,Vai tro\r\nCB1,M\xfcller,CV,VP,hocvien\r\n",
        # UTF-16 without a BOM.
        csv_text(GOOD).encode("utf-16-le"),
    ],
    ids=["tcvn3", "western", "utf16-no-bom"],
)
def test_unknown_encoding_is_refused_clearly(db_url, tmp_path, data):
    """Is a file in an encoding we can't be sure of refused with a 'save as CSV UTF-8' message?"""
    path = tmp_path / "legacy.csv"
    path.write_bytes(data)
    error = rejected(path, db_url)
    assert error.key == "staff.file_encoding"
    assert "CSV UTF-8" in error.user_message
    assert staff_by_username(db_url) == {}


def test_old_xls_and_broken_xlsx_are_refused(db_url, tmp_path):
    """Are an Excel 97-2003 file and a damaged .xlsx refused with what to do?"""
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "(.xls)" in rejected(tmp_path / "old.xls", db_url).user_message
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    assert "không mở được" in rejected(tmp_path / "broken.xlsx", db_url).user_message
    assert "Không tìm thấy" in rejected(tmp_path / "nowhere.csv", db_url).user_message


# --- export round trip and hub state -------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_changes_nothing(db_url, make_csv, tmp_path, suffix):
    """Does an export re-import with no change, diacritics intact?"""
    import_file(make_csv(GOOD), db_url)
    before = snapshot(db_url)
    with session_scope(db_url) as s:
        entries = list_staff(s)
    exported = write_rows(tmp_path / f"xuat{suffix}", rows_for(entries))
    result = import_file(exported, db_url)
    assert (result.created, result.updated) == ([], [])
    assert len(result.unchanged) == 4
    assert snapshot(db_url) == before
    assert [e.full_name for e in entries if e.code == "CB003"] == ["Lê Thị Ánh Tuyết"]


def test_desired_hub_state(db_url, make_csv):
    """Is each active member in exactly their role's group, admins flagged, leavers in no group?"""
    import_file(make_csv(GOOD), db_url)
    import_file(make_csv(GOOD[:3], name="v2.csv"), db_url)
    with session_scope(db_url) as s:
        state = desired_hub_state(s)
    assert state["groups"] == {"hocvien": ["cb002"], "giangvien": ["cb001"], "nhansu": ["cb003"],
                               "quantri": ["admin"]}
    assert state["users"]["admin"] == {"groups": ["quantri"], "admin": True, "active": True}
    assert state["users"]["cb001"] == {"groups": ["giangvien"], "admin": False, "active": True}
    import_file(make_csv(GOOD[:3], name="v3.csv"), db_url, deactivate_missing=True)
    with session_scope(db_url) as s:
        state = desired_hub_state(s)
    assert state["users"]["admin"] == {"groups": [], "admin": False, "active": False}
    assert state["groups"]["quantri"] == []


def test_title_rows_above_header_and_sep_hint(db_url, make_xlsx, tmp_path):
    """Is the header found below a sheet title, and Excel's "sep=;" line honoured, row numbers intact?"""
    title = ["DANH SÁCH CÁN BỘ (DỮ LIỆU MẪU)", None, None, None, None, None]
    header = ["Mã cán bộ", "Họ và tên", "Chức vụ", "Đơn vị", "Email", "Vai trò"]
    path = make_xlsx([[None] * 6, header, GOOD[0], ["CB009", "Vũ Lan", "CV", "VP", "", "Thủ quỹ"]],
                     header=title)
    assert rejected(path, db_url).problems[0].startswith("Dòng 5: vai trò")

    csv_path = tmp_path / "sep.csv"
    csv_path.write_text("sep=;\r\n" + ";".join(header) + "\r\n" + ";".join(GOOD[1]) + "\r\n"
                        + "CB2;Vũ Lan;CV;VP;;Thủ quỹ\r\n", encoding="utf-8")
    assert rejected(csv_path, db_url).problems[0].startswith("Dòng 3: vai trò")


def test_comma_inside_quotes_with_semicolon_file(db_url, make_csv):
    """Is a semicolon file whose cells contain commas split on the semicolons?"""
    rows = [["CB001", "Nguyễn Văn An", "Chuyên viên văn hóa, thông tin", "Phòng Văn hóa - Xã hội", "",
             "Học viên"]]
    import_file(make_csv(rows, delimiter=";"), db_url)
    assert staff_by_username(db_url)["cb001"].position == "Chuyên viên văn hóa, thông tin"
