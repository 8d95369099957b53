"""The learner app's home: data assembly (no server) and who lands on it."""

from __future__ import annotations

import re
from types import SimpleNamespace

from courses.catalogue import load_catalogue
from kynangso.hub.landing import LEARNER_HOME, learner_env, uses_learner_app
from kynangso.i18n import t
from kynangso.learner import home
from kynangso.learner.exam import ExamState, allowed
from kynangso.learner.handlers import render

BASE = "/user/hocvien01/"


def summary(*entries) -> dict:
    return {"username": "hocvien01", "lessons": [
        {"course_id": c, "lesson_id": lid, "opened": True, "completed": done, "attempted": [], "passed": []}
        for c, lid, done in entries]}


def test_course_progress_counts_completed_lessons():
    """Does each course show how many of its lessons the progress service counts as completed?"""
    cat = load_catalogue()
    first = cat.courses[1]
    lessons = first.lessons
    rows = home.course_rows(cat, summary((first.id, lessons[0].id, True), (first.id, lessons[1].id, False)),
                            BASE, "KhoaHoc")
    assert [r.id for r in rows] == [c.id for c in cat.courses]
    row = rows[1]
    assert row.completed == 1 and row.percent == round(100 / len(lessons))
    assert [x.state for x in row.lessons[:3]] == [home.COMPLETED, home.OPENED, home.NEW]
    assert row.next_lesson is row.lessons[1]
    assert row.progress_text == t("learner.home.course_progress", done=1, total=len(lessons),
                                  percent=row.percent)
    # Nothing reported for another course: all new, starting at its first lesson.
    assert rows[0].completed == 0 and rows[0].next_lesson is rows[0].lessons[0]


def test_lesson_links_open_the_voila_app_of_the_delivered_notebook():
    """Does a lesson's link render the delivered notebook with Voilà on the learner's server?"""
    cat = load_catalogue()
    row = home.course_rows(cat, None, BASE, "KhoaHoc")[1]
    lesson = cat.courses[1].lessons[0]
    assert row.lessons[0].href == f"/user/hocvien01/voila/render/KhoaHoc/{lesson.notebook}"
    assert home.lesson_href("/user/a/", "Khóa học", "x/b 1.ipynb").endswith("/Kh%C3%B3a%20h%E1%BB%8Dc/x/b%201.ipynb")


def test_exams_show_closing_time_and_policy_open_first():
    """Are the desk's exams listed with the Vietnam closing time and the policy text, open ones first?"""
    desk = {"exams": [
        {"exam": "cu", "closes_at": "2026-03-01T10:00:00+00:00", "policy_text": "Nộp muộn: 0 điểm.", "open": False},
        {"exam": "moi", "title": "Kiểm tra văn bản", "closes_at": "2026-03-02T09:30:00+00:00",
         "policy_text": "Sau giờ đóng không nhận bài.", "open": True},
        {"exam": "hong"},  # no closing time: left out (and logged), not a crash
    ]}
    rows = home.exam_rows(desk)
    # An exam whose notebook has no heading is named in Vietnamese, never by its id.
    assert [(r.title, r.is_open) for r in rows] == [("Kiểm tra văn bản", True),
                                                    (t("learner.home.exam_untitled"), False)]
    assert rows[0].closes == "16:30 ngày 02/03/2026"
    assert rows[0].policy_text == "Sau giờ đóng không nhận bài."


def test_certificate_sentence_for_each_answer():
    """Does the certificate section say held-until, none yet, or unknown, in Vietnamese?"""
    valid = home.certificate_text(200, {"status": "valid", "not_after": "2027-06-30T00:00:00+00:00",
                                        "serial": "abcdef0123456789ffff"})
    assert valid == t("learner.home.cert_valid", until="30/06/2027", serial="abcdef0123456789")
    assert home.certificate_text(404, {"error": "x"}) == t("learner.home.cert_none")
    assert home.certificate_text(None, None) == t("learner.home.cert_unknown")
    assert "30/06/2027" in home.certificate_text(200, {"status": "expired", "not_after": "2027-06-30"})


def test_a_service_that_does_not_answer_leaves_a_note_not_an_error():
    """Without the progress service and the desk, does the home still list the courses, with notes?"""
    page = home.assemble(load_catalogue(), (None, None), (503, None), (None, None), BASE, "KhoaHoc")
    assert page.courses and all(x.state == home.NEW for c in page.courses for x in c.lessons)
    assert page.exams == []
    assert page.notes == [t("learner.home.progress_unavailable"), t("learner.home.exams_unavailable")]


def test_home_page_renders_vietnamese_and_escapes():
    """Does the page render every section, escape what services send, and link each lesson?"""
    desk = {"exams": [{"exam": "<b>x</b>", "closes_at": "2026-03-02T09:30:00+00:00",
                       "policy_text": "<script>alert(1)</script>", "open": True}]}
    page = home.assemble(load_catalogue(), (200, summary()), (200, desk), (404, None), BASE, "KhoaHoc")
    out = render("home.html", home=page, user="hocvien01", hub="/hub/", stylesheet="/hub/static/css/style.min.css",
                 logout="/hub/logout", lab=None, fetch=BASE + "assignments/fetch", exam_page=BASE + "kns/exam",
                 xsrf="x")
    assert '<html lang="vi">' in out and t("learner.home.heading") in out
    assert "<script>alert" not in out and "&lt;b&gt;x&lt;/b&gt;" in out
    assert t("learner.home.start_exam") in out  # open, not fetched yet
    assert out.count("/voila/render/KhoaHoc/") >= len(load_catalogue().lessons())
    assert t("learner.home.cert_none") in out and "JupyterLab" not in out


def user(*groups, admin=False):
    return SimpleNamespace(groups=[SimpleNamespace(name=g) for g in groups], admin=admin)


def test_only_plain_learners_land_on_the_app():
    """Do learners land on their home, and instructors, HR, admins and advanced learners on JupyterLab?"""
    assert uses_learner_app({"hocvien"})
    env = learner_env(user("hocvien"), "/home/kns-hocvien01", "/opt/kynangso/venv")
    assert env["JUPYTERHUB_DEFAULT_URL"] == LEARNER_HOME and env["KNS_LEARNER_APP"] == "1"
    assert "KNS_EXAM_MODE" not in env
    for other in (user("hocvien", "nangcao"), user("giangvien"), user("nhansu"), user("hocvien", "giangvien"),
                  user("quantri"), user("hocvien", admin=True), user()):
        assert learner_env(other, "/home/kns-x", "/opt/kynangso/venv") == {}


def test_exam_in_progress_is_the_desks_record():
    """Is an exam in progress exactly one fetched, not submitted, whose window is open?"""
    def desk(attempt, is_open=True):
        return {"exams": [{"assignment_id": "e", "attempt": attempt, "open": is_open, "notebooks": ["e"]}]}

    assert ExamState.in_progress(desk("in_progress"))["assignment_id"] == "e"
    for other in (desk("none"), desk("submitted"), desk("in_progress", is_open=False), None, {}):
        assert ExamState.in_progress(other) is None


def test_exam_mode_serves_the_exam_app_and_nothing_else():
    """During an exam, are the exam's app and what Voilà needs allowed, and the rest refused?"""
    kernel = "0123abcd-0000-4000-8000-00000000beef"
    for rel in ("kns/exam", "kns/exam/done", "voila/render/tong-hop/tong-hop.ipynb",
                "voila/static/voila.js", "voila/kns-static/0123456789abcdef/1187.voila.js",
                f"voila/execution/{kernel}", f"api/kernels/{kernel}/channels", "assignments/submit"):
        assert allowed(rel, "tong-hop"), rel
    for rel in ("lab", "lab/tree/KhoaHoc", "api/contents", "api/contents/tong-hop/tong-hop.ipynb",
                "api/kernels", "api/sessions", "terminals/1", "api/terminals", "files/tong-hop/x",
                "voila/render/KhoaHoc/01-van-ban-dien-tu/01-van-ban-den-di.ipynb", "voila/render/van-ban/van-ban.ipynb",
                "voila/render/tong-hop/../x.ipynb", "voila/tree", "kns/home", "assignments/fetch", "tree",
                "voila/execution/x", f"voila/execution/{kernel}/x"):
        assert not allowed(rel, "tong-hop"), rel


def test_exam_bar_names_an_untitled_exam_in_vietnamese_not_by_its_id():
    """Does the exam bar's heading show the exam's title, or "Bài kiểm tra", never the desk's id?"""
    from kynangso.learner.exam import exam_bar

    state = ExamState()
    exam = {"assignment_id": "dich-vu-cong-ky-1", "course_id": "kns", "open": True, "attempt": "in_progress",
            "closes_at": "2026-03-02T09:30:00+00:00", "policy_text": "Sau giờ đóng không nhận bài.",
            "notebooks": ["de"], "title": None}
    for title, shown in ((None, t("learner.home.exam_untitled")), ("Dịch vụ công kỳ 1", "Dịch vụ công kỳ 1")):
        state.current = {**exam, "title": title}
        bar = exam_bar(state, BASE).decode()
        heading = re.search(r"<h1>(.*?)</h1>", bar).group(1)
        assert heading == t("learner.exam.heading", title=shown)
        visible = re.sub(r"<script>.*?</script>|<style>.*?</style>|<[^>]+>", " ", bar, flags=re.S)
        assert "dich-vu-cong-ky-1" not in visible


def test_voila_template_loads_voila_from_the_versioned_static_copy(tmp_path):
    """On a learner's server, do voila.js and its chunks come from the versioned, cached copy
    (the page's fullStaticUrl pointed there first), and elsewhere from Voilà's own folder?"""
    from kynangso import voila_template
    from kynangso.learner import STATIC_ROUTE, static_paths, static_version

    version = static_version(static_paths())
    assert re.fullmatch(r"[0-9a-f]{16}", version)  # Voilà's voila.js is installed and hashed
    folder = voila_template.write_template(tmp_path / "v", "Đang mở", static=f"{STATIC_ROUTE}/{version}")
    setup = (folder / "voila_setup.macro.html.j2").read_text("utf-8")
    assert f"'{STATIC_ROUTE}/{version}'" in setup and "fullStaticUrl =" in setup
    plain = voila_template.write_template(tmp_path / "p", "Đang mở")
    assert "kns-static" not in (plain / "voila_setup.macro.html.j2").read_text("utf-8")


def test_learner_app_servers_load_no_extension_that_only_serves_a_notebook(monkeypatch):
    """Which server extensions does a learner-app server enable, from the configuration path the
    spawner gives it (learnerconfig before userconfig before the environment's)? Not Notebook 7,
    its shim, nbgrader's validate, the language servers or terminals (each costs start-up CPU,
    and no learner-app page uses one); the learner app, Voilà and JupyterLab's server stay."""
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager

    env = learner_env(user("hocvien"), "/home/kns-hocvien01", "/opt/kynangso/venv")
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", "/nonexistent/kynangso")  # not the tester's ~/.jupyter
    enabled = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    for name in ("notebook", "notebook_shim", "nbgrader.server_extensions.validate_assignment",
                 "jupyter_lsp", "jupyter_server_terminals"):
        assert enabled.get(name) is False, (name, enabled.get(name))
    for name in ("kynangso.learner", "voila.server_extension", "jupyterlab"):
        assert enabled.get(name) is True, (name, enabled.get(name))
