"""The .docx layout checker and the drafting helper (NĐ 30/2020 Phụ lục I)."""

import dataclasses
from datetime import date

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Mm, Pt

from kynangso.errors import ValidationError
from sandbox.documents.docx_check import DocxCheckError, check_docx
from sandbox.documents.drafting import DraftFields, date_line, write_docx

BODY = ["Thực hiện chỉ đạo của Ủy ban nhân dân thành phố về chuyển đổi số, "
        "Ủy ban nhân dân phường xây dựng kế hoạch tập huấn như sau. " * 3] * 10

FIELDS = DraftFields(
    org_name="Ủy ban nhân dân phường Ba Đình", parent_name="Thành phố Hà Nội",
    symbol="4391/KH-UBND", place="Ba Đình", doc_date=date(2026, 1, 5), type_key="ke_hoach",
    subject="Tổ chức tập huấn kỹ năng số năm 2026", body=BODY,
    signer_authority="TM. ỦY BAN NHÂN DÂN", signer_title="Chủ tịch", signer_name="Nguyễn Văn An",
    drafting_unit="VP", recipients=["Sở Nội vụ", "Các phòng chuyên môn"],
)


@pytest.fixture
def good(tmp_path):
    return write_docx(FIELDS, tmp_path / "ke-hoach.docx")


def rules_of(findings):
    return {f.rule for f in findings}


def test_drafted_typed_document_passes(good):
    """Does a Kế hoạch produced by the drafting helper pass the checker?"""
    assert check_docx(good, expected_symbol="4391/KH-UBND") == []


def test_drafted_cong_van_passes(tmp_path):
    """Does a công văn (V/v, Kính gửi, Như trên) produced by the helper pass?"""
    fields = dataclasses.replace(FIELDS, type_key="cong_van", symbol="2942/UBND-VP",
                                 subject="tập huấn kỹ năng số", kinh_gui=["Sở Nội vụ", "Sở Tài chính"],
                                 urgency_stamp="KHẨN", body=BODY[:2])
    path = write_docx(fields, tmp_path / "cv.docx")
    assert check_docx(path, expected_symbol="2942/UBND-VP") == []
    texts = [p.text for p in Document(str(path)).paragraphs]
    assert "- Sở Tài chính." in texts


def test_date_line_leading_zeros():
    """Are day < 10 and months 1–2 written with a leading zero, other months without?"""
    assert date_line("Ba Đình", date(2020, 1, 5)) == "Ba Đình, ngày 05 tháng 01 năm 2020"
    assert date_line("Ba Đình", date(2019, 6, 29)) == "Ba Đình, ngày 29 tháng 6 năm 2019"


def test_drafting_refuses_bad_fields(tmp_path):
    """Does the helper refuse a symbol that does not match the type, and empty fields?"""
    bad = dataclasses.replace(FIELDS, symbol="4391/BC-UBND", signer_name="", body=[])
    with pytest.raises(ValidationError) as err:
        write_docx(bad, tmp_path / "x.docx")
    assert len(err.value.problems) == 3
    assert not (tmp_path / "x.docx").exists()


def _mutate(path, change):
    doc = Document(str(path))
    change(doc)
    doc.save(str(path))
    return path


def _para(doc, start):
    for table in doc.tables:
        for cell in table._cells:
            for p in cell.paragraphs:
                if p.text.startswith(start):
                    return p
    return next(p for p in doc.paragraphs if p.text.startswith(start))


def _runs(doc, start):
    return _para(doc, start).runs


def _set(attr, value, start):
    def change(doc):
        for r in _runs(doc, start):
            setattr(r.font, attr, value)
    return change


def _body(doc):
    return next(p for p in doc.paragraphs if p.text.startswith("Thực hiện"))


def _sec(attr, value):
    return lambda doc: setattr(doc.sections[0], attr, value)


ERRORS = {
    "paper": (lambda doc: setattr(doc.sections[0], "page_height", Mm(279)), "paper", "279"),
    "landscape": (lambda doc: (setattr(doc.sections[0], "orientation", WD_ORIENT.LANDSCAPE),
                               setattr(doc.sections[0], "page_width", Mm(297)),
                               setattr(doc.sections[0], "page_height", Mm(210))),
                  "orientation", "trang ngang"),
    "margin_top": (_sec("top_margin", Mm(15)), "margin_top", "15.0 mm"),
    "margin_bottom": (_sec("bottom_margin", Mm(30)), "margin_bottom", "30.0 mm"),
    "margin_left": (_sec("left_margin", Mm(25)), "margin_left", "25.0 mm"),
    "margin_right": (_sec("right_margin", Mm(25)), "margin_right", "25.0 mm"),
    "font": (lambda doc: [setattr(r.font, "name", "Arial") for r in _body(doc).runs], "font",
             "Arial"),
    "quoc_hieu_not_bold": (_set("bold", False, "CỘNG HÒA"), "quoc_hieu", "không đậm"),
    "quoc_hieu_size": (_set("size", Pt(14), "CỘNG HÒA"), "quoc_hieu", "cỡ chữ 14"),
    "quoc_hieu_missing": (lambda doc: [setattr(r, "text", "") for r in _runs(doc, "CỘNG HÒA")],
                          "quoc_hieu", "không có"),
    "tieu_ngu_hyphens": (lambda doc: setattr(_runs(doc, "Độc lập")[0], "text",
                                             "Độc lập-Tự do-Hạnh phúc"), "tieu_ngu", "Độc lập-Tự do"),
    "tieu_ngu_size": (_set("size", Pt(12), "Độc lập"), "tieu_ngu", "cỡ chữ 12"),
    "co_quan_not_bold": (_set("bold", False, "ỦY BAN NHÂN DÂN PHƯỜNG"), "co_quan", "không đậm"),
    "so_bold": (_set("bold", True, "Số:"), "so_ky_hieu", "chữ đậm"),
    "so_size": (_set("size", Pt(14), "Số:"), "so_ky_hieu", "cỡ chữ 14"),
    "wrong_symbol": (lambda doc: setattr(_runs(doc, "Số:")[0], "text", "Số: 5/KH-UBND"),
                     "so_ky_hieu", "05/KH-UBND"),
    "symbol_vs_register": (lambda doc: setattr(_runs(doc, "Số:")[0], "text", "Số: 4392/KH-UBND"),
                           "symbol_register", "4392/KH-UBND"),
    "date_not_italic": (_set("italic", False, "Ba Đình, ngày"), "dia_danh", "chữ đứng"),
    "date_zero": (lambda doc: setattr(_runs(doc, "Ba Đình, ngày")[0], "text",
                                      "Ba Đình, ngày 5 tháng 1 năm 2026"), "ngay_thang", "ngày 05 tháng 01"),
    "date_comma": (lambda doc: setattr(_runs(doc, "Ba Đình, ngày")[0], "text",
                                       "Ba Đình ngày 05 tháng 01 năm 2026"), "dia_danh", "dấu phẩy"),
    "ten_loai_size": (_set("size", Pt(16), "KẾ HOẠCH"), "ten_loai", "cỡ chữ 16"),
    "trich_yeu_not_bold": (_set("bold", False, "Tổ chức tập huấn"), "trich_yeu", "không đậm"),
    "body_size": (lambda doc: [setattr(r.font, "size", Pt(12)) for r in _body(doc).runs],
                  "body_size", "cỡ chữ 12"),
    "body_align": (lambda doc: setattr(_body(doc), "alignment", WD_ALIGN_PARAGRAPH.LEFT),
                   "body_align", "căn trái"),
    "body_indent": (lambda doc: setattr(_body(doc).paragraph_format, "first_line_indent", Cm(0.5)),
                    "body_indent", "0.50 cm"),
    "body_spacing": (lambda doc: setattr(_body(doc).paragraph_format, "space_after", Pt(0)),
                     "body_spacing", "0 pt"),
    "body_line": (lambda doc: setattr(_body(doc).paragraph_format, "line_spacing", 2.0),
                  "body_line", "2.00"),
    "noi_nhan_style": (_set("italic", False, "Nơi nhận"), "noi_nhan_label", "chữ đứng"),
    "noi_nhan_list_size": (_set("size", Pt(13), "- Sở Nội vụ"), "noi_nhan_list", "cỡ chữ 13"),
    "no_luu_vt": (lambda doc: setattr(_runs(doc, "- Lưu")[0], "text", "- Các đơn vị;"),
                  "luu_vt", "Các đơn vị"),
    "authority_not_bold": (_set("bold", False, "TM. ỦY BAN"), "quyen_han", "không đậm"),
    "authority_no_dot": (lambda doc: setattr(_runs(doc, "TM. ỦY BAN")[0], "text",
                                             "TM ỦY BAN NHÂN DÂN"), "quyen_han", "“TM”"),
    "signer_size": (_set("size", Pt(12), "Nguyễn Văn An"), "ho_ten", "cỡ chữ 12"),
    "signer_title": (lambda doc: setattr(_runs(doc, "Nguyễn Văn An")[0], "text",
                                         "TS. Nguyễn Văn An"), "ho_ten_title", "TS."),
    "page1_number": (lambda doc: setattr(doc.sections[0], "different_first_page_header_footer",
                                         False), "page_number", "trang đầu"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_each_kind_of_error_is_found(good, name):
    """Is each kind of layout error found, naming the rule, the value measured and expected?"""
    change, rule, measured = ERRORS[name]
    _mutate(good, change)
    findings = check_docx(good, expected_symbol="4391/KH-UBND")
    hits = [f for f in findings if f.rule == rule]
    assert hits, [f.message for f in findings]
    assert any(measured in f.measured or measured in f.message for f in hits)
    assert all(f.ref.startswith(("Phụ lục I", "Điều")) and f.expected for f in hits)
    assert "Nghị định 30/2020" in hits[0].message


def test_missing_page_numbers_on_long_document(good):
    """Is a multi-page document without page numbers flagged?"""
    def drop(doc):
        sec = doc.sections[0]
        sec.different_first_page_header_footer = False
        sec.header.is_linked_to_previous = True
    _mutate(good, drop)
    assert "page_number" in rules_of(check_docx(good))


def test_blank_document_lists_missing_components(tmp_path):
    """Does an empty Word document get findings for every missing component, not a crash?"""
    path = tmp_path / "blank.docx"
    Document().save(str(path))
    found = rules_of(check_docx(path))
    assert {"quoc_hieu", "tieu_ngu", "so_ky_hieu", "dia_danh", "noi_nhan_label",
            "margin_right"} <= found


def test_corrupted_file(good, tmp_path):
    """Is a truncated .docx refused with a message saying it is damaged?"""
    bad = tmp_path / "hong.docx"
    bad.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(DocxCheckError) as err:
        check_docx(bad)
    assert "bị hỏng" in err.value.user_message or "không phải" in err.value.user_message


def test_zip_with_broken_xml(good, tmp_path):
    """Is a .docx whose XML is broken refused as damaged?"""
    import zipfile
    bad = tmp_path / "xml.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"<w:document" if item.filename == "word/document.xml" else data)
    with pytest.raises(DocxCheckError) as err:
        check_docx(bad)
    assert "bị hỏng" in err.value.user_message


@pytest.mark.parametrize("content", [b"%PDF-1.4\n...", b"Van ban thuong", b""])
def test_not_a_docx(tmp_path, content):
    """Is a PDF, a text file or an empty file refused as not a .docx?"""
    path = tmp_path / "vanban.docx"
    path.write_bytes(content)
    with pytest.raises(DocxCheckError) as err:
        check_docx(path)
    assert ".docx" in err.value.user_message


def test_missing_file(tmp_path):
    """Is a missing path reported, not a traceback?"""
    with pytest.raises(DocxCheckError):
        check_docx(tmp_path / "khong-co.docx")
