"""Exports opened and checked: .xlsx cells through openpyxl, PDF text through pypdf."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from pypdf import PdfReader

from reports import export
from reports.dashboard import Needs, Overview

OFFICE = "Văn phòng HĐND và UBND phường Hòa Bình"


def pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_overview_excel_has_one_sheet_per_table(data):
    """Does the overview export hold one formatted sheet per table, Vietnamese headers, numbers?"""
    view = Overview(data, OFFICE)
    view.department.value = "Phòng Kinh tế"
    wb = load_workbook(io.BytesIO(export.xlsx_bytes(view.tables())))
    assert wb.sheetnames == ["Phân bố mức năng lực", "Đơn vị x năng lực", "Hoàn thành khóa học",
                             "Diễn biến qua các kỳ"]
    ws = wb["Phân bố mức năng lực"]
    header = [c.value for c in ws[1]]
    assert header == ["Mã năng lực", "Năng lực", "Chưa đạt", "Cơ bản", "Thành thạo", "Nâng cao",
                      "Chưa đánh giá"]
    assert ws["A2"].font.bold is False and ws["A1"].font.bold is True
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    # Kinh tế today: chi (VB.1 thanh_thao, KS.2 nang_cao) and dung (no exam).
    assert rows["VB.1"][2:] == (0, 0, 1, 0, 1)
    assert rows["KS.2"][2:] == (0, 0, 0, 1, 1)
    heat = list(wb["Đơn vị x năng lực"].iter_rows(values_only=True))
    assert heat[0] == ("Năng lực", "Phòng Kinh tế")  # one row per competence, code and name
    assert heat[1][0].startswith("NT.1 – ")


def test_needs_excel_lists_people_to_train(data):
    """Does the training-needs export list the Văn thư under KS.2 with the course to take?"""
    view = Needs(data, OFFICE)
    view.competence.value = "KS.2"
    wb = load_workbook(io.BytesIO(export.xlsx_bytes(view.tables())))
    ws = wb["Danh sách cần bồi dưỡng"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    an = next(r for r in rows if r["Họ và tên"] == "Nguyễn Thị An")
    assert (an["Mức hiện tại"], an["Mức yêu cầu"]) == ("Chưa đạt", "Thành thạo")
    assert "Ký số văn bản" in an["Bài học nên học"]
    assert "Lê Thị Chi" not in {r["Họ và tên"] for r in rows}  # Nâng cao: nothing to train


def test_department_pdf(data, tmp_path):
    """Does the department PDF carry the office, the period, the date and its people's gaps?"""
    path = export.write_department_pdf(tmp_path / "vp.pdf", data, "Văn phòng HĐND và UBND",
                                       OFFICE, "thi-nang-luc/ky-2", on=date(2026, 10, 5))
    text = " ".join(pdf_text(path.read_bytes()).split())
    for expected in (OFFICE, "BÁO CÁO NĂNG LỰC SỐ CỦA ĐƠN VỊ: Văn phòng HĐND và UBND",
                     "Kỳ kiểm tra: Bài kiểm tra (mẫu) – kỳ 2 (30/09/2026)",
                     "Ngày lập báo cáo: 05/10/2026",
                     "Nguyễn Thị An", "Văn bản điện tử"):
        assert expected in text
    assert not list(tmp_path.glob("*.tmp"))


def test_person_pdf(data):
    """Does the personal PDF show the levels with their evidence and the history by period?"""
    # Table cells wrap long names across lines: compare with the line breaks as spaces.
    text = " ".join(pdf_text(export.person_pdf_bytes(data, "an", OFFICE,
                                                     on=date(2026, 10, 5))).split())
    for expected in ("HỒ SƠ NĂNG LỰC SỐ: Nguyễn Thị An", "Chức vụ, vị trí: Văn thư",
                     "Bài kiểm tra (mẫu) – kỳ 1 (31/03/2026)",
                     "Bài kiểm tra (mẫu) – kỳ 2 (30/09/2026)", "Thành thạo", "Chưa đạt",
                     "Câu 3 (4/5)", "Ngày lập báo cáo: 05/10/2026"):
        assert expected in text


def test_sheet_names_are_valid_and_unique():
    """Are forbidden characters replaced and long or repeated names made valid?"""
    taken: set[str] = set()
    a = export.sheet_name("Đơn vị / năng lực: [tổng hợp] rất dài quá mức cho phép", taken)
    b = export.sheet_name("Đơn vị / năng lực: [tổng hợp] rất dài quá mức cho phép", taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b
    assert not set("[]:*?/\\") & set(a)


def test_person_export_says_which_exam_was_flagged_and_why(data):
    """Attack follow-up (issue 14): binh's first exam had a cell added to it. Grading removed
    the cell and flagged it; HR's person page and its Excel export show that beside the score,
    and exams nobody tampered with show nothing."""
    from reports import downloads, views

    assert list(views.person_exams(data, "binh")["Cần xem lại"]) == [
        "có ô tự thêm vào bài (đã bỏ khi chấm)"]
    an = views.person_exams(data, "an")["Cần xem lại"]
    assert len(an) == 2 and not any(an)
    wb = load_workbook(io.BytesIO(export.xlsx_bytes(downloads.profile_tables(data, "binh"))))
    cells = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row]
    assert "Cần xem lại" in cells and "có ô tự thêm vào bài (đã bỏ khi chấm)" in cells
