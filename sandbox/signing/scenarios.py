"""Seeded scenarios: a learner's inbox of signed documents, some valid, some faulty.

The faults are those of shared/domain/README.md §2.7: modified after signing (a changed byte, a
page added, content drawn over), signed with an expired, revoked or untrusted certificate, no
organisation signature, signatures in the wrong order; plus a certificate revoked only after
signing, which is valid. The same (learner, seed) always gives the same set; different learners
get different sets. The answer key (`expected_failures`) is returned to the caller (the grader),
never written beside the learner's files.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import random
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sandbox.signing import sample, sign, tamper
from sandbox.signing.pki import Subject, TrainingPKI, write_atomic

VALID_CASES = ("valid", "valid_revoked_later")
FAULTY_CASES = (
    "tampered_byte",
    "page_added",
    "content_added",
    "expired",
    "revoked",
    "untrusted",
    "missing_org",
    "wrong_order",
)
EXPECTED = {
    "valid": [],
    "valid_revoked_later": [],
    "tampered_byte": ["sig1.integrity", "sig2.integrity"],
    "page_added": ["sig1.modifications", "sig2.modifications"],
    "content_added": ["sig1.modifications", "sig2.modifications"],
    "expired": ["sig1.validity"],
    "revoked": ["sig1.revocation"],
    "untrusted": ["sig1.chain", "sig1.revocation"],
    "missing_org": ["doc.organisation"],
    "wrong_order": ["doc.order"],
}

# Fictional senders (DỮ LIỆU MẪU): names of wards and communes that are not real units.
SENDERS = (
    "UBND phường An Phú Đông (giả định)",
    "UBND xã Tân Lập Hạ (giả định)",
    "UBND phường Bình Minh Mới (giả định)",
    "UBND xã Sơn Thủy Thượng (giả định)",
)
SIGNERS = (
    ("Nguyễn Thị Hồng Nhung", "Chủ tịch"),
    ("Trần Quốc Bảo", "Phó Chủ tịch"),
    ("Lê Minh Tuấn", "Chủ tịch"),
    ("Phạm Thị Thu Trang", "Phó Chủ tịch"),
)
SUBJECTS = (
    "triển khai tập huấn chữ ký số",
    "báo cáo kết quả cải cách hành chính quý",
    "phối hợp rà soát hồ sơ một cửa",
    "kế hoạch chuyển đổi số năm",
)
PROVINCE = "Thành phố Hà Thành (giả định)"
# Scenario keys are throwaway and never used by a person, so one fixed passphrase suffices.
_PASS = "kich-ban-dao-tao"


@dataclass
class ScenarioItem:
    file: Path
    case: str
    valid: bool
    expected_failures: list[str] = field(default_factory=list)
    sender: str = ""
    number: str = ""

    def as_dict(self) -> dict:
        d = asdict(self)
        d["file"] = str(self.file)
        return d


def _at(pki: TrainingPKI, when: dt.datetime) -> TrainingPKI:
    """The same PKI with its clock set to `when` (to issue, revoke and sign in the past)."""
    other = copy.copy(pki)  # shares the registry engine
    other.clock = lambda: when
    return other


@dataclass(frozen=True)
class PlannedDocument:
    """One document of an inbox before it is made: what it is and what it says."""

    case: str
    sender: str
    signer: str
    title: str
    number: str
    subject: str
    pages: int


def plan_inbox(learner: str, *, seed: int = 0, count: int = 8) -> list[PlannedDocument]:
    """The documents of a learner's inbox, decided by (learner, seed) alone.

    At least two are valid; the faulty cases are drawn without repetition as far as `count`
    allows.
    """
    rng = random.Random(hashlib.sha256(f"{seed}:{learner}".encode()).hexdigest())
    cases = list(rng.sample(VALID_CASES, 2)) if count >= 2 else ["valid"]
    faulty = list(FAULTY_CASES)
    rng.shuffle(faulty)
    while len(cases) < count:
        cases.append(faulty[(len(cases) - 2) % len(faulty)])
    rng.shuffle(cases)
    plan = []
    for case in cases:
        name, title = rng.choice(SIGNERS)
        plan.append(
            PlannedDocument(
                case=case,
                sender=rng.choice(SENDERS),
                signer=name,
                title=title,
                number=f"{rng.randint(10, 980):02d}/UBND-VP",
                subject=rng.choice(SUBJECTS),
                pages=rng.randint(1, 3),
            )
        )
    return plan


def generate_inbox(
    pki: TrainingPKI,
    learner: str,
    out_dir: Path,
    *,
    seed: int = 0,
    count: int = 8,
    owner_uid: int | None = None,
) -> list[ScenarioItem]:
    """Write the planned PDFs for `learner` into `out_dir` and return the answer key.

    Runs as the operator: it issues and revokes certificates of the sending offices.
    `owner_uid` makes the learner own the files (when running as root).
    """
    now = pki.clock()
    tag = hashlib.sha256(f"{seed}:{learner}".encode()).hexdigest()[:8]
    out_dir.mkdir(parents=True, exist_ok=True)
    items = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, doc in enumerate(plan_inbox(learner, seed=seed, count=count), 1):
            pdf_in = sample.make_document(
                organisation=doc.sender,
                number=doc.number,
                subject=doc.subject,
                signer_title=doc.title,
                signer_name=doc.signer,
                pages=doc.pages,
            )
            pdf = _make(
                doc.case,
                pdf_in,
                pki,
                now,
                doc.sender,
                doc.signer,
                doc.title,
                f"{tag}{n:02d}",
                Path(tmp),
            )
            path = out_dir / f"van-ban-den-{n:02d}.pdf"
            write_atomic(path, pdf, 0o644, owner_uid)
            items.append(
                ScenarioItem(
                    path,
                    doc.case,
                    doc.case in VALID_CASES,
                    list(EXPECTED[doc.case]),
                    doc.sender,
                    doc.number,
                )
            )
    return items


def _make(
    case: str,
    doc: bytes,
    pki: TrainingPKI,
    now: dt.datetime,
    sender: str,
    name: str,
    title: str,
    tag: str,
    tmp: Path,
) -> bytes:
    day = dt.timedelta(days=1)
    person = Subject(name, sender, PROVINCE, title=title)
    office = Subject(sender.replace("UBND", "Ủy ban nhân dân", 1), sender, PROVINCE)

    def issue(subject, kind, at, **kw):
        return _at(pki, at).issue(
            subject, _PASS, account=f"kichban-{tag}-{kind[:3]}", kind=kind, **kw
        )

    def key(info, at):
        return sign.load_key(info.key_path, _PASS, _at(pki, at), enforce=False)

    signed_at = now - 2 * day
    org_info = issue(office, "organisation", now - 30 * day)
    if case == "expired":
        p_info = issue(person, "personal", now - 400 * day, valid_for=30 * day)
    elif case == "untrusted":
        rogue = TrainingPKI.create(tmp / f"rogue-{tag}", clock=lambda: now - 30 * day)
        p_info = rogue.issue(person, _PASS, account="kichban")
    else:
        p_info = issue(person, "personal", now - 30 * day)
    if case == "revoked":
        _at(pki, now).revoke(p_info.serial, "key_compromise", when=signed_at - day)

    p_pki = _at(pki, signed_at)
    if case == "wrong_order":
        first = sign.sign_organisation(
            doc, key(org_info, signed_at), p_pki, box=sign.Box(-1, 60, 60, 160, 160)
        )
        return sign.sign_personal(first, key(p_info, signed_at), p_pki)
    personal_key = (
        sign.load_key(
            p_info.key_path, _PASS, TrainingPKI(p_info.key_path.parents[2]), enforce=False
        )
        if case == "untrusted"
        else key(p_info, signed_at)
    )
    pdf = sign.sign_personal(doc, personal_key, p_pki)
    if case == "missing_org":
        return pdf
    pdf = sign.sign_organisation(pdf, key(org_info, signed_at), _at(pki, signed_at + 0.01 * day))
    if case == "valid_revoked_later":
        _at(pki, now).revoke(p_info.serial, "affiliation_changed", when=signed_at + day)
    return {
        "tampered_byte": tamper.change_byte,
        "page_added": tamper.add_page,
        "content_added": tamper.add_content,
    }.get(case, lambda b: b)(pdf)
