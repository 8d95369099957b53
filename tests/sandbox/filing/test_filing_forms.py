"""Forms BM.01–BM.06: generated .docx files opened again and checked for the real data."""

from datetime import date, datetime

import pytest

from kynangso.errors import KnsError
from sandbox.filing.forms import available_forms, docx_text, render_form, render_register

APPLICANT = {"name": "Nguyễn Thị Hoa", "id_number": "001190012345",
             "address": "Số 5 ngõ 12 phố Hòa Bình", "phone": "0912345678"}


def test_bm01_has_code_names_and_times(desk, tmp_path):
    """Does BM.01 carry the code, the applicant, the receipt time and the appointment?"""
    i = desk.submit("KT-HKD", APPLICANT, channel="truc_tiep",
                    documents={"giay_de_nghi": 1, "hop_dong_thue": 1},
                    at=datetime(2026, 2, 13, 16, 0))
    code = desk.receive(i, datetime(2026, 2, 13, 16, 10), "Lê Văn Tâm")
    v = desk.get(i)
    text = docx_text(render_form("bm01", v, tmp_path / "bm01.docx"))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert f"Mã hồ sơ: {code}" in text
    assert "Nguyễn Thị Hoa" in text and "Lê Văn Tâm" in text
    assert "16 giờ 10 phút, ngày 13/02/2026" in text
    assert "17 giờ 00 phút, ngày 26/02/2026" in text
    assert "3 ngày làm việc" in text
    assert "Giấy đề nghị đăng ký hộ kinh doanh" in text


def test_bm01_old_title_before_july_2025(desk, tmp_path):
    """Is a dossier received in June 2025 given the TT 01/2018 form title?"""
    i = desk.submit("CT-BS", APPLICANT, channel="truc_tiep",
                    documents={"ban_chinh": 1, "ban_sao": 1}, at=datetime(2025, 6, 3, 9, 0))
    desk.receive(i, datetime(2025, 6, 3, 9, 0), "cb")
    text = docx_text(render_form("bm01", desk.get(i), tmp_path / "old.docx"))
    assert "PHIẾU TIẾP NHẬN" in text and "TT 01/2018" in text
    assert "000.00.12.H29-250603-0001" in text


def test_bm02_and_bm03(desk, tmp_path):
    """Do BM.02 list the missing items with the reason, and BM.03 the refusal reason?"""
    i = desk.submit("KT-HKD", APPLICANT, channel="truc_tiep", documents={"giay_de_nghi": 1},
                    at=datetime(2026, 3, 2, 9, 0))
    desk.request_supplement(i, [], "Thiếu hợp đồng thuê", datetime(2026, 3, 2, 9, 10), "Lê Văn Tâm")
    text = docx_text(render_form("bm02", desk.get(i), tmp_path / "bm02.docx"))
    assert "Hợp đồng thuê hoặc giấy tờ về quyền sử dụng địa điểm kinh doanh" in text
    assert "Lý do: Thiếu hợp đồng thuê" in text
    assert "ngày 02 tháng 03 năm 2026" in text
    desk.resubmit(i, {"giay_de_nghi": 1}, datetime(2026, 3, 3, 9, 0))
    desk.refuse(i, "Địa điểm kinh doanh thuộc tỉnh khác", datetime(2026, 3, 3, 9, 5), "Lê Văn Tâm")
    v = desk.get(i)
    assert available_forms(v) == ["bm02", "bm03"]
    text = docx_text(render_form("bm03", v, tmp_path / "bm03.docx"))
    assert "Địa điểm kinh doanh thuộc tỉnh khác" in text and "001190012345" in text


def test_bm04_and_bm05(desk, processing, tmp_path):
    """Do BM.04 show the old and new appointment and BM.05 each hand-over with its rating?"""
    desk.apologise(processing, date(2026, 3, 10), "Chờ ý kiến cơ quan thuế",
                   datetime(2026, 3, 4, 9, 0), "Chủ tịch UBND phường")
    v = desk.get(processing)
    text = docx_text(render_form("bm04", v, tmp_path / "bm04.docx"))
    assert "17 giờ 00 phút, ngày 05/03/2026" in text
    assert "17 giờ 00 phút, ngày 10/03/2026" in text
    assert "Chờ ý kiến cơ quan thuế" in text and v.code in text
    text = docx_text(render_form("bm05", v, tmp_path / "bm05.docx"))
    assert "Phòng Kinh tế" in text and "Trước hạn" in text
    assert "10 giờ 00 phút, ngày 02/03/2026" in text


def test_bm06_register(desk, processing, tmp_path):
    """Does the Sổ theo dõi list each received dossier with its code and appointment?"""
    v = desk.get(processing)
    text = docx_text(render_register(desk.all_dossiers(), tmp_path / "so.docx", "tháng 3/2026"))
    assert "SỔ THEO DÕI HỒ SƠ" in text and v.code in text and "Nguyễn Thị Hoa" in text
    assert "17 giờ 00 phút, ngày 05/03/2026" in text


def test_form_not_yet_issuable(desk, tmp_path):
    """Is BM.04 refused for a dossier that had no apology, and no file left behind?"""
    i = desk.submit("HT-KS", APPLICANT, channel="truc_tiep",
                    documents={"to_khai": 1, "giay_chung_sinh": 1}, at=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(KnsError, match="Chưa thể lập"):
        render_form("bm04", desk.get(i), tmp_path / "x.docx")
    assert list(tmp_path.glob("*.docx*")) == []


def test_electronic_receipt(desk, processing, tmp_path):
    """Does the electronic receipt show the amount, the reference and the receipt number?"""
    from sandbox.filing.forms import render_receipt

    ref = desk.start_payment(processing, datetime(2026, 3, 2, 11, 0))
    with pytest.raises(KnsError, match="chưa được ngân hàng xác nhận"):
        render_receipt(desk.get(processing), ref, tmp_path / "r.docx")
    no = desk.confirm_payment(ref, "100.000", datetime(2026, 3, 2, 11, 2), "VCB-77")
    text = docx_text(render_receipt(desk.get(processing), ref, tmp_path / "r.docx"))
    assert "100.000 đồng" in text and ref in text and no in text and "VCB-77" in text
    assert "11 giờ 02 phút, ngày 02/03/2026" in text
