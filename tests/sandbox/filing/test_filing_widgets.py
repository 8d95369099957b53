"""The citizen portal and the officer desk, driven as a person would (values and clicks)."""

from datetime import date, datetime

from sandbox.filing.forms import docx_text
from sandbox.filing.widgets import citizen_portal, officer_desk


def _file(name: str, data: bytes = b"%PDF-1.4 scan") -> tuple:
    return ({"name": name, "type": "application/pdf", "size": len(data),
             "content": memoryview(data),
             "last_modified": datetime(2026, 3, 1, 8, 0)},)


def _fill(p):
    p.name.value = "Trần Văn Bình"
    p.id_number.value = "001085001234"
    p.address.value = "Số 9 đường Lê Lợi"
    p.phone.value = "0987654321"


def test_portal_search_submit_pay_and_follow(tmp_path):
    """Can a citizen find the procedure, upload, submit, pay and see the status?"""
    db = tmp_path / "f.sqlite"
    p = citizen_portal(db, now=datetime(2026, 3, 2, 9, 0))
    p.search.value = "hộ kinh doanh"
    p.search_button.click()
    assert p.procedure.options == (("KT-HKD — Đăng ký thành lập hộ kinh doanh", "KT-HKD"),)
    p.procedure.value = "KT-HKD"
    assert "3 ngày làm việc" in p.info.value
    p.uploads["giay_de_nghi"].value = _file("denghi.pdf")
    p.uploads["hop_dong_thue"].value = _file("hopdong.pdf")
    _fill(p)
    p.submit_button.click()
    assert "Đã nộp hồ sơ trực tuyến, số hồ sơ 1" in p.submit_msg.value
    d = officer_desk(db, now=datetime(2026, 3, 2, 9, 30), officer="Lê Văn Tâm",
                     forms_dir=tmp_path / "forms")
    d.pick.value = 1
    for box in d.checklist.children:
        box.value = True
    d.check_button.click()
    assert "đủ thành phần" in d.check_msg.value
    d.buttons["receive"].click()
    assert "Đã tiếp nhận, mã hồ sơ G22.001.01-260302-010001" in d.action_msg.value
    p.pay_button.click()
    assert "Đã thanh toán 100.000 đồng" in p.pay_msg.value and "BL2026/" in p.pay_msg.value
    p.lookup.value = "G22.001.01-260302-010001"
    p.lookup_button.click()
    assert "Đã tiếp nhận" in p.status.value and "05/03/2026" in p.status.value


def test_portal_errors_shown_next_to_button(tmp_path):
    """Are a missing name and a bad ID shown in Vietnamese under the submit button?"""
    p = citizen_portal(tmp_path / "f.sqlite", now=datetime(2026, 3, 2, 9, 0))
    p.procedure.value = "HT-KS"
    p.id_number.value = "12"
    p.submit_button.click()
    assert "Chưa nhập họ và tên" in p.submit_msg.value
    assert "Số định danh «12» không hợp lệ" in p.submit_msg.value
    p.search.value = "xyz không có"
    p.search_button.click()
    assert "Không tìm thấy thủ tục" in p.info.value


def test_desk_incomplete_supplement_and_colours(tmp_path):
    """Does the desk flag a missing document, refuse receipt, and issue BM.02 instead?"""
    db = tmp_path / "f.sqlite"
    p = citizen_portal(db, now=datetime(2026, 3, 2, 9, 0))
    p.procedure.value = "XD-GPXD"
    p.uploads["don_de_nghi"].value = _file("don.pdf")
    _fill(p)
    p.submit_button.click()
    d = officer_desk(db, now=datetime(2026, 3, 2, 10, 0), officer="Lê Văn Tâm",
                     forms_dir=tmp_path / "forms")
    d.pick.value = 1
    assert any("CHƯA NỘP" in c.description for c in d.checklist.children)
    d.check_button.click()
    assert "Giấy tờ hợp pháp về quyền sử dụng đất" in d.check_msg.value
    d.buttons["receive"].click()
    assert "chưa đủ thành phần" in d.action_msg.value
    d.reason.value = "Thiếu giấy tờ đất và bản vẽ"
    d.buttons["request_supplement"].click()
    assert "Yêu cầu bổ sung" in d.action_msg.value
    d.pick.value = 1
    d.form_pick.value = "bm02"
    d.print_button.click()
    assert "Đã lập biểu mẫu" in d.print_msg.value
    path = d.print_msg.value.split(": ", 1)[1].split("<")[0]
    assert "Thiếu giấy tờ đất và bản vẽ" in docx_text(path)


def test_desk_colours_by_urgency(tmp_path, desk, processing):
    """Is an overdue dossier shown red and a dossier due tomorrow orange in the queue?"""
    d = officer_desk(desk.db_path, now=datetime(2026, 3, 4, 9, 0), officer="cb")
    assert "#ef6c00" in d.queue_table.value and "Sắp hết hạn" in d.queue_table.value
    d.clock.value = "2026-03-06 09:00"
    d.refresh_button.click()
    assert "#c62828" in d.queue_table.value and "Quá hạn" in d.queue_table.value


def test_desk_apology_once(desk, processing):
    """Does the desk show the once-only rule when a second apology is attempted?"""
    d = officer_desk(desk.db_path, now=datetime(2026, 3, 3, 9, 0), officer="Chủ tịch")
    d.pick.value = processing
    d.reason.value = "Chờ xác minh"
    d.new_date.value = date(2026, 3, 10)
    d.buttons["apologise"].click()
    assert "Trạng thái mới: Đang xử lý" in d.action_msg.value
    d.new_date.value = date(2026, 3, 11)
    d.buttons["apologise"].click()
    assert "chỉ được làm một lần" in d.action_msg.value


def test_desk_requires_officer_name(desk, received):
    """Is an action without the officer's name refused with a message?"""
    d = officer_desk(desk.db_path, now=datetime(2026, 3, 2, 10, 0))
    d.pick.value = received
    d.to_unit.value = "Phòng Kinh tế"
    d.buttons["hand_over"].click()
    assert "Chưa nhập «Cán bộ»" in d.action_msg.value


def test_portal_shows_old_levels_before_july_2025(tmp_path):
    """Does a scenario dated 2024 show the old service level (mức 1–4)?"""
    p = citizen_portal(tmp_path / "f.sqlite", now=datetime(2024, 10, 1, 9, 0))
    p.procedure.value = "CT-BS"
    assert "mức độ 2" in p.info.value
    p.clock.value = "2026-03-02 09:00"
    p.procedure.value = "HT-KS"
    assert "Toàn trình" in p.info.value
