"""A person's view: simulation widgets rendered and used in a real JupyterLab, in Chromium."""

import json

import pytest

from kynangso.hub.harness import browser_login, cookie, log_in, run_all_cells
from kynangso.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.hub]


def put_notebook(hub, username: str, path: str, code: str) -> None:
    session = log_in(hub, username).session
    session.get(f"{hub.url}/hub/spawn/{username}", timeout=60)
    notebook = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": code, "outputs": [],
                   "execution_count": None}],
    }
    r = session.put(f"{hub.url}/user/{username}/api/contents/{path}",
                    data=json.dumps({"type": "notebook", "content": notebook}),
                    headers={"X-XSRFToken": cookie(session, "_xsrf", f"/user/{username}/") or ""}, timeout=60)
    assert r.status_code in (200, 201), r.text


def test_registration_form_works_in_jupyterlab(hub, page, artifacts):
    """Does the registration form render in JupyterLab and answer a click with a Vietnamese message?"""
    browser_login(page, hub, "hocvien01")
    put_notebook(hub, "hocvien01", "KhoaHoc/dang-ky.ipynb",
                 "from sandbox.documents.widgets import registration_form\nregistration_form()")
    page.goto(f"{hub.url}/user/hocvien01/lab/tree/KhoaHoc/dang-ky.ipynb")
    run_all_cells(page)
    page.get_by_text(t("documents.ui.author")).first.wait_for(timeout=120_000)
    page.get_by_role("button", name=t("documents.ui.register")).click()
    page.get_by_text(t("documents.incoming.need_author")).first.wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "documents-registration-form.png"), full_page=True)
    # The interface itself is Vietnamese (language pack) and trimmed.
    assert page.locator("html").get_attribute("lang") in ("vi", "vi-VN", "vi_VN")


def test_course_lesson_renders_with_its_widgets(hub, page, artifacts):
    """Does a delivered lesson open in JupyterLab with its exercise widgets, code hidden?"""
    from courses.catalogue import load_catalogue

    lesson = next(x for x in load_catalogue().lessons() if x.course.startswith("01"))
    relative = lesson.notebook
    browser_login(page, hub, "hocvien02")
    page.goto(f"{hub.url}/user/hocvien02/lab/tree/KhoaHoc/{relative}")
    run_all_cells(page)
    check = page.locator(".jp-OutputArea-output").get_by_role("button", name=t("courses.ui.check"), exact=True)
    check.first.wait_for(timeout=120_000)
    assert page.locator(".jp-Cell .cm-content").filter(has_text="import").count() == 0, "code is visible"
    assert page.locator(".jp-OutputArea-output .widget-dropdown, .jp-OutputArea-output .widget-text").count() > 0
    check.first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "course-lesson-01.png"))
