"""The training PKI: names, subject fields, validity periods, key files, revocation, renewal."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kynangso.errors import KnsError, ValidationError
from sandbox.signing import sign
from sandbox.signing.pki import POLICY_PERSONAL, Subject, TrainingPKI
from tests.sandbox.signing.conftest import ORG, PASS, PROVINCE, T0, T_CA, Clock, person


def _cert(info) -> x509.Certificate:
    from cryptography.hazmat.primitives.serialization import pkcs12

    return pkcs12.load_key_and_certificates(info.key_path.read_bytes(), PASS.encode())[1]


def test_ca_names_say_training_only(keys):
    """Do the root and issuing CA names say they are for training, with no legal value?"""
    pki = keys.pki()
    for cert in (pki.root, pki.issuing, pki.tsa):
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert "TRAINING" in cn and "KHÔNG CÓ GIÁ TRỊ PHÁP LÝ" in cn
    assert pki.root.not_valid_after_utc.year - pki.root.not_valid_before_utc.year == 20


def test_personal_certificate_fields(keys):
    """Does a personal certificate carry name, title, unit, organisation, province and VN?"""
    cert = _cert(keys.personal)
    got = {
        oid: cert.subject.get_attributes_for_oid(oid)[0].value
        for oid in (
            NameOID.COMMON_NAME,
            NameOID.TITLE,
            NameOID.ORGANIZATION_NAME,
            NameOID.ORGANIZATIONAL_UNIT_NAME,
            NameOID.STATE_OR_PROVINCE_NAME,
            NameOID.COUNTRY_NAME,
        )
    }
    assert got == {
        NameOID.COMMON_NAME: "Nguyễn Văn An",
        NameOID.TITLE: "Phó Chủ tịch",
        NameOID.ORGANIZATION_NAME: ORG,
        NameOID.ORGANIZATIONAL_UNIT_NAME: "Văn phòng HĐND và UBND",
        NameOID.STATE_OR_PROVINCE_NAME: PROVINCE,
        NameOID.COUNTRY_NAME: "VN",
    }
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.key_size >= 256
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policies[0].policy_identifier.dotted_string == POLICY_PERSONAL
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment


def test_new_certificate_valid_five_years(keys):
    """Is a new subscriber certificate valid 5 years (NĐ 68/2024 Điều 9)?"""
    info = keys.personal
    assert info.not_after.year - info.not_before.year == 5


def test_renewal_valid_three_years_and_keeps_subject(tmp_path):
    """Does a renewal give a new key valid 3 years for the same subject, old one still listed?"""
    clock = Clock(T0)
    pki = TrainingPKI.create(tmp_path / "pki", clock=clock)
    old = pki.issue(person("Hoàng Văn Gia Hạn"), PASS, account="kns-giahan")
    clock.now = T0 + dt.timedelta(days=365 * 4)
    new = pki.renew(old.serial, "mat-khau-moi-123")
    assert new.renewed_from == old.serial and new.serial != old.serial
    assert new.not_after.year - new.not_before.year == 3
    assert (new.common_name, new.title) == (old.common_name, old.title)
    assert [c.serial for c in pki.certificates("kns-giahan")] == [old.serial, new.serial]
    sign.load_key(new.key_path, "mat-khau-moi-123", pki)  # usable with the new passphrase


def test_rsa_2048_certificate(tmp_path):
    """Can an RSA 2048 certificate be issued and used to sign?"""
    pki = TrainingPKI.create(tmp_path / "pki", clock=lambda: T0)
    info = pki.issue(person("Đỗ Thị RSA"), PASS, account="kns-rsa", key_type="rsa2048")
    assert _cert(info).public_key().key_size == 2048


def test_key_file_private_and_outside_repository(keys):
    """Is the key a passphrase-protected PKCS#12 file with mode 0600 in a 0700 folder?"""
    path = keys.personal.key_path
    assert path.suffix == ".p12"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert Path(__file__).resolve().parents[3] not in path.resolve().parents
    with pytest.raises(KnsError):
        sign.load_key(path, "", keys.pki())


def test_bad_request_lists_every_problem(tmp_path):
    """Is a bad request refused with every problem listed and nothing issued?"""
    pki = TrainingPKI.create(tmp_path / "pki", clock=lambda: T0)
    with pytest.raises(ValidationError) as err:
        pki.issue(Subject("", ORG, PROVINCE), "ngan", account="Sai Ten", key_type="rsa1024")
    problems = "\n".join(err.value.problems)
    for words in ("Tài khoản", "họ tên", "chức danh", "rsa1024", "8 ký tự"):
        assert words in problems
    assert pki.certificates() == []


def test_revocation_is_in_crl_with_date(keys):
    """Does the CRL list a revoked certificate with its revocation date and reason?"""
    crl = keys.pki().crl()
    entry = crl.get_revoked_certificate_by_serial_number(int(keys.revoked_before.serial, 16))
    assert entry.revocation_date_utc == T0 - dt.timedelta(days=1)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name == (
        "key_compromise"
    )
    assert crl.get_revoked_certificate_by_serial_number(int(keys.personal.serial, 16)) is None
    assert crl.is_signature_valid(keys.pki().issuing.public_key())


def test_status_at_times(keys):
    """Does a certificate's status follow its dates and revocation?"""
    pki = keys.pki()
    info = pki.get(keys.revoked_after.serial)
    assert info.status_at(T0) == "valid"
    assert info.status_at(T0 + dt.timedelta(days=3)) == "revoked"
    assert pki.get(keys.expired.serial).status_at(T0) == "expired"
    assert pki.get(keys.personal.serial).status_at(T_CA) == "not_yet_valid"


def test_missing_pki_says_what_to_run(tmp_path):
    """Does opening a folder with no CA tell the operator to run `kns signing init`?"""
    with pytest.raises(KnsError) as err:
        TrainingPKI(tmp_path / "none")
    assert "kns signing init" in err.value.user_message


# -- isolation between learners (needs root to create Unix accounts) -------------------------


def _useradd(name: str) -> pwd.struct_passwd:
    subprocess.run(
        ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(name)


@pytest.mark.root
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None,
    reason="needs root and useradd to create throwaway Unix accounts",
)
def test_learner_cannot_read_another_learners_key():
    """Can a learner read their own key but not another learner's (mode 0600, chowned)?"""
    suffix = uuid.uuid4().hex[:6]
    names = [f"knst-a-{suffix}", f"knst-b-{suffix}"]
    base = Path(tempfile.mkdtemp(prefix="kns-pki-"))
    os.chmod(base, 0o755)  # traversable, like the platform's state folder
    users = []
    try:
        users = [_useradd(n) for n in names]
        pki = TrainingPKI.create(base / "pki", clock=lambda: T0)
        keys = [
            pki.issue(person(f"Học Viên {n[-8:]}"), PASS, account=n, owner_uid=u.pw_uid)
            for n, u in zip(names, users, strict=True)
        ]
        assert keys[0].key_path.stat().st_uid == users[0].pw_uid

        def read_as(user, path) -> str:
            code = (
                "import sys\ntry:\n    open(sys.argv[1], 'rb').read(); print('read')\n"
                "except PermissionError:\n    print('denied')"
            )
            return subprocess.run(
                [sys.executable, "-c", code, str(path)],
                user=user.pw_uid,
                group=user.pw_gid,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout.strip()

        assert read_as(users[0], keys[0].key_path) == "read"
        assert read_as(users[1], keys[0].key_path) == "denied"
        assert read_as(users[0], keys[1].key_path) == "denied"
        assert read_as(users[1], base / "pki" / "private" / "issuing.key") == "denied"
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for name in names:
            subprocess.run(["userdel", name], capture_output=True)
