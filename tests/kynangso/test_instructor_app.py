"""The instructors' app on the exam desk, without a hub: what the grading worker summarises
from the course (titles, written answers waiting for a mark, flags), what the page makes of
it (states, Vietnamese words and dates, names instead of ids), and the page's handler (who
may use it, XSRF, its Content-Security-Policy). The hub is replaced by `FakeHubOAuth`; the
browser journey through a real hub is tests/browser/test_instructor_app.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from jupyterhub.services.auth import HubOAuth

from kynangso.exams import MANAGE_SCOPE, SERVICE_NAME, course, instructor, jobs, overview, windows
from kynangso.i18n import t

REPO = Path(__file__).resolve().parents[2]
EXAMS = REPO / "assessments" / "exams"
T0 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 09:00 in Vietnam
VB_TITLE = "Kiểm tra năng lực số: văn bản điện tử và công tác văn thư"


# --- the worker's summary -------------------------------------------------------------------

def test_title_and_written_cells_come_from_the_source_notebook():
    """Is an exam named by its header's title, and its written task by the widget's title?"""
    nb = json.loads((EXAMS / "source/van-ban/van-ban.ipynb").read_text(encoding="utf-8"))
    title, written = overview.source_info(nb)
    assert title == VB_TITLE
    assert written == [{"grade_id": "van-ban-bi-sua", "title": "Câu 8 (4 điểm)", "points": 4}]


def test_mark_scheme_section_is_found_by_item_id():
    """Is the written item's part of the mark scheme found (and nothing before it)?"""
    sections = overview.scheme_sections((EXAMS / "huong-dan-cham/van-ban.md").read_text("utf-8"))
    assert set(sections) == {"van-ban-bi-sua"}
    assert sections["van-ban-bi-sua"].startswith("- 1 điểm: nhận ra giá trị băm")
    assert "| Câu |" not in sections["van-ban-bi-sua"]
    # A list item wrapped over two lines in the file is one line on the page.
    assert "(bị sửa hoặc lỗi truyền), không đăng ký" in sections["van-ban-bi-sua"]


@pytest.fixture
def nbgrader_path(monkeypatch):
    """nbgrader's Gradebook shells out to `alembic`: the venv's bin on PATH (pitfalls.md)."""
    import os
    import sys

    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory) -> course.ExamPlaces:
    """Built once for the module (a gradebook costs seconds); see `_course`."""
    import os
    import sys

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
        return _course(tmp_path_factory.mktemp("course"))


def _course(tmp_path: Path) -> course.ExamPlaces:
    """A course folder with van-ban's source and mark scheme, a gradebook where learner hv01's
    written answer waits for a mark and hv02's is marked, hv01's sidecar and strict flag."""
    from nbgrader.api import Gradebook

    where = course.ExamPlaces(tmp_path / "exams", "kiem-tra")
    src = where.course / "source" / "van-ban"
    src.mkdir(parents=True)
    shutil.copy(EXAMS / "source/van-ban/van-ban.ipynb", src)
    (where.course / "huong-dan-cham").mkdir()
    shutil.copy(EXAMS / "huong-dan-cham/van-ban.md", where.course / "huong-dan-cham")
    (where.course / "release" / "van-ban").mkdir(parents=True)
    with Gradebook(where.gradebook_url, course_id=where.course_id) as gb:
        gb.add_assignment("van-ban")
        gb.add_notebook("van-ban", "van-ban")
        gb.add_grade_cell("van-ban-bi-sua", "van-ban", "van-ban", max_score=4, cell_type="markdown")
        gb.add_grade_cell("viet-tat", "van-ban", "van-ban", max_score=1, cell_type="code")
        for student in ("hv01", "hv02"):
            gb.add_student(student)
            gb.add_submission("van-ban", student)
            (where.course / "submitted" / student / "van-ban").mkdir(parents=True)
        for student, manual in (("hv01", None), ("hv02", 3.0)):
            grade = gb.find_grade("van-ban-bi-sua", "van-ban", "van-ban", student)
            grade.needs_manual_grade, grade.manual_score = manual is None, manual
            auto = gb.find_grade("viet-tat", "van-ban", "van-ban", student)
            auto.auto_score, auto.needs_manual_grade = 1.0, False
        gb.db.commit()
    graded = where.course / "autograded" / "hv01" / "van-ban"
    graded.mkdir(parents=True)
    (graded / "van-ban.answers.json").write_text(json.dumps(
        {"learner": "hv01", "answers": {"van-ban-bi-sua": {"value": "Trả lại\u202e văn bản <b>"}}}),
        encoding="utf-8")
    (graded / "van-ban.strict-grading.json").write_text(json.dumps(
        {"schema_version": 1, "notebook": "van-ban", "strict": True, "removed": 2, "flagged": True,
         "cells": [{"index": 3, "cell_type": "code", "excerpt": "import os"}]}), encoding="utf-8")
    return where


def test_summary_lists_pending_written_answers_flags_and_counts(graded_course, nbgrader_path):
    """Does the summary hold the title, the counts, the written answer still waiting for a mark
    (with the learner's text, bidi characters removed, and the mark scheme), not the marked
    one, and the flagged submission with its reason?"""
    where = graded_course
    summary = overview.build(where)
    exam = summary["exams"]["van-ban"]
    assert exam["title"] == VB_TITLE and exam["generated"] is True
    assert (exam["collected"], exam["graded"], exam["feedback_generated"]) == (2, 2, 0)
    assert [(p["student"], p["grade_id"], p["points"]) for p in exam["pending"]] == \
        [("hv01", "van-ban-bi-sua", 4.0)]
    assert exam["pending"][0]["answer"] == "Trả lại văn bản <b>"
    assert exam["written"][0]["scheme"].startswith("- 1 điểm")
    assert exam["flagged"] == [{"student": "hv01", "notebook": "van-ban", "removed": 2,
                                "cells": [{"cell_type": "code", "excerpt": "import os"}]}]


def test_summary_is_published_and_read_back_but_a_link_is_not_followed(graded_course, tmp_path,
                                                                        nbgrader_path):
    """Does the desk read what the worker published, and refuse a link in its place?"""
    where = graded_course
    overview.publish(where, overview.build(where))
    assert overview.read(where)["exams"]["van-ban"]["title"] == VB_TITLE
    target = where.share / overview.FILE_NAME
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"schema_version": 1, "exams": {"x": {}}}))
    target.unlink()
    target.symlink_to(secret)
    assert overview.read(where) is None


# --- what the page shows --------------------------------------------------------------------

@pytest.fixture
def url(tmp_path):
    from kynangso import db

    u = f"sqlite:///{tmp_path / 'kns.sqlite'}"
    db.upgrade(u)
    return u


def _summary(**exams) -> dict:
    return {"schema_version": 1, "exams": exams}


def test_states_titles_and_queue_are_assembled(url):
    """Are windows open/closed/upcoming in Vietnamese dd/mm/yyyy HH:MM, counts and the job's
    state shown, exam titles and learners' full names used instead of ids?"""
    windows.open_window(url, "c", "van-ban", "hocvien", 30, "refuse", "gv", at=T0)
    windows.open_window(url, "c", "van-ban", "phong-a", 30, "accept_zero", "gv",
                        at=T0 - dt.timedelta(hours=2))
    windows.open_window(url, "c", "van-ban", "phong-b", 30, "refuse", "gv",
                        at=T0 + dt.timedelta(hours=1))
    summary = _summary(**{
        "van-ban": {"title": VB_TITLE, "collected": 2, "graded": 2,
                    "written": [{"notebook": "van-ban", "grade_id": "van-ban-bi-sua",
                                 "title": "Câu 8 (4 điểm)", "points": 4, "scheme": "- 1 điểm: …"}],
                    "pending": [{"student": "hv01", "notebook": "van-ban", "grade_id": "van-ban-bi-sua",
                                 "submission_id": "abc", "points": 4.0, "answer": "Trả lại"}],
                    "flagged": [{"student": "hv02", "notebook": "van-ban", "removed": 2,
                                 "cells": [{"cell_type": "code", "excerpt": "import os"}]}]},
        "tong-hop": {"title": "Kiểm tra năng lực số: phần chung"}})
    job = SimpleNamespace(kind="grade", status="done",
                          message=t("exams.grading.done", exam="van-ban", graded=2, failed=0, flagged=0))
    view = instructor.assemble(
        summary, ["van-ban"], {"van-ban": windows.windows(url, "van-ban")},
        {"van-ban": {"hv01", "hv02"}}, {"van-ban": 1}, {"van-ban": job, "tong-hop": None},
        {"hv01": "Nguyễn Thị Hồng", "hv02": "Trần Văn Đức"}, T0 + dt.timedelta(minutes=5))
    by_exam = {v.exam: v for v in view.exams}
    tong_hop, van_ban = by_exam["tong-hop"], by_exam["van-ban"]
    assert not tong_hop.released and tong_hop.title == "Kiểm tra năng lực số: phần chung"
    assert van_ban.released and (van_ban.submitted, van_ban.graded, van_ban.pending,
                                 van_ban.flagged, van_ban.feedback) == (2, 2, 1, 1, 1)
    states = {w.group: (w.state, w.opens, w.closes, w.late) for w in van_ban.windows}
    assert states[t("exams.app.group_all")] == ("open", "26/11/2026 09:00", "26/11/2026 09:30",
                                                t("exams.page.policy_refuse"))
    assert states["phong-a"][0] == "closed" and states["phong-b"][0] == "upcoming"
    assert van_ban.job.status == "done" and f"«{VB_TITLE}»" in van_ban.job.message
    assert "«van-ban»" not in van_ban.job.message
    [item] = view.queue
    assert (item.learner, item.item, item.exam_title, item.answer, item.scheme, item.points) == \
        ("Nguyễn Thị Hồng", "Câu 8 (4 điểm)", VB_TITLE, "Trả lại", "- 1 điểm: …", 4.0)
    [flag] = view.flags
    assert (flag.learner, flag.removed, flag.cells) == ("Trần Văn Đức", 2, [("code", "import os")])
    assert not view.busy and not view.overview_missing
    assert view.groups == ["hocvien", "phong-a", "phong-b"]


def _visible(page: str) -> str:
    body = re.sub(r"<(style|datalist)>.*?</\1>|<datalist.*?</datalist>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_page_is_vietnamese_without_script_or_ids_and_empty_states_say_what_to_do():
    """Is the page free of scripts and of exam ids in its visible text, with the buttons the
    state allows, each form carrying the XSRF token, and empty states saying what to do next?"""
    summary = _summary(**{"van-ban": {"title": VB_TITLE}})
    running = SimpleNamespace(kind="release", status="running",
                              message=t("exams.release_job.step", exam="van-ban", step="tạo đề"))
    view = instructor.assemble(summary, [], {}, {}, {}, {"van-ban": running}, {}, T0)
    page = instructor.render(view, xsrf="<input type='hidden' name='_xsrf' value='tok'>",
                             hub_prefix="/hub/", formgrader="../kiem-tra/formgrader", user="gv01",
                             default_minutes=30)
    assert "<script" not in page.lower()
    text = _visible(page)
    assert "van-ban" not in text and VB_TITLE in text
    assert t("exams.app.job_state.running") in text and "http-equiv='refresh'" in page
    assert t("exams.app.queue_empty") in text and t("exams.app.flags_empty") in text
    assert t("exams.app.not_released_hint") in text
    assert page.count("name='_xsrf'") == page.count("<form")
    assert "value='release' disabled" in page  # a job is running for this exam
    assert "href='/hub/home'" in page and "/hub/static/css/style.min.css" in page
    nothing = instructor.render(instructor.assemble(_summary(), [], {}, {}, {}, {}, {}, T0),
                                xsrf="", hub_prefix="/hub/", formgrader="fg", user="gv01",
                                default_minutes=30)
    assert t("exams.app.no_exams") in _visible(nothing) and "refresh" not in nothing


def test_policy_allows_the_page_style_and_no_script():
    """Does the page's policy allow exactly its own style block, and no script?"""
    page = instructor.shell("Tiêu đề", "<p>x</p>", hub_prefix="/hub/")
    policy = instructor.policy(page)
    assert "script-src 'none'" in policy and "'unsafe-inline'" not in policy
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(instructor.CSS.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy


# --- the handler ----------------------------------------------------------------------------

TEACHER = {"name": "gv01", "kind": "user", "scopes": [f"access:services!service={SERVICE_NAME}",
                                                       MANAGE_SCOPE], "groups": ["giangvien"]}
LEARNER = {"name": "hv01", "kind": "user", "scopes": [f"access:services!service={SERVICE_NAME}"],
           "groups": ["hocvien"]}
USERS = {u["name"]: u for u in (TEACHER, LEARNER)}


class FakeHubOAuth(HubOAuth):
    """Stands in for the hub (the OS boundary here is the hub process): the user is whoever
    the `X-Test-User` header names, with the scopes the hub's roles would give."""

    def get_user(self, handler, *, sync=True):
        name = handler.request.headers.get("X-Test-User")
        return dict(USERS[name]) if name in USERS else None


@pytest.fixture
def desk_app(settings, tmp_path):
    from kynangso.exams.service import Desk, make_app
    from kynangso.hub.harness import free_port

    desk = Desk(settings, False, "http://127.0.0.1:1/hub/api", "test")
    where = desk.places
    (where.exchange / where.course_id / "outbound").mkdir(parents=True)
    where.course.mkdir(parents=True, exist_ok=True)
    overview.publish(where, _summary(**{"van-ban": {"title": VB_TITLE}}))
    loop = asyncio.new_event_loop()
    port, ready = free_port(), threading.Event()
    prefix = f"/services/{SERVICE_NAME}/"

    def run():
        asyncio.set_event_loop(loop)
        auth = FakeHubOAuth(api_token="test", api_url="http://127.0.0.1:1/hub/api",
                            oauth_client_id="service-exams", base_url=prefix, login_url="/hub/login")

        async def start():
            make_app(desk, prefix, auth).listen(port, "127.0.0.1")
            ready.set()

        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(30)
    yield f"http://127.0.0.1:{port}{prefix}", desk
    loop.call_soon_threadsafe(loop.stop)


def _session(user: str) -> requests.Session:
    s = requests.Session()
    s.headers["X-Test-User"] = user
    return s


def test_instructor_gets_the_app_with_a_strict_policy(desk_app):
    """Does an instructor get the Vietnamese app, with a no-script policy and a form token?"""
    base, _ = desk_app
    r = _session("gv01").get(base, timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert VB_TITLE in r.text and t("exams.app.heading") in r.text
    policy = r.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert 'name="_xsrf"' in r.text


def test_learner_token_is_refused_the_instructors_actions(desk_app):
    """Does a learner get their own page (not the app), and a 403 in Vietnamese for an action
    even with a valid form token, with nothing queued?"""
    base, desk = desk_app
    s = _session("hv01")
    page = s.get(base, timeout=30)
    assert page.status_code == 200 and t("exams.app.heading") not in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    xsrf = s.cookies.get("_xsrf")
    assert xsrf
    r = s.post(base, data={"_xsrf": xsrf, "exam": "van-ban", "action": "release"}, timeout=30)
    assert r.status_code == 403 and t("exams.page.forbidden") in r.text
    assert jobs.latest(desk.db_url, "van-ban", jobs.SHOWN) is None


def test_post_without_xsrf_token_is_refused(desk_app):
    """Is an instructor's action without the form token (a forged form) refused, unqueued?"""
    base, desk = desk_app
    s = _session("gv01")
    s.get(base, timeout=30)
    r = s.post(base, data={"exam": "van-ban", "action": "release"}, timeout=30)
    assert r.status_code == 403 and t("core.xsrf_refused") in r.text
    assert jobs.latest(desk.db_url, "van-ban", jobs.SHOWN) is None


def test_release_is_queued_once_for_the_worker(desk_app):
    """Does 'Tạo đề và phát hành' queue one job for the grading worker, and a second click
    while it waits say so instead of queueing another?"""
    base, desk = desk_app
    s = _session("gv01")
    s.get(base, timeout=30)
    data = {"_xsrf": s.cookies.get("_xsrf"), "exam": "van-ban", "action": "release"}
    r = s.post(base, data=data, timeout=30)
    assert r.status_code == 200
    assert t("exams.app.job_queued", exam=VB_TITLE, kind=t("exams.app.job_kind.release")) in r.text
    assert jobs.active(desk.db_url, "van-ban", "release") is not None
    assert t("exams.app.job_state.queued") in r.text and "http-equiv='refresh'" in r.text
    again = s.post(base, data=data, timeout=30)
    assert t("exams.app.job_busy", exam=VB_TITLE, kind=t("exams.app.job_kind.release")) in again.text
    assert len([1 for k in ("release",) if jobs.active(desk.db_url, "van-ban", k)]) == 1
    unknown = s.post(base, data={**data, "exam": "khong-co"}, timeout=30)
    assert t("exams.app.unknown_exam", exam="khong-co") in unknown.text


def test_a_mark_is_checked_queued_and_written_by_the_worker(desk_app, tmp_path, nbgrader_path):
    """Is a mark given on the page checked against the waiting answer (a number from 0 to the
    item's points, Vietnamese decimal comma; only an answer in the queue), queued for the
    grading worker, and then written into the gradebook, which takes the answer off the queue?"""
    from kynangso.exams import worker

    base, desk = desk_app
    where = desk.places
    (where.exchange / where.course_id / "outbound" / "van-ban").mkdir()  # released
    pending = {"student": "hv01", "notebook": "van-ban", "grade_id": "van-ban-bi-sua",
               "submission_id": "abc", "points": 4.0, "answer": "Trả lại"}
    overview.publish(where, _summary(**{"van-ban": {
        "title": VB_TITLE, "pending": [pending],
        "written": [{"notebook": "van-ban", "grade_id": "van-ban-bi-sua",
                     "title": "Câu 8 (4 điểm)", "points": 4, "scheme": "- 1 điểm: …"}]}}))
    s = _session("gv01")
    page = s.get(base, timeout=30).text
    assert "name='score'" in page and t("exams.app.mark_save") in page
    form = {"_xsrf": s.cookies.get("_xsrf"), "exam": "van-ban", "action": "mark",
            "student": "hv01", "notebook": "van-ban", "grade_id": "van-ban-bi-sua"}
    for bad in ("4,5", "-1", "hai", "nan", ""):
        r = s.post(base, data={**form, "score": bad}, timeout=30)
        assert t("exams.app.mark_bad_score", score=bad, points="4") in r.text, bad
    r = s.post(base, data={**form, "grade_id": "viet-tat", "score": "1"}, timeout=30)
    assert t("exams.app.mark_not_pending") in r.text
    assert jobs.latest(desk.db_url, "van-ban", "mark") is None  # nothing queued so far
    r = s.post(base, data={**form, "score": "2,5"}, timeout=30)
    assert t("exams.app.mark_queued", score="2,5", item="Câu 8 (4 điểm)", learner="hv01") in r.text
    job = jobs.active(desk.db_url, "van-ban", "mark")
    assert job is not None and "http-equiv='refresh'" in r.text

    # The worker, on a course whose gradebook has that answer waiting.
    course_places = _course(tmp_path / "graded")
    assert worker.mark(desk.db_url, course_places, job) == ("done", t("exams.mark_job.done", exam="van-ban"))
    from nbgrader.api import Gradebook

    with Gradebook(course_places.gradebook_url, course_id=course_places.course_id) as gb:
        grade = gb.find_grade("van-ban-bi-sua", "van-ban", "van-ban", "hv01")
        assert (grade.manual_score, grade.needs_manual_grade) == (2.5, False)
    assert overview.build(course_places)["exams"]["van-ban"]["pending"] == []


# --- landing and the worker -----------------------------------------------------------------

def test_each_role_lands_on_its_app_and_learners_keep_the_default(tmp_path):
    """After login with no page asked for, does an instructor land on the exam app, HR on the
    dashboards, an admin on the admin app, and a learner keep JupyterHub's default (their own
    server)?"""
    from traitlets.config import Config

    from kynangso.hub.configurer import HubEnvironment, apply_config
    from kynangso.settings import load_settings

    c = Config()
    apply_config(load_settings(overrides={"state_dir": str(tmp_path)}), c, HubEnvironment(
        is_root=False, templates_dir=Path("/srv/templates"), proxy_command=["chp"],
        python="/opt/env/bin/python", user_env_prefix="/opt/env", sync_token="t", groups={}))

    def handler(*groups, admin=False):
        user = SimpleNamespace(groups=[SimpleNamespace(name=g) for g in groups], admin=admin)
        return SimpleNamespace(current_user=user)

    landing = c.JupyterHub.default_url
    assert landing(handler("giangvien")) == "/services/exams/"
    assert landing(handler("nhansu")) == "/services/reports/"
    assert landing(handler("quantri")) == landing(handler(admin=True)) == "/services/admin/"
    assert landing(handler("giangvien", admin=True)) == "/services/admin/"
    assert landing(handler("hocvien")) == "" and landing(handler()) == ""
    assert landing(SimpleNamespace(current_user=None)) == ""


def test_a_failed_release_is_reported_in_vietnamese_and_the_summary_still_published(
        tmp_path, url, nbgrader_path):
    """When nbgrader fails (an exam with no source), is the job marked failed with a Vietnamese
    message, and the summary published all the same?"""
    from kynangso.exams import worker

    where = course.ExamPlaces(tmp_path / "exams", "kiem-tra")
    where.course.mkdir(parents=True)
    (where.course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(where.course)!r}\n"
        f"c.CourseDirectory.course_id = 'kiem-tra'\nc.Exchange.root = {str(where.exchange)!r}\n")
    job_id = jobs.enqueue(url, "khong-co", "release", "gv01")
    job = jobs.claim(url)
    assert job.id == job_id
    worker.run_job(url, where, job)
    done = jobs.latest(url, "khong-co", "release")
    assert done.status == "failed" and done.message == t("exams.release_job.failed", exam="khong-co")
    assert overview.read(where)["exams"] == {}
