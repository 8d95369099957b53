"""The verification report: every check of shared/domain/README.md §2.5, item by item, in
Vietnamese, and the same checks as data for graders.

Each signature gets these checks (id `sig<N>.<check>`, N counted from 1 in signing order):

    integrity      the signed bytes are unchanged (hash matches)          Luật GDĐT 2023 Đ.22.3(d)
    crypto         the signature verifies with the certificate's key      Luật GDĐT 2023 Đ.3
    time           the signing time and where it comes from (TSA/claimed) NĐ 68/2024 Đ.29.4
    chain          the certificate chains to the training root            NĐ 68/2024 Đ.32
    validity       the certificate was valid at the signing time          NĐ 68/2024 Đ.31.1(a)
    revocation     not revoked at the signing time (CRL)                  NĐ 68/2024 Đ.31.2
    signer         signer's name, title, organisation, certificate kind   NĐ 68/2024 Đ.31.1(b)
    modifications  incremental updates after this signature, described    Luật GDĐT 2023 Đ.22.3(d)

and the document gets `doc.signed`, and for an administrative document `doc.personal`,
`doc.organisation` and `doc.order` (NĐ 30/2020 Điều 5, 32.2d).

pyHanko does the cryptography, the difference analysis and the path validation at the signing
time (ValidationContext `moment`, with the CA's CRL and `retroactive_revinfo`, so that a
certificate revoked after signing keeps the signature valid); the dates are also compared here
directly so that each line can say exactly what is wrong.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from kynangso.asyncio_compat import off_loop
from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.signing.pki import ROOT_NAME, TrainingPKI, cert_kind, name_attr
from sandbox.signing.sign import check_pdf, vn_time

log = logging.getLogger(__name__)

PROFILES = ("administrative", "copy", "attachment", "any")
KIND_LABEL = {"personal": "kind_personal", "organisation": "kind_organisation", None: "kind_other"}


@dataclass
class Check:
    """One line of the report: `id` is stable for graders, `message` is for people."""

    id: str
    ok: bool
    message: str
    signature: int | None = None


@dataclass
class SignatureSummary:
    index: int
    field: str
    kind: str | None
    signer: str | None
    title: str | None
    organisation: str | None
    serial: str
    signing_time: str | None
    time_source: str
    ok: bool = True


@dataclass
class Report:
    file: str
    profile: str
    checks: list[Check] = field(default_factory=list)
    signatures: list[SignatureSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def failed(self) -> list[str]:
        return [c.id for c in self.checks if not c.ok]

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "profile": self.profile,
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
            "signatures": [asdict(s) for s in self.signatures],
        }

    def to_text(self) -> str:
        head = t("signing.v_verdict_ok" if self.ok else "signing.v_verdict_bad", file=self.file)
        lines = [head]
        for c in self.checks:
            lines.append(f"  [{'ĐẠT' if c.ok else 'KHÔNG ĐẠT'}] {c.message}")
        return "\n".join(lines)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _context(pki: TrainingPKI, moment: dt.datetime) -> ValidationContext:
    return ValidationContext(
        trust_roots=[_asn1(pki.root)],
        other_certs=[_asn1(pki.issuing), _asn1(pki.tsa)],
        crls=[pki.crl_bytes()],
        moment=moment,
        revocation_mode="hard-fail",
        retroactive_revinfo=True,
    )


def _chains_to_root(cert: x509.Certificate, pki: TrainingPKI) -> bool:
    try:
        cert.verify_directly_issued_by(pki.issuing)
        pki.issuing.verify_directly_issued_by(pki.root)
    except Exception:
        return False
    return True


def verify_pdf(
    data: bytes, pki: TrainingPKI, *, name: str = "tệp", profile: str = "administrative"
) -> Report:
    """Check every signature of a PDF and, per `profile`, the signatures an administrative
    document needs. Bad input (not a PDF, corrupted, encrypted) raises KnsError."""
    if profile not in PROFILES:
        raise ValueError(profile)
    reader = check_pdf(data, name)
    report = Report(file=name, profile=profile)
    try:
        sigs = reader.embedded_signatures
    except Exception as exc:  # a signature dictionary too damaged to list
        raise KnsError("signing.pdf_corrupt", log_detail=f"{name}: {exc!r}", file=name) from None
    report.checks.append(
        Check(
            "doc.signed",
            bool(sigs),
            t("signing.v_signed_ok" if sigs else "signing.v_signed_none", n=len(sigs)),
        )
    )
    for index, sig in enumerate(sigs, 1):
        _check_signature(report, index, sig, reader, pki)
    _check_profile(report, profile)
    return report


def _validate(sig, pki: TrainingPKI, moment: dt.datetime):
    try:
        # pyHanko runs asyncio.run inside: off the kernel's loop when there is one.
        return off_loop(validate_pdf_signature, sig, _context(pki, moment), _context(pki, moment)), None
    except Exception as exc:  # a broken CMS or byte range: report it, do not crash
        log.warning("validation of %s failed: %r", sig.field_name, exc)
        return None, exc


def _check_signature(report: Report, i: int, sig, reader, pki: TrainingPKI) -> None:
    add = report.checks.append
    try:
        cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
    except Exception as exc:  # the CMS blob itself is damaged: nothing else can be checked
        log.warning("signature %s: unreadable CMS: %r", sig.field_name, exc)
        msg = t("signing.v_integrity_error", n=i, field=sig.field_name)
        add(Check(f"sig{i}.integrity", False, msg, i))
        report.signatures.append(
            SignatureSummary(i, sig.field_name, None, None, None, None, "", None, "none", False)
        )
        return
    kind = cert_kind(cert)
    claimed = sig.self_reported_timestamp
    moment = claimed or pki.clock()
    status, error = _validate(sig, pki, moment)
    source = "claimed" if claimed else "none"
    if status is not None and status.timestamp_validity is not None:
        tst = status.timestamp_validity
        if tst.intact and tst.valid and tst.trusted:
            source = "tsa"
            if abs((tst.timestamp - moment).total_seconds()) > 1:
                moment = tst.timestamp
                status, error = _validate(sig, pki, moment)
        else:
            source = "tsa_invalid"
    summary = SignatureSummary(
        index=i,
        field=sig.field_name,
        kind=kind,
        signer=name_attr(cert, x509.NameOID.COMMON_NAME),
        title=name_attr(cert, x509.NameOID.TITLE),
        organisation=name_attr(cert, x509.NameOID.ORGANIZATION_NAME),
        serial=format(cert.serial_number, "x"),
        signing_time=vn_time(moment) if source != "none" else None,
        time_source=source,
    )
    report.signatures.append(summary)
    first = len(report.checks)
    p = {"n": i, "field": sig.field_name}

    # 1. integrity and 2. cryptographic validity
    if status is None:
        add(Check(f"sig{i}.integrity", False, t("signing.v_integrity_error", **p), i))
        add(Check(f"sig{i}.crypto", False, t("signing.v_crypto_bad", **p), i))
    else:
        intact = status.intact and status.coverage in (
            SignatureCoverageLevel.ENTIRE_FILE,
            SignatureCoverageLevel.ENTIRE_REVISION,
        )
        add(
            Check(
                f"sig{i}.integrity",
                intact,
                t("signing.v_integrity_ok" if intact else "signing.v_integrity_bad", **p),
                i,
            )
        )
        add(
            Check(
                f"sig{i}.crypto",
                status.valid,
                t("signing.v_crypto_ok" if status.valid else "signing.v_crypto_bad", **p),
                i,
            )
        )

    # 3. signing time
    time_ok = source in ("tsa", "claimed")
    add(
        Check(
            f"sig{i}.time",
            time_ok,
            t(f"signing.v_time_{source}", time=summary.signing_time, **p),
            i,
        )
    )

    # 4. chain to the training root
    chained = _chains_to_root(cert, pki)
    indic = status.trust_problem_indic if status is not None else None
    if chained and indic is AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
        chained = False
    issuer = name_attr_issuer(cert)
    add(
        Check(
            f"sig{i}.chain",
            chained,
            t(
                "signing.v_chain_ok" if chained else "signing.v_chain_bad",
                root=ROOT_NAME,
                issuer=issuer,
                **p,
            ),
            i,
        )
    )

    # 5. validity period at the signing time
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    if moment < nb:
        add(
            Check(
                f"sig{i}.validity",
                False,
                t("signing.v_validity_early", since=vn_time(nb), time=vn_time(moment), **p),
                i,
            )
        )
    elif moment > na:
        add(
            Check(
                f"sig{i}.validity",
                False,
                t("signing.v_validity_expired", until=vn_time(na), time=vn_time(moment), **p),
                i,
            )
        )
    else:
        add(
            Check(
                f"sig{i}.validity",
                True,
                t("signing.v_validity_ok", since=vn_time(nb), until=vn_time(na), **p),
                i,
            )
        )

    # 6. revocation at the signing time (a revocation after signing does not count)
    crl = pki.crl()
    if not chained:
        add(Check(f"sig{i}.revocation", False, t("signing.v_revocation_unknown_issuer", **p), i))
    else:
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        crl_time = vn_time(crl.last_update_utc)
        if entry is not None and entry.revocation_date_utc <= moment:
            add(
                Check(
                    f"sig{i}.revocation",
                    False,
                    t("signing.v_revoked_before", at=vn_time(entry.revocation_date_utc), **p),
                    i,
                )
            )
        elif indic in (
            AdESIndeterminate.TRY_LATER,
            AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE,
        ):
            add(
                Check(
                    f"sig{i}.revocation",
                    False,
                    t("signing.v_revocation_unknown", crl=crl_time, **p),
                    i,
                )
            )
        elif entry is not None:
            add(
                Check(
                    f"sig{i}.revocation",
                    True,
                    t("signing.v_revoked_after", at=vn_time(entry.revocation_date_utc), **p),
                    i,
                )
            )
        else:
            add(Check(f"sig{i}.revocation", True, t("signing.v_not_revoked", crl=crl_time, **p), i))

    # 7. who signed
    signer_ok = bool(summary.signer) and (kind != "personal" or bool(summary.title))
    add(
        Check(
            f"sig{i}.signer",
            signer_ok,
            t(
                "signing.v_signer",
                signer=summary.signer or "?",
                title=summary.title or "—",
                org=summary.organisation or "—",
                kind=t(f"signing.{KIND_LABEL.get(kind)}"),
                **p,
            ),
            i,
        )
    )

    # 8. modifications after this signature
    add(_modifications(i, sig, status, reader, p))

    # pyHanko's own verdict must agree with ours; a disagreement is reported, never hidden
    ours = all(c.ok for c in report.checks[first:])
    if (
        status is not None
        and ours
        and not status.bottom_line
        and indic not in (None, AdESFailure.REVOKED)
    ):
        add(
            Check(
                f"sig{i}.pyhanko",
                False,
                t("signing.v_pyhanko_disagrees", indic=getattr(indic, "name", indic), **p),
                i,
            )
        )
    summary.ok = all(c.ok for c in report.checks[first:])


def name_attr_issuer(cert: x509.Certificate) -> str:
    values = cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else cert.issuer.rfc4514_string()


def _page_count(reader, revision: int | None = None) -> int:
    root = reader.root if revision is None else reader.get_historical_root(revision)
    return int(root["/Pages"]["/Count"])


def _page_contents(node) -> list[str]:
    """The /Contents entry of each page (as text), to see which pages were drawn on."""
    out = []
    for kid in node["/Kids"]:
        page = kid.get_object()
        if page.get("/Type") == "/Pages":
            out.extend(_page_contents(page))
        else:
            out.append(str(page.raw_get("/Contents")) if "/Contents" in page else "")
    return out


def _changed_pages(reader, revision: int) -> list[int]:
    """1-based numbers of pages present in both revisions whose content streams changed."""
    try:
        then = _page_contents(reader.get_historical_root(revision)["/Pages"])
        now = _page_contents(reader.root["/Pages"])
    except Exception as exc:  # an odd page tree: say nothing rather than guess
        log.info("page comparison failed: %r", exc)
        return []
    return [k + 1 for k, (a, b) in enumerate(zip(then, now, strict=False)) if a != b]


def _modifications(i: int, sig, status, reader, p: dict) -> Check:
    cid = f"sig{i}.modifications"
    if status is None:
        return Check(cid, False, t("signing.v_mod_unknown", **p), i)
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return Check(cid, True, t("signing.v_mod_none", **p), i)
    later = reader.total_revisions - 1 - sig.signed_revision
    pages_then = _page_count(reader, sig.signed_revision)
    pages_now = _page_count(reader)
    details = []
    if pages_now > pages_then:
        details.append(t("signing.v_mod_pages_added", k=pages_now - pages_then))
    elif pages_now < pages_then:
        details.append(t("signing.v_mod_pages_removed", k=pages_then - pages_now))
    changed = _changed_pages(reader, sig.signed_revision)
    if changed:
        details.append(t("signing.v_mod_pages_changed", pages=", ".join(map(str, changed))))
    diff = status.diff_result
    level = status.modification_level
    if isinstance(diff, SuspiciousModification):
        log.info("signature %s: suspicious modification: %s", sig.field_name, diff)
        details.append(t("signing.v_mod_suspicious"))
    elif level is not None and level > ModificationLevel.FORM_FILLING:
        details.append(t("signing.v_mod_other", level=level.name))
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        details.append(t("signing.v_mod_coverage"))
    if details:
        return Check(
            cid, False, t("signing.v_mod_bad", k=later, details="; ".join(details), **p), i
        )
    return Check(cid, True, t("signing.v_mod_signatures_only", k=later, **p), i)


def _check_profile(report: Report, profile: str) -> None:
    add = report.checks.append
    sigs = report.signatures
    personal = [s.index for s in sigs if s.kind == "personal"]
    org = [s.index for s in sigs if s.kind == "organisation"]
    if profile == "administrative":
        add(
            Check(
                "doc.personal",
                bool(personal),
                t("signing.v_doc_personal_ok" if personal else "signing.v_doc_personal_missing"),
            )
        )
        add(
            Check(
                "doc.organisation",
                bool(org),
                t("signing.v_doc_org_ok" if org else "signing.v_doc_org_missing"),
            )
        )
        if personal and org:
            in_order = max(personal) < min(org)
            add(
                Check(
                    "doc.order",
                    in_order,
                    t("signing.v_doc_order_ok" if in_order else "signing.v_doc_order_bad"),
                )
            )
    elif profile in ("copy", "attachment"):
        add(
            Check(
                "doc.organisation",
                bool(org),
                t("signing.v_doc_org_ok" if org else "signing.v_doc_org_missing"),
            )
        )
