"""Signed attachments: checked with the signing sandbox's verifier (real pyHanko signatures
made by its own signing code), and moved into the documents sandbox's real register."""

from __future__ import annotations

import datetime as dt

import pytest

from kynangso.errors import ValidationError
from sandbox.documents import workflow
from sandbox.documents.storage import Actor
from sandbox.email import intake, signs
from sandbox.email import message as m
from sandbox.email.message import MailError
from sandbox.email.signs import Context
from sandbox.signing import tamper
from tests.sandbox.email.conftest import T0, VANTHU

CLERK = Actor("Bùi Thị Hồng Nhung", workflow.VAN_THU)


def pick(scenario, kind):
    return next(s for s in scenario.messages if s.kind == kind)


def register(registry, msg):
    [att] = m.attachments(msg)
    symbol = att.filename.removesuffix(".pdf").replace("-", "/", 1)
    return intake.register_attachment(
        registry, "UBND", CLERK, msg, att.filename, symbol=symbol,
        doc_date=dt.date(2026, 2, 27), type_name="Công văn", subject="về việc thực hành",
    )


def test_signed_scenario_kinds_show_their_signs(signed_scenario, pki):
    """Is the valid signed document clean and the tampered one caught, from the PDF itself?"""
    ctx = Context(pki=pki)
    for sm in signed_scenario.messages:
        assert signs.sign_keys(m.parse(m.to_bytes(sm.message)), ctx) == set(sm.expected_signs)
    [sign] = signs.inspect(pick(signed_scenario, "tampered_pdf").message, ctx)
    assert sign.key == "tampered_signature" and "Điều 21.2" in sign.explanation


def test_verify_attachment_reports(signed_scenario, pki):
    """Does the signing sandbox's report say valid for the good PDF, and name the failed
    checks of the tampered one?"""
    good = pick(signed_scenario, "signed_document").message
    bad = pick(signed_scenario, "tampered_pdf").message
    report = intake.verify_attachment(good, m.attachments(good)[0].filename, pki)
    assert report.ok and len(report.signatures) == 2
    report = intake.verify_attachment(bad, m.attachments(bad)[0].filename, pki)
    assert not report.ok
    assert {c.split(".")[1] for c in report.failed()} & {"integrity", "modifications"}


def test_forward_keeps_the_signature_valid(signed_scenario, pki):
    """Does a forwarded signed PDF still verify (the attachment's bytes are kept)?"""
    good = pick(signed_scenario, "signed_document").message
    fwd = m.parse(m.to_bytes(m.forward(good, VANTHU, "chutich@badinh.hanoi.gov.vn.example")))
    assert intake.verify_attachment(fwd, m.attachments(fwd)[0].filename, pki).ok


def test_attachment_goes_into_the_register(registry, signed_scenario, store):
    """Is the attached signed document registered as văn bản đến with its số đến, the
    signature checked, the sender as author and the e-mail named in the note?"""
    msg = pick(signed_scenario, "signed_document").message
    key = store.deliver(VANTHU, msg)
    entry = register(registry, store.get(VANTHU, key))
    assert entry["arrival_number"] == 1 and entry["medium"] == "electronic"
    assert entry["signature_status"] == "valid"
    assert entry["author"] == "Sở Nội vụ thành phố Hà Nội"
    assert "thư điện tử" in entry["note"]
    assert registry.incoming_register("UBND", 2026)[0]["symbol"] == entry["symbol"]
    assert store.keys(VANTHU) == [key]  # the mail stays where it was


def test_tampered_attachment_is_refused_and_nothing_is_stored(registry, signed_scenario):
    """Is a tampered signed PDF refused by the register's own check, nothing registered?"""
    with pytest.raises(ValidationError) as info:
        register(registry, pick(signed_scenario, "tampered_pdf").message)
    assert any("chữ ký số" in p.lower() for p in info.value.problems)
    assert registry.inbox("UBND") == []


def test_page_added_after_signing_is_refused(registry, signed_scenario):
    """Is a PDF with a page added after signing (incremental update) refused too?"""
    msg = pick(signed_scenario, "signed_document").message
    att = m.attachments(msg)[0]
    changed = m.compose(str(msg["From"]), VANTHU, str(msg["Subject"]), "x",
                        attachments=[(att.filename, tamper.add_page(att.data), "application/pdf")])
    with pytest.raises(ValidationError):
        register(registry, changed)
    assert registry.inbox("UBND") == []


def test_secret_document_is_not_taken_in_from_email(registry, signed_scenario):
    """Is a document marked MẬT refused before the register is touched?"""
    msg = pick(signed_scenario, "signed_document").message
    att = m.attachments(msg)[0]
    secret = m.compose(str(msg["From"]), VANTHU, "MẬT - Kế hoạch bảo vệ", "x",
                       attachments=[(att.filename, att.data, "application/pdf")])
    with pytest.raises(MailError) as info:
        register(registry, secret)
    assert "Tài liệu mật" in info.value.user_message
    assert registry.inbox("UBND") == []


def test_scenario_pki_clock_is_the_signing_moment(signed_scenario):
    """Are the signed documents dated before 'now' of the PKI (signed two days earlier)?"""
    sm = pick(signed_scenario, "signed_document")
    assert sm.message["Date"].datetime < T0 + dt.timedelta(days=20)
