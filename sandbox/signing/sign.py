"""Signing PDFs the way NĐ 30/2020 Phụ lục I describes (shared/domain/README.md §1.10).

- `sign_personal`: the competent person's signature, visible, the blue signature image centred
  above the signer's name (ô 7c, PL I §II.7d);
- `sign_organisation`: the organisation's signature, the red seal image overlapping about 1/3 of
  the personal signature on its left side (ô 8, PL I §II.8a); only after a personal signature
  (Điều 32.2d);
- `sign_copy` / `sign_attachment`: the organisation's signature top right of page 1, no image,
  text "<hình thức sao>; <tên cơ quan>; <ISO 8601 +07:00>" or "<số, ký hiệu>; <time>",
  Times New Roman 10, black (PL I §II.8b, §III.1d, Part II §I.3).

Every function checks before signing that the certificate is valid and not revoked at the
signing time (NĐ 68/2024 Điều 29-31) and refuses with a Vietnamese message otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from asn1crypto import cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image
from pyhanko.pdf_utils import content, layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, general, signers
from pyhanko.sign.general import get_pyca_cryptography_hash, simple_cms_attribute
from pyhanko.sign.signers.pdf_signer import PdfSigner
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.stamp.static import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from kynangso.asyncio_compat import off_loop
from kynangso.errors import KnsError
from sandbox.signing import images
from sandbox.signing.pki import TrainingPKI, cert_kind, name_attr

log = logging.getLogger(__name__)
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MM = 72 / 25.4
# Liberation Serif (Times metrics) here lacks precomposed Vietnamese letters; DejaVu has them.
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"

FIELD_PERSONAL = "ChuKyCaNhan"
FIELD_ORGANISATION = "ChuKyCoQuan"
FIELD_COPY = "ChuKySaoY"
FIELD_ATTACHMENT = "ChuKyTepDinhKem"


def vn_time(when: dt.datetime) -> str:
    """ISO 8601 in Vietnam time, e.g. 2026-03-15T09:30:12+07:00 (PL I Part II §I.3)."""
    return when.astimezone(VN_TZ).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Box:
    """Where a visible signature goes: page index (0-based, -1 = last) and a rectangle in pt."""

    page: int
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class SigningKey:
    """A subscriber's key, loaded from PKCS#12 and checked for use at `when`."""

    signer: signers.SimpleSigner
    cert: x509.Certificate
    kind: str | None

    @property
    def common_name(self) -> str:
        return name_attr(self.cert, x509.NameOID.COMMON_NAME) or ""

    @property
    def title(self) -> str | None:
        return name_attr(self.cert, x509.NameOID.TITLE)


# -- input checks ---------------------------------------------------------------------------


def check_pdf(data: bytes, name: str = "tệp") -> PdfFileReader:
    """A readable, unencrypted PDF, or a KnsError saying what is wrong with it."""
    if b"%PDF-" not in data[:1024]:
        raise KnsError("signing.not_pdf", log_detail=f"{name}: no %PDF- header", file=name)
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        encrypted = reader.encrypted
        if not encrypted:
            _ = reader.root["/Pages"]["/Count"]
    except Exception as exc:  # pyHanko raises many kinds on broken files
        raise KnsError("signing.pdf_corrupt", log_detail=f"{name}: {exc!r}", file=name) from None
    if encrypted:
        raise KnsError("signing.pdf_encrypted", file=name)
    return reader


def load_key(
    p12: str | Path | bytes,
    passphrase: str,
    pki: TrainingPKI,
    when: dt.datetime | None = None,
    enforce: bool = True,
) -> SigningKey:
    """Open a PKCS#12 key file and check the certificate may sign at `when`.

    `enforce=False` skips the validity checks: only the scenario generator uses it, to make the
    faulty documents learners must detect.
    """
    when = when or pki.clock()
    if isinstance(p12, bytes):
        data = p12
    else:
        try:
            data = Path(p12).read_bytes()
        except PermissionError:
            raise KnsError("signing.key_forbidden", file=p12) from None
        except (FileNotFoundError, IsADirectoryError):
            raise KnsError("signing.key_missing", file=p12) from None
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(data, passphrase.encode("utf-8"))
    except ValueError:
        raise KnsError("signing.wrong_passphrase") from None
    if key is None or cert is None:
        raise KnsError("signing.key_incomplete")
    if enforce:
        _check_usable(cert, pki, when)
    asn_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    store = SimpleCertificateStore()
    store.register_multiple([_asn1(pki.issuing), _asn1(pki.root)])
    signer = signers.SimpleSigner(signing_cert=asn_cert, signing_key=key_info, cert_registry=store)
    return SigningKey(signer, cert, cert_kind(cert))


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _check_usable(cert: x509.Certificate, pki: TrainingPKI, when: dt.datetime) -> None:
    """Refuse a certificate not issued by the training CA, expired, not yet valid or revoked
    (NĐ 68/2024 Điều 29.1, 31)."""
    try:
        cert.verify_directly_issued_by(pki.issuing)
    except Exception:
        raise KnsError("signing.cert_untrusted", subject=cert.subject.rfc4514_string()) from None
    if when > cert.not_valid_after_utc:
        raise KnsError("signing.cert_expired", until=vn_time(cert.not_valid_after_utc))
    if when < cert.not_valid_before_utc:
        raise KnsError("signing.cert_not_yet_valid", since=vn_time(cert.not_valid_before_utc))
    entry = pki.crl().get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None and entry.revocation_date_utc <= when:
        raise KnsError("signing.cert_revoked", at=vn_time(entry.revocation_date_utc))


# -- the signing core -----------------------------------------------------------------------


class _ClockedPdfSigner(PdfSigner):
    """PdfSigner whose signing time comes from our clock instead of the system's (tests and
    scenarios sign in the past)."""

    def __init__(self, *args, signing_time: dt.datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._signing_time
        return session


def _free_field_name(reader: PdfFileReader, base: str) -> str:
    taken = {s.field_name for s in reader.embedded_signatures}
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    return name


class _TrainingTimeStamper(DummyTimeStamper):
    """pyHanko's DummyTimeStamper signing with a key object loaded once. The original loads its
    RSA key from DER at every timestamp, and OpenSSL checks the whole key at each load (30-60 ms,
    two per signed PDF: the largest single cost of signing a document here). The body is
    DummyTimeStamper._sign_tst_info of pyHanko 0.38 with the loaded key
    (tests/sandbox/signing verify every timestamp it makes)."""

    def __init__(self, *, tsa_private_key, **kwargs):
        super().__init__(**kwargs)
        self.tsa_private_key = tsa_private_key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: dt.datetime):
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self.tsa_private_key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


def _sign(
    pdf: bytes,
    key: SigningKey,
    pki: TrainingPKI,
    *,
    field: str,
    box: Box | None,
    style,
    when: dt.datetime,
    reason: str,
    reader: PdfFileReader,
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    field = _free_field_name(reader, field)
    if box is not None:
        page = box.page if box.page >= 0 else _page_count(reader) + box.page
        spec = fields.SigFieldSpec(field, on_page=page, box=(box.x1, box.y1, box.x2, box.y2))
    else:
        spec = fields.SigFieldSpec(field)
    timestamper = None
    if pki.tsa_key_readable():
        # A training TSA (pyHanko's DummyTimeStamper) vouches for the signing time, so the
        # verifier can judge the certificate at that time (NĐ 68/2024 Điều 29.4).
        tsa_key = pki.tsa_key()
        der = tsa_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        timestamper = _TrainingTimeStamper(
            tsa_private_key=tsa_key,
            tsa_cert=_asn1(pki.tsa),
            tsa_key=asn1_keys.PrivateKeyInfo.load(der),
            certs_to_embed=SimpleCertificateStore.from_certs([_asn1(pki.issuing), _asn1(pki.root)]),
            fixed_dt=when,
        )
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        name=key.common_name,
    )
    signer = _ClockedPdfSigner(
        meta,
        key.signer,
        timestamper=timestamper,
        stamp_style=style,
        new_field_spec=spec,
        signing_time=when,
    )
    # pyHanko runs asyncio.run inside: off the kernel's loop when there is one.
    return off_loop(signer.sign_pdf, writer).getvalue()


def _page_count(reader: PdfFileReader) -> int:
    return int(reader.root["/Pages"]["/Count"])


def _image_style(png: bytes) -> StaticStampStyle:
    return StaticStampStyle(
        background=PdfImage(Image.open(io.BytesIO(png))),
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
        ),
    )


def _require_kind(key: SigningKey, kind: str) -> None:
    if key.kind != kind:
        raise KnsError(f"signing.need_{kind}_cert", subject=key.common_name)


# -- placement ------------------------------------------------------------------------------


def locate_name(pdf: bytes, full_name: str) -> Box | None:
    """Where `full_name` is printed on the last page that has it (the signer's name line, ô 7b),
    as a box around the text, or None."""
    from pypdf import PdfReader

    wanted = unicodedata.normalize("NFC", full_name).strip()
    try:
        reader = PdfReader(io.BytesIO(pdf))
    except Exception as exc:
        log.info("pypdf cannot open the document: %r", exc)
        return None
    for index in range(len(reader.pages) - 1, -1, -1):
        found: list[tuple[float, float, float]] = []

        def visit(text, cm, tm, font_dict, font_size, found=found):
            if wanted and wanted in unicodedata.normalize("NFC", text or ""):
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                found.append((x, y, float(font_size or 12) * (cm[0] or 1)))

        try:
            reader.pages[index].extract_text(visitor_text=visit)
        except Exception as exc:  # text extraction is best effort; fall back to the default
            log.info("cannot read the text of page %s: %r", index + 1, exc)
            continue
        if found:
            x, y, size = found[-1]
            width = len(wanted) * size * 0.5
            return Box(index, x, y, x + width, y + size)
    return None


def personal_box(pdf: bytes, full_name: str) -> Box:
    """The signature image box: 50 x 20 mm, centred on the name line, just above it (ô 7c);
    bottom right of the last page when the name is not found."""
    w, h = images.SIGNATURE_MM[0] * MM, images.SIGNATURE_MM[1] * MM
    name = locate_name(pdf, full_name)
    if name is None:
        return Box(-1, 330, 120, 330 + w, 120 + h)
    cx = (name.x1 + name.x2) / 2
    bottom = name.y2 + 2
    return Box(name.page, cx - w / 2, bottom, cx + w / 2, bottom + h)


def seal_box(personal: Box) -> Box:
    """The seal at real size, covering about 1/3 of the signature on its left side (ô 8)."""
    d = images.SEAL_MM * MM
    right = personal.x1 + (personal.x2 - personal.x1) / 3
    cy = (personal.y1 + personal.y2) / 2
    return Box(personal.page, right - d, cy - d / 2, right, cy + d / 2)


def signature_boxes(reader: PdfFileReader) -> list[tuple[str, Box | None, str | None]]:
    """(field name, widget box, certificate kind) of each signature, in signing order."""
    out = []
    pages = reader.root["/Pages"]
    page_refs = _page_refs(pages)
    for sig in reader.embedded_signatures:
        f = sig.sig_field
        rect = f.get("/Rect")
        box = None
        if rect is not None and abs(float(rect[2]) - float(rect[0])) > 1:
            page = 0
            p = f.get_value_as_reference("/P") if "/P" in f else None
            if p is not None and p in page_refs:
                page = page_refs.index(p)
            box = Box(page, *(float(v) for v in rect))
        cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
        out.append((sig.field_name, box, cert_kind(cert)))
    return out


def _page_refs(node) -> list:
    refs = []
    for kid in node["/Kids"]:
        obj = kid.get_object()
        if obj.get("/Type") == "/Pages":
            refs.extend(_page_refs(obj))
        else:
            refs.append(kid.reference if hasattr(kid, "reference") else kid)
    return refs


# -- public functions -----------------------------------------------------------------------


def sign_personal(
    pdf: bytes,
    key: SigningKey,
    pki: TrainingPKI,
    *,
    box: Box | None = None,
    when: dt.datetime | None = None,
    image: bytes | None = None,
    name: str = "tệp",
) -> bytes:
    """Sign as the competent person: visible signature image above the signer's name."""
    when = when or pki.clock()
    reader = check_pdf(pdf, name)
    _require_kind(key, "personal")
    box = box or personal_box(pdf, key.common_name)
    style = _image_style(image or images.signature_png(key.common_name))
    return _sign(
        pdf,
        key,
        pki,
        field=FIELD_PERSONAL,
        box=box,
        style=style,
        when=when,
        reason="Ký ban hành (chữ ký số cá nhân)",
        reader=reader,
    )


def sign_organisation(
    pdf: bytes,
    key: SigningKey,
    pki: TrainingPKI,
    *,
    box: Box | None = None,
    when: dt.datetime | None = None,
    image: bytes | None = None,
    province: str | None = None,
    name: str = "tệp",
) -> bytes:
    """Sign as the organisation (Văn thư): the seal over the left third of the personal
    signature. Refused on a document with no personal signature yet (NĐ 30/2020 Điều 32.2d)."""
    when = when or pki.clock()
    reader = check_pdf(pdf, name)
    _require_kind(key, "organisation")
    if box is None:
        personal = [b for _n, b, kind in signature_boxes(reader) if kind == "personal" and b]
        if not personal:
            raise KnsError("signing.org_needs_personal")
        box = seal_box(personal[-1])
    province = province or name_attr(key.cert, x509.NameOID.STATE_OR_PROVINCE_NAME) or ""
    style = _image_style(image or images.seal_png(key.common_name, province))
    return _sign(
        pdf,
        key,
        pki,
        field=FIELD_ORGANISATION,
        box=box,
        style=style,
        when=when,
        reason="Ký số của cơ quan, tổ chức (phát hành)",
        reader=reader,
    )


def _text_style(text: str, folder: Path) -> tuple[StaticStampStyle, float, float]:
    """A vector text appearance (TNR-metric font, 10 pt, black), made as a one-page PDF with
    reportlab: pyHanko's own text stamps have no Vietnamese glyphs without extra packages."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "KNSSerif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("KNSSerif", FONT_PATH))
    width = pdfmetrics.stringWidth(text, "KNSSerif", 10) + 4
    height = 14.0
    path = folder / "stamp.pdf"
    c = canvas.Canvas(str(path), pagesize=(width, height))
    c.setFont("KNSSerif", 10)
    c.setFillColorRGB(0, 0, 0)
    c.drawString(2, 4, text)
    c.save()
    style = StaticStampStyle(
        background=content.ImportedPdfPage(str(path)),
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
        ),
    )
    return style, width, height


def _sign_top_right(
    pdf: bytes,
    key: SigningKey,
    pki: TrainingPKI,
    text: str,
    field: str,
    when: dt.datetime,
    reason: str,
    name: str = "tệp",
) -> bytes:
    reader = check_pdf(pdf, name)
    _require_kind(key, "organisation")
    page = reader.root["/Pages"]
    first = page
    while first.get("/Type") == "/Pages":
        first = first["/Kids"][0].get_object()
    media = first.get("/MediaBox") or page.get("/MediaBox") or [0, 0, 595.28, 841.89]
    pw, ph = float(media[2]), float(media[3])
    with tempfile.TemporaryDirectory() as tmp:
        style, w, h = _text_style(text, Path(tmp))
        right, top = pw - 15 * MM, ph - 8 * MM  # inside the right and top margins (PL I §I)
        box = Box(0, right - w, top - h, right, top)
        return _sign(
            pdf,
            key,
            pki,
            field=field,
            box=box,
            style=style,
            when=when,
            reason=reason,
            reader=reader,
        )


def copy_text(form: str, organisation: str, when: dt.datetime) -> str:
    """The visible text of an electronic copy's signature (PL I Part II §I.3)."""
    return f"{form}; {organisation}; {vn_time(when)}"


def attachment_text(doc_number: str, when: dt.datetime) -> str:
    """The visible text of an attachment's signature (PL I §II.8b, Mẫu 2.2)."""
    return f"{doc_number}; {vn_time(when)}"


def sign_copy(
    pdf: bytes,
    key: SigningKey,
    pki: TrainingPKI,
    *,
    form: str = "SAO Y",
    when: dt.datetime | None = None,
    name: str = "tệp",
) -> bytes:
    """Sign an electronic copy (sao y / sao lục / trích sao): top right of page 1, no image,
    "<hình thức sao>; <tên cơ quan>; <thời gian ký ISO 8601 +07:00>" (PL I Part II §I.3)."""
    when = when or pki.clock()
    if form not in {"SAO Y", "SAO LỤC", "TRÍCH SAO"}:
        raise KnsError("signing.copy_form", form=form)
    text = copy_text(form, key.common_name, when)
    return _sign_top_right(
        pdf, key, pki, text, FIELD_COPY, when, f"{form.capitalize()} điện tử", name
    )


def sign_attachment(
    pdf: bytes,
    key: SigningKey,
    pki: TrainingPKI,
    *,
    doc_number: str,
    when: dt.datetime | None = None,
    name: str = "tệp",
) -> bytes:
    """Sign an attachment or appendix in a separate file: top right of page 1, no image,
    "<số, ký hiệu>; <thời gian ký ISO 8601 +07:00>" (PL I §II.8b, §III.1d)."""
    when = when or pki.clock()
    text = attachment_text(doc_number, when)
    return _sign_top_right(
        pdf, key, pki, text, FIELD_ATTACHMENT, when, "Ký số văn bản kèm theo", name
    )
