"""The widgets, driven as a person would: set values, click buttons, read what is shown."""

import hashlib
from datetime import UTC, date, datetime

import pytest

from sandbox.documents import widgets
from sandbox.documents.drafting import DraftFields, write_docx
from sandbox.documents.storage import Actor

LD = Actor("Trần Văn Lãnh", "lanh_dao")
CV = Actor("Nguyễn Văn Viên", "chuyen_vien")


def _fill(parts, **values):
    for name, value in values.items():
        parts[name].value = value


def _register(registry, symbol="4391/KH-SNV"):
    form = widgets.registration_form(registry, "UBND", clerk="Lê Thị Thư")
    p = form.parts
    _fill(p, author="Sở Nội vụ", symbol=symbol, doc_date=date(2026, 4, 20), type="Kế hoạch",
          subject="Tập huấn kỹ năng số")
    p["button"].click()
    return p


def test_every_panel_is_one_call(registry):
    """Does each panel build with one call and show a Vietnamese title?"""
    for build in (widgets.inbox_panel, widgets.registration_form, widgets.routing_form,
                  widgets.outgoing_form):
        box = build(registry)
        assert "<h3>" in box.children[0].value
    assert "Kiểm tra" in widgets.docx_check_panel().children[0].value


def test_registration_form_registers(registry):
    """Does filling the form and clicking register show the số đến given?"""
    p = _register(registry)
    assert "số đến 1" in p["result"].value
    assert p["symbol"].value == ""  # cleared for the next document
    assert registry.inbox("UBND")[0]["symbol"] == "4391/KH-SNV"


def test_registration_form_shows_messages_next_to_fields(registry):
    """Are empty fields and a bad symbol reported beside each field, nothing saved?"""
    form = widgets.registration_form(registry, "UBND")
    p = form.parts
    p["symbol"].value = "5/KH-SNV"
    assert "«05/KH-SNV»" in p["messages"]["symbol"].value  # as soon as it is typed
    p["button"].click()
    assert "tác giả" in p["messages"]["author"].value
    assert "trích yếu" in p["messages"]["subject"].value
    assert "ngày tháng" in p["messages"]["doc_date"].value
    assert "«05/KH-SNV»" in p["messages"]["symbol"].value
    assert "Chưa đăng ký" in p["result"].value
    assert registry.inbox("UBND") == []


def test_symbol_explained_while_typing(registry):
    """Is a valid symbol explained, and a legal normative one recognised, while typing?"""
    p = widgets.registration_form(registry).parts
    p["symbol"].value = "2942/UBND-VP"
    assert "Công văn" in p["messages"]["symbol"].value
    p["symbol"].value = "12/2025/QĐ-UBND"
    assert "quy phạm pháp luật" in p["messages"]["symbol"].value


def test_electronic_registration_checks_hash(registry):
    """Is an electronic document with a wrong hash refused next to the file field?"""
    p = widgets.registration_form(registry).parts
    content = b"%PDF-1.4 van ban"
    _fill(p, author="Sở Nội vụ", symbol="1189/KH-SNV", doc_date=date(2026, 4, 20),
          subject="x", medium="electronic")
    p["button"].click()
    assert "tệp nội dung" in p["messages"]["file"].value
    p["upload"].value = ({"name": "vb.pdf", "type": "application/pdf", "size": len(content),
                          "content": memoryview(content), "last_modified": datetime(2026, 4, 1, tzinfo=UTC)},)
    p["sha256"].value = "0" * 64
    p["button"].click()
    assert "SHA-256" in p["messages"]["file"].value
    p["sha256"].value = hashlib.sha256(content).hexdigest()
    p["button"].click()
    assert "số đến 1" in p["result"].value


def test_routing_form_submit_and_assign(registry):
    """Can the clerk submit and the leader assign with a deadline shown in the result?"""
    _register(registry)
    p = widgets.routing_form(registry, "UBND").parts
    assert len(p["to_submit"].options) == 1
    p["submit"].click()
    assert "Đã trình" in p["submit_message"].value
    assert len(p["doc"].options) == 1
    p["assign"].click()
    assert "đơn vị chủ trì" in p["messages"]["lead"].value
    _fill(p, lead="Phòng Văn hóa - Xã hội", co="Phòng Văn hóa - Xã hội, Công an phường")
    p["assign"].click()
    assert "đã là đơn vị chủ trì" in p["messages"]["co"].value
    _fill(p, co="Công an phường", days=3)
    p["assign"].click()
    assert "Phòng Văn hóa - Xã hội chủ trì" in p["result"].value
    doc = registry.inbox("UBND")[0]
    assert (doc["state"], doc["co_units"]) == ("assigned", ["Công an phường"])


def test_routing_form_without_documents(registry):
    """Does clicking with nothing to submit say to choose a document?"""
    p = widgets.routing_form(registry).parts
    p["submit"].click()
    assert "Hãy chọn" in p["submit_message"].value


def test_inbox_panel_shows_register_and_reminders(registry, clock):
    """Does the inbox show the register columns and an overdue reminder?"""
    _register(registry)
    doc = registry.inbox("UBND")[0]
    registry.submit(doc["id"], Actor("Lê Thị Thư", "van_thu"))
    registry.assign(doc["id"], LD, lead_unit="Văn phòng", deadline_days=1)
    panel = widgets.inbox_panel(registry, "UBND")
    p = panel.parts
    assert "Số đến" in p["table"].value and "4391/KH-SNV" in p["table"].value
    assert p["reminders"].value.count("Nhắc việc") == 1  # due next working day
    clock.now = clock.now.replace(day=clock.now.day + 5)
    p["refresh"].click()
    assert "Quá hạn" in p["reminders"].value
    p["state"].value = "completed"
    assert "Chưa có văn bản" in p["table"].value


def test_outgoing_form_numbers_registers_issues(registry):
    """Does the form take a signed draft to 01/KH-UBND, refusing steps out of order?"""
    doc = registry.draft_outgoing("UBND", CV, type_key="ke_hoach", drafting_unit="VP",
                                  subject="Tập huấn", recipient_orgs=["SNV"], content=b"x")
    p = widgets.outgoing_form(registry, "UBND").parts
    assert p["doc"].value == doc["id"]
    p["number"].click()  # not signed yet: refused with the reason next to the field
    assert "Thao tác được phép" in p["message"].value
    p["approve"].click()
    p["sign"].click()
    p["issue"].click()
    assert "Thao tác được phép" in p["message"].value
    p["number"].click()
    assert "01/KH-UBND" in p["result"].value
    p["register"].click()
    p["issue"].click()
    assert "Đã phát hành" in p["result"].value
    assert "01/KH-UBND" in p["book"].value
    assert "Đã gửi, chờ tiếp nhận" in p["deliveries"].value
    assert registry.inbox("SNV", ("pending",))[0]["symbol"] == "01/KH-UBND"
    p["archive"].click()
    assert p["doc"].options == ()


def test_outgoing_form_drafts(registry):
    """Does the draft part check its fields and then save a draft the steps can use?"""
    registry.add_organisation("CAP", "Công an phường Ba Đình")
    p = widgets.outgoing_form(registry, "UBND").parts
    assert p["doc"].value is None
    p["approve"].click()
    assert "Hãy chọn" in p["message"].value
    p["unit"].value = "vp"
    p["draft"].click()
    assert "in hoa" in p["messages"]["unit"].value
    assert "trích yếu" in p["messages"]["subject"].value
    _fill(p, unit="VP", subject="V/v rà soát thủ tục hành chính", type="cong_van",
          recipients="Sở Nội vụ, Sở Tư pháp", to_orgs=("SNV", "CAP"))
    p["draft"].click()
    assert "Đã lưu dự thảo" in p["messages"]["draft"].value
    for button in ("approve", "sign", "number"):
        p[button].click()
    assert "01/UBND-VP" in p["result"].value
    assert registry.outbox("UBND")[0]["recipients"] == "Sở Nội vụ; Sở Tư pháp"


@pytest.fixture
def good_docx(tmp_path):
    fields = DraftFields(org_name="Ủy ban nhân dân phường Ba Đình", symbol="258/BC-UBND",
                         place="Ba Đình", doc_date=date(2026, 3, 2), type_key="bao_cao",
                         subject="Kết quả tháng 2", body=["Nội dung báo cáo."],
                         signer_title="Chủ tịch", signer_name="Nguyễn Văn An", drafting_unit="VP")
    return write_docx(fields, tmp_path / "bc.docx").read_bytes()


def _upload(p, name, content):
    p["upload"].value = ({"name": name, "type": "", "size": len(content),
                          "content": memoryview(content), "last_modified": datetime(2026, 4, 1, tzinfo=UTC)},)


def test_docx_panel(good_docx):
    """Does the panel pass a good draft, list a register mismatch, and refuse a non-docx?"""
    p = widgets.docx_check_panel().parts
    p["button"].click()
    assert "Hãy bấm" in p["upload_message"].value
    _upload(p, "bc.docx", good_docx)
    p["symbol"].value = "258/BC-UBND"
    p["button"].click()
    assert "Đạt" in p["result"].value
    p["symbol"].value = "259/BC-UBND"
    p["button"].click()
    assert "259/BC-UBND" in p["result"].value and "<li>" in p["result"].value
    p["symbol"].value = "5/BC-UBND"
    p["button"].click()
    assert "«05/BC-UBND»" in p["symbol_message"].value
    p["symbol"].value = ""
    _upload(p, "x.docx", b"not a docx")
    p["button"].click()
    assert "không phải văn bản Word" in p["upload_message"].value


def test_inbox_receive_and_return(registry):
    """Can the clerk receive one electronic document and return a tampered one, with the
    sender seeing both answers?"""
    from sandbox.documents import scenarios

    docs = [d for d in scenarios.generate(5, "hv", n=10) if d.medium == "electronic"]
    good = next(d for d in docs if d.expected["integrity_ok"])
    bad = next(d for d in docs if not d.expected["integrity_ok"])
    scenarios.deliver(registry, "UBND", [good, bad])
    p = widgets.inbox_panel(registry, "UBND").parts
    assert len(p["pending"].options) == 2
    p["pending"].value = p["pending"].options[[good.symbol in o[0] for o in p["pending"].options]
                                              .index(True)][1]
    p["receive"].click()
    assert "số đến 1" in p["pending_message"].value
    assert len(p["pending"].options) == 1
    p["receive"].click()  # the tampered one: refused, with the next step to take
    assert "trả lại" in p["pending_message"].value
    p["return"].click()
    assert "lý do" in p["reason_message"].value
    p["reason"].value = "Tệp không toàn vẹn"
    p["return"].click()
    assert "Đã trả lại" in p["pending_message"].value
    assert p["pending"].options == ()
    assert good.symbol in p["table"].value
