"""Fixtures: a mail store in tmp_path, one training PKI per session for signed PDFs, and a
documents register (UBND) that checks signatures against it.

The PKI's clock is fixed (CA made on T_CA, "now" is T0) so the tests do not depend on the
day they run; ECDSA P-256 keys keep it fast.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.documents.integrity import DefaultIntegrityCheck, pdf_signature_verifier
from sandbox.documents.storage import Registry
from sandbox.email.storage import MailStore

T_CA = dt.datetime(2023, 1, 2, 1, 0, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
VANTHU = "vanthu@badinh.hanoi.gov.vn.example"


@pytest.fixture
def store(tmp_path):
    s = MailStore(tmp_path / "mail")
    s.create(VANTHU)
    return s


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    from sandbox.signing.pki import TrainingPKI

    folder = tmp_path_factory.mktemp("pki") / "ca"
    TrainingPKI.create(folder, clock=lambda: T_CA)
    return TrainingPKI(folder, clock=lambda: T0)


@pytest.fixture(scope="session")
def signed_scenario(pki):
    """A seeded inbox with both signed-PDF kinds (a valid and a tampered document)."""
    from sandbox.email import scenarios

    for seed in range(50):
        kinds = scenarios.plan(seed, 12, signed=True)
        if "tampered_pdf" in kinds and "signed_document" in kinds:
            return scenarios.generate(seed, "hocvien01", n=12, pki=pki)
    raise AssertionError("no seed plans both signed kinds")


@pytest.fixture
def registry(tmp_path, pki):
    """The documents sandbox's register of UBND, on a fixed clock, verifying signed PDFs."""
    check = DefaultIntegrityCheck(signature_verifier=pdf_signature_verifier(pki))
    reg = Registry(tmp_path / "documents.sqlite", integrity_check=check,
                   clock=lambda: dt.datetime(2026, 3, 2, 9, 0))
    reg.add_organisation("UBND", "Ủy ban nhân dân phường Ba Đình", "Ba Đình")
    yield reg
    reg.close()
