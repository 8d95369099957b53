"""Stored XSS through formgrader (root only): learner HTML opened by an instructor.

The attack: a learner puts `<script>` and `<img onerror>` into a markdown answer and into an
output of their notebook. The submission is collected and autograded; an instructor opens it in
formgrader (on the hub's own origin) to mark the written item. If the learner's script runs
there, it acts with the instructor's hub session. Real isolated hub, real formgrader run by the
hub as the grader account, real `nbgrader autograde` as that account, headless Chromium.

"Collected" is the copy that `nbgrader collect` makes into `submitted/<student>/<exam>/`; the
test writes the learner's notebook there itself (as the grader account) instead of going through
fetch and submit, which tests/browser/test_exams_browser.py covers.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from kynangso.hub.harness import IS_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="formgrader runs as the grader account (root hub)")]

COURSE, EXAM, LEARNER = "kiem-tra-nang-luc", "xss-thu", "hocvien01"
WAIT = 180_000  # ms: a ceiling for a busy machine, not a measured duration
MARKDOWN_ATTACK = (
    "Câu trả lời DAU-HIEU-BAI-LAM.\n\n"
    "<script>window.__kns_md_script = 1; document.title = 'pwned-md';</script>\n\n"
    "<img src=\"x\" onerror=\"window.__kns_md_img = 1; document.title = 'pwned-img'\">\n"
)
OUTPUT_ATTACK = (
    "from IPython.display import HTML, display\n"
    "display(HTML('DAU-HIEU-DAU-RA <script>window.__kns_out_script = 1;</script>'\n"
    "             '<img src=\"y\" onerror=\"window.__kns_out_img = 1\">'))\n"
    # What a written answer's transcript looks like to the grader (questions/written.py).
    "display(HTML('<div class=\"kns-written-transcript\" style=\"border:1px solid #888\">'\n"
    "             '<p><strong>Câu 1</strong></p><div style=\"white-space:pre-wrap\">dòng 1\\ndòng 2'\n"
    "             '</div></div>'))\n"
)
ARTIFACTS = Path(os.environ.get("KNS_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
FLAGS_SET = ["__kns_md_script", "__kns_md_img", "__kns_out_script", "__kns_out_img"]


def _cell(kind: str, source: str, grade_id: str, **nbgrader) -> nbformat.NotebookNode:
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "locked": False,
                                 "solution": False, "grade": False, "task": False, **nbgrader}
    return cell


def _exam(answer: str, code: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("markdown", "Viết câu trả lời của Anh/Chị.", "de-bai", locked=True),
        _cell("markdown", answer, "tra-loi", solution=True, grade=True, points=2),
        _cell("code", code, "ma", solution=True),
    ]
    return nb


def _as_grader(hub, *cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    grader = hub.settings["exams"]["grader_account"]
    prefix = hub.settings["isolation"].get("user_env") or sys.prefix
    env = {"PATH": f"{prefix}/bin:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run([shutil.which("runuser"), "-u", grader, "--", *cmd], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def graded(exam_hub):
    """The shared exam hub (tests/security/conftest.py), whose course now holds LEARNER's
    collected, autograded attack in an exam of its own."""
    hub = exam_hub
    course = Path(hub.settings["exams"]["root"]) / COURSE
    owner = pwd.getpwnam(hub.settings["exams"]["grader_account"])
    source = course / "source" / EXAM
    source.mkdir(parents=True)
    nbformat.write(_exam("Phần trả lời của Anh/Chị", "# Phần trả lời của Anh/Chị"),
                   source / f"{EXAM}.ipynb")
    for path in (source, source / f"{EXAM}.ipynb"):
        os.chown(path, owner.pw_uid, owner.pw_gid)
    r = _as_grader(hub, "nbgrader", "generate_assignment", EXAM, "--force", cwd=course)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    r = _as_grader(hub, "nbgrader", "db", "student", "add", LEARNER, cwd=course)
    assert r.returncode == 0, r.stderr[-2000:]
    # What `nbgrader collect` leaves: the learner's notebook and its timestamp.
    submitted = course / "submitted" / LEARNER / EXAM
    submitted.mkdir(parents=True)
    nbformat.write(_exam(MARKDOWN_ATTACK, OUTPUT_ATTACK), submitted / f"{EXAM}.ipynb")
    (submitted / "timestamp.txt").write_text("2026-12-05 08:00:00.000000 UTC")
    for path in (course / "submitted", course / "submitted" / LEARNER, *submitted.parent.rglob("*")):
        os.chown(path, owner.pw_uid, owner.pw_gid)
    r = _as_grader(hub, "nbgrader", "autograde", EXAM, "--force", cwd=course)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    autograded = nbformat.read(course / "autograded" / LEARNER / EXAM / f"{EXAM}.ipynb", 4)
    outputs = autograded.cells[2].outputs
    assert any("text/html" in o.get("data", {}) for o in outputs), outputs  # the attack is there
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE) as gb:
        submission_id = gb.find_submission_notebook(EXAM, EXAM, LEARNER).id
    yield hub, submission_id


def test_learner_html_does_not_run_in_formgrader(graded, browser):
    """Attack: stored XSS. The learner's `<script>` and `<img onerror>` in a markdown answer and
    in a display_data text/html output must not run when an instructor opens the submission in
    formgrader; the page must carry a Content-Security-Policy without inline scripts."""
    hub, submission_id = graded
    target = f"/services/{COURSE}/formgrader/submissions/{submission_id}/"
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = context.new_page()
    documents = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console = []
    page.on("console", lambda m: console.append(f"{m.text[:160]} @ {m.location}"))
    page.on("response", lambda r: documents.append(r) if r.request.resource_type == "document" else None)
    try:
        page.goto(f"{hub.url}/hub/login?next={target}")
        page.fill("#username_input", "giangvien01")
        page.fill("#password_input", hub.passwords["giangvien01"])
        page.click("#login_submit")
        page.wait_for_url(f"**{target}", timeout=WAIT, wait_until="domcontentloaded")
        # The learner's answer is on the page (the attack reached the instructor's screen)...
        page.get_by_text("DAU-HIEU-BAI-LAM").first.wait_for(timeout=WAIT)
        page.get_by_text("DAU-HIEU-DAU-RA").first.wait_for(timeout=WAIT)
        # ...and formgrader's own scripts still work: its page variables and the score box.
        assert page.evaluate("typeof submission_id") == "string"
        page.locator("input.score").first.wait_for(timeout=WAIT)
        # A written answer's transcript keeps its layout through the sanitiser.
        transcript = page.locator(".kns-written-transcript div").first
        assert transcript.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
        assert "dòng 1\ndòng 2" in transcript.inner_text()
        # The template's own onclick handlers run (allowed by hash): show the learner's name.
        page.locator("span.name-hidden").first.click(timeout=WAIT)
        page.locator("span.name-shown").first.wait_for(state="visible", timeout=WAIT)
        # A broken <img> fires onerror at once; give a loaded machine a moment anyway.
        page.wait_for_timeout(2000)
        ran = {name: page.evaluate(f"window.{name}") for name in FLAGS_SET}
        title = page.title()
        page.screenshot(path=str(ARTIFACTS / "formgrader-xss.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "FAILED-formgrader-xss.png"), full_page=True)
        raise
    finally:
        context.close()
    assert not any(ran.values()), f"learner script ran in formgrader: {ran}"
    print("browser console:", *console, sep="\n  ")
    assert not title.startswith("pwned"), title
    page_response = next(r for r in reversed(documents) if target in r.url)
    policy = page_response.headers.get("content-security-policy", "")
    script_src = re.search(r"script-src([^;]*)", policy)
    assert script_src, f"no script-src in the submission page's CSP: {policy!r}"
    assert "'unsafe-inline'" not in script_src.group(1), policy
