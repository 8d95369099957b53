"""Signing and the verification report: round trips, tampering, bad certificates, bad input."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from kynangso.errors import KnsError
from sandbox.signing import sign, tamper
from sandbox.signing.verify import verify_pdf
from tests.sandbox.signing.conftest import PASS, T0


def _failed(report) -> set[str]:
    return set(report.failed())


def test_round_trip_is_valid(keys, signed):
    """Does a document signed by the person then the organisation verify with every check OK?"""
    report = verify_pdf(signed, keys.pki(T0 + dt.timedelta(days=30)), name="cv.pdf")
    assert report.ok, report.to_text()
    assert [s.kind for s in report.signatures] == ["personal", "organisation"]
    first = report.signatures[0]
    assert (first.signer, first.title) == ("Nguyễn Văn An", "Phó Chủ tịch")
    assert first.signing_time == "2026-01-05T09:00:00+07:00"
    assert first.time_source == "tsa"
    assert "HỢP LỆ" in report.to_text()


def test_report_as_data_has_one_entry_per_check(keys, signed):
    """Does the data form list each check once, with id, ok and a Vietnamese message?"""
    data = verify_pdf(signed, keys.pki()).as_dict()
    ids = [c["id"] for c in data["checks"]]
    assert len(ids) == len(set(ids))
    for check in (
        "integrity",
        "crypto",
        "time",
        "chain",
        "validity",
        "revocation",
        "signer",
        "modifications",
    ):
        assert f"sig1.{check}" in ids and f"sig2.{check}" in ids
    assert {"doc.signed", "doc.personal", "doc.organisation", "doc.order"} <= set(ids)
    assert all(c["ok"] is True and c["message"] for c in data["checks"])


def test_seal_overlaps_left_third_of_signature(keys, signed):
    """Is the seal's right edge one third into the personal signature, on the same page?"""
    from pyhanko.pdf_utils.reader import PdfFileReader

    boxes = sign.signature_boxes(PdfFileReader(io.BytesIO(signed), strict=False))
    (_, personal, k1), (_, seal, k2) = boxes
    assert (k1, k2) == ("personal", "organisation")
    assert personal.page == seal.page == 1
    third = personal.x1 + (personal.x2 - personal.x1) / 3
    assert seal.x1 < personal.x1 < seal.x2 == pytest.approx(third, abs=0.5)


def test_changed_byte_is_detected(keys, signed):
    """Is one changed byte inside the signed range reported as an integrity failure?"""
    report = verify_pdf(tamper.change_byte(signed), keys.pki())
    assert {"sig1.integrity", "sig2.integrity"} <= _failed(report)
    assert "bị thay đổi" in report.check("sig2.integrity").message


def test_added_page_is_detected(keys, signed):
    """Is a page appended after signing reported, with the page count in the message?"""
    report = verify_pdf(tamper.add_page(signed), keys.pki())
    assert "sig2.modifications" in _failed(report)
    assert "thêm 1 trang" in report.check("sig2.modifications").message
    assert report.check("sig2.integrity").ok  # the signed revision itself is intact


def test_incremental_content_is_detected(keys, signed):
    """Is new page content added in an incremental update reported as a modification?"""
    report = verify_pdf(tamper.add_content(signed), keys.pki())
    assert {"sig1.modifications", "sig2.modifications"} <= _failed(report)
    assert "SỬA ĐỔI" in report.check("sig2.modifications").message
    assert "nội dung trang 1" in report.check("sig2.modifications").message


def test_removed_organisation_signature_is_detected(keys, signed):
    """Is a document cut back to the personal signature reported as missing the organisation's?"""
    report = verify_pdf(tamper.truncate_to_signature(signed, 0), keys.pki())
    assert _failed(report) == {"doc.organisation"}


def test_stripped_signatures_are_detected(keys, signed):
    """Is a document rewritten without its signatures reported as unsigned?"""
    report = verify_pdf(tamper.strip_signatures(signed), keys.pki())
    assert {"doc.signed", "doc.personal", "doc.organisation"} <= _failed(report)


def test_organisation_before_person_is_wrong_order(keys, document):
    """Is an organisation signature made before the personal one reported as the wrong order?"""
    pki = keys.pki(T0)
    org = sign.load_key(keys.organisation.key_path, PASS, pki)
    box = sign.Box(1, 200, 200, 300, 300)
    first = sign.sign_organisation(document, org, pki, box=box)
    both = sign.sign_personal(first, sign.load_key(keys.personal.key_path, PASS, pki), pki)
    assert _failed(verify_pdf(both, pki)) == {"doc.order"}


def test_missing_organisation_signature(keys, document):
    """Is a document with only the personal signature flagged for the missing seal only?"""
    pki = keys.pki(T0)
    one = sign.sign_personal(document, sign.load_key(keys.personal.key_path, PASS, pki), pki)
    report = verify_pdf(one, pki)
    assert _failed(report) == {"doc.organisation"}
    assert verify_pdf(one, pki, profile="any").ok


def test_organisation_signature_needs_personal_first(keys, document):
    """Is Văn thư refused the organisation signature on a document nobody has signed?"""
    pki = keys.pki(T0)
    org = sign.load_key(keys.organisation.key_path, PASS, pki)
    with pytest.raises(KnsError) as err:
        sign.sign_organisation(document, org, pki)
    assert err.value.key == "signing.org_needs_personal"


# -- certificates ----------------------------------------------------------------------------


def _sign_unchecked(keys, document, cert, when):
    pki = keys.pki(when)
    key = sign.load_key(cert.key_path, PASS, pki, enforce=False)
    return sign.sign_personal(document, key, pki), pki


def test_expired_certificate_refused_for_signing(keys, document):
    """Is signing with an expired certificate refused, saying since when it expired?"""
    with pytest.raises(KnsError) as err:
        sign.load_key(keys.expired.key_path, PASS, keys.pki(T0))
    assert err.value.key == "signing.cert_expired"
    assert "hết hạn" in err.value.user_message


def test_expired_certificate_signature_rejected(keys, document):
    """Is a signature made after the certificate expired reported as expired at signing?"""
    pdf, pki = _sign_unchecked(keys, document, keys.expired, T0)
    report = verify_pdf(pdf, pki, profile="any")
    assert _failed(report) == {"sig1.validity"}
    assert "HẾT HẠN" in report.check("sig1.validity").message


def test_certificate_expired_after_signing_still_valid(keys, document):
    """Is a signature made while the certificate was valid accepted after it expires?"""
    when = keys.expired.not_before + dt.timedelta(days=1)
    pdf, _ = _sign_unchecked(keys, document, keys.expired, when)
    assert verify_pdf(pdf, keys.pki(T0), profile="any").ok


def test_revoked_certificate_refused_for_signing(keys):
    """Is signing with a revoked certificate refused?"""
    with pytest.raises(KnsError) as err:
        sign.load_key(keys.revoked_before.key_path, PASS, keys.pki(T0))
    assert err.value.key == "signing.cert_revoked"


def test_revoked_before_signing_rejected(keys, document):
    """Is a signature made after the certificate's revocation rejected?"""
    pdf, pki = _sign_unchecked(keys, document, keys.revoked_before, T0)
    report = verify_pdf(pdf, pki, profile="any")
    assert _failed(report) == {"sig1.revocation"}
    assert "THU HỒI" in report.check("sig1.revocation").message


def test_revoked_after_signing_still_valid(keys, document):
    """Does a revocation after the signing time leave the signature valid, and say so?"""
    pdf, _ = _sign_unchecked(keys, document, keys.revoked_after, T0)
    report = verify_pdf(pdf, keys.pki(T0 + dt.timedelta(days=30)), profile="any")
    assert report.ok, report.to_text()
    assert "SAU thời điểm ký" in report.check("sig1.revocation").message


def test_untrusted_certificate_rejected(keys, document):
    """Is a signature by a certificate from another CA (same name) reported as untrusted?"""
    from sandbox.signing.pki import TrainingPKI

    rogue_pki = TrainingPKI(keys.rogue_dir, clock=lambda: T0)
    pdf = sign.sign_personal(
        document, sign.load_key(keys.rogue.key_path, PASS, rogue_pki), rogue_pki
    )
    report = verify_pdf(pdf, keys.pki(T0), profile="any")
    assert {"sig1.chain", "sig1.revocation"} <= _failed(report)
    assert report.check("sig1.integrity").ok and report.check("sig1.crypto").ok
    with pytest.raises(KnsError) as err:  # and our signing tools refuse that key
        sign.load_key(keys.rogue.key_path, PASS, keys.pki(T0))
    assert err.value.key == "signing.cert_untrusted"


def test_wrong_passphrase(keys):
    """Is a wrong passphrase refused with a message saying so?"""
    with pytest.raises(KnsError) as err:
        sign.load_key(keys.personal.key_path, "sai-mat-khau", keys.pki(T0))
    assert err.value.key == "signing.wrong_passphrase"
    assert "Mật khẩu" in err.value.user_message


def test_personal_certificate_cannot_seal(keys, signed):
    """Is a personal certificate refused for the organisation signature?"""
    pki = keys.pki(T0)
    with pytest.raises(KnsError) as err:
        sign.sign_organisation(signed, sign.load_key(keys.personal.key_path, PASS, pki), pki)
    assert err.value.key == "signing.need_organisation_cert"


# -- bad input -------------------------------------------------------------------------------


def test_non_pdf_refused(keys):
    """Is a file that is not a PDF refused by both signing and verifying?"""
    pki = keys.pki(T0)
    key = sign.load_key(keys.personal.key_path, PASS, pki)
    for action in (
        lambda: sign.sign_personal(b"PK\x03\x04 a docx", key, pki),
        lambda: verify_pdf(b"hello", pki),
    ):
        with pytest.raises(KnsError) as err:
            action()
        assert err.value.key == "signing.not_pdf"


def test_corrupted_pdf_refused(keys, document):
    """Is a truncated PDF reported as corrupted?"""
    with pytest.raises(KnsError) as err:
        verify_pdf(document[:400], keys.pki(T0))
    assert err.value.key == "signing.pdf_corrupt"


def test_encrypted_pdf_refused(keys, document):
    """Is a password-protected PDF refused with advice to remove the password?"""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(document)))
    writer.encrypt("bi-mat", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    pki = keys.pki(T0)
    key = sign.load_key(keys.personal.key_path, PASS, pki)
    for action in (
        lambda: verify_pdf(out.getvalue(), pki),
        lambda: sign.sign_personal(out.getvalue(), key, pki),
    ):
        with pytest.raises(KnsError) as err:
            action()
        assert err.value.key == "signing.pdf_encrypted"


# -- copies and attachments ------------------------------------------------------------------


def _appearance_has_image(pdf: bytes) -> bool:
    """Does any signature widget's appearance draw an image (directly or nested)?"""
    from pypdf import PdfReader

    def walk(xobj, depth=0) -> bool:
        if xobj.get("/Subtype") == "/Image":
            return True
        res = xobj.get("/Resources") or {}
        for sub in (res.get("/XObject") or {}).values():
            if depth < 5 and walk(sub.get_object(), depth + 1):
                return True
        return False

    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/FT") == "/Sig" and walk(annot["/AP"]["/N"].get_object()):
                return True
    return False


def test_electronic_copy_top_right_without_image(keys, document):
    """Is a copy signed top right of page 1, with no image and the SAO Y text and +07:00 time?"""
    from pyhanko.pdf_utils.reader import PdfFileReader

    pki = keys.pki(T0)
    org = sign.load_key(keys.organisation.key_path, PASS, pki)
    pdf = sign.sign_copy(document, org, pki)
    ((_, box, kind),) = sign.signature_boxes(PdfFileReader(io.BytesIO(pdf), strict=False))
    assert kind == "organisation" and box.page == 0
    assert box.x2 == pytest.approx(595.27 - 15 * sign.MM, abs=1)  # right margin, A4
    assert box.y2 == pytest.approx(841.89 - 8 * sign.MM, abs=1)  # in the top margin
    assert not _appearance_has_image(pdf)
    personal = sign.sign_personal(document, sign.load_key(keys.personal.key_path, PASS, pki), pki)
    assert _appearance_has_image(personal)  # the control: a personal signature has its image
    assert sign.copy_text("SAO Y", org.common_name, T0) == (
        "SAO Y; Ủy ban nhân dân phường Hòa Bình; 2026-01-05T09:00:00+07:00"
    )
    report = verify_pdf(pdf, pki, profile="copy")
    assert report.ok, report.to_text()
    assert report.signatures[0].signing_time == "2026-01-05T09:00:00+07:00"


def test_attachment_signed_with_number_and_time(keys, document):
    """Is an attachment signed by the organisation top right, verified under 'attachment'?"""
    pki = keys.pki(T0)
    org = sign.load_key(keys.organisation.key_path, PASS, pki)
    pdf = sign.sign_attachment(document, org, pki, doc_number="Số: 12/QĐ-UBND")
    assert not _appearance_has_image(pdf)
    assert sign.attachment_text("Số: 12/QĐ-UBND", T0) == (
        "Số: 12/QĐ-UBND; 2026-01-05T09:00:00+07:00"
    )
    assert verify_pdf(pdf, pki, profile="attachment").ok
    assert verify_pdf(pdf, pki).failed() == ["doc.personal"]
