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


def test_exercise_shows_the_services_verdict(hub, page, artifacts):
    """In JupyterLab, does a course exercise show the progress service's verdict (no "not
    recorded" note), and does the service record the lesson as completed?"""
    from kynangso.hub.harness import api_token, new_session

    browser_login(page, hub, "hocvien03")
    page.goto(f"{hub.url}/user/hocvien03/lab/tree/KhoaHoc/00-lam-quen/02-bai-tap-va-phan-hoi.ipynb")
    run_all_cells(page)
    output = page.locator(".jp-OutputArea-output")
    field = output.locator(".widget-text input").first
    field.wait_for(timeout=120_000)
    phrase = output.locator("b").filter(has_text=" ").first.inner_text()
    field.fill(phrase)
    output.get_by_role("button", name=t("courses.ui.check"), exact=True).first.click()
    output.get_by_text(t("courses.c00.typing_ok")).first.wait_for(timeout=120_000)
    assert output.get_by_text(t("courses.ui.not_recorded")).count() == 0
    output.get_by_text(t("courses.c00.typing_ok")).first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "course-exercise-judged.png"))
    token = api_token(hub, log_in(hub, "hocvien03").session, "hocvien03")
    mine = new_session().get(f"{hub.url}/services/progress/api/me", timeout=30,
                             headers={"Authorization": f"token {token}"}).json()
    lesson = next(x for x in mine["lessons"] if x["lesson_id"] == "02-bai-tap-va-phan-hoi")
    assert lesson["completed"] and lesson["passed"] == ["go-tieng-viet"]
