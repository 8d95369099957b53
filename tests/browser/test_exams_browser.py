"""An exam as the people who take part see it: headless Chromium through a real hub (root only).

The instructor lands on the instructors' app (the exam desk's page) after login, generates and
releases `tong-hop` there (formgrader, the advanced tool, shows it released) and opens a window;
the learner, who keeps JupyterLab, fetches the exam from its Assignment List, is told that
their server restarts in exam mode, takes the exam in the exam app (answers a question by
clicking a radio button, "Nộp bài"); the desk's stored copy holds that answer. The instructor
then collects and grades from the app, finds the written answer in the queue beside its mark
scheme, marks it there, and releases feedback. The tests run in order and share what
they saw (`journey`). Screenshots of each page go to test-artifacts/ (instructor-app-*.png).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import pwd
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assessments.questions.header import vietnam_time
from kynangso.exams.course import places
from kynangso.hub.harness import (
    IS_ROOT,
    browser_login,
    isolated_hub,
)
from kynangso.i18n import t
from tests.browser.vietnamese import english_words, visible_text

pytestmark = [pytest.mark.slow(160), pytest.mark.browser, pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="exam windows need an isolated (root) hub")]

STAFF = {
    "giangvien01": ("Vũ Thị Lan", "giangvien", "GiangVien@2026"),
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien@2026"),
    "quantri": ("Đỗ Minh Quân", "quantri", "QuanTri@2026!"),
}
COURSE, EXAM, GROUP, MINUTES = "kiem-tra-nang-luc", "tong-hop", "hocvien", 20
TITLE = "Kiểm tra năng lực số: phần chung"  # tong-hop's header
# People's names may show in ASCII letters ("Vũ Thị Lan"): not English.
PEOPLE = {word for name, *_rest in STAFF.values() for word in name.split()}
WAIT = 180_000  # ms: a ceiling for slow machines, not a measured duration


def app_text(page) -> str:
    """The app's own words: its visible text without the learners' answers and the course's
    mark schemes it quotes (Vietnamese prose, not the interface)."""
    text = visible_text(page)
    for quoted in page.locator(".kns-answer, .kns-scheme").all_inner_texts():
        text = text.replace(quoted, "")
    return text


@pytest.fixture(scope="module")
def ehub(tmp_path_factory):
    with isolated_hub(tmp_path_factory.mktemp("exam-browser-hub"), STAFF, tag="b") as hub:
        yield hub


@pytest.fixture(scope="module")
def journey() -> dict:
    """What one test saw and the next one needs (the tests are steps of one exam)."""
    return {}


# --- helpers ---------------------------------------------------------------------------------

def exchange(hub) -> Path:
    return places(hub.settings, True).exchange / COURSE


def home_of(hub, user: str) -> Path:
    return Path(pwd.getpwnam(hub.unix_name(user)).pw_dir)


def prefix_of(key: str, **params) -> str:
    """The fixed start of a catalogue sentence, up to its first variable part."""
    marker = "\x00"
    return t(key, **{**params, **{p: marker for p in ("time", "closes") if p not in params}}
             ).split(marker)[0]


def exam_questions(notebook: Path) -> list[tuple[str, str, dict]]:
    """(kind, item id, keyword arguments) of each question of an exam notebook as released: its
    cells call `bai.<kind>("<item>", title=..., ...)` with literal arguments."""
    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.args and any(k.arg == "title" for k in node.keywords)):
                found.append((node.func.attr, ast.literal_eval(node.args[0]),
                              {k.arg: ast.literal_eval(k.value) for k in node.keywords}))
    assert found, f"no question found in {notebook}"
    return found


# --- the steps -------------------------------------------------------------------------------

def app_login(page, hub, username: str) -> None:
    """The hub's login form with no page asked for: an instructor lands on their app."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", hub.passwords[username])
    page.click("#login_submit")
    page.wait_for_url("**/services/exams/", timeout=WAIT)


def card(page, exam: str):
    return page.locator(f"section.kns-card[data-exam='{exam}']")


def wait_job(page, exam: str, kind: str) -> str:
    """Wait (the page reloads itself while a job runs) until the exam's job ends; its state."""
    job = card(page, exam).locator(
        f"[data-job='{kind}'][data-state='done'], [data-job='{kind}'][data-state='failed']")
    job.wait_for(timeout=WAIT)
    return job.get_attribute("data-state")


def test_instructor_lands_on_the_app_releases_and_opens_a_window(ehub, page, artifacts, journey):
    """Does an instructor land on the instructors' app after login, generate and release the
    exam with one button (run by the grading worker), find it released in formgrader (the
    advanced tool) too, and open a window for the learners' group?"""
    hub = ehub
    app_login(page, hub, "giangvien01")
    page.get_by_role("heading", name=t("exams.app.heading")).wait_for(timeout=WAIT)
    page.screenshot(path=str(artifacts / "instructor-app-landing.png"), full_page=True)
    exam = card(page, EXAM)
    exam.get_by_role("button", name=t("exams.app.release_button")).click()
    assert t("exams.app.job_kind.release") in page.locator("[role=status]").inner_text()
    assert wait_job(page, EXAM, "release") == "done", card(page, EXAM).inner_text()
    assert (exchange(hub) / "outbound" / EXAM / f"{EXAM}.ipynb").is_file()
    page.screenshot(path=str(artifacts / "instructor-app-released.png"), full_page=True)
    assert not english_words(app_text(page), PEOPLE), english_words(app_text(page), PEOPLE)

    # Formgrader (a tab of its own: the hub forbids framing) shows the same release.
    fg = page.context.new_page()
    fg.goto(f"{hub.url}/services/{COURSE}/formgrader")
    fg.wait_for_url("**/formgrader/manage_assignments", timeout=WAIT)
    row = fg.locator("#main-table tr").filter(
        has=fg.locator("td.name", has_text=re.compile(rf"^{EXAM}$")))
    row.locator("td.status", has_text="released").wait_for(timeout=WAIT)
    fg.close()

    # A window for the learners' group, from the exam's card.
    exam = card(page, EXAM)
    exam.locator("select[name=group]").select_option(GROUP)
    exam.locator("input[name=minutes]").fill(str(MINUTES))
    exam.locator("select[name=late_policy]").select_option("refuse")
    exam.get_by_role("button", name=t("exams.app.open_button")).click()
    status = page.locator("[role=status]")
    status.wait_for(timeout=WAIT)
    assert status.inner_text().startswith(prefix_of(
        "exams.app.opened", exam=TITLE, group=t("exams.app.group_all"))), status.inner_text()
    windows_table = card(page, EXAM).locator("table")
    assert t("exams.page.policy_refuse") in windows_table.inner_text()
    assert t("exams.app.window_open") in windows_table.inner_text()
    page.screenshot(path=str(artifacts / "instructor-app-opened.png"), full_page=True)
    journey["opened"] = True


def test_learner_fetches_in_jupyterlab_and_takes_the_exam_in_exam_mode(ehub, page, artifacts, journey):
    """Can a learner who keeps JupyterLab find the exam in the Nbgrader menu's Assignment List
    (and nothing of the instructors' tools), fetch it, be told in Vietnamese that their server
    restarts in exam mode, then take it in the exam app: its closing time and late policy,
    an answer by clicking, "Nộp bài"?"""
    if not journey.get("opened"):
        pytest.skip("needs the instructor's step (released and opened) first")
    hub = ehub
    browser_login(page, hub, "hocvien01")

    # The Nbgrader menu shows only the Assignment List.
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    menu = page.locator("#jp-mainmenu-nbgrader")
    menu.wait_for()
    shown = menu.locator(".lm-Menu-itemLabel").filter(visible=True).all_inner_texts()
    assert shown == ["Assignment List"], shown
    menu.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()

    released = page.locator("#released_assignments_list > .list_item", has_text=EXAM)
    released.wait_for(timeout=WAIT)
    page.screenshot(path=str(artifacts / "exams-assignment-list-before-fetch.png"))
    released.get_by_role("button", name="Fetch").click()
    # The desk hands nothing to a server where the learner runs code: the list says why.
    page.get_by_text(t("exams.exam_mode_restart", exam=TITLE)).first.wait_for(timeout=WAIT)
    page.screenshot(path=str(artifacts / "exams-assignment-list-exam-mode.png"))

    # The desk restarts the server; the learner reloads JupyterLab as told, which is refused
    # now, and follows the link to the exam app.
    base = f"{hub.url}/user/hocvien01"
    deadline = time.monotonic() + 120
    while page.context.request.get(f"{base}/api/status", max_redirects=0).status == 200:
        assert time.monotonic() < deadline, "the desk did not restart the server"
        time.sleep(1)
    page.reload()
    back = page.get_by_role("link", name=t("learner.exam.back_to_exam"))
    back.wait_for(timeout=WAIT)
    assert t("learner.app.exam_mode_only") in visible_text(page)
    page.screenshot(path=str(artifacts / "exams-lab-refused-in-exam-mode.png"))
    back.click()
    page.wait_for_url(f"**/user/hocvien01/voila/render/{EXAM}/{EXAM}.ipynb", timeout=WAIT)
    questions = exam_questions(exchange(hub) / "outbound" / EXAM / f"{EXAM}.ipynb")
    # Every cell has run once the last question is on screen.
    page.locator("h3", has_text=questions[-1][2]["title"]).first.wait_for(state="attached", timeout=WAIT)

    # The header: the closing time the desk set, and what happens to late work.
    info = json.loads((home_of(hub, "hocvien01") / EXAM / "exam-info.json").read_text("utf-8"))
    assert info["late_policy"] == "refuse"
    when = vietnam_time(dt.datetime.fromisoformat(info["closes_at"]))
    header = page.locator(".widget-html-content",
                          has_text=t("questions.header.late_refuse", **when)).first
    header.wait_for(timeout=WAIT)
    assert t("questions.header.closes", **when) in header.text_content()
    header.scroll_into_view_if_needed()
    expect(header).to_be_in_viewport(timeout=WAIT)
    page.screenshot(path=str(artifacts / "exams-app-header.png"))

    # The first single-choice question, answered by a click on one of its radio buttons.
    _kind, item, spec = next(q for q in questions if q[0] == "single_choice")
    options = dict(spec["options"])
    key = sorted(options)[-1]
    question = page.locator(".jp-OutputArea-output > .widget-vbox").filter(
        has=page.locator("h3", has_text=spec["title"])).first
    question.scroll_into_view_if_needed()
    question.get_by_label(options[key], exact=True).check()
    question.locator("[role=status]", has_text=prefix_of("questions.saved")).wait_for(timeout=WAIT)
    expect(question).to_be_in_viewport(timeout=WAIT)
    page.screenshot(path=str(artifacts / "exams-app-answered.png"))

    # "Nộp bài" in the exam bar; the learner app's home then says so, and that the server
    # stays in exam mode until the window closes.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=t("learner.exam.submit")).click()
    page.wait_for_url("**/user/hocvien01/kns/home", timeout=WAIT)
    assert t("learner.home.attempt_submitted") in visible_text(page)
    assert t("learner.home.exam_mode") in visible_text(page)
    page.screenshot(path=str(artifacts / "exams-app-submitted.png"))
    cached = sorted((home_of(hub, "hocvien01") / ".local/share/jupyter/nbgrader_cache" / COURSE).glob(
        f"hocvien01+{EXAM}+*"))
    assert len(cached) == 1, cached  # nbgrader's record of the learner's own submission
    journey.update(item=item, key=key, timestamp=(cached[0] / "timestamp.txt").read_text())


def test_desk_stored_the_submission_with_the_clicked_answer(ehub, journey):
    """Is the submission the learner saw listed stored by the desk in the exchange's inbound,
    with the same time and the answer that was clicked in its answer file?"""
    if "timestamp" not in journey:
        pytest.skip("needs the learner's step (submitted) first")
    inbound = exchange(ehub) / "inbound"
    stored = sorted(inbound.glob(f"hocvien01+{EXAM}+*"))
    assert len(stored) == 1, [p.name for p in inbound.iterdir()]
    assert (stored[0] / "timestamp.txt").read_text() == journey["timestamp"]
    assert (stored[0] / f"{EXAM}.ipynb").is_file()
    sidecar = json.loads((stored[0] / f"{EXAM}.answers.json").read_text(encoding="utf-8"))
    assert sidecar["learner"] == "hocvien01"
    assert sidecar["answers"][journey["item"]]["value"] == journey["key"], sidecar["answers"]


def test_instructor_grades_marks_the_written_answer_and_releases_feedback(ehub, page, artifacts,
                                                                         journey):
    """Can the instructor collect and grade from the app, find the learner's written answer
    waiting beside its mark scheme (names, not ids), mark it there (the grading worker writes
    the mark; the queue then empties), and release the feedback, on pages without upstream
    English?"""
    if "timestamp" not in journey:
        pytest.skip("needs the learner's step (submitted) first")
    hub = ehub
    app_login(page, hub, "giangvien01")
    card(page, EXAM).get_by_role("button", name=t("exams.app.grade_button")).click()
    assert wait_job(page, EXAM, "grade") == "done", card(page, EXAM).inner_text()
    counts = card(page, EXAM).locator(".kns-counts").inner_text()
    assert f"{t('exams.app.count_graded')}: 1" in counts.replace("\n", " "), counts

    item = page.locator(".kns-queue-item").filter(has_text="Nguyễn Thị Hồng")
    item.wait_for(timeout=WAIT)
    text = item.inner_text()
    assert TITLE in text and "Câu 8" in text and t("exams.app.queue_scheme") in text, text
    heading = item.locator("h3")
    item_title = heading.inner_text().replace(heading.locator("small").inner_text(), "").strip()
    scheme = (Path(__file__).parents[2] / "assessments/exams/huong-dan-cham/tong-hop.md").read_text("utf-8")
    assert item.locator(".kns-scheme").inner_text()[:60] in scheme  # the start of its section
    visible = page.locator("main").inner_text()
    assert EXAM not in visible and "hocvien01" not in visible, visible
    page.screenshot(path=str(artifacts / "instructor-app-queue.png"), full_page=True)

    # The mark is given here, beside the answer and the scheme; the grading worker writes it.
    assert not english_words(app_text(page), PEOPLE), english_words(app_text(page), PEOPLE)
    item.locator("input[name=score]").fill("2,5")
    item.get_by_role("button", name=t("exams.app.mark_save")).click()
    page.wait_for_load_state()
    assert t("exams.app.mark_queued", score="2,5", item=item_title, learner="Nguyễn Thị Hồng") \
        in page.locator("main").inner_text()
    deadline = time.monotonic() + WAIT / 1000
    while page.locator(".kns-queue-item").count() and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.goto(page.url.split("?")[0])  # (the page also reloads itself while a mark waits)
    assert page.locator(".kns-queue-item").count() == 0
    assert t("exams.app.queue_empty") in page.locator("main").inner_text()

    card(page, EXAM).get_by_role("button", name=t("exams.app.feedback_button")).click()
    assert wait_job(page, EXAM, "feedback") == "done", card(page, EXAM).inner_text()
    page.wait_for_load_state()
    assert t("exams.app.feedback_some", n=1, total=1) in card(page, EXAM).inner_text()
    page.screenshot(path=str(artifacts / "instructor-app-feedback.png"), full_page=True)
    assert not english_words(app_text(page), PEOPLE), english_words(app_text(page), PEOPLE)
