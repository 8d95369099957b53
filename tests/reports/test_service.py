"""The reports service as an attacker would meet it: the real proxy in front of a real Voilà.

The hub is replaced by `FakeHubOAuth` (it names the user from a test header and gives them the
scopes the hub would); tests/hub/test_reports_service.py repeats the checks through a real hub.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from jupyterhub.services.auth import HubOAuth
from tornado import websocket

from reports import service

PREFIX = "/services/reports/"
HR = {"name": "nhansu01", "kind": "user", "scopes": [service.ACCESS_SCOPE], "groups": ["nhansu"]}
HR2 = {"name": "nhansu02", "kind": "user", "scopes": [service.ACCESS_SCOPE], "groups": ["nhansu"]}
LEARNER = {"name": "hocvien01", "kind": "user", "scopes": [], "groups": ["hocvien"]}
USERS = {u["name"]: u for u in (HR, HR2, LEARNER)}


class FakeHubOAuth(HubOAuth):
    """Stands in for the hub's OAuth (the OS boundary here is the hub process): the user is
    whoever the `X-Test-User` header names, with the scopes the hub's roles would give."""

    def get_user(self, handler, *, sync=True):
        name = handler.request.headers.get("X-Test-User")
        return dict(USERS[name]) if name in USERS else None


@pytest.fixture(scope="module")
def proxy(office, tmp_path_factory):
    platform, sources = office
    folder = tmp_path_factory.mktemp("svc")
    settings = folder / "settings.yaml"
    settings.write_text(json.dumps({"state_dir": str(folder / "state"),
                                    "database": {"url": platform}}), encoding="utf-8")
    repo = str(Path(__file__).parents[2])
    env_add = {
        "KNS_SETTINGS": str(settings),
        "KNS_REPORTS_GRADEBOOKS": json.dumps([{"db_url": s.db_url, "course_dir": str(s.course_dir)}
                                              for s in sources]),
        "PYTHONPATH": repo,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    old = {k: os.environ.get(k) for k in env_add}
    os.environ.update(env_add)
    proc, upstream = service.start_voila(PREFIX, pool_size=1)
    loop = asyncio.new_event_loop()
    port = service.free_port()
    ready = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        auth = FakeHubOAuth(api_token="test", api_url="http://127.0.0.1:1/hub/api",
                            oauth_client_id="service-reports", base_url=PREFIX,
                            login_url="/hub/login")

        async def start():
            await service.wait_for_port(int(upstream.url.rsplit(":", 1)[1]), timeout=120)
            service.make_app(PREFIX, upstream, auth).listen(port, "127.0.0.1")
            ready.set()

        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(150), "voila did not start"
    yield f"http://127.0.0.1:{port}", upstream
    loop.call_soon_threadsafe(loop.stop)
    proc.terminate()
    proc.wait(30)
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def get(base, path, user, **kw):
    headers = {"X-Test-User": user} if user else {}
    return requests.get(base + PREFIX + path, headers=headers, allow_redirects=False, timeout=300,
                        **kw)


@pytest.fixture(scope="module")
def hr_page(proxy):
    base, _ = proxy
    return get(base, "voila/render/nhu-cau-dao-tao.ipynb", "nhansu01")


def test_hr_gets_the_dashboard_in_vietnamese(hr_page):
    """Does HR get the rendered dashboard, in Vietnamese, with no source code in the page?"""
    assert hr_page.status_code == 200
    text = html.unescape(hr_page.content.decode("utf-8"))
    assert "Nhu cầu đào tạo" in text
    assert "from reports.dashboard import" not in text
    assert "Traceback" not in text


def test_index_lists_dashboards(proxy):
    """Does the service's home page list the three dashboards in Vietnamese?"""
    base, _ = proxy
    r = get(base, "", "nhansu01")
    assert r.status_code == 200
    assert "Hồ sơ năng lực cá nhân" in r.content.decode("utf-8")


def test_learner_is_refused(proxy):
    """Does a user without the reports scope get 403?"""
    base, _ = proxy
    assert get(base, "voila/render/tong-quan.ipynb", "hocvien01").status_code == 403


def test_anonymous_is_sent_to_log_in(proxy):
    """Is someone not logged in redirected to the hub's login rather than served?"""
    base, _ = proxy
    r = get(base, "voila/render/tong-quan.ipynb", None)
    assert r.status_code == 302 and "/hub/login" in r.headers["Location"]


@pytest.mark.parametrize("path", [
    "lab", "tree", "api/contents/", "api/kernels", "api/terminals", "api/sessions",
    "voila/render/../../etc/passwd", "voila/render/%2e%2e/%2e%2e/etc/passwd",
    "voila/files/tong-quan.ipynb", "voila/tree", "voila/api/contents/",
    "voila/render/khac.ipynb", "voila/render/tong-quan.ipynb/../../../etc/passwd",
    # Any well-formed kernel id; fixed, so that parallel workers collect the same tests.
    "api/kernels/5b8ba2bf-b43f-4dc6-a687-7c8d1ddb23df",
])
def test_hr_cannot_reach_anything_else(proxy, path):
    """Does HR get 403 on every route that could read files or run code?"""
    base, _ = proxy
    assert get(base, path, "nhansu01").status_code == 403


@pytest.mark.parametrize("raw", [
    "voila/render/../../etc/passwd", "voila/static/../../../../etc/passwd",
    "voila/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "voila/render/..%2f..%2fetc%2fpasswd",
])
def test_raw_traversal_refused(proxy, raw):
    """Is a dot-dot path sent as is (not normalised by the client) refused?"""
    import http.client

    base, _ = proxy
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", PREFIX + raw, headers={"X-Test-User": "nhansu01"})
    resp = conn.getresponse()
    assert resp.status in (403, 404)
    assert b"root:" not in resp.read()


def test_other_methods_refused(proxy):
    """Are POST/PUT/DELETE to kernels and contents refused?"""
    base, _ = proxy
    h = {"X-Test-User": "nhansu01"}
    assert requests.post(base + PREFIX + "api/kernels", headers=h, timeout=30).status_code == 403
    assert requests.put(base + PREFIX + "api/contents/x.ipynb", headers=h, data="{}",
                        timeout=30).status_code == 403
    assert requests.delete(base + PREFIX + "api/kernels", headers=h, timeout=30).status_code == 403


def _kernel_id(page) -> str:
    m = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content.decode("utf-8"))
    assert m, "no kernel id in the page"
    return m.group(1)


def _msg(msg_type, content=None, channel="shell"):
    mid = uuid.uuid4().hex
    return mid, json.dumps({
        "header": {"msg_id": mid, "msg_type": msg_type, "username": "x", "session": "s",
                   "date": "2026-01-01T00:00:00Z", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "content": content or {}, "channel": channel,
        "buffers": []})


def test_kernel_socket_runs_no_code(proxy, hr_page, tmp_path):
    """Is an execute_request on HR's own kernel socket dropped while widget traffic passes?"""
    base, _ = proxy
    kid = _kernel_id(hr_page)
    marker = tmp_path / "pwned"

    async def talk():
        url = base.replace("http", "ws") + PREFIX + f"api/kernels/{kid}/channels"
        from tornado.httpclient import HTTPRequest

        conn = await websocket.websocket_connect(HTTPRequest(
            url, headers={"X-Test-User": "nhansu01", "Origin": base}))
        exec_id, exec_msg = _msg("execute_request", {
            "code": f"open({str(marker)!r}, 'w').write('x')", "silent": False})
        info_id, info_msg = _msg("kernel_info_request")
        await conn.write_message(exec_msg)
        await conn.write_message(info_msg)
        seen = []
        while True:
            raw = await asyncio.wait_for(conn.read_message(), 60)
            assert raw is not None
            msg = json.loads(raw)
            seen.append(msg)
            if msg["parent_header"].get("msg_id") == info_id and \
                    msg["header"]["msg_type"] == "kernel_info_reply":
                break
        conn.close()
        return exec_id, seen

    exec_id, seen = asyncio.run(talk())
    assert not [m for m in seen if m["parent_header"].get("msg_id") == exec_id]
    assert not marker.exists()


def test_kernel_socket_of_someone_else_refused(proxy, hr_page):
    """Can another HR user attach to the kernel of a page nhansu01 opened? (No: 403.)"""
    base, _ = proxy
    kid = _kernel_id(hr_page)

    async def attempt(user):
        from tornado.httpclient import HTTPClientError, HTTPRequest

        url = base.replace("http", "ws") + PREFIX + f"api/kernels/{kid}/channels"
        try:
            conn = await websocket.websocket_connect(HTTPRequest(
                url, headers={"X-Test-User": user, "Origin": base}))
        except HTTPClientError as exc:
            return exc.code
        conn.close()
        return 101

    assert asyncio.run(attempt("nhansu02")) == 403
    assert asyncio.run(attempt("hocvien01")) == 403


@pytest.mark.parametrize(("msg_type", "content", "allowed"), [
    ("comm_msg", {"comm_id": "x", "data": {"method": "update"}}, True),
    ("comm_open", {"target_name": "jupyter.widget.control"}, True),
    ("comm_open", {"target_name": "evil.target"}, False),
    ("kernel_info_request", {}, True),
    ("execute_request", {"code": "1"}, False),
    ("inspect_request", {"code": "os"}, False),
    ("complete_request", {"code": "o"}, False),
    ("history_request", {}, False),
])
def test_message_filter(msg_type, content, allowed):
    """Are only widget messages allowed from the browser to the kernel?"""
    _id, text = _msg(msg_type, content)
    assert service.allowed_from_browser(text) is allowed


def test_message_filter_binary_frames():
    """Is the legacy binary framing (widget buffers) read, and garbage refused?"""
    import struct

    _id, text = _msg("execute_request", {"code": "1"})
    body = text.encode()
    frame = struct.pack("!II", 2, 12) + struct.pack("!I", 12 + len(body)) + body + b"\x00\x01"
    frame = struct.pack("!I", 2) + struct.pack("!II", 12, 12 + len(body)) + body + b"\x00\x01"
    assert service.message_type(frame)[0] == "execute_request"
    assert not service.allowed_from_browser(frame)
    assert not service.allowed_from_browser(b"\x00garbage")


def test_hub_service_config_grants_only_nhansu():
    """Does the service's role grant access to group nhansu only, and nothing broad?"""
    from kynangso.settings import load_settings

    svc, roles = service.hub_service_config(load_settings(overrides={"state_dir": "/tmp/x"}),
                                            "/opt/venv/bin/python")
    assert svc["name"] == "reports" and svc["command"][-2:] == ["-m", "reports.service"]
    assert svc["url"].startswith("http://127.0.0.1:")
    assert roles == [{"name": "kns-reports-viewers", "groups": ["nhansu"],
                      "scopes": ["access:services!service=reports"]}]


@pytest.mark.parametrize("pool_size", [0, 3])
def test_pool_size_comes_from_the_settings(pool_size):
    """Does the operator's `reports.pool_size` reach the service (and Voilà's command line)?"""
    from kynangso.settings import load_settings

    settings = load_settings(overrides={"state_dir": "/tmp/x", "reports": {"pool_size": pool_size}})
    svc, _roles = service.hub_service_config(settings, "/opt/venv/bin/python")
    assert svc["environment"]["KNS_REPORTS_POOL_SIZE"] == str(pool_size)
    command = service.voila_command("python", 1, PREFIX, pool_size=pool_size)
    assert f"--VoilaConfiguration.default_pool_size={pool_size}" in command


@pytest.mark.browser
def test_dashboard_works_in_a_browser_through_the_proxy(proxy, tmp_path):
    """Do the widgets come alive through the filtered socket, and does a filter change the
    numbers a person sees (browser → kernel comm messages pass, code does not)?"""
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    base, _ = proxy
    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    refused = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=flags)
        context = browser.new_context(extra_http_headers={"X-Test-User": "nhansu01"},
                                      viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)
        page.goto(base + PREFIX + "voila/render/tong-quan.ipynb", timeout=120_000)
        page.get_by_text("Số cán bộ trong phạm vi đã chọn: 4").wait_for(timeout=120_000)
        page.locator("select").first.select_option(label="Phòng Kinh tế")
        page.get_by_text("Số cán bộ trong phạm vi đã chọn: 2").wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / "tong-quan.png"), full_page=True)
        browser.close()
    assert refused == [], refused


# --- the HR app: index, one-click downloads, Vietnamese loading screen ----------------------

def test_index_is_a_styled_vietnamese_page(proxy):
    """Does the index show each dashboard with its title, a one-line description and a link,
    styled like the hub's pages (the hub's stylesheet), with a way back to the hub?"""
    from kynangso.i18n import t

    base, _ = proxy
    r = get(base, "", "nhansu01")
    page = r.content.decode("utf-8")
    assert "<html lang='vi'" in page or '<html lang="vi"' in page
    assert "/hub/static/css/style.min.css" in page
    for name in service.DASHBOARDS:
        assert f"voila/render/{name}.ipynb" in page
        assert html.escape(t(f"reports.service.{name}")) in page
        assert html.escape(t(f"reports.service.about.{name}")) in page
    assert "/hub/home" in page


def test_excel_downloads_in_one_request_with_the_filter(proxy):
    """Does HR get the needs list of one unit as an .xlsx attachment straight from a link?"""
    import io

    from openpyxl import load_workbook

    from kynangso.i18n import t

    base, _ = proxy
    r = get(base, "export/nhu-cau-dao-tao.xlsx", "nhansu01",
            params={"department": "Văn phòng HĐND và UBND"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert r.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(r.content))
    rows = list(book[t("reports.sheet.needs")].iter_rows(min_row=2, values_only=True))
    assert rows and {row[0] for row in rows} == {"Văn phòng HĐND và UBND"}


def test_pdf_downloads_in_one_request(proxy):
    """Does HR get a person's PDF report straight from a link?"""
    base, _ = proxy
    r = get(base, "export/ho-so-ca-nhan.pdf", "nhansu01", params={"person": "an"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_download_refused_to_a_learner(proxy):
    """Attack: a learner (no reports scope) asks for the office's Excel file directly.
    The test fails if any byte of it is served."""
    base, _ = proxy
    r = get(base, "export/nhu-cau-dao-tao.xlsx", "hocvien01")
    assert r.status_code == 403
    assert not r.content.startswith(b"PK")
    assert get(base, "export/tong-quan.xlsx", None).status_code == 302


@pytest.mark.parametrize("path, params", [
    ("export/tong-quan.xlsx", {"department": "Phòng không có"}),
    ("export/tong-quan.xlsx", {"period": "../../etc/passwd"}),
    ("export/ho-so-ca-nhan.pdf", {"person": "khong-co-ai"}),
    ("export/tong-quan.pdf", {}),
    ("export/khac.xlsx", {}),
])
def test_bad_download_filter_explained(proxy, path, params):
    """Is a download with an unknown unit, period or person (a crafted link) refused with a
    Vietnamese sentence, and nothing else served?"""
    base, _ = proxy
    r = get(base, path, "nhansu01", params=params)
    assert r.status_code in (400, 403, 404)
    assert not r.content.startswith((b"PK", b"%PDF"))


def test_loading_screen_is_vietnamese(hr_page):
    """Does the page Voilà sends say, while it loads, a Vietnamese sentence instead of
    "Executing 2 of 2" / "Running tong-quan..."?"""
    from kynangso.i18n import t

    page = hr_page.content.decode("utf-8")
    assert "Executing" not in page and "Running " not in page and "Reading " not in page
    assert html.escape(t("reports.service.loading")) in page or t("reports.service.loading") in page
