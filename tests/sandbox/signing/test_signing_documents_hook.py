"""The document register checks signatures with the signing sandbox (NĐ 30/2020 Điều 21.2)."""

import datetime as dt
import hashlib

import pytest

from kynangso.errors import ValidationError
from sandbox.documents import workflow
from sandbox.documents.integrity import DefaultIntegrityCheck, pdf_signature_verifier
from sandbox.documents.storage import Actor, Registry
from sandbox.signing import tamper
from tests.sandbox.signing.conftest import T0


@pytest.fixture
def registry(tmp_path, keys):
    check = DefaultIntegrityCheck(signature_verifier=pdf_signature_verifier(keys.pki(T0)))
    reg = Registry(tmp_path / "vb.sqlite", integrity_check=check, clock=lambda: dt.datetime(2026, 1, 6, 9))
    reg.add_organisation("UBND", "Ủy ban nhân dân phường Hòa Bình")
    return reg


def register(registry, pdf: bytes):
    clerk = Actor("vanthu", workflow.VAN_THU)
    return registry.register_incoming(
        "UBND", clerk, author="Sở Nội vụ", symbol="05/UBND-VP", doc_date=dt.date(2026, 1, 5),
        type_name="Công văn", subject="tổ chức tập huấn chữ ký số", medium="electronic",
        content=pdf, declared_sha256=hashlib.sha256(pdf).hexdigest(),
    )


def test_validly_signed_document_is_registered_as_signed(registry, signed):
    """Is a document with both valid signatures registered with signature status 'valid'?"""
    assert register(registry, signed)["signature_status"] == "valid"


def test_tampered_document_is_returned_not_registered(registry, signed):
    """Is a document changed after signing refused with the reason, even with a matching hash?"""
    with pytest.raises(ValidationError) as info:
        register(registry, tamper.add_page(signed))
    assert any("chữ ký số" in p.lower() for p in info.value.problems)


def test_unsigned_pdf_is_marked_absent(registry, document):
    """Is a PDF without signatures registered as unsigned (absent), not as valid?"""
    assert register(registry, document)["signature_status"] == "absent"
