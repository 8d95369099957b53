"""The learner's own practice CA (training only, no legal value), made on first use.

It lives in the learner's home (`~/.kynangso/khoa-hoc/pki`) and is separate from the platform's
training CA, so a learner can practise signing without an operator issuing anything. It holds
four certificates in the learner's name: personal (valid), personal (expired), personal
(revoked) and organisation (the office's, as Văn thư holds it). The CA is dated three years
back, so that documents "signed two days ago" by the scenario generator are valid.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from courses.common import learner, practice_dir
from sandbox.signing.pki import CertInfo, Subject, TrainingPKI, utcnow

# A practice passphrase shown in the lesson. Real passphrases are never written down or shared
# (NĐ 30/2020 Điều 32.3); this one protects throwaway training keys only.
PASSPHRASE = "luyen-tap-ky-so"
ORG = "UBND phường Hòa Bình (mô phỏng)"
PROVINCE = "Thành phố Hà Thành (mô phỏng)"


def account() -> str:
    """The learner's name as a key-folder name of the training CA."""
    name = re.sub(r"[^a-z0-9_.-]", "-", learner().lower()).strip("-") or "hocvien"
    return name if re.match(r"^[a-z_]", name) else f"hv-{name}"[:64]


@dataclass
class Practice:
    pki: TrainingPKI
    personal: CertInfo
    expired: CertInfo
    revoked: CertInfo
    organisation: CertInfo

    def certificates(self) -> dict[str, CertInfo]:
        return {"personal": self.personal, "expired": self.expired, "revoked": self.revoked,
                "organisation": self.organisation}


def _at(folder: Path, when: dt.datetime) -> TrainingPKI:
    return TrainingPKI(folder, clock=lambda: when)


def practice(folder: Path | None = None) -> Practice:
    """Open (or make, the first time) the learner's practice CA and certificates."""
    folder = folder or practice_dir() / "pki"
    now = utcnow()
    day = dt.timedelta(days=1)
    if not (folder / "ca" / "root.pem").exists():
        TrainingPKI.create(folder, clock=lambda: now - 3 * 365 * day)
    pki = TrainingPKI(folder)
    mine = {(c.kind, c.common_name): c for c in pki.own_certificates(account())}
    name = learner().capitalize()
    person = Subject(f"{name} (học viên)", ORG, PROVINCE, title="Phó Chủ tịch")
    if ("personal", person.common_name) not in mine:
        acct = account()
        _at(folder, now - 400 * day).issue(
            Subject(f"{name} (chứng thư cũ)", ORG, PROVINCE, title="Chuyên viên"), PASSPHRASE,
            account=acct, valid_for=30 * day)
        revoked = _at(folder, now - 60 * day).issue(
            Subject(f"{name} (chứng thư đã thu hồi)", ORG, PROVINCE, title="Chuyên viên"),
            PASSPHRASE, account=acct)
        _at(folder, now - 5 * day).revoke(revoked.serial, "key_compromise", when=now - 5 * day)
        _at(folder, now - 30 * day).issue(person, PASSPHRASE, account=acct)
        _at(folder, now - 30 * day).issue(Subject(ORG.replace("UBND", "Ủy ban nhân dân", 1), ORG,
                                                  PROVINCE), PASSPHRASE, account=acct,
                                          kind="organisation")
        mine = {(c.kind, c.common_name): c for c in pki.own_certificates(account())}

    def find(kind: str, fragment: str) -> CertInfo:
        return next(c for (k, n), c in mine.items() if k == kind and fragment in n)

    return Practice(pki, find("personal", "(học viên)"), find("personal", "cũ"),
                    find("personal", "thu hồi"), find("organisation", ""))


def certificates_view():
    """Worked example: the learner's practice certificates as the CA knows them."""
    import html

    import ipywidgets as w

    from kynangso.i18n import t
    from sandbox.signing.sign import vn_time

    p = practice()
    now = p.pki.clock()
    rows = "".join(
        f"<tr><td>{html.escape(c.common_name)}</td>"
        f"<td>{html.escape(t('signing.kind_' + c.kind))}</td>"
        f"<td>{html.escape(c.title or '—')}</td><td>{html.escape(c.organisation)}</td>"
        f"<td>{vn_time(c.not_before)[:10]}</td><td>{vn_time(c.not_after)[:10]}</td>"
        f"<td>{html.escape(t('signing.w_status_' + c.status_at(now)))}</td></tr>"
        for c in p.certificates().values())
    head = "".join(f"<th scope='col'>{html.escape(t('signing.w_col_' + c))}</th>"
                   for c in ("name", "kind", "title", "org", "from", "to", "status"))
    return w.HTML(f"<table border='1' cellpadding='4'><caption>"
                  f"{html.escape(t('courses.c02.certs_caption'))}</caption><tr>{head}</tr>{rows}</table>")
