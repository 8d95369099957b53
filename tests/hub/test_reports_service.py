"""The reports service through the real hub, as an attacker would try it over HTTP."""

from __future__ import annotations

import html
import http.client
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.hub

DASHBOARD = "/services/reports/voila/render/tong-quan.ipynb"
ARTIFACTS = Path(os.environ.get("KNS_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


def test_learner_gets_403(hub, login):
    """Does a learner get 403 on the dashboard (the hub refuses the OAuth for the service)?"""
    r = login("hocvien01").get(hub.url + DASHBOARD, timeout=120)
    assert r.status_code == 403
    assert "Tổng quan đơn vị" not in html.unescape(r.text)


def test_hr_gets_the_dashboard(hub, login):
    """Does HR get the dashboard, in Vietnamese, after the hub's OAuth round trip?"""
    r = login("nhansu01").get(hub.url + DASHBOARD, timeout=300)
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert "Tổng quan đơn vị" in text
    assert "from reports.dashboard import" not in text and "Traceback" not in text


@pytest.mark.parametrize("path", ["lab", "tree", "api/contents/", "api/kernels", "api/terminals",
                                  "api/sessions", "voila/tree", "voila/files/tong-quan.ipynb",
                                  "voila/render/khac.ipynb"])
def test_hr_cannot_open_code_or_files(hub, login, path):
    """Does HR get 403/404 on every Jupyter route that could read files or run code?"""
    session = login("nhansu01")
    assert session.get(hub.url + DASHBOARD, timeout=300).status_code == 200  # OAuth done
    r = session.get(f"{hub.url}/services/reports/{path}", timeout=60, allow_redirects=False)
    assert r.status_code in (403, 404), (path, r.status_code)
    r = session.post(f"{hub.url}/services/reports/{path}", timeout=60, allow_redirects=False)
    assert r.status_code in (403, 404, 405), (path, r.status_code)


@pytest.mark.parametrize("raw", ["voila/render/../../etc/passwd",
                                 "voila/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                                 "voila/render/..%2f..%2f..%2fetc%2fpasswd"])
def test_traversal_refused(hub, login, raw):
    """Is a dot-dot path, sent as is, refused without revealing a file?"""
    session = login("nhansu01")
    assert session.get(hub.url + DASHBOARD, timeout=300).status_code == 200
    u = urlparse(hub.url)
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("GET", f"/services/reports/{raw}", headers={"Cookie": cookies})
    resp = conn.getresponse()
    body = resp.read()
    # 302: the proxy normalised the path out of /services/reports/ and the hub answered.
    assert resp.status in (302, 400, 403, 404)
    assert b"root:" not in body


@pytest.mark.browser
def test_hr_uses_the_dashboard_in_a_browser(hub):
    """Through the hub: does HR's browser log in, open the overview, and get an Excel file from
    one click on "Xuất Excel" (a link the reports service answers, behind the hub's scope)?"""
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=flags)
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="vi-VN")
        page.goto(f"{hub.url}/hub/login?next=" + DASHBOARD)
        page.fill("#username_input", "nhansu01")
        page.fill("#password_input", hub.passwords["nhansu01"])
        page.click("#login_submit")
        page.wait_for_url("**" + DASHBOARD, timeout=180_000)
        try:
            page.get_by_text("Số cán bộ trong phạm vi đã chọn:").wait_for(timeout=180_000)
        except Exception:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)  # what HR saw, for whoever reads the CI
            page.screenshot(path=str(ARTIFACTS / "FAILED-hr-dashboard.png"), full_page=True)
            raise
        with page.expect_download(timeout=120_000) as download:
            page.get_by_text("Xuất Excel", exact=True).click()
        assert download.value.suggested_filename.endswith(".xlsx")
        browser.close()
