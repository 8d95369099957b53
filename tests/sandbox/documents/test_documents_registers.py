"""Registers, numbering, workflow transitions, deadlines, exchange and the audit trail."""

import sqlite3
import threading
from datetime import date, datetime

import pytest

from kynangso.errors import ValidationError
from sandbox.documents import workflow
from sandbox.documents.integrity import DefaultIntegrityCheck, sha256_hex
from sandbox.documents.storage import Actor, DocumentError, Registry
from sandbox.documents.workflow import WorkflowError

VT = Actor("Lê Thị Thư", "van_thu")
LD = Actor("Trần Văn Lãnh", "lanh_dao")
CV = Actor("Nguyễn Văn Viên", "chuyen_vien")


def incoming(reg, symbol="4391/KH-SNV", **kw):
    fields = dict(author="Sở Nội vụ thành phố Hà Nội", symbol=symbol, doc_date=date(2026, 4, 20),
                  type_name="Kế hoạch", subject="Triển khai chuyển đổi số")
    fields.update(kw)
    return reg.register_incoming("UBND", VT, **fields)


def outgoing(reg, org="UBND", **kw):
    fields = dict(type_key="ke_hoach", drafting_unit="VP", subject="Tổ chức tập huấn",
                  recipients=["Sở Nội vụ"], recipient_orgs=[], content=b"noi dung")
    fields.update(kw)
    return reg.draft_outgoing(org, CV, **fields)


def test_incoming_numbers_start_at_01_and_are_continuous(registry):
    """Are số đến 1, 2, 3 in order of registration?"""
    nums = [incoming(registry, f"{n:02d}/KH-SNV")["arrival_number"] for n in range(1, 4)]
    assert nums == [1, 2, 3]


def test_year_rollover(registry, clock):
    """Does numbering restart at 01 on 1 January, for incoming and outgoing alike?"""
    clock.now = datetime(2025, 12, 31, 16, 0)
    assert incoming(registry, "10/KH-SNV", doc_date=date(2025, 12, 30))["arrival_number"] == 1
    assert incoming(registry, "11/KH-SNV", doc_date=date(2025, 12, 30))["arrival_number"] == 2
    last_2025 = _issue_to_numbered(registry)
    clock.now = datetime(2026, 1, 1, 8, 0)
    first = incoming(registry, "12/KH-SNV", doc_date=date(2025, 12, 31))
    assert (first["year"], first["arrival_number"]) == (2026, 1)
    first_out = _issue_to_numbered(registry)
    assert (last_2025["year"], last_2025["number"]) == (2025, 1)
    assert (first_out["year"], first_out["number"], first_out["symbol"]) == (2026, 1, "01/KH-UBND")
    assert [r["arrival_number"] for r in registry.incoming_register("UBND", 2025)] == [1, 2]


def _issue_to_numbered(reg, **kw):
    doc = outgoing(reg, **kw)
    reg.approve(doc["id"], LD)
    reg.sign(doc["id"], LD)
    return reg.number(doc["id"], VT)


def test_secret_documents_have_their_own_series(registry):
    """Do secret documents get a separate series (Điều 15.2)?"""
    a = incoming(registry, "01/KH-SNV")
    b = incoming(registry, "02/KH-SNV", secrecy="mat")
    c = incoming(registry, "03/KH-SNV")
    assert (a["arrival_number"], b["arrival_number"], c["arrival_number"]) == (1, 1, 2)
    s = _issue_to_numbered(registry, secrecy="mat", electronic=False)
    n = _issue_to_numbered(registry)
    assert (s["number"], n["number"]) == (1, 1)
    assert [r["symbol"] for r in registry.incoming_register("UBND", 2026, secret=True)] == [
        "02/KH-SNV"]


def test_separate_qd_series_is_a_setting(tmp_path, clock):
    """Can the head give Quyết định its own series (configuration)?"""
    reg = Registry(tmp_path / "q.sqlite", clock=clock, separate_qd_series=True)
    reg.add_organisation("UBND", "Ủy ban nhân dân phường Ba Đình")
    a = _issue_to_numbered(reg)
    b = _issue_to_numbered(reg, type_key="quyet_dinh")
    assert (a["symbol"], b["symbol"]) == ("01/KH-UBND", "01/QĐ-UBND")
    reg.close()


def test_concurrent_registration_has_no_gaps_or_duplicates(tmp_path, clock):
    """Do 8 threads registering 25 documents each against one SQLite file get 1..200 exactly?"""
    path = tmp_path / "shared.sqlite"
    setup = Registry(path, clock=clock)
    setup.add_organisation("UBND", "Ủy ban nhân dân phường Ba Đình")
    setup.close()
    errors = []

    def worker(w):
        reg = Registry(path, clock=clock)  # each thread its own registry/engine, one file
        try:
            for i in range(25):
                reg.register_incoming("UBND", VT, author=f"Cơ quan {w}", symbol=f"{i + 1:02d}/KH-CQ",
                                      doc_date=date(2026, 4, 1), type_name="Kế hoạch",
                                      subject="x")
                out = reg.draft_outgoing("UBND", CV, type_key="cong_van", drafting_unit="VP",
                                         subject="y")
                reg.approve(out["id"], LD)
                reg.sign(out["id"], LD)
                reg.number(out["id"], VT)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            reg.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    reg = Registry(path, clock=clock)
    assert sorted(r["arrival_number"] for r in reg.incoming_register("UBND", 2026)) == list(
        range(1, 201))
    assert sorted(d["number"] for d in reg.outbox("UBND")) == list(range(1, 201))
    assert reg.verify_audit() == []
    reg.close()


def test_incoming_workflow_full_path(registry):
    """Does a document go registered -> submitted -> assigned -> in progress -> completed?"""
    d = incoming(registry)
    assert d["state"] == "registered"
    assert registry.submit(d["id"], VT, "Chủ tịch UBND")["state"] == "submitted"
    a = registry.assign(d["id"], LD, lead_unit="Phòng Văn hóa - Xã hội",
                        co_units=["Công an phường"], deadline_days=3, instruction="Xử lý")
    assert (a["state"], a["lead_unit"], a["co_units"]) == (
        "assigned", "Phòng Văn hóa - Xã hội", ["Công an phường"])
    assert registry.start(d["id"], CV)["state"] == "in_progress"
    done = registry.complete(d["id"], CV, reply_symbol="15/UBND-VHXH")
    assert (done["state"], done["deadline_status"]) == ("completed", "done")
    actions = [e["action"] for e in registry.audit("incoming", d["id"])]
    assert actions == ["register", "submit", "assign", "start", "complete"]
    assert all(e["actor"] and e["at"] for e in registry.audit())


def test_forward_directly(registry):
    """Can Văn thư forward straight to a unit when it is already clear (Điều 23.1)?"""
    d = incoming(registry)
    assert registry.forward(d["id"], VT, lead_unit="Văn phòng")["state"] == "assigned"


ROLE_OF = {"receive": VT, "return": VT, "submit": VT, "forward": VT, "assign": LD,
           "start": CV, "complete": CV}
PATHS = {  # how to reach each incoming state
    "pending": None, "returned": None, "registered": [], "submitted": ["submit"],
    "assigned": ["submit", "assign"], "in_progress": ["submit", "assign", "start"],
    "completed": ["submit", "assign", "start", "complete"],
}


def _advance(reg, doc_id, steps):
    for step in steps:
        _do(reg, doc_id, step, ROLE_OF[step])


def _do(reg, doc_id, action, actor):
    if action in ("assign", "forward"):
        return getattr(reg, action)(doc_id, actor, lead_unit="Văn phòng", deadline_days=2)
    if action == "return":
        return reg.return_invalid(doc_id, actor, "Sai địa chỉ")
    if action == "receive":
        return reg.receive(doc_id, actor)
    return getattr(reg, action)(doc_id, actor)


def _doc_in(reg, state):
    if PATHS[state] is None:  # electronic, waiting on the axis
        doc_id = reg.deliver_external("UBND", author="Sở Nội vụ", symbol="01/KH-SNV",
                                      doc_date=date(2026, 4, 20), type_name="Kế hoạch",
                                      subject="x", content=b"x", declared_sha256=sha256_hex(b"x"))
        if state == "returned":
            reg.return_invalid(doc_id, VT, "Sai địa chỉ")
        return doc_id
    doc_id = incoming(reg)["id"]
    _advance(reg, doc_id, PATHS[state])
    return doc_id


@pytest.mark.parametrize("state", sorted(PATHS))
def test_every_illegal_incoming_transition_is_refused(registry, state):
    """From each incoming state, is every action not in the machine refused with the state
    and the allowed steps named, and nothing changed or logged?"""
    doc_id = _doc_in(registry, state)
    assert registry.get_incoming(doc_id)["state"] == state
    before = registry.get_incoming(doc_id)
    n_audit = len(registry.audit())
    for action, actor in ROLE_OF.items():
        if (state, action) in workflow.INCOMING:
            continue
        with pytest.raises(WorkflowError) as err:
            _do(registry, doc_id, action, actor)
        assert "Thao tác được phép" in err.value.user_message
    assert registry.get_incoming(doc_id) == before
    assert len(registry.audit()) == n_audit


@pytest.mark.parametrize("state,action", sorted(workflow.INCOMING))
def test_every_legal_incoming_transition(registry, state, action):
    """Does each legal incoming transition lead to the state the machine says?"""
    doc_id = _doc_in(registry, state)
    assert _do(registry, doc_id, action, ROLE_OF[action])["state"] == workflow.INCOMING[
        (state, action)][0]
    assert registry.audit("incoming", doc_id)[-1]["action"] == action


@pytest.mark.parametrize("state,action", sorted(workflow.INCOMING))
def test_every_incoming_transition_refuses_other_roles(registry, state, action):
    """Is each legal incoming step refused to every role not allowed to take it?"""
    doc_id = _doc_in(registry, state)
    allowed = workflow.INCOMING[(state, action)][1]
    for actor in (VT, LD, CV):
        if actor.role in allowed:
            continue
        with pytest.raises(WorkflowError) as err:
            _do(registry, doc_id, action, actor)
        assert "không được" in err.value.user_message
    assert registry.get_incoming(doc_id)["state"] == state


@pytest.mark.parametrize("action,actor", [("submit", CV), ("submit", LD)])
def test_wrong_role_is_refused(registry, action, actor):
    """Is a step by the wrong role refused, naming the role that may do it?"""
    d = incoming(registry)
    with pytest.raises(WorkflowError) as err:
        _do(registry, d["id"], action, actor)
    assert "Văn thư" in err.value.user_message


def test_leader_must_assign(registry):
    """Is assignment by a specialist refused (Điều 23.2: the leader assigns)?"""
    d = incoming(registry)
    registry.submit(d["id"], VT)
    with pytest.raises(WorkflowError):
        registry.assign(d["id"], CV, lead_unit="Văn phòng")


def test_only_van_thu_registers(registry):
    """Is registration by a leader refused?"""
    with pytest.raises(WorkflowError):
        registry.register_incoming("UBND", LD, author="A", symbol="01/KH-A",
                                   doc_date=date(2026, 4, 1), type_name="Kế hoạch", subject="x")


OUTGOING_PATH = [("approve", LD), ("sign", LD), ("number", VT), ("register_outgoing", VT),
                 ("issue", VT), ("archive", VT)]


def test_outgoing_workflow_full_path(registry):
    """Does a draft go through approve, sign, number, register, issue, archive?"""
    doc = outgoing(registry)
    states = []
    for action, actor in OUTGOING_PATH:
        doc = getattr(registry, action)(doc["id"], actor)
        states.append(doc["state"])
    assert states == ["approved", "signed", "numbered", "registered", "issued", "archived"]
    assert doc["symbol"] == "01/KH-UBND"
    assert doc["archive_unit"] == "Lưu: VT, VP."
    row = registry.outgoing_register("UBND", 2026)[0]
    assert list(row) == ["symbol", "doc_date", "type_and_subject", "signer", "recipients",
                         "archive_unit", "copies", "transfer_date", "receipt_signature", "note"]
    assert row["signer"] == LD.name


def test_revise_goes_back_to_draft(registry):
    """Can the signer send an approved draft back for revision (Điều 11)?"""
    doc = outgoing(registry)
    registry.approve(doc["id"], LD)
    assert registry.revise(doc["id"], LD, "Sửa trích yếu")["state"] == "draft"


@pytest.mark.parametrize("reached", range(len(OUTGOING_PATH) + 1))
def test_illegal_outgoing_transitions_are_refused(registry, reached):
    """From each outgoing state, is every step other than the next one refused?"""
    doc = outgoing(registry)
    for action, actor in OUTGOING_PATH[:reached]:
        getattr(registry, action)(doc["id"], actor)
    for i, (action, actor) in enumerate(OUTGOING_PATH):
        if i == reached:
            continue
        with pytest.raises(WorkflowError):
            getattr(registry, action)(doc["id"], actor)


def test_number_only_by_van_thu(registry):
    """Is numbering by the leader refused (Điều 15: Văn thư numbers)?"""
    doc = outgoing(registry)
    registry.approve(doc["id"], LD)
    registry.sign(doc["id"], LD)
    with pytest.raises(WorkflowError):
        registry.number(doc["id"], LD)


def test_cong_van_symbol_uses_drafting_unit(registry):
    """Does a công văn get <cơ quan>-<đơn vị> as ký hiệu?"""
    assert _issue_to_numbered(registry, type_key="cong_van")["symbol"] == "01/UBND-VP"


def test_all_workflow_pairs_are_covered():
    """Is every transition of both machines exercised by the paths above?"""
    seen_out = {a for a, _ in OUTGOING_PATH} | {"revise"}
    assert {a for (_, a) in workflow.OUTGOING} == {a.replace("register_outgoing", "register")
                                                  for a in seen_out}
    assert {a for (_, a) in workflow.INCOMING} == {
        "receive", "return", "submit", "forward", "assign", "start", "complete"}


def test_deadline_skips_holidays(registry, clock):
    """Is a 1-working-day deadline set on 29/4/2026 due on 04/5/2026 (30/4, 1/5, weekend)?"""
    clock.now = datetime(2026, 4, 29, 10, 0)
    d = incoming(registry)
    registry.submit(d["id"], VT)
    a = registry.assign(d["id"], LD, lead_unit="Văn phòng", deadline_days=1)
    assert a["due_date"] == date(2026, 5, 4)


def test_deadline_skips_vietnamese_culture_day(registry, clock):
    """Is 24/11/2026 (Ngày Văn hóa Việt Nam) skipped?"""
    clock.now = datetime(2026, 11, 23, 10, 0)
    d = incoming(registry)
    registry.submit(d["id"], VT)
    assert registry.assign(d["id"], LD, lead_unit="VP", deadline_days=1)["due_date"] == date(
        2026, 11, 25)


def test_reminders_and_overdue(registry, clock):
    """Are documents flagged due soon and then overdue as the days pass?"""
    clock.now = datetime(2026, 6, 1, 9, 0)  # Monday
    d = incoming(registry)
    registry.submit(d["id"], VT)
    registry.assign(d["id"], LD, lead_unit="VP", deadline_days=5)  # due Monday 08/6
    assert registry.reminders("UBND") == []
    clock.now = datetime(2026, 6, 4, 9, 0)
    assert [r["deadline_status"] for r in registry.reminders("UBND")] == ["due_soon"]
    clock.now = datetime(2026, 6, 9, 9, 0)
    assert [r["deadline_status"] for r in registry.reminders("UBND")] == ["overdue"]
    registry.start(d["id"], CV)
    registry.complete(d["id"], CV)
    assert registry.reminders("UBND") == []


def test_bad_routing_is_explained(registry):
    """Is an assignment without a lead unit, or with a zero deadline, refused with reasons?"""
    d = incoming(registry)
    registry.submit(d["id"], VT)
    with pytest.raises(ValidationError) as err:
        registry.assign(d["id"], LD, lead_unit="", co_units=[], deadline_days=0)
    assert len(err.value.problems) == 2


def test_incoming_validation_lists_every_problem(registry):
    """Are missing fields and a malformed symbol all reported together, nothing stored?"""
    with pytest.raises(ValidationError) as err:
        registry.register_incoming("UBND", VT, author="", symbol="5/UBND-VP",
                                   doc_date=date(2026, 4, 1), type_name="Công văn", subject="")
    text = " ".join(err.value.problems)
    assert "tác giả" in text and "trích yếu" in text and "«05/UBND-VP»" in text
    assert registry.inbox("UBND") == []


def test_legal_normative_incoming_is_registered(registry):
    """Is an incoming legal normative document (with the year) registered, not refused?"""
    d = incoming(registry, "12/2025/QĐ-UBND", type_name="Quyết định")
    assert d["arrival_number"] == 1


def test_duplicate_is_refused(registry):
    """Is the same document registered twice refused (PL VI duplicate warning)?"""
    incoming(registry)
    with pytest.raises(DocumentError):
        incoming(registry)


def test_electronic_integrity(registry):
    """Is an electronic document with a wrong declared hash refused, a right one accepted?"""
    content = b"%PDF-1.4 ..."
    with pytest.raises(ValidationError) as err:
        incoming(registry, medium="electronic", content=content, declared_sha256="ab" * 32)
    assert "SHA-256" in " ".join(err.value.problems)
    ok = incoming(registry, medium="electronic", content=content,
                  declared_sha256=sha256_hex(content))
    assert (ok["content_sha256"], ok["signature_status"]) == (sha256_hex(content), "absent")


def test_signature_hook_is_pluggable(tmp_path, clock):
    """Does a plugged-in signature verifier decide the signature status?"""
    calls = []

    def verifier(content, signature):
        calls.append(signature)
        return "invalid"

    reg = Registry(tmp_path / "s.sqlite", clock=clock,
                   integrity_check=DefaultIntegrityCheck(signature_verifier=verifier))
    reg.add_organisation("UBND", "UBND")
    with pytest.raises(ValidationError) as err:
        reg.register_incoming("UBND", VT, author="A", symbol="01/KH-A", doc_date=date(2026, 4, 1),
                              type_name="Kế hoạch", subject="x", medium="electronic",
                              content=b"x", declared_sha256=sha256_hex(b"x"), signature=b"sig")
    assert calls == [b"sig"] and "Chữ ký số" in " ".join(err.value.problems)
    reg.close()


def _issue_electronic(reg, to=("UBND",), content=b"noi dung cong van"):
    doc = reg.draft_outgoing("SNV", CV, type_key="cong_van", drafting_unit="VP",
                             subject="V/v tập huấn", recipient_orgs=list(to), content=content)
    for action, actor in OUTGOING_PATH[:5]:
        doc = getattr(reg, action)(doc["id"], actor)
    return doc


def test_electronic_exchange(registry):
    """Does an electronically issued document reach the recipients' queues, and does the
    sender see who has received it (same day) and who returned it?"""
    registry.add_organisation("CA", "Công an phường Ba Đình")
    doc = _issue_electronic(registry, to=("UBND", "CA"))
    assert [d["status"] for d in registry.deliveries(doc["id"])] == ["sent", "sent"]
    pending = registry.inbox("UBND", ("pending",))
    assert [p["symbol"] for p in pending] == ["01/SNV-VP"]
    got = registry.receive(pending[0]["id"], VT)
    assert (got["state"], got["arrival_number"]) == ("registered", 1)
    ca = registry.inbox("CA", ("pending",))[0]
    registry.return_invalid(ca["id"], VT, "Gửi nhầm cơ quan")
    status = {d["org"]: (d["status"], d["same_day"], d["reason"])
              for d in registry.deliveries(doc["id"])}
    assert status == {"UBND": ("received", True, ""), "CA": ("returned", True, "Gửi nhầm cơ quan")}


def test_tampered_exchange_cannot_be_received(registry):
    """Is a document whose content changed in transit refused at reception?"""
    doc = _issue_electronic(registry)
    pending = registry.inbox("UBND", ("pending",))[0]
    con = sqlite3.connect(registry.path)
    con.execute("UPDATE doc_incoming SET content = ? WHERE id = ?", (b"changed", pending["id"]))
    con.commit()
    con.close()
    with pytest.raises(ValidationError):
        registry.receive(pending["id"], VT)
    assert registry.deliveries(doc["id"])[0]["status"] == "sent"


def test_return_needs_reason(registry):
    """Is returning without a reason refused?"""
    _issue_electronic(registry)
    pending = registry.inbox("UBND", ("pending",))[0]
    with pytest.raises(ValidationError):
        registry.return_invalid(pending["id"], VT, " ")


def test_secret_cannot_be_electronic(registry):
    """Is an electronic secret document refused at drafting?"""
    with pytest.raises(ValidationError):
        outgoing(registry, secrecy="mat", electronic=True)


def test_audit_trail_cannot_be_edited(registry):
    """Are UPDATE and DELETE on the audit table refused by the database itself?"""
    incoming(registry)
    con = sqlite3.connect(registry.path)
    for sql in ("UPDATE doc_audit SET actor = 'x'", "DELETE FROM doc_audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    con.close()
    assert registry.verify_audit() == []


def test_audit_chain_detects_tampering(registry):
    """If someone drops the triggers and edits a row, does the hash chain show it?"""
    incoming(registry)
    incoming(registry, "02/KH-SNV")
    con = sqlite3.connect(registry.path)
    con.execute("DROP TRIGGER doc_audit_no_update")
    con.execute("UPDATE doc_audit SET actor = 'Người khác' WHERE seq = 1")
    con.commit()
    con.close()
    problems = registry.verify_audit()
    assert problems and "1" in problems[0]


def test_unknown_organisation(registry):
    """Is an unknown organisation code refused with the code named?"""
    with pytest.raises(DocumentError) as err:
        registry.inbox("XYZ")
    assert "XYZ" in err.value.user_message


def test_pl6_fields(registry):
    """Are the PL VI data fields filled from the register, with Priority coded?"""
    d = incoming(registry, "2942/UBND-VP", type_name="Công văn", urgency="hoa_toc")
    rec = registry.incoming_pl6(d["id"])
    assert (rec["CodeNumber"], rec["CodeNotation"], rec["ArrivalNumber"], rec["Priority"]) == (
        "2942", "UBND-VP", 1, 3)
    assert rec["OrganName"] == "Sở Nội vụ thành phố Hà Nội"


@pytest.mark.parametrize("reached", range(len(OUTGOING_PATH)))
def test_every_outgoing_step_refuses_other_roles(registry, reached):
    """Is each outgoing step refused to every role not allowed to take it?"""
    doc = outgoing(registry)
    for action, actor in OUTGOING_PATH[:reached]:
        getattr(registry, action)(doc["id"], actor)
    action, right = OUTGOING_PATH[reached]
    for actor in (VT, LD, CV):
        if actor.role == right.role:
            continue
        with pytest.raises(WorkflowError) as err:
            getattr(registry, action)(doc["id"], actor)
        assert "không được" in err.value.user_message
    assert getattr(registry, action)(doc["id"], right)["state"] != doc["state"]


@pytest.mark.parametrize("code", ["ubnd", "UB ND", "", "SỞ"])
def test_bad_organisation_code(registry, code):
    """Is an organisation abbreviation that cannot appear in a ký hiệu refused?"""
    with pytest.raises(DocumentError) as err:
        registry.add_organisation(code, "Cơ quan")
    assert "chữ in hoa" in err.value.user_message


@pytest.mark.parametrize("arrived,urgency,late", [
    (datetime(2026, 4, 29, 16, 0), "thuong", False),   # next working day is 04/5 (30/4, 1/5)
    (datetime(2026, 4, 28, 16, 0), "thuong", True),    # next working day was 29/4
    (datetime(2026, 5, 4, 8, 0), "khan", False),       # urgent: same day
    (datetime(2026, 4, 29, 16, 0), "khan", True),      # urgent: not the same day
])
def test_registration_timeliness(registry, clock, arrived, urgency, late):
    """Is a paper document registered after the next working day (urgent: after the same
    day) flagged late (Điều 4.2.c), counting over the 30/4–1/5 holidays?"""
    clock.now = datetime(2026, 5, 4, 9, 0)
    d = incoming(registry, received_at=arrived, urgency=urgency)
    assert d["registration_late"] is late


def test_copies_share_one_series(registry, clock):
    """Do SY, SL and TrS copies share one series that restarts at 01 each year?"""
    made = [registry.make_copy("UBND", VT, kind, "4391/KH-UBND")["symbol"]
            for kind in ("SY", "TrS", "SL")]
    assert made == ["01/SY-UBND", "02/TrS-UBND", "03/SL-UBND"]
    clock.now = datetime(2027, 1, 4, 8, 0)
    assert registry.make_copy("UBND", VT, "SY", "4391/KH-UBND")["symbol"] == "01/SY-UBND"
    with pytest.raises(DocumentError):
        registry.make_copy("UBND", VT, "BS", "4391/KH-UBND")
    with pytest.raises(WorkflowError):
        registry.make_copy("UBND", CV, "SY", "4391/KH-UBND")
