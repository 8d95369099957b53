"""The training CA's front desk without HTTP: issue, refuse, renew, and the widget driving it.

The desk runs here as on a non-isolated hub: homes are folders under the state folder and the
files are written by this process. The hub test (tests/hub/test_signing_service.py) covers the
isolated case, with real Unix accounts and the service behind the hub's tokens.
"""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from kynangso import db
from kynangso.errors import ValidationError
from kynangso.models import Department, Staff
from kynangso.settings import load_settings
from sandbox.signing import sample, sign
from sandbox.signing.pki import TrainingPKI
from sandbox.signing.service import HOME_PKI, DeskError, FrontDesk
from sandbox.signing.verify import verify_pdf
from sandbox.signing.widgets import MyCertificate
from tests.sandbox.signing.conftest import T0, Clock

PASS = "mat-khau-dao-tao"


@pytest.fixture
def desk(tmp_path) -> FrontDesk:
    settings = load_settings(overrides={"state_dir": str(tmp_path / "state")})
    db.upgrade(settings.database_url)
    with db.session_scope(settings.database_url) as s:
        dept = Department(name="Văn phòng HĐND và UBND")
        s.add(dept)
        s.add(Staff(code="HV01", username="hocvien01", full_name="Nguyễn Thị Hồng",
                    position="Chuyên viên", department=dept, role="hocvien"))
        s.add(Staff(code="HV09", username="danghi", full_name="Bùi Văn Nghỉ",
                    position="Chuyên viên", department=dept, role="hocvien", active=False))
    pki = TrainingPKI.create(settings.state_dir / "pki", clock=Clock(T0))
    return FrontDesk(settings, pki, isolated=False)


def home_of(desk: FrontDesk, user: str):
    return desk.settings.state_dir / "homes" / user


def test_request_puts_a_private_key_in_the_learners_home(desk):
    """Is the certificate made from the directory, its key 0600 in a 0700 folder of the home,
    with no copy left with the CA, and can the learner sign with it?"""
    info = desk.request("hocvien01", PASS)
    assert (info["common_name"], info["title"], info["unit"]) == (
        "Nguyễn Thị Hồng", "Chuyên viên", "Văn phòng HĐND và UBND")
    assert info["organisation"] == desk.settings["office"]["name"]
    assert info["key_path"] == f".kynangso/pki/keys/hocvien01/{info['serial']}.p12"
    home = home_of(desk, "hocvien01")
    key = home / info["key_path"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert not list((desk.pki.dir / "keys").rglob("*.p12"))
    assert desk.pki.get(info["serial"]).key_path == key
    # the learner's copy of the PKI opens, lists the certificate and signs
    mine = TrainingPKI(home / HOME_PKI, clock=desk.pki.clock)
    assert [c.serial for c in mine.own_certificates("hocvien01")] == [info["serial"]]
    pdf = sample.make_document(organisation="UBND phường Hòa Bình", number="01/UBND-VP",
                               subject="thử ký số", signer_title="Chuyên viên",
                               signer_name="Nguyễn Thị Hồng")
    signed = sign.sign_personal(pdf, sign.load_key(key, PASS, mine), mine)
    assert verify_pdf(signed, mine, profile="any").ok
    assert desk.current("hocvien01")["serial"] == info["serial"]


def test_one_active_certificate_then_renewal_supersedes(desk):
    """Is a second request refused with a pointer to renewal, and does renewal revoke the old
    certificate as superseded, keeping the directory's title?"""
    first = desk.request("hocvien01", PASS)
    with pytest.raises(DeskError) as refused:
        desk.request("hocvien01", PASS)
    assert refused.value.status == 409 and "Gia hạn" in refused.value.user_message
    desk.pki.clock.now = T0 + dt.timedelta(days=30)
    renewed = desk.renew("hocvien01", "mat-khau-moi-2026")
    assert renewed["renewed_from"] == first["serial"] and renewed["title"] == "Chuyên viên"
    old = desk.pki.get(first["serial"])
    assert old.revocation_reason == "superseded"
    assert dt.datetime.fromisoformat(renewed["not_after"]) <= T0 + dt.timedelta(days=30 + 3 * 366)
    assert desk.current("hocvien01")["serial"] == renewed["serial"]
    with pytest.raises(DeskError):
        desk.request("hocvien01", PASS)


def test_a_learner_cannot_choose_the_title_on_the_certificate(desk):
    """Attack: a clerk asks the front desk for a certificate titled "Chủ tịch UBND" and signs
    documents as the chairman. The title must be the staff directory's position: another title
    is refused with the directory's one named, and nothing is issued."""
    with pytest.raises(DeskError) as refused:
        desk.request("hocvien01", PASS, title="Chủ tịch UBND")
    assert refused.value.status == 400
    assert "danh bạ" in refused.value.user_message and "«Chuyên viên»" in refused.value.user_message
    assert desk.pki.certificates() == []
    info = desk.request("hocvien01", PASS, title="Chuyên viên")  # the directory's own: fine
    assert info["title"] == "Chuyên viên"


def test_renewals_are_limited_per_period(desk):
    """Attack: renewing in a loop (each renewal makes a key and revokes one) floods the CA's
    registry and CRL. Past `signing.renewals_per_period` in the period it is refused with the
    date it opens again; the current certificate stays valid; after the period it works."""
    desk.request("hocvien01", PASS)
    limit = desk.settings["signing"]["renewals_per_period"]
    for day in range(limit):
        desk.pki.clock.now = T0 + dt.timedelta(days=1 + day)
        desk.renew("hocvien01", PASS)
    current = desk.current("hocvien01")["serial"]
    with pytest.raises(DeskError) as refused:
        desk.renew("hocvien01", PASS)
    assert refused.value.status == 429 and f"{limit} lần" in refused.value.user_message
    assert desk.current("hocvien01")["serial"] == current
    assert desk.pki.get(current).revocation_reason is None
    desk.pki.clock.now = T0 + dt.timedelta(days=1 + desk.settings["signing"]["renewal_period_days"])
    assert desk.renew("hocvien01", PASS)["renewed_from"] == current


def test_refusals_leave_nothing_behind(desk):
    """Are an unknown or departed person, a short passphrase and a renewal with nothing to renew
    refused with a reason, and is nothing issued?"""
    for user in ("nguoila", "danghi"):
        with pytest.raises(DeskError) as refused:
            desk.request(user, PASS)
        assert refused.value.status == 403 and "danh bạ" in refused.value.user_message
    with pytest.raises(ValidationError) as short:
        desk.request("hocvien01", "ngan")
    assert any("ít nhất 8" in p for p in short.value.problems)
    with pytest.raises(DeskError) as none:
        desk.renew("hocvien01", PASS)
    assert none.value.status == 404 and "cấp mới" in none.value.user_message
    with pytest.raises(DeskError) as missing:
        desk.current("hocvien01")
    assert missing.value.status == 404
    assert desk.pki.certificates() == []


def test_failed_delivery_issues_nothing(desk):
    """When the key cannot be written into the home, is the certificate withdrawn entirely?"""
    home_of(desk, "hocvien01").parent.mkdir(parents=True)
    home_of(desk, "hocvien01").write_text("not a folder")
    with pytest.raises(DeskError) as failed:
        desk.request("hocvien01", PASS)
    assert failed.value.status == 500 and "chưa cấp chứng thư nào" in failed.value.user_message
    assert desk.pki.certificates() == []
    assert not list((desk.pki.dir / "keys").rglob("*.p*"))


class DeskFor:
    """The front desk as one learner's kernel reaches it (what sandbox.signing.client offers)."""

    def __init__(self, desk: FrontDesk, user: str):
        self.desk, self.user = desk, user

    def request(self, passphrase):
        return self.desk.request(self.user, passphrase)

    def renew(self, passphrase):
        return self.desk.renew(self.user, passphrase)


def test_widget_requests_and_renews_through_the_desk(desk):
    """Does the panel ask only for a passphrase, show the desk's refusals, and list the issued
    and renewed certificates?"""
    desk.request("hocvien01", PASS)  # makes the learner's copy of the PKI
    desk.pki.revoke(desk.current("hocvien01")["serial"], "key_compromise")
    copy = TrainingPKI(home_of(desk, "hocvien01") / HOME_PKI, clock=desk.pki.clock)
    panel = MyCertificate(copy, "hocvien01", desk=DeskFor(desk, "hocvien01"))
    assert panel.name.layout.display == "none" and "danh bạ" in panel.note.value
    panel.passphrase.value, panel.passphrase2.value = PASS, PASS + "x"
    panel.request_button.click()
    assert "không giống nhau" in panel.request_message.value
    panel.renew_passphrase.value = panel.renew_passphrase2.value = PASS
    panel.renew_button.click()  # the only certificate is revoked: nothing to renew
    assert "cấp mới" in panel.renew_message.value
    assert panel.renew_passphrase.value == ""
    panel.passphrase.value = panel.passphrase2.value = PASS
    panel.request_button.click()
    assert "Đã cấp chứng thư số" in panel.request_message.value
    assert "Còn hiệu lực" in panel.table.value and "Đã thu hồi" in panel.table.value
    panel.passphrase.value = panel.passphrase2.value = PASS
    panel.request_button.click()
    assert "Gia hạn" in panel.request_message.value
    panel.renew_passphrase.value = panel.renew_passphrase2.value = "mat-khau-moi-2026"
    panel.renew_button.click()
    assert "Đã cấp chứng thư số" in panel.renew_message.value
    assert panel.table.value.count("Đã thu hồi") == 2  # the compromised one and the superseded one
    assert panel.table.value.count("Còn hiệu lực") == 1
    assert os.listdir(home_of(desk, "hocvien01") / HOME_PKI / "keys") == ["hocvien01"]
