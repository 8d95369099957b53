"""The training PKI: a root, an issuing CA and a time-stamping unit, all named as training-only.

Layout of the PKI folder (in the platform's state folder, never in the repository):

    ca/root.pem, ca/issuing.pem, ca/tsa.pem, ca/crl.der    public, mode 0644
    private/root.key, private/issuing.key, private/tsa.key  CA keys, mode 0600 (operator only)
    registry.sqlite                                         issued certificates, mode 0640
    keys/<account>/<serial>.p12                             a subscriber's key, mode 0600, owned
                                                            by that subscriber's Unix account

Issuing, revoking and renewing need the CA keys, so they run as the operator (root, `kns signing
...`) or in a non-isolated sandbox; signing and verifying need only the public part and the
subscriber's own PKCS#12 file.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import DateTime, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from kynangso.errors import KnsError
from sandbox.signing.rules import rule

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

ROOT_NAME = "KNS TRAINING ROOT - KHÔNG CÓ GIÁ TRỊ PHÁP LÝ"
ISSUING_NAME = "KNS TRAINING ISSUING CA - KHÔNG CÓ GIÁ TRỊ PHÁP LÝ"
TSA_NAME = "KNS TRAINING TSA - KHÔNG CÓ GIÁ TRỊ PHÁP LÝ"
TRAINING_ORG = "Kỹ Năng Số - PKI đào tạo (không có giá trị pháp lý)"

# Certificate-policy OIDs telling a personal certificate from an organisation one. Arc 2.25 is
# UUID-based (ITU-T X.667), so these need no registration and clash with no real CA's policy.
POLICY_PERSONAL = "2.25.179665069156011020296323736854417515035"
POLICY_ORGANISATION = "2.25.215873243905238436300350294831010766272"
KINDS = {"personal": POLICY_PERSONAL, "organisation": POLICY_ORGANISATION}

CRL_URL = "http://pki.kynangso.invalid/training-issuing.crl"  # .invalid: never resolvable
CRL_LIFETIME = dt.timedelta(days=365)

_ACCOUNT = re.compile(r"^[a-z_][a-z0-9_.-]{0,63}$")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _years(start: dt.datetime, years: int) -> dt.datetime:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


class PkiBase(DeclarativeBase):
    """Registry of the training CA (its own SQLite file beside the keys, created with
    metadata.create_all: practice state of the sandbox, not platform data)."""


class CertRecord(PkiBase):
    __tablename__ = "certificates"

    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    account: Mapped[str] = mapped_column(String(64), index=True)
    common_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(200))
    key_type: Mapped[str] = mapped_column(String(20))
    not_before: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    key_path: Mapped[str] = mapped_column(String(500))
    cert_pem: Mapped[str] = mapped_column(String(8000))
    owner_uid: Mapped[int | None] = mapped_column(Integer)
    renewed_from: Mapped[str | None] = mapped_column(String(40))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[str | None] = mapped_column(String(40))


@dataclass(frozen=True)
class Subject:
    """Who a certificate is for, with the fields a Vietnamese government certificate carries.

    For an organisation certificate `common_name` is the organisation's (or unit's) name and
    `title` is None.
    """

    common_name: str
    organisation: str
    province: str
    title: str | None = None
    unit: str | None = None

    def x509_name(self) -> x509.Name:
        attrs = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, self.province),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organisation),
        ]
        if self.unit:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.unit))
        if self.title:
            attrs.append(x509.NameAttribute(NameOID.TITLE, self.title))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, self.common_name))
        return x509.Name(attrs)


@dataclass(frozen=True)
class CertInfo:
    """One issued certificate as the registry knows it (no key material)."""

    serial: str
    kind: str
    account: str
    common_name: str
    title: str | None
    organisation: str
    unit: str | None
    province: str
    key_type: str
    not_before: dt.datetime
    not_after: dt.datetime
    key_path: Path
    renewed_from: str | None
    revoked_at: dt.datetime | None
    revocation_reason: str | None

    def as_dict(self) -> dict:
        """The certificate as JSON-ready data (for `kns signing --json` and the service)."""
        return {
            "serial": self.serial,
            "kind": self.kind,
            "account": self.account,
            "common_name": self.common_name,
            "title": self.title,
            "organisation": self.organisation,
            "unit": self.unit,
            "province": self.province,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "key_path": str(self.key_path),
            "renewed_from": self.renewed_from,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }

    def status_at(self, when: dt.datetime) -> str:
        """'valid', 'not_yet_valid', 'expired' or 'revoked' at `when`."""
        if self.revoked_at is not None and self.revoked_at <= when:
            return "revoked"
        if when < self.not_before:
            return "not_yet_valid"
        if when > self.not_after:
            return "expired"
        return "valid"

    @classmethod
    def of(cls, rec: CertRecord) -> CertInfo:
        def aware(value: dt.datetime | None) -> dt.datetime | None:
            return value.replace(tzinfo=dt.UTC) if value and value.tzinfo is None else value

        return cls(
            rec.serial,
            rec.kind,
            rec.account,
            rec.common_name,
            rec.title,
            rec.organisation,
            rec.unit,
            rec.province,
            rec.key_type,
            aware(rec.not_before),
            aware(rec.not_after),
            Path(rec.key_path),
            rec.renewed_from,
            aware(rec.revoked_at),
            rec.revocation_reason,
        )


def new_key(key_type: str):
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    raise KnsError("signing.key_type_unknown", key_type=key_type)


def write_atomic(path: Path, data: bytes, mode: int = 0o644, owner_uid: int | None = None) -> None:
    """Write `data` to a temp file beside `path`, set mode and owner, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        if owner_uid is not None:
            os.chown(tmp, owner_uid, -1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def default_pki_dir() -> Path:
    from kynangso.settings import load_settings

    return load_settings().state_dir / "pki"


@functools.lru_cache(maxsize=8)
def _load_key(pem: bytes):
    """A CA key object from its PEM text, loaded once per process: OpenSSL checks the whole RSA
    key at each load (20-30 ms), and issuing a scenario's certificates loads it dozens of times."""
    return serialization.load_pem_private_key(pem, None)


class TrainingPKI:
    """The training CA. `TrainingPKI.create(folder)` makes one; `TrainingPKI(folder)` opens it.

    `clock` gives "now" (UTC-aware) so that tests and scenarios can issue, revoke and sign in the
    past or the future.
    """

    def __init__(self, directory: str | os.PathLike | None = None, clock: Clock | None = None):
        self.dir = Path(directory) if directory is not None else default_pki_dir()
        self.clock: Clock = clock or utcnow
        if not (self.dir / "ca" / "root.pem").exists():
            raise KnsError(
                "signing.pki_missing", log_detail=f"no CA in {self.dir}", folder=self.dir
            )
        self.root = x509.load_pem_x509_certificate((self.dir / "ca" / "root.pem").read_bytes())
        self.issuing = x509.load_pem_x509_certificate(
            (self.dir / "ca" / "issuing.pem").read_bytes()
        )
        self.tsa = x509.load_pem_x509_certificate((self.dir / "ca" / "tsa.pem").read_bytes())
        self._engine = None

    # -- creation -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike | None = None,
        clock: Clock | None = None,
        ca_key_type: str = "ec-p256",
    ) -> TrainingPKI:
        """Create the root, issuing CA and TSA (idempotent: an existing CA is opened)."""
        folder = Path(directory) if directory is not None else default_pki_dir()
        if (folder / "ca" / "root.pem").exists():
            return cls(folder, clock)
        now = (clock or utcnow)()
        years = rule("validity", now)["ca_years"]  # NĐ 68/2024 Điều 9: CA certificate 20 years
        start, end = now - dt.timedelta(minutes=5), _years(now, years)
        if not folder.exists():  # an isolated hub made it 2710 for grp-pki: keep that (and
            folder.mkdir(parents=True)  # its setgid, through which the grader reads the registry)
            os.chmod(folder, 0o755)
        (folder / "private").mkdir(mode=0o700, exist_ok=True)
        root_key, issuing_key = new_key(ca_key_type), new_key(ca_key_type)
        # The DummyTimeStamper of pyHanko signs RSA only, hence an RSA key for the TSA.
        tsa_key = new_key("rsa2048")

        def name(cn: str) -> x509.Name:
            return x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, TRAINING_ORG),
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                ]
            )

        def ca_cert(subject, key, issuer, issuer_key, path_len):
            builder = (
                x509.CertificateBuilder()
                .subject_name(subject)
                .issuer_name(issuer)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start)
                .not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), True)
                .add_extension(
                    x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            )
            if issuer_key is not key:
                builder = builder.add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                    False,
                )
            return builder.sign(issuer_key, hashes.SHA256())

        root = ca_cert(name(ROOT_NAME), root_key, name(ROOT_NAME), root_key, 1)
        issuing = ca_cert(name(ISSUING_NAME), issuing_key, root.subject, root_key, 0)
        tsa = (
            x509.CertificateBuilder()
            .subject_name(name(TSA_NAME))
            .issuer_name(issuing.subject)
            .public_key(tsa_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()), False
            )
            .sign(issuing_key, hashes.SHA256())
        )
        for stem, key in (("root", root_key), ("issuing", issuing_key), ("tsa", tsa_key)):
            write_atomic(folder / "private" / f"{stem}.key", _key_pem(key), 0o600)
        # root.pem last: its presence is what marks the PKI as created
        for stem, cert in (("tsa", tsa), ("issuing", issuing), ("root", root)):
            write_atomic(folder / "ca" / f"{stem}.pem", _pem(cert), 0o644)
        os.chmod(folder / "ca", 0o755)
        pki = cls(folder, clock)
        pki.publish_crl()
        log.info("training PKI created in %s", folder)
        return pki

    # -- registry ---------------------------------------------------------------------------

    def _session(self) -> Session:
        if self._engine is None:
            db = self.dir / "registry.sqlite"
            fresh = not db.exists()
            self._engine = create_engine(f"sqlite:///{db}")
            PkiBase.metadata.create_all(self._engine)
            if fresh:  # the folder's group (the grader, on an isolated hub) reads it
                os.chmod(db, 0o640)
        return Session(self._engine)

    def certificates(self, account: str | None = None) -> list[CertInfo]:
        with self._session() as s:
            query = select(CertRecord).order_by(CertRecord.not_before)
            if account is not None:
                query = query.where(CertRecord.account == account)
            return [CertInfo.of(r) for r in s.scalars(query)]

    def get(self, serial: str) -> CertInfo:
        with self._session() as s:
            rec = s.get(CertRecord, serial.lower())
            if rec is None:
                raise KnsError("signing.cert_unknown", serial=serial)
            return CertInfo.of(rec)

    def own_certificates(self, account: str) -> list[CertInfo]:
        """A subscriber's certificates read from their own key folder and the public CRL (what
        a learner's process can read), oldest first."""
        folder = self.dir / "keys" / account
        try:
            pems = sorted(folder.glob("*.pem"))
        except PermissionError:
            raise KnsError("signing.key_forbidden", file=folder) from None
        crl = self.crl()
        out = []
        for pem in pems:
            cert = x509.load_pem_x509_certificate(pem.read_bytes())
            entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
            reason = None
            if entry is not None:
                try:
                    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value
                    reason = reason.reason.name
                except x509.ExtensionNotFound:
                    reason = "unspecified"
            out.append(
                CertInfo(
                    serial=format(cert.serial_number, "x"),
                    kind=cert_kind(cert) or "personal",
                    account=account,
                    common_name=name_attr(cert, NameOID.COMMON_NAME) or "",
                    title=name_attr(cert, NameOID.TITLE),
                    organisation=name_attr(cert, NameOID.ORGANIZATION_NAME) or "",
                    unit=name_attr(cert, NameOID.ORGANIZATIONAL_UNIT_NAME),
                    province=name_attr(cert, NameOID.STATE_OR_PROVINCE_NAME) or "",
                    key_type="ec-p256"
                    if isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
                    else f"rsa{cert.public_key().key_size}",
                    not_before=cert.not_valid_before_utc,
                    not_after=cert.not_valid_after_utc,
                    key_path=pem.with_suffix(".p12"),
                    renewed_from=None,
                    revoked_at=entry.revocation_date_utc if entry is not None else None,
                    revocation_reason=reason,
                )
            )
        return sorted(out, key=lambda c: c.not_before)

    def find_by_certificate(self, cert: x509.Certificate) -> CertInfo | None:
        """The registry entry of a certificate issued here, or None."""
        with self._session() as s:
            rec = s.get(CertRecord, format(cert.serial_number, "x"))
            return CertInfo.of(rec) if rec is not None else None

    # -- private keys of the CA (operator only) ---------------------------------------------

    def _ca_key(self, stem: str):
        path = self.dir / "private" / f"{stem}.key"
        try:
            return _load_key(path.read_bytes())  # read each time: the file's mode still decides
        except PermissionError:
            raise KnsError("signing.ca_key_forbidden", log_detail=f"cannot read {path}") from None

    def tsa_key_readable(self) -> bool:
        return os.access(self.dir / "private" / "tsa.key", os.R_OK)

    def tsa_key(self):
        return self._ca_key("tsa")

    # -- issuing ----------------------------------------------------------------------------

    def issue(
        self,
        subject: Subject,
        passphrase: str,
        *,
        account: str,
        kind: str = "personal",
        owner_uid: int | None = None,
        key_type: str = "ec-p256",
        renewal_of: str | None = None,
        valid_for: dt.timedelta | None = None,
    ) -> CertInfo:
        """Issue a certificate and its PKCS#12 key file (mode 0600, chowned to `owner_uid`).

        Validity follows NĐ 68/2024 Điều 9 (rules.yaml): at most 5 years new, 3 years renewed;
        `valid_for` can only shorten it (scenarios make short-lived certificates).
        """
        problems = self._check_request(subject, passphrase, account, kind, key_type)
        if problems:
            from kynangso.errors import ValidationError

            raise ValidationError("signing.request_invalid", problems=problems)
        now = self.clock()
        limits = rule("validity", now)
        years = limits["renewal_years"] if renewal_of else limits["new_subscriber_years"]
        not_after = _years(now, years)
        if valid_for is not None:
            not_after = min(not_after, now + valid_for)
        not_after = min(not_after, self.issuing.not_valid_after_utc)
        key = new_key(key_type)
        issuing_key = self._ca_key("issuing")
        serial = x509.random_serial_number()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject.x509_name())
            .issuer_name(self.issuing.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - dt.timedelta(seconds=1))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            # digitalSignature + contentCommitment (non-repudiation), as pyHanko expects.
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), True
            )
            .add_extension(
                x509.CertificatePolicies(
                    [x509.PolicyInformation(x509.ObjectIdentifier(KINDS[kind]), None)]
                ),
                False,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(CRL_URL)], None, None, None
                        )
                    ]
                ),
                False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()), False
            )
            .sign(issuing_key, hashes.SHA256())
        )
        serial_hex = format(serial, "x")
        key_path = self.dir / "keys" / account / f"{serial_hex}.p12"
        self._ensure_key_dir(key_path.parent, owner_uid)
        p12 = pkcs12.serialize_key_and_certificates(
            subject.common_name.encode("utf-8"),
            key,
            cert,
            [self.issuing, self.root],
            serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
        )
        write_atomic(key_path, p12, 0o600, owner_uid)
        # the public certificate beside it, so the learner's own tools can list it without the
        # registry (which only the operator reads)
        write_atomic(key_path.with_suffix(".pem"), _pem(cert), 0o644, owner_uid)
        try:
            with self._session() as s, s.begin():
                s.add(
                    CertRecord(
                        serial=serial_hex,
                        kind=kind,
                        account=account,
                        common_name=subject.common_name,
                        title=subject.title,
                        organisation=subject.organisation,
                        unit=subject.unit,
                        province=subject.province,
                        key_type=key_type,
                        not_before=cert.not_valid_before_utc,
                        not_after=cert.not_valid_after_utc,
                        key_path=str(key_path),
                        cert_pem=_pem(cert).decode("ascii"),
                        owner_uid=owner_uid,
                        renewed_from=renewal_of,
                    )
                )
        except Exception:
            key_path.unlink(missing_ok=True)  # nothing half-issued stays behind
            key_path.with_suffix(".pem").unlink(missing_ok=True)
            raise
        log.info("issued %s certificate %s for %s", kind, serial_hex, account)
        return self.get(serial_hex)

    def _check_request(self, subject, passphrase, account, kind, key_type) -> list[str]:
        from kynangso.i18n import t

        now = self.clock()
        problems = []
        if not _ACCOUNT.match(account or ""):
            problems.append(t("signing.field_account", value=account))
        if kind not in KINDS:
            problems.append(t("signing.field_kind", value=kind))
        if not subject.common_name.strip():
            problems.append(t("signing.field_name"))
        if kind == "personal" and not (subject.title or "").strip():
            problems.append(t("signing.field_title"))
        if not subject.organisation.strip() or not subject.province.strip():
            problems.append(t("signing.field_org"))
        if key_type not in rule("crypto", now)["key_types"]:
            problems.append(
                t(
                    "signing.field_key_type",
                    value=key_type,
                    allowed=", ".join(rule("crypto", now)["key_types"]),
                )
            )
        if len(passphrase or "") < rule("passphrase", now)["min_length"]:
            problems.append(t("signing.field_passphrase", n=rule("passphrase", now)["min_length"]))
        return problems

    def _ensure_key_dir(self, folder: Path, owner_uid: int | None) -> None:
        (self.dir / "keys").mkdir(mode=0o755, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
        if owner_uid is not None:
            os.chown(folder, owner_uid, -1)

    def renew(
        self,
        serial: str,
        passphrase: str,
        owner_uid: int | None = None,
        key_type: str | None = None,
    ) -> CertInfo:
        """A new key and certificate for the same subject, valid at most 3 years.

        NĐ 68/2024 Điều 9. The old certificate stays valid until it expires (not revoked)."""
        old = self.get(serial)
        if old.status_at(self.clock()) == "revoked":
            raise KnsError("signing.renew_revoked", serial=serial)
        subject = Subject(old.common_name, old.organisation, old.province, old.title, old.unit)
        with self._session() as s:
            uid = s.get(CertRecord, old.serial).owner_uid if owner_uid is None else owner_uid
        return self.issue(
            subject,
            passphrase,
            account=old.account,
            kind=old.kind,
            owner_uid=uid,
            key_type=key_type or old.key_type,
            renewal_of=old.serial,
        )

    # -- revocation -------------------------------------------------------------------------

    def revoke(
        self, serial: str, reason: str = "unspecified", when: dt.datetime | None = None
    ) -> CertInfo:
        """Mark a certificate revoked from `when` (default now) and republish the CRL."""
        if reason not in {f.name for f in x509.ReasonFlags}:
            raise KnsError(
                "signing.revoke_reason",
                reason=reason,
                allowed=", ".join(f.name for f in x509.ReasonFlags),
            )
        when = when or self.clock()
        with self._session() as s, s.begin():
            rec = s.get(CertRecord, serial.lower())
            if rec is None:
                raise KnsError("signing.cert_unknown", serial=serial)
            if rec.revoked_at is None:
                rec.revoked_at, rec.revocation_reason = when, reason
        self.publish_crl()
        log.info("revoked %s at %s (%s)", serial, when, reason)
        return self.get(serial)

    def publish_crl(self) -> bytes:
        """Sign a fresh CRL of the issuing CA and write it to ca/crl.der.

        Under an exclusive lock, so that two operators revoking at once cannot publish an older
        list over a newer one."""
        with open(self.dir / "private" / "crl.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._publish_crl()

    def _publish_crl(self) -> bytes:
        now = self.clock()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuing.subject)
            .last_update(now)
            .next_update(now + CRL_LIFETIME)
        )
        for info in self.certificates():
            if info.revoked_at is None:
                continue
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(info.serial, 16))
                .revocation_date(info.revoked_at)
            )
            if info.revocation_reason and info.revocation_reason != "unspecified":
                entry = entry.add_extension(
                    x509.CRLReason(x509.ReasonFlags[info.revocation_reason]), False
                )
            builder = builder.add_revoked_certificate(entry.build())
        crl = builder.sign(self._ca_key("issuing"), hashes.SHA256())
        data = crl.public_bytes(serialization.Encoding.DER)
        write_atomic(self.dir / "ca" / "crl.der", data, 0o644)
        return data

    def crl(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl((self.dir / "ca" / "crl.der").read_bytes())

    def crl_bytes(self) -> bytes:
        return (self.dir / "ca" / "crl.der").read_bytes()


def cert_kind(cert: x509.Certificate) -> str | None:
    """'personal' or 'organisation' from the certificate policy, else None."""
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return None
    oids = {p.policy_identifier.dotted_string for p in policies}
    for kind, oid in KINDS.items():
        if oid in oids:
            return kind
    return None


def name_attr(cert: x509.Certificate, oid) -> str | None:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None
