"""Shared fixtures: one training PKI per session (ECDSA P-256, fast), its keys, a document.

Times are fixed: the CA is made on T_CA and documents are signed around T0, so the tests do not
depend on the day they run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.signing import sample
from sandbox.signing.pki import Subject, TrainingPKI

T_CA = dt.datetime(2023, 1, 2, 1, 0, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
PASS = "mat-khau-dao-tao"
ORG = "UBND phường Hòa Bình"
PROVINCE = "Thành phố Hà Thành"


class Clock:
    """A settable clock (the `clock` parameter of the PKI)."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Keys:
    folder: Path
    personal: object
    organisation: object
    expired: object
    revoked_before: object
    revoked_after: object
    rogue_dir: Path
    rogue: object

    def pki(self, now: dt.datetime = T0) -> TrainingPKI:
        return TrainingPKI(self.folder, clock=Clock(now))


def person(name: str, title: str = "Phó Chủ tịch") -> Subject:
    return Subject(name, ORG, PROVINCE, title=title, unit="Văn phòng HĐND và UBND")


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> Keys:
    base = tmp_path_factory.mktemp("pki")
    clock = Clock(T_CA)
    pki = TrainingPKI.create(base / "pki", clock=clock)
    clock.now = T0 - dt.timedelta(days=400)
    expired = pki.issue(
        person("Trần Thị Hết Hạn"), PASS, account="kns-hethan", valid_for=dt.timedelta(days=30)
    )
    clock.now = T0 - dt.timedelta(days=10)
    personal = pki.issue(person("Nguyễn Văn An"), PASS, account="kns-an")
    organisation = pki.issue(
        Subject("Ủy ban nhân dân phường Hòa Bình", ORG, PROVINCE),
        PASS,
        account="vanthu",
        kind="organisation",
    )
    revoked_before = pki.issue(person("Lê Văn Thu Hồi", "Chuyên viên"), PASS, account="kns-thuhoi")
    revoked_after = pki.issue(person("Phạm Thị Sau", "Chuyên viên"), PASS, account="kns-sau")
    # revoked one day before T0 / two days after T0 (the CRL then lists both)
    pki.revoke(revoked_before.serial, "key_compromise", when=T0 - dt.timedelta(days=1))
    clock.now = T0 + dt.timedelta(days=2)
    pki.revoke(revoked_after.serial, "cessation_of_operation", when=T0 + dt.timedelta(days=2))
    rogue_clock = Clock(T_CA)
    rogue_pki = TrainingPKI.create(base / "rogue", clock=rogue_clock)
    rogue_clock.now = T0 - dt.timedelta(days=10)
    rogue = rogue_pki.issue(person("Nguyễn Văn An"), PASS, account="kns-an")
    return Keys(
        base / "pki",
        personal,
        organisation,
        expired,
        revoked_before,
        revoked_after,
        base / "rogue",
        rogue,
    )


@pytest.fixture(scope="session")
def document() -> bytes:
    return sample.make_document(
        organisation=ORG,
        number="05/UBND-VP",
        subject="tổ chức tập huấn chữ ký số",
        signer_title="KT. Chủ tịch",
        signer_name="Nguyễn Văn An",
        pages=2,
    )


@pytest.fixture(scope="session")
def signed(keys, document) -> bytes:
    """The document signed by the competent person at T0 and by the organisation 10 min later."""
    from sandbox.signing import sign

    pki = keys.pki(T0)
    one = sign.sign_personal(document, sign.load_key(keys.personal.key_path, PASS, pki), pki)
    pki = keys.pki(T0 + dt.timedelta(minutes=10))
    return sign.sign_organisation(one, sign.load_key(keys.organisation.key_path, PASS, pki), pki)
