"""The admin app on the session hub: who may open it, XSRF on its forms, an import that reaches
the hub with the admin's own token, the pages' policy (kynangso.admin.service).

Runs before tests/hub/test_hub.py, whose lock-out test locks `quantri` for ten minutes.
"""

from __future__ import annotations

import re

import pytest
import requests

from kynangso.admin.data import MAX_UPLOAD_BYTES
from kynangso.hub.csp import APP_POLICY
from kynangso.hub.harness import api_token, cookie, log_in
from kynangso.i18n import t

pytestmark = pytest.mark.hub
APP = "/services/admin/"


@pytest.fixture(scope="module")
def admin(hub):
    """quantri's browser-like session, through the hub's OAuth into the app (once per module)."""
    r = log_in(hub, "quantri")
    assert r.status_code == 302, r.text
    # Admins land on the admin app, not on a server of their own.
    assert r.headers["Location"].endswith(APP)
    page = r.session.get(f"{hub.url}{APP}", timeout=60)
    assert page.status_code == 200, page.text[-2000:]
    r.session.page = page
    return r.session


def test_admin_sees_the_directory_with_names_units_and_roles(hub, admin):
    """Does the landing page list the staff by full name, unit, role and account state, under a
    strict policy that allows no script?"""
    page = admin.page
    for text in ("Đỗ Minh Quân", "Nguyễn Thị Hồng", "Phạm Thu Hà", "Văn phòng HĐND và UBND",
                 t("staff.role.quantri"), t("staff.role.nhansu"), t("admin.state.active"),
                 t("admin.nav.hub_admin")):
        assert text in page.text, text
    assert page.headers["Content-Security-Policy"] == APP_POLICY
    assert not re.findall(r"<script(?![^>]*\ssrc=)", page.text)  # no inline script
    assert not re.findall(r"<style|\sstyle=", page.text)  # no inline style
    assert f'href="{"/hub/admin"}"' in page.text.replace("'", '"')
    found = admin.get(f"{hub.url}{APP}", params={"q": "pham thu"}, timeout=60).text
    assert "Phạm Thu Hà" in found and "Đỗ Minh Quân" not in found


@pytest.mark.parametrize("username", ["hocvien01", "nhansu01"])
def test_learner_and_hr_get_a_vietnamese_403(hub, login, username):
    """Are a learner and an HR user refused, in Vietnamese, before any page of the app?"""
    session = login(username)
    for path in (APP, f"{APP}codes", f"{APP}health"):
        r = session.get(f"{hub.url}{path}", timeout=60)
        assert r.status_code == 403, (path, r.status_code)
        assert t("hub.error_403_title") in r.text
        assert "Đỗ Minh Quân" not in r.text and "Forbidden" not in r.text


def test_learner_token_cannot_reach_the_app(hub, login):
    """A learner's own API token (not the OAuth cookie) is refused by the service too."""
    session = login("hocvien02")
    token = api_token(hub, session, "hocvien02")
    r = requests.get(f"{hub.url}{APP}", headers={"Authorization": f"token {token}"}, timeout=60)
    assert r.status_code == 403 and t("admin.forbidden") in r.text


def test_posts_need_the_xsrf_token(hub, admin):
    """Is a code issued only by a form that carries the XSRF token (not by a forged post with
    the admin's cookies alone)?"""
    forged = admin.post(f"{hub.url}{APP}codes", data={"action": "one", "username": "hocvien03"},
                        timeout=60)
    assert forged.status_code == 403 and t("core.xsrf_refused") in forged.text
    assert "Mã kích hoạt mới" not in forged.text
    xsrf = cookie(admin, "_xsrf", APP)
    r = admin.post(f"{hub.url}{APP}codes", timeout=60,
                   data={"action": "one", "username": "hocvien03", "_xsrf": xsrf})
    assert r.status_code == 200
    assert "Mã kích hoạt mới của Lê Thị Ánh (hocvien03)" in r.text


def test_import_reaches_the_hub_with_the_admins_token(hub, admin):
    """Does a good file create the person in the directory and their hub account in their role
    group (pushed with the admin's own token), and is an oversized one refused in Vietnamese?"""
    xsrf = cookie(admin, "_xsrf", APP)
    body = ("Mã cán bộ,Họ và tên,Chức vụ,Đơn vị,Email,Vai trò\n"
            "HOCVIEN90,Tô Thị Mai,Văn thư,Phòng Thử nghiệm,,Học viên\n").encode()
    r = admin.post(f"{hub.url}{APP}import", data={"_xsrf": xsrf}, timeout=120,
                   files={"file": ("moi.csv", body, "text/csv")})
    assert r.status_code == 200, r.text[-2000:]
    assert "Đã nhập tệp moi.csv: 1 cán bộ mới" in r.text
    assert "Đã cập nhật tài khoản trên JupyterHub" in r.text, r.text[-3000:]
    token = api_token(hub, admin, "quantri")
    user = requests.get(f"{hub.url}/hub/api/users/hocvien90", timeout=60,
                        headers={"Authorization": f"token {token}"})
    assert user.status_code == 200 and user.json()["groups"] == ["hocvien"]
    listed = admin.get(f"{hub.url}{APP}codes", timeout=60).text
    assert "Tô Thị Mai" in listed  # awaits activation
    # One click: codes for everyone awaiting, as a file to hand out.
    sheet = admin.post(f"{hub.url}{APP}codes", data={"_xsrf": xsrf, "action": "all"}, timeout=60)
    assert sheet.status_code == 200 and "attachment" in sheet.headers["Content-Disposition"]
    rows = sheet.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Họ và tên,Đơn vị,Tên đăng nhập,Mã kích hoạt")
    mai = next(r for r in rows if r.startswith("Tô Thị Mai,Phòng Thử nghiệm,hocvien90,"))
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", mai.split(",")[3])

    big = admin.post(f"{hub.url}{APP}import", data={"_xsrf": xsrf}, timeout=120,
                     files={"file": ("lon.csv", b"a" * (MAX_UPLOAD_BYTES + 10), "text/csv")})
    assert big.status_code == 400 and "vượt giới hạn 5 MB" in big.text


def test_online_and_health_pages(hub, admin):
    """Do the online and health pages answer from the hub's API, with every platform service
    by its Vietnamese name, and this app itself answering?"""
    online = admin.get(f"{hub.url}{APP}online", timeout=60)
    assert online.status_code == 200 and t("admin.online.intro") in online.text
    health = admin.get(f"{hub.url}{APP}health", timeout=60)
    assert health.status_code == 200
    for name in ("exams", "exams-worker", "progress", "signing", "reports", "admin"):
        assert t(f"admin.health.name.{name}") in health.text, name
    assert t("admin.health.name.formgrader") in health.text
    row = health.text.split(t("admin.health.name.admin"), 1)[1].split("</tr>", 1)[0]
    assert t("admin.health.up") in row
