"""A person's view: simulation widgets rendered and used in a real JupyterLab, in Chromium."""

import json

import pytest

from kynangso.hub.harness import browser_login, cookie, log_in, run_first_cell
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
    run_first_cell(page)
    page.get_by_text(t("documents.ui.author")).first.wait_for(timeout=120_000)
    page.get_by_role("button", name=t("documents.ui.register")).click()
    page.get_by_text(t("documents.incoming.need_author")).first.wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "documents-registration-form.png"), full_page=True)
    # The interface itself is Vietnamese (language pack) and trimmed.
    assert page.locator("html").get_attribute("lang") in ("vi", "vi-VN", "vi_VN")
