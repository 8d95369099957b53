"""The admin's journey in headless Chromium at 1366x768 (issue 12, part 4), on the session hub.

The demo admin logs in through the form and lands on the admin app: the staff directory with
full names, units, roles and account states. They import a staff file with a bad row, read the
importer's report (row, column, what to do) and find nothing imported. Then they look at the
other pages (activation codes, who is online, the services' health). Every page is
screenshotted into the artefacts folder and must hold no English word from upstream.
"""

from __future__ import annotations

import re

import pytest

from kynangso.admin import data
from kynangso.hub.harness import log_in, open_lab
from kynangso.i18n import t
from tests.browser.vietnamese import english_words

pytestmark = [pytest.mark.browser, pytest.mark.hub]
VIEWPORT = {"width": 1366, "height": 768}
WAIT = 180_000  # ms: a ceiling for a busy 2-core machine, not a measured duration
# Names and codes that may show in ASCII letters: login names, the column header "Email" (HR's
# wording), file types, the bad row's address.
ALLOWED = {"quantri", "hocvien01", "hocvien02", "hocvien03",
           "hocvien90", "nhansu01", "email", "csv", "xlsx", "ms", "khong", "phai", "ds"}


BAD_FILE = ("Mã cán bộ,Họ và tên,Chức vụ,Đơn vị,Email,Vai trò\n"
            "HOCVIEN01,Nguyễn Thị Hồng,Chuyên viên,Văn phòng HĐND và UBND,cb0@example.vn,Học viên\n"
            "HOCVIEN77,Trịnh Văn Nam,Chuyên viên,Phòng Kinh tế,nam@example.vn,Học viên\n"
            "HOCVIEN78,Lý Thị Hoa,Chuyên viên,Phòng Kinh tế,khong-phai-email,Học viên\n")


def test_admin_imports_a_bad_file_and_reads_the_error(hub, browser, artifacts):
    """The demo admin: the directory, a search, a bad import read and nothing imported, the
    other pages; no English on any of them."""
    context = browser.new_context(viewport=VIEWPORT, locale="vi-VN")
    page = context.new_page()
    shots, english = [], {}

    def look(name: str) -> str:
        path = artifacts / f"admin-app-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)
        text = page.evaluate("document.body.innerText")
        if english_words(text, ALLOWED):
            english[name] = english_words(text, ALLOWED)
        return text

    try:
        before = data.people(hub.settings.database_url)
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", "quantri")
        page.fill("#password_input", hub.passwords["quantri"])
        page.click("#login_submit")
        page.wait_for_url("**/services/admin/", timeout=WAIT)
        page.locator("#kns-directory").wait_for(timeout=WAIT)
        text = look("directory")
        for expected in ("Đỗ Minh Quân", "Nguyễn Thị Hồng", "Văn phòng HĐND và UBND",
                         t("staff.role.quantri"), t("staff.role.hocvien"), t("admin.state.active")):
            assert expected in text, expected
        # Filter by unit (a select of the units) and search without diacritics.
        page.fill("#q", "nguyen thi hong")
        page.click("form[role=search] button[type=submit]")
        page.wait_for_url(re.compile(r"q=nguyen"), timeout=WAIT)
        rows = page.locator("#kns-directory tbody tr")
        assert rows.count() == 1 and "Nguyễn Thị Hồng" in rows.inner_text()
        look("directory-search")

        page.click("#kns-tab-import")
        page.locator("#kns-import-form").wait_for(timeout=WAIT)
        upload = artifacts / "admin-app-bad-file.csv"
        upload.write_text(BAD_FILE, encoding="utf-8")
        page.set_input_files("#file", str(upload))
        # The Vietnamese file picker shows the chosen name (its script runs under the policy).
        page.locator("#file-name").filter(has_text="admin-app-bad-file.csv").wait_for(timeout=WAIT)
        look("import-chosen")
        page.click("#kns-import-form button[type=submit]")
        report = page.locator("#kns-import-error")
        report.wait_for(timeout=WAIT)
        text = look("import-error")
        problems = page.locator("#kns-import-problems li").all_inner_texts()
        assert len(problems) == 1 and problems[0].startswith("Dòng 4"), problems
        assert "khong-phai-email" in problems[0] and "email" in problems[0].lower()  # the column
        assert "KHÔNG được nhập" in report.inner_text() and "admin-app-bad-file.csv" in text
        # Nothing imported: the good rows of the file are not in the directory either.
        assert data.people(hub.settings.database_url) == before
        page.click("#kns-tab-directory")
        page.locator("#kns-directory").wait_for(timeout=WAIT)
        assert "Trịnh Văn Nam" not in page.evaluate("document.body.innerText")

        # A learner at work: the online page names them, with their unit and Vietnamese times.
        open_lab(hub, log_in(hub, "hocvien01").session, "hocvien01")
        for tab, marker in (("codes", "#reset-username"), ("online", "#kns-online"),
                            ("health", "#kns-health")):
            page.click(f"#kns-tab-{tab}")
            page.locator(marker).first.wait_for(timeout=WAIT)
            text = look(tab)
            if tab == "online":
                row = page.locator("#kns-online tr", has_text="Nguyễn Thị Hồng").inner_text()
                assert t("admin.online.running") in row and "Văn phòng HĐND và UBND" in row
                assert re.search(r"vừa xong|\d+ phút trước", row), row
            if tab == "health":
                assert t("admin.health.down") not in text
        assert page.locator("#kns-hub-admin").get_attribute("href").endswith("/hub/admin")
        assert not english, f"English words: {english}"
    except Exception:
        page.screenshot(path=str(artifacts / "FAILED-admin-app.png"), full_page=True)
        raise
    finally:
        context.close()
