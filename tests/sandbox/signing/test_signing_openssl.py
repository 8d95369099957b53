"""An independent validator (OpenSSL's CMS verifier, configured with the training root only)
accepts the signatures made here and rejects tampered or foreign ones.

pyHanko's own CLI (`pyhanko sign validate`) ships separately as pyhanko-cli, which is not
installed, so OpenSSL plays the independent validator, as the issue allows.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader

from sandbox.signing import sign, tamper
from sandbox.signing.pki import TrainingPKI
from tests.sandbox.signing.conftest import PASS, T0

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def _openssl_verify(pdf: bytes, index: int, pki, tmp_path, at: dt.datetime):
    """Extract signature `index` (CMS + the signed bytes) and run `openssl cms -verify`."""
    sig = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[index]
    a, b, c, d = sig.byte_range
    (tmp_path / "data.bin").write_bytes(pdf[a : a + b] + pdf[c : c + d])
    (tmp_path / "sig.der").write_bytes(cms.ContentInfo.load(sig.pkcs7_content).dump())
    # the CA file holds the trust anchor and, for -crl_check, the issuing CA's CRL
    crl = pki.crl().public_bytes(serialization.Encoding.PEM)
    (tmp_path / "root.pem").write_bytes(pki.root.public_bytes(serialization.Encoding.PEM) + crl)
    (tmp_path / "issuing.pem").write_bytes(pki.issuing.public_bytes(serialization.Encoding.PEM))
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "sig.der"),
            "-content",
            str(tmp_path / "data.bin"),
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-certfile",
            str(tmp_path / "issuing.pem"),
            "-crl_check",
            "-purpose",
            "any",
            "-attime",
            str(int(at.timestamp())),
            "-out",
            str(tmp_path / "out.bin"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_openssl_accepts_both_signatures(keys, signed, tmp_path):
    """Does `openssl cms -verify` with only the training root accept both signatures?"""
    at = T0 + dt.timedelta(days=30)
    for index in (0, 1):
        result = _openssl_verify(signed, index, keys.pki(at), tmp_path, at)
        assert result.returncode == 0, result.stderr
        assert "Verification successful" in result.stderr


def test_openssl_rejects_changed_byte(keys, signed, tmp_path):
    """Does OpenSSL reject the signature once a signed byte is changed?"""
    at = T0 + dt.timedelta(days=30)
    result = _openssl_verify(tamper.change_byte(signed), 1, keys.pki(at), tmp_path, at)
    assert result.returncode != 0
    assert "content verify error" in result.stderr.lower()


def test_openssl_rejects_foreign_ca(keys, document, tmp_path):
    """Does OpenSSL, trusting only the training root, reject a signature from another CA?"""
    rogue = TrainingPKI(keys.rogue_dir, clock=lambda: T0)
    pdf = sign.sign_personal(document, sign.load_key(keys.rogue.key_path, PASS, rogue), rogue)
    at = T0 + dt.timedelta(days=30)
    result = _openssl_verify(pdf, 0, keys.pki(at), tmp_path, at)
    assert result.returncode != 0
    assert "certificate verify error" in result.stderr.lower()
