"""The training CA's front desk through the real hub: a learner's kernel gets a certificate,
signs with it, and renews it; nobody else can read the key or act on it."""

import json
import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest

from kynangso.hub.harness import IS_ROOT, api_token, new_session, open_lab, run_in_kernel

pytestmark = pytest.mark.hub
PASS = "mat-khau-dao-tao"


def signing(hub, path):
    return f"{hub.url}/services/signing/api/{path}"


def last_json(out: str) -> dict:
    """The JSON the kernel code printed last (whatever was logged before it)."""
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, out
    return json.loads(lines[-1])


REQUEST_AND_SIGN = f"""
import json
from pathlib import Path
from sandbox.signing import client, sample, sign
from sandbox.signing.verify import verify_pdf
info = client.request({PASS!r})
pki = client.local_pki()
pdf = sample.make_document(organisation="UBND phường Hòa Bình", number="01/UBND-VP",
                           subject="thử ký số", signer_title="Chuyên viên",
                           signer_name=info["common_name"])
key = sign.load_key(client.key_file(info), {PASS!r}, pki)
report = verify_pdf(sign.sign_personal(pdf, key, pki), pki, profile="any")
print(json.dumps({{"info": info, "ok": report.ok, "failed": report.failed(),
                  "home": str(Path.home())}}, ensure_ascii=False))
"""

WIDGET_RENEWS = f"""
import json
from sandbox.signing.widgets import my_certificate
panel = my_certificate()
panel.passphrase.value = panel.passphrase2.value = {PASS!r}
panel.request_button.click()
panel.renew_passphrase.value = panel.renew_passphrase2.value = "mat-khau-moi-2026"
panel.renew_button.click()
print(json.dumps({{"request": panel.request_message.value, "renew": panel.renew_message.value,
                  "table": panel.table.value}}, ensure_ascii=False))
"""


def test_no_token_no_certificate(hub):
    """Is the service closed to requests without a hub token, and to forged ones?"""
    http = new_session()
    r = http.post(signing(hub, "certificate"), json={"passphrase": PASS}, timeout=30,
                  allow_redirects=False)
    assert r.status_code in (302, 401, 403)
    r = http.get(signing(hub, "certificate"), headers={"Authorization": "token forged"},
                 timeout=30, allow_redirects=False)
    assert r.status_code in (302, 401, 403)


def test_learner_gets_signs_with_and_renews_a_certificate(hub, login):
    """Does a learner's kernel get a key only they can read, sign a document that verifies,
    get 409 on a second request, and renew from the widget?"""
    session = login("hocvien01")
    open_lab(hub, session, "hocvien01")
    done = last_json(run_in_kernel(hub, session, "hocvien01", REQUEST_AND_SIGN))
    info = done["info"]
    assert done["ok"] and not done["failed"], done
    assert info["common_name"] == "Nguyễn Thị Hồng" and info["kind"] == "personal"
    key = Path(done["home"]) / info["key_path"]
    assert info["key_path"].startswith(".kynangso/pki/keys/hocvien01/")

    mode = os.stat(key)
    assert stat.S_IMODE(mode.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key.parent).st_mode) == 0o700
    if IS_ROOT:
        owner = pwd.getpwnam(hub.unix_name("hocvien01"))
        assert (mode.st_uid, mode.st_gid) == (owner.pw_uid, owner.pw_gid)
        assert Path(done["home"]) == Path(owner.pw_dir)
        other = login("hocvien02")
        open_lab(hub, other, "hocvien02")
        peek = subprocess.run(["runuser", "-u", hub.unix_name("hocvien02"), "--", "cat", str(key)],
                              capture_output=True, timeout=30)
        assert peek.returncode != 0 and not peek.stdout

    http = new_session()
    mine = {"Authorization": f"token {api_token(hub, session, 'hocvien01')}"}
    again = http.post(signing(hub, "certificate"), json={"passphrase": PASS}, headers=mine,
                      timeout=30)
    assert again.status_code == 409
    assert "Gia hạn" in again.json()["error"]
    garbled = http.post(signing(hub, "certificate/renew"), json={"passphrase": 12345678},
                        headers=mine, timeout=30)
    assert garbled.status_code == 400 and "passphrase" in garbled.json()["error"]
    # another learner's token shows them nothing of hocvien01's
    theirs = {"Authorization": f"token {api_token(hub, login('hocvien03'), 'hocvien03')}"}
    r = http.get(signing(hub, "certificate"), headers=theirs, timeout=30)
    assert r.status_code == 404 and "chưa có chứng thư" in r.json()["error"]

    panel = last_json(run_in_kernel(hub, session, "hocvien01", WIDGET_RENEWS))
    assert "Gia hạn" in panel["request"], panel
    assert "Đã cấp chứng thư số" in panel["renew"], panel
    assert "Còn hiệu lực" in panel["table"] and "Đã thu hồi" in panel["table"]
    now = http.get(signing(hub, "certificate"), headers=mine, timeout=30).json()
    assert now["renewed_from"] == info["serial"] and now["status"] == "valid"


def test_learner_cannot_choose_the_title_on_a_certificate(hub, login):
    """Attack (issue 14): a clerk asks the signing service, with their own hub token, for a
    certificate titled "Chủ tịch UBND". Refused with the directory's title named; no certificate
    is issued (a later plain request gets one, with the directory's title)."""
    session = login("hocvien02")
    open_lab(hub, session, "hocvien02")
    http = new_session()
    mine = {"Authorization": f"token {api_token(hub, session, 'hocvien02')}"}
    forged = http.post(signing(hub, "certificate"), json={"passphrase": PASS, "title": "Chủ tịch UBND"},
                       headers=mine, timeout=30)
    assert forged.status_code == 400, forged.text
    assert "danh bạ" in forged.json()["error"]
    assert http.get(signing(hub, "certificate"), headers=mine, timeout=30).status_code == 404
