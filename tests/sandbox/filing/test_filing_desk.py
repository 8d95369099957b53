"""The one-stop desk: the whole workflow through storage, the audit trail, codes, bad input."""

import threading
from datetime import date, datetime

import pytest

from kynangso.errors import KnsError, ValidationError
from kynangso.workdays import CalendarYearMissing
from sandbox.filing.catalogue import UnknownProcedure
from sandbox.filing.codes import parse_code
from sandbox.filing.desk import FilingDesk, Upload
from sandbox.filing.workflow import IllegalTransition, OnceOnly

APPLICANT = {"name": "Nguyễn Thị Hoa", "id_number": "001190012345",
             "address": "Số 5 ngõ 12 phố Hòa Bình", "phone": "0912345678"}


def test_full_workflow_and_audit_trail(desk):
    """Does a dossier go from submission to return, with every step in the audit trail?"""
    i = desk.submit("KT-HKD", APPLICANT, channel="truc_tuyen", documents={"giay_de_nghi": 1},
                    at=datetime(2026, 2, 12, 9, 0))
    desk.request_supplement(i, [], "Thiếu hợp đồng thuê địa điểm", datetime(2026, 2, 12, 9, 30),
                            "Lê Văn Tâm")
    assert desk.get(i).supplement_items == [
        "Hợp đồng thuê hoặc giấy tờ về quyền sử dụng địa điểm kinh doanh"]
    desk.resubmit(i, {"hop_dong_thue": [Upload("hopdong.pdf", b"%PDF-1.4 test")]},
                  datetime(2026, 2, 13, 16, 5))
    code = desk.receive(i, datetime(2026, 2, 13, 16, 10), "Lê Văn Tâm")
    v = desk.get(i)
    # After 15:00 on Fri 13/02 before Tết: counted from Mon 23/02, 3 days -> Thu 26/02 17:00.
    assert v.due_at == datetime(2026, 2, 26, 17, 0)
    assert code == "G22.001.01-260213-010001"  # centralised procedure, TT 04/2025 format
    assert desk.hand_over(i, "Phòng Kinh tế", datetime(2026, 2, 23, 8, 0), "Lê Văn Tâm",
                          "Trần Minh Đức") == "truoc_han"
    desk.submit_for_approval(i, datetime(2026, 2, 25, 10, 0), "Trần Minh Đức")
    desk.result_ready(i, datetime(2026, 2, 26, 9, 0), "Phạm Thu Hà")
    with pytest.raises(KnsError, match="nợ phí"):
        desk.return_result(i, "truc_tuyen", datetime(2026, 2, 26, 10, 0), "Lê Văn Tâm")
    ref = desk.start_payment(i, datetime(2026, 2, 26, 9, 30))
    receipt = desk.confirm_payment(ref, 100000, datetime(2026, 2, 26, 9, 31), "VCB123")
    assert receipt.startswith("BL2026/")
    assert desk.return_result(i, "truc_tuyen", datetime(2026, 2, 26, 10, 0),
                              "Lê Văn Tâm") == "dung_han"
    v = desk.get(i)
    assert v.state == "da_tra"
    assert [(e.action, e.from_state, e.to_state) for e in v.events] == [
        ("submit", "nhap", "da_nop"),
        ("request_supplement", "da_nop", "yeu_cau_bo_sung"),
        ("submit", "yeu_cau_bo_sung", "da_nop"),
        ("receive", "da_nop", "da_tiep_nhan"),
        ("hand_over", "da_tiep_nhan", "dang_xu_ly"),
        ("submit_for_approval", "dang_xu_ly", "cho_phe_duyet"),
        ("result_ready", "cho_phe_duyet", "co_ket_qua"),
        ("start_payment", "co_ket_qua", "co_ket_qua"),
        ("confirm_payment", "co_ket_qua", "co_ket_qua"),
        ("return_result", "co_ket_qua", "da_tra"),
    ]
    assert all(e.actor for e in v.events)
    assert v.documents[-1].filename == "hopdong.pdf"


def test_incomplete_dossier_cannot_be_received(desk):
    """Is receipt of a dossier missing a required document refused, naming the document?"""
    i = desk.submit("XD-GPXD", APPLICANT, channel="truc_tiep",
                    documents={"don_de_nghi": 1, "giay_to_dat": 1, "ban_ve": 1},
                    at=datetime(2026, 3, 2, 8, 0))
    with pytest.raises(KnsError) as info:
        desk.receive(i, datetime(2026, 3, 2, 8, 5), "cb")
    assert "Bản vẽ thiết kế xây dựng" in info.value.user_message
    assert desk.get(i).state == "da_nop"  # nothing changed
    assert desk.missing(i) == ["Bản vẽ thiết kế xây dựng"]


def test_reception_supplement_only_once(desk):
    """Can the reception ask for supplementation only once?"""
    i = desk.submit("KT-HKD", APPLICANT, channel="truc_tiep", documents={"giay_de_nghi": 1},
                    at=datetime(2026, 3, 2, 8, 0))
    desk.request_supplement(i, [], "Thiếu hợp đồng", datetime(2026, 3, 2, 8, 10), "cb")
    desk.resubmit(i, {"giay_de_nghi": 1}, datetime(2026, 3, 3, 8, 0))
    with pytest.raises(OnceOnly):
        desk.request_supplement(i, [], "Vẫn thiếu", datetime(2026, 3, 3, 8, 10), "cb")
    desk.refuse(i, "Không bổ sung đủ giấy tờ", datetime(2026, 3, 3, 8, 20), "cb")
    assert desk.get(i).state == "tu_choi"


def test_processing_supplement_once_and_clock_stops(desk, processing):
    """Is supplementation during processing allowed once, and the waiting days added to the due?"""
    desk.request_supplement_processing(processing, ["Bản vẽ mặt bằng"], "Thiếu bản vẽ",
                                       datetime(2026, 3, 3, 9, 0), "Trần Minh Đức")
    desk.supplement_received(processing, datetime(2026, 3, 5, 9, 0), "Trần Minh Đức")
    assert desk.get(processing).due_at == datetime(2026, 3, 9, 17, 0)  # +2 working days
    with pytest.raises(OnceOnly):
        desk.request_supplement_processing(processing, ["x"], "lần hai",
                                           datetime(2026, 3, 5, 10, 0), "Trần Minh Đức")


def test_apology_rules(desk, processing):
    """Is the apology accepted ≥1 working day before the due date, once, with a later date?"""
    with pytest.raises(KnsError, match="phải sau ngày hẹn cũ"):
        desk.apologise(processing, date(2026, 3, 5), "Chờ xác minh",
                       datetime(2026, 3, 3, 9, 0), "Chủ tịch UBND")
    with pytest.raises(KnsError, match="không phải ngày làm việc"):
        desk.apologise(processing, date(2026, 3, 7), "Chờ xác minh",
                       datetime(2026, 3, 3, 9, 0), "Chủ tịch UBND")
    desk.apologise(processing, date(2026, 3, 10), "Chờ xác minh",
                   datetime(2026, 3, 4, 16, 0), "Chủ tịch UBND")
    v = desk.get(processing)
    assert v.due_at == datetime(2026, 3, 10, 17, 0)
    assert v.original_due_at == datetime(2026, 3, 5, 17, 0)
    with pytest.raises(OnceOnly):
        desk.apologise(processing, date(2026, 3, 12), "Lần hai", datetime(2026, 3, 5, 9, 0),
                       "Chủ tịch UBND")


def test_apology_too_late(desk, processing):
    """Is an apology on the due day itself refused (must be at least one day before)?"""
    with pytest.raises(KnsError, match="chậm nhất là Thứ Tư, 04/03/2026"):
        desk.apologise(processing, date(2026, 3, 10), "Chờ xác minh",
                       datetime(2026, 3, 5, 8, 0), "Chủ tịch UBND")
    assert "apologise" not in desk.get(processing).done_actions


def test_overdue_handover_and_return(desk, processing):
    """Is a hand-over after the due time rated quá hạn, and the late return too?"""
    assert desk.hand_over(processing, "Lãnh đạo UBND", datetime(2026, 3, 6, 9, 0),
                          "Trần Minh Đức", "Phạm Thu Hà") == "qua_han"
    desk.result_ready(processing, datetime(2026, 3, 6, 10, 0), "Phạm Thu Hà")
    desk.pay_at_desk(processing, datetime(2026, 3, 6, 10, 5), "Lê Văn Tâm")
    assert desk.return_result(processing, "truc_tiep", datetime(2026, 3, 6, 11, 0),
                              "Lê Văn Tâm") == "qua_han"
    assert [h.rating for h in desk.get(processing).handovers] == ["truoc_han", "qua_han"]


def test_withdraw_and_stop(desk, received, processing):
    """Can the citizen withdraw before the result, and is a stopped dossier final?"""
    other = desk.submit("HT-KS", APPLICANT, channel="truc_tuyen",
                        documents={"to_khai": 1, "giay_chung_sinh": 1},
                        at=datetime(2026, 3, 2, 8, 0))
    desk.withdraw(other, datetime(2026, 3, 2, 8, 30), reason="Nộp nhầm")
    assert desk.get(other).state == "da_rut"
    desk.stop(processing, "Người nộp không bổ sung", datetime(2026, 3, 3, 9, 0), "cb")
    with pytest.raises(IllegalTransition, match="Dừng giải quyết"):
        desk.withdraw(processing, datetime(2026, 3, 3, 10, 0))


def test_withdraw_after_result_refused(desk, processing):
    """Is withdrawal refused once the result is ready, with the rule quoted?"""
    desk.result_ready(processing, datetime(2026, 3, 3, 9, 0), "cb")
    with pytest.raises(IllegalTransition, match="khi chưa có kết quả"):
        desk.withdraw(processing, datetime(2026, 3, 3, 10, 0))


def test_codes_before_and_after_1_july_2025(desk):
    """Do codes follow TT 01/2018 on 30/06/2025 and TT 03/2025 from 01/07/2025?"""
    codes = []
    for at in (datetime(2025, 6, 30, 9, 0), datetime(2025, 6, 30, 10, 0),
               datetime(2025, 7, 1, 9, 0)):
        i = desk.submit("CT-BS", APPLICANT, channel="truc_tiep",
                        documents={"ban_chinh": 1, "ban_sao": 1}, at=at)
        codes.append(desk.receive(i, at, "cb"))
    assert codes == ["000.00.12.H29-250630-0001", "000.00.12.H29-250630-0002",
                     "000.00.12.H29-250701-0001"]
    assert [parse_code(c).format.name for c in codes] == ["tt01_2018", "tt01_2018", "tt03_2025"]


def test_concurrent_receptions_get_distinct_codes(tmp_path):
    """Do 8 threads receiving 10 dossiers each into one SQLite file get 80 distinct codes?"""
    path = tmp_path / "shared.sqlite"
    ids = []
    setup = FilingDesk(path)
    for _ in range(80):
        ids.append(setup.submit("CT-CK", APPLICANT, channel="truc_tiep",
                                documents={"giay_to_tuy_than": 1, "van_ban": 1},
                                at=datetime(2026, 3, 2, 8, 0)))
    codes: list[str] = []
    errors: list[Exception] = []

    def worker(chunk):
        d = FilingDesk(path)
        for i in chunk:
            try:
                codes.append(d.receive(i, datetime(2026, 3, 2, 9, 0), "cb"))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(ids[k::8],)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(set(codes)) == 80
    assert sorted(parse_code(c).seq for c in codes) == list(range(1, 81))


# -- bad input --------------------------------------------------------------------------------

def test_unknown_procedure(desk):
    """Is an unknown procedure code refused with a Vietnamese message naming it?"""
    with pytest.raises(UnknownProcedure, match="XX-99"):
        desk.submit("XX-99", APPLICANT, channel="truc_tiep", documents={},
                    at=datetime(2026, 3, 2, 8, 0))


def test_bad_submission_lists_all_problems(desk):
    """Are a missing name, a bad ID, a wrong channel and an unknown document all reported?"""
    with pytest.raises(ValidationError) as info:
        desk.submit("HT-KS", {"name": " ", "id_number": "12ab"}, channel="fax",
                    documents={"to_khai": 1, "ho_chieu": 1, "giay_chung_sinh": 0},
                    at=datetime(2026, 3, 2, 8, 0))
    text = "\n".join(info.value.problems)
    for needle in ("họ và tên", "12ab", "fax", "ho_chieu", "Giấy chứng sinh"):
        assert needle in text
    assert desk.queue() == []  # nothing stored


def test_year_without_calendar(desk):
    """Is a receipt in 2027 refused because the 2027 holiday schedule is not loaded?"""
    i = desk.submit("CT-BS", APPLICANT, channel="truc_tiep",
                    documents={"ban_chinh": 1, "ban_sao": 1}, at=datetime(2027, 1, 4, 8, 0))
    with pytest.raises(CalendarYearMissing, match="2027"):
        desk.receive(i, datetime(2027, 1, 4, 8, 5), "cb")
    assert desk.get(i).code is None


def test_payment_mismatch_and_negative(desk, processing):
    """Is a wrong amount flagged for reconciliation and a negative amount refused?"""
    ref = desk.start_payment(processing, datetime(2026, 3, 2, 11, 0))
    with pytest.raises(KnsError, match="âm"):
        desk.confirm_payment(ref, -5, datetime(2026, 3, 2, 11, 1), "VCB1")
    with pytest.raises(KnsError, match="khác số phải nộp"):
        desk.confirm_payment(ref, 50000, datetime(2026, 3, 2, 11, 1), "VCB1")
    rows = desk.reconcile()
    assert rows[0]["balance"] == 100000


def test_events_before_receipt_time_refused(desk, received):
    """Is a hand-over dated before the receipt refused?"""
    with pytest.raises(KnsError, match="sớm hơn"):
        desk.hand_over(received, "Phòng Kinh tế", datetime(2026, 3, 1, 9, 0), "a", "b")


def test_online_clock_starts_at_complete_submission(desk):
    """Does an online dossier submitted Wed 10:00 but received Thu count from Wednesday?"""
    i = desk.submit("KT-HKD", APPLICANT, channel="truc_tuyen",
                    documents={"giay_de_nghi": 1, "hop_dong_thue": 1},
                    at=datetime(2026, 3, 4, 10, 0))
    code = desk.receive(i, datetime(2026, 3, 5, 9, 0), "cb")
    assert code.split("-")[1] == "260305"  # the code carries the receipt date
    assert desk.get(i).due_at == datetime(2026, 3, 9, 17, 0)  # Thu, Fri, Mon
    j = desk.submit("KT-HKD", APPLICANT, channel="truc_tiep",
                    documents={"giay_de_nghi": 1, "hop_dong_thue": 1},
                    at=datetime(2026, 3, 4, 10, 0))
    desk.receive(j, datetime(2026, 3, 5, 9, 0), "cb")
    assert desk.get(j).due_at == datetime(2026, 3, 10, 17, 0)  # at the desk: from receipt
