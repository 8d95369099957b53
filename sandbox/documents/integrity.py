"""Checks on an electronic document before Văn thư receives it (NĐ 30/2020 Điều 21.2:
authenticity and integrity are checked; a document that fails is returned via the system).

Pluggable: a check is any callable `(content, declared_sha256, signature) -> CheckResult`.
The default compares the SHA-256 of the content with the declared hash and then asks the
signature hook: `pdf_signature_verifier(pki)` plugs in the signing sandbox's PAdES
verification; without it the hook reports "not_checked".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from kynangso.i18n import t

# Signature statuses a verifier may report.
SIG_VALID, SIG_INVALID, SIG_NOT_CHECKED, SIG_ABSENT = "valid", "invalid", "not_checked", "absent"

SignatureVerifier = Callable[[bytes, bytes | None], str]


def no_signature_verifier(content: bytes, signature: bytes | None) -> str:
    """Default hook: signatures are not verified here (the signing sandbox plugs in)."""
    return SIG_ABSENT if signature is None else SIG_NOT_CHECKED


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class CheckResult:
    ok: bool
    content_sha256: str | None
    signature_status: str
    problems: list[str] = field(default_factory=list)


@dataclass
class DefaultIntegrityCheck:
    """SHA-256 against the declared hash, then the signature hook."""

    signature_verifier: SignatureVerifier = no_signature_verifier

    def __call__(self, content: bytes | None, declared_sha256: str | None,
                 signature: bytes | None = None) -> CheckResult:
        problems = []
        if content is None:
            return CheckResult(False, None, SIG_ABSENT, [t("documents.integrity.no_content")])
        actual = sha256_hex(content)
        if not declared_sha256:
            problems.append(t("documents.integrity.no_hash"))
        elif declared_sha256.strip().lower() != actual:
            problems.append(t("documents.integrity.mismatch", declared=declared_sha256[:16],
                              actual=actual[:16]))
        sig = self.signature_verifier(content, signature)
        if sig == SIG_INVALID:
            problems.append(t("documents.integrity.bad_signature"))
        return CheckResult(not problems, actual, sig, problems)


IntegrityCheck = Callable[[bytes | None, str | None, bytes | None], CheckResult]


def pdf_signature_verifier(pki) -> SignatureVerifier:
    """The signing sandbox's PAdES verification as the signature hook.

    A signed PDF carries its signatures inside the file, so `content` is what is
    checked (the detached `signature` argument is not used for PDFs). `pki` is a
    `sandbox.signing.pki.TrainingPKI`: its root is the trust anchor.
    """
    from kynangso.errors import KnsError
    from sandbox.signing.verify import verify_pdf

    def verify(content: bytes, signature: bytes | None) -> str:
        if not content.startswith(b"%PDF"):
            return no_signature_verifier(content, signature)
        try:
            report = verify_pdf(content, pki, profile="administrative")
        except KnsError:  # corrupted or encrypted: it cannot be accepted as signed
            return SIG_INVALID
        if not report.signatures:
            return SIG_ABSENT
        return SIG_VALID if report.ok else SIG_INVALID

    return verify
