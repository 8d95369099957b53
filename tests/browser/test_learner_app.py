"""The learner app, as the learner sees it: login → home → a lesson as an app → its exercise
→ progress on the home; an exam in exam mode. (What the lesson page's kernel refuses, and who
may reach a learner's home: tests/security/test_learner_app.py.)

Runs on the session hub (tests/conftest.py), where `hocvien07` is a learner outside the
advanced group (the others there keep JupyterLab). Screenshots go to the artefacts folder.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from courses.catalogue import load_catalogue
from kynangso.hub.harness import IS_ROOT, browser_login
from kynangso.i18n import t
from tests.browser.vietnamese import english_words, visible_text

pytestmark = [pytest.mark.browser, pytest.mark.hub]

LEARNER = "hocvien07"
OTHER = "hocvien01"  # an advanced learner: JupyterLab, kernels that run code
COURSE = "01-van-ban-dien-tu"
# English words that upstream (Voilà, JupyterLab, ipywidgets, the browser) would show; none
# belongs on a learner's page. Names and codes (NT.1, VB.3, số hiệu văn bản) are not English words.
UPSTREAM_ENGLISH = re.compile(
    r"\b(Executing|Running|Reading|Loading|Error|Exception|Traceback|None|NaN|nan|null|undefined|"
    r"True|False|Kernel|Voil[aà]|Jupyter|JupyterLab|Notebook|Launcher|Save|Cancel|Close|Submit|"
    r"Select|Search|Page|Home|Logout|Run|Cell|File|Edit|View|Settings|Help|Widget|model|found|"
    r"of|the|and|is|not)\b")


def assert_no_english(text: str, where: str) -> None:
    found = UPSTREAM_ENGLISH.search(text)
    assert found is None, f"{where}: {found.group(0)!r} in …{text[max(0, found.start() - 80):found.end() + 80]}…"
    words = english_words(text, {LEARNER, OTHER})  # and the catalogue's allow-list
    assert not words, f"{where}: {words}"


def assert_static_assets_cached(hub, responses) -> None:
    """Is every file the lesson page loaded from the server cached: for a year when its path
    or query names its version, else kept and revalidated (no-cache with an ETag)?"""
    assets = [r for r in responses if r.url.startswith(hub.url)
              and r.request.resource_type in ("script", "stylesheet", "font", "image")]
    assert len(assets) > 50, [r.url for r in assets]  # Voilà's scripts and the widgets'
    for r in assets:
        header = r.headers.get("cache-control", "")
        if "no-cache" in header:
            assert r.headers.get("etag") or r.headers.get("last-modified"), r.url
        else:
            age = re.search(r"max-age=(\d+)", header)
            assert age and int(age.group(1)) >= 31536000, f"{r.url}: {header!r}"
    # voila.js and its chunks: the versioned copy, cached for good.
    assert sum("/voila/kns-static/" in r.url for r in assets) > 40


def lesson_one():
    return load_catalogue().course(COURSE).lessons[0]


def test_learner_journey_home_lesson_exercise_progress(hub, page, artifacts):
    """Does a learner land on a Vietnamese home, open lesson 01 as an app whose exercise works
    without any menu, and find the lesson's progress on the home afterwards?"""
    lesson = lesson_one()
    browser_login(page, hub, LEARNER, landing="kns/home")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.get_by_role("heading", name=t("learner.home.heading")).wait_for(timeout=60_000)
    card = page.locator(f".kns-course[data-course='{COURSE}']")
    assert t("learner.home.course_progress", done=0, total=len(load_catalogue().course(COURSE).lessons),
             percent=0) in card.inner_text()
    assert t("learner.home.exams") in visible_text(page) and t("learner.home.certificate") in visible_text(page)
    page.screenshot(path=str(artifacts / "learner-01-home.png"))
    assert_no_english(visible_text(page), "home")

    # The lesson opens as an app from the home: exercises ready, no code, no prompt, no menu.
    responses = []

    def keep(response):
        responses.append(response)

    page.on("response", keep)
    card.get_by_role("link", name=lesson.title).click()
    page.wait_for_url(f"**/user/{LEARNER}/voila/render/**", timeout=60_000)
    check = page.get_by_role("button", name=t("courses.ui.check"), exact=True)
    check.first.wait_for(timeout=180_000)
    page.remove_listener("response", keep)
    assert_static_assets_cached(hub, responses)
    text = visible_text(page)
    assert "import" not in text and "quy_trinh" not in text and "lesson.start" not in text, "code is visible"
    # Markdown cells render in .jp-InputArea; code would be in an editor, with a prompt.
    assert page.locator(".jp-InputPrompt, .jp-CodeMirrorEditor, .cm-editor, .lm-MenuBar").count() == 0
    assert page.locator("select").count() > 0
    # Wide enough for the steps' names ("Đăng ký văn bản đi"), not ipywidgets' ~100 px.
    assert page.locator("select").first.bounding_box()["width"] >= 300
    page.screenshot(path=str(artifacts / "learner-02-lesson.png"))
    assert_no_english(text, "lesson")

    # The exercise: pick an action for step 1, check, read the feedback.
    first = page.locator("select").first
    options = first.locator("option")
    first.select_option(index=options.count() - 1)
    check.first.click()
    feedback = page.locator(".widget-html").filter(has_text=re.compile(
        f"{re.escape(t('courses.ui.right'))}|{re.escape(t('courses.ui.wrong'))}"
        f"|{re.escape(t('courses.ui.need_answer'))}"))
    feedback.first.wait_for(timeout=60_000)
    feedback.first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "learner-03-exercise-feedback.png"))
    assert_no_english(visible_text(page), "lesson after checking")

    # Back to the home by the lesson's own link; the lesson is now "being studied".
    page.get_by_role("link", name=t("learner.app.back_home")).click()
    page.wait_for_url(f"**/user/{LEARNER}/kns/home", timeout=60_000)
    row = page.locator(f".kns-course[data-course='{COURSE}'] li").filter(has_text=lesson.title)
    assert t("learner.home.lesson_opened") in row.inner_text()
    page.screenshot(path=str(artifacts / "learner-04-home-progress.png"))
    assert_no_english(visible_text(page), "home after the lesson")


def sandbox_mail_words() -> set[str]:
    """ASCII words of the e-mail sandbox's data (its messages' texts and its directory's names):
    what a message shows is data, not the app's words."""
    import sandbox.email

    root = Path(sandbox.email.__file__).parent
    words: set[str] = set()
    for path in (root / "data" / "messages.yaml", root / "rules" / "directory.yaml"):
        words |= set(re.findall(r"[A-Za-z]+", path.read_text("utf-8")))
    return words


def test_learner_judges_a_message_in_the_course_04_mailbox(hub, page, artifacts):
    """Does course 04 show on the learner's home from the catalogue, and does its phishing
    lesson open as an app whose mailbox opens a message, takes the learner's judgement and
    explains it, all in Vietnamese?"""
    course = load_catalogue().course("04-thu-dien-tu")
    lesson = course.lessons[1]  # 02-nhan-biet-thu-lua-dao: the learner's seeded inbox
    browser_login(page, hub, LEARNER, landing="kns/home")
    page.set_viewport_size({"width": 1366, "height": 768})
    card = page.locator(f".kns-course[data-course='{course.id}']")
    card.wait_for(timeout=60_000)
    assert course.title in card.inner_text()
    card.get_by_role("link", name=lesson.title).click()
    page.wait_for_url(f"**/user/{LEARNER}/voila/render/**", timeout=60_000)
    mail_list = page.locator(".widget-select select").first
    mail_list.wait_for(timeout=180_000)
    assert mail_list.locator("option").count() == 10  # practice.COUNT_02 messages
    mail_list.select_option(index=0)
    page.get_by_text(t("email.ui.from_address")).first.wait_for(timeout=60_000)
    page.get_by_role("button", name=t("email.ui.judge_phishing"), exact=True).click()
    feedback = page.get_by_text(t("email.ui.your_answer",
                                  answer=t("email.ui.judge_phishing")), exact=False)
    feedback.first.wait_for(timeout=60_000)
    # The app redraws the mailbox after a judgement (the list's marks and the score): read the
    # page once it shows the verdict and the score. In one run on a busy machine the page's text,
    # read right after the feedback appeared, was taken mid-redraw, without the mailbox at all.
    scores = [t("email.ui.score", judged=1, total=10, right=r) for r in (0, 1)]

    def settled(text: str) -> bool:
        return "Thư này là:" in text and any(score in text for score in scores)

    text = visible_text(page)
    deadline = time.monotonic() + 60  # a redraw on 2 busy cores
    while not settled(text) and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        text = visible_text(page)
    # The whole page: the element found first may be gone by the time it is scrolled to.
    page.screenshot(path=str(artifacts / "learner-c04-mailbox-judged.png"), full_page=True)
    assert "Thư này là:" in text
    assert any(score in text for score in scores)
    assert "import" not in text and "lua_dao" not in text, "code is visible"
    # addresses, domains and the messages' own words are data; the rest must be Vietnamese
    shown = re.sub(r"\S+@\S+|\b[\w-]+(?:\.[\w-]+)+\b", " ", text)
    found = UPSTREAM_ENGLISH.search(shown)
    assert found is None, shown[max(0, found.start() - 80):found.end() + 80]
    words = english_words(shown, sandbox_mail_words() | {LEARNER, OTHER})
    assert not words, words


# --- exam mode -----------------------------------------------------------------------------------

EXAM = "kiem-tra-thu-app"
EXAM_NOTEBOOK = {
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# Kiểm tra thử\n\nChọn một phương án."},
        {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "import ipywidgets as w\nw.Dropdown(options=['Văn bản đến', 'Văn bản đi'], "
                   "description='Câu 1')"},
    ],
}


def kns(hub, *args: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KNS_SETTINGS": str(hub.settings_file)}
    return subprocess.run([sys.executable, "-m", "kynangso.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def release(hub, exam: str) -> None:
    """Put a released exam where nbgrader's release puts it (the grader's outbound folder);
    releasing through formgrader is tested in tests/hub/test_exam_cycle.py."""
    import os
    import pwd

    from kynangso.exams.course import places

    where = places(hub.settings, isolated=True)
    grader = pwd.getpwnam(hub.settings["exams"]["grader_account"])
    folder = where.exchange / where.course_id / "outbound" / exam
    folder.mkdir(parents=True)
    for path in (folder.parent, folder):
        os.chown(path, grader.pw_uid, grader.pw_gid)
        os.chmod(path, 0o755)
    inbound = where.exchange / where.course_id / "inbound"  # as nbgrader's release makes it
    inbound.mkdir(exist_ok=True)
    os.chown(inbound, grader.pw_uid, grader.pw_gid)
    os.chmod(inbound, 0o733)
    notebook = folder / f"{exam}.ipynb"
    notebook.write_text(json.dumps(EXAM_NOTEBOOK, ensure_ascii=False), encoding="utf-8")
    os.chown(notebook, grader.pw_uid, grader.pw_gid)
    os.chmod(notebook, 0o644)


@pytest.mark.skipif(not IS_ROOT, reason="exam windows need an isolated (root) hub")
def test_exam_mode_serves_only_the_exam_until_submitted(hub, page, artifacts):
    """While a learner's exam is in progress, is only the exam's app served (JupyterLab, the
    contents, kernels and terminals refused in Vietnamese), and does "Nộp bài" submit it through
    the desk, record the attempt and end exam mode?"""
    from kynangso.exams import windows

    release(hub, EXAM)
    opened = kns(hub, "exam", "open", EXAM, "--group", "hocvien", "--minutes", "30", "--late", "refuse")
    assert opened.returncode == 0, opened.stderr
    try:
        browser_login(page, hub, LEARNER, landing="kns/home")
        page.set_viewport_size({"width": 1366, "height": 768})
        start = page.locator(f".kns-start-exam[data-exam='{EXAM}']")
        start.wait_for(timeout=60_000)
        page.screenshot(path=str(artifacts / "learner-05-home-open-exam.png"))
        assert_no_english(visible_text(page), "home with an open exam")
        # The exam by its name (the notebook's first heading), not its id.
        assert "Kiểm tra thử" in visible_text(page) and EXAM not in visible_text(page)
        start.click()
        page.wait_for_url(f"**/user/{LEARNER}/voila/render/{EXAM}/{EXAM}.ipynb", timeout=120_000)
        page.get_by_text("Câu 1").first.wait_for(timeout=180_000)
        page.locator("select").first.select_option(label="Văn bản đi")
        page.screenshot(path=str(artifacts / "learner-06-exam-app.png"))
        assert_no_english(visible_text(page), "exam page")
        assert t("learner.exam.heading", title="Kiểm tra thử") in visible_text(page)

        # Everything else is refused, in Vietnamese; the home leads back to the exam.
        base = f"{hub.url}/user/{LEARNER}"
        response = page.goto(f"{base}/lab")
        assert response.status == 403
        assert t("learner.exam.refused") in visible_text(page)
        page.screenshot(path=str(artifacts / "learner-07-lab-refused.png"))
        xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
        api = page.context.request
        for method, path in (("GET", "api/contents"), ("GET", "api/contents/KhoaHoc"), ("POST", "api/kernels"),
                             ("GET", "api/kernels"), ("GET", "api/terminals"), ("GET", "terminals/1"),
                             ("GET", f"files/{EXAM}/{EXAM}.ipynb"),
                             ("GET", f"voila/render/KhoaHoc/{lesson_one().notebook}")):
            r = api.fetch(f"{base}/{path}", method=method, headers={"X-XSRFToken": xsrf})
            assert r.status == 403, (method, path, r.status)
            body = r.text()
            said = json.loads(body)["message"] if path.startswith("api/") else body
            assert t("learner.exam.refused") in said, (method, path, body[:200])
        page.goto(f"{base}/kns/home")
        page.wait_for_url(f"**/user/{LEARNER}/voila/render/{EXAM}/{EXAM}.ipynb", timeout=60_000)

        # "Nộp bài": through nbgrader's submit and the desk, then back home, exam mode over.
        page.get_by_text("Câu 1").first.wait_for(timeout=180_000)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name=t("learner.exam.submit")).click()
        page.wait_for_url(f"**/user/{LEARNER}/kns/home", timeout=180_000)
        assert t("learner.home.attempt_submitted") in visible_text(page)
        page.screenshot(path=str(artifacts / "learner-08-home-submitted.png"))
        mine = [a for a in windows.attempts(hub.settings.database_url, EXAM) if a["username"] == LEARNER]
        assert mine and mine[0]["submitted_at"] and mine[0]["submissions"] == 1, mine
        assert api.fetch(f"{base}/api/contents/KhoaHoc").status == 200
    finally:
        kns(hub, "exam", "close", EXAM)
