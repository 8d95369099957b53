"""An exam as the people who take part see it: headless Chromium through a real hub (root only).

The instructor generates and releases `tong-hop` with formgrader's own buttons (formgrader in a
tab of its own: the hub forbids framing) and opens a window on the exam desk's page; the learner
fetches the exam from JupyterLab's Assignment List, runs it, answers a question by clicking a
radio button and submits; the desk's stored copy holds that answer. The tests run in order and
share what they saw (`journey`). Screenshots of each page go to test-artifacts/.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import pwd
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from assessments.questions.header import vietnam_time
from kynangso.exams.course import places
from kynangso.hub.harness import (
    IS_ROOT,
    browser_login,
    isolated_hub,
    run_all_cells,
)
from kynangso.i18n import t

pytestmark = [pytest.mark.browser, pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="exam windows need an isolated (root) hub")]

STAFF = {
    "giangvien01": ("Vũ Thị Lan", "giangvien", "GiangVien@2026"),
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien@2026"),
    "quantri": ("Đỗ Minh Quân", "quantri", "QuanTri@2026!"),
}
COURSE, EXAM, GROUP, MINUTES = "kiem-tra-nang-luc", "tong-hop", "hocvien", 20
WAIT = 180_000  # ms: a ceiling for slow machines, not a measured duration


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


def hub_login(page, hub, username: str, next_path: str) -> None:
    """The hub's login form, then straight on to `next_path` (no server of one's own needed)."""
    page.goto(f"{hub.url}/hub/login?next={next_path}")
    page.fill("#username_input", username)
    page.fill("#password_input", hub.passwords[username])
    page.click("#login_submit")
    page.wait_for_url(f"**{next_path}", timeout=WAIT)


def formgrader_button(tab, row, cell: str) -> str:
    """Click formgrader's button in column `cell` of `row`; return its success dialog's text."""
    row.locator(f"td.{cell} a").click()
    dialog = tab.locator("#success-modal, #error-modal")
    dialog.wait_for(timeout=WAIT)
    text = dialog.inner_text()
    assert dialog.get_attribute("id") == "success-modal", text[-3000:]
    dialog.locator(".modal-footer button").click()
    dialog.wait_for(state="detached")
    return text


# --- the steps -------------------------------------------------------------------------------

def test_instructor_releases_in_formgrader_and_opens_a_window(ehub, page, artifacts, journey):
    """Can an instructor generate and release the exam with formgrader's own buttons, then open
    a window for the learners on the exam desk's page, in a browser?"""
    hub = ehub
    hub_login(page, hub, "giangvien01", "/hub/home")

    # Formgrader in a tab of its own; its Manage Assignments table is filled in by its JS.
    fg = page.context.new_page()
    fg.goto(f"{hub.url}/services/{COURSE}/formgrader")
    fg.wait_for_url("**/formgrader/manage_assignments", timeout=WAIT)
    fg.locator(".breadcrumb", has_text="Assignments").wait_for()
    row = fg.locator("#main-table tr").filter(
        has=fg.locator("td.name", has_text=re.compile(rf"^{EXAM}$")))
    row.wait_for(timeout=WAIT)
    # Without an exchange folder at formgrader's start there is no Release button at all.
    assert fg.locator("#warning-exchange").count() == 0, fg.locator("#warning-exchange").inner_text()
    assert "Successfully created the student version" in formgrader_button(fg, row, "assign")
    row.locator("td.release a").wait_for(timeout=WAIT)
    assert "Successfully released" in formgrader_button(fg, row, "release")
    row.locator("td.status", has_text="released").wait_for(timeout=WAIT)
    fg.screenshot(path=str(artifacts / "exams-formgrader-released.png"), full_page=True)
    assert (exchange(hub) / "outbound" / EXAM / f"{EXAM}.ipynb").is_file()

    # The exam desk's page: one row per released exam, a form in each.
    desk = page.context.new_page()
    desk.goto(f"{hub.url}/services/exams/")
    desk.get_by_role("heading", name=t("exams.page.title")).wait_for(timeout=WAIT)
    line = desk.locator("tr").filter(has=desk.locator("td", has_text=re.compile(rf"^{EXAM}$")))
    line.locator("input[name=group]").fill(GROUP)
    line.locator("input[name=minutes]").fill(str(MINUTES))
    line.locator("select[name=late_policy]").select_option("refuse")
    line.get_by_role("button", name=t("exams.page.open_button")).click()
    status = desk.locator("[role=status]")
    status.wait_for(timeout=WAIT)
    assert status.inner_text().startswith(prefix_of("exams.opened", exam=EXAM, group=GROUP)), \
        status.inner_text()
    line = desk.locator("tr").filter(has=desk.locator("td", has_text=re.compile(rf"^{EXAM}$")))
    assert t("exams.page.policy_refuse") in line.inner_text()
    assert f"({t('exams.page.open')})" in line.inner_text()
    desk.screenshot(path=str(artifacts / "exams-desk-opened.png"), full_page=True)
    journey["opened"] = True


def test_learner_fetches_answers_and_submits_in_jupyterlab(ehub, page, artifacts, journey):
    """Can a learner find the exam in the Nbgrader menu's Assignment List (and nothing of the
    instructors' tools), fetch it, see its closing time and late policy, answer by clicking,
    and submit it?"""
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
    fetched = page.locator("#fetched_assignments_list > .list_item", has_text=EXAM)
    fetched.wait_for(timeout=WAIT)

    # Open the fetched notebook from the list and run it.
    fetched.locator("a.assignment-notebooks-link").click()
    fetched.locator(".nested_list_item a", has_text=EXAM).click()
    run_all_cells(page, WAIT)
    questions = exam_questions(exchange(hub) / "outbound" / EXAM / f"{EXAM}.ipynb")
    # Every cell has run once the last question is on screen.
    page.locator(".jp-OutputArea-output h3", has_text=questions[-1][2]["title"]).first.wait_for(
        state="attached", timeout=WAIT)

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
    page.screenshot(path=str(artifacts / "exams-notebook-header.png"))

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
    page.screenshot(path=str(artifacts / "exams-notebook-answered.png"))

    # Submit from the Assignment List; the submission is listed with its time.
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Assignments").click()
    fetched.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list > .list_item", has_text=EXAM)
    stamp = submitted.locator(".nested_list_item").filter(
        has_text=re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ UTC"))
    stamp.first.wait_for(timeout=WAIT)
    page.screenshot(path=str(artifacts / "exams-assignment-list-submitted.png"))
    journey.update(item=item, key=key, timestamp=stamp.first.inner_text().strip())


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
