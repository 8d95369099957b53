"""Issue 14, part 4: progress is judged by the server.

The real progress service (its tornado app over a real SQLite database) with the hub replaced
by `FakeHubAuth`: the hub token is the user's name, and the user gets the scope the hub gives
a learner's server. tests/hub/test_progress.py repeats the kernel's path through a real hub.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from jupyterhub.services.auth import HubAuth
from sqlalchemy import select

from kynangso import db
from kynangso.db import session_scope
from kynangso.hub.harness import free_port
from kynangso.models import ProgressEvent
from kynangso.progress import service
from reports.data import read_progress

PREFIX = "/services/progress/"
TYPING = ("00-lam-quen", "02-bai-tap-va-phan-hoi", "go-tieng-viet")  # the lesson's only exercise
ORDER = ("01-van-ban-dien-tu", "01-van-ban-den-di")  # two exercises


class FakeHubAuth(HubAuth):
    """The hub's token check: "token <name>" is <name>, a learner, for names starting hv."""

    def get_user(self, handler, *, sync=True):
        name = handler.request.headers.get("Authorization", "").removeprefix("token ").strip()
        if not name.startswith("hv"):
            return None
        return {"name": name, "kind": "user", "groups": ["hocvien"],
                "scopes": ["access:services!service=progress"]}


def serve(app) -> tuple[str, callable]:
    loop = asyncio.new_event_loop()
    port = free_port()
    ready = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        app.listen(port, "127.0.0.1")
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(30)
    return f"http://127.0.0.1:{port}{PREFIX}api/", lambda: loop.call_soon_threadsafe(loop.stop)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('progress') / 'kns.sqlite'}"
    db.upgrade(url)
    return url


def auth():
    return FakeHubAuth(api_token="test", api_url="http://127.0.0.1:1/hub/api")


@pytest.fixture(scope="module")
def api(db_url):
    """The service as it runs (settings' quotas, its own practice folder)."""
    base, stop = serve(service.make_app(db_url, PREFIX, auth()))
    yield base
    stop()


def post(api, path, user, body):
    return requests.post(api + path, json=body, headers={"Authorization": f"token {user}"}, timeout=120)


def mine(api, user):
    r = requests.get(api + "me", headers={"Authorization": f"token {user}"}, timeout=60)
    assert r.status_code == 200, r.text
    return {(x["course_id"], x["lesson_id"]): x for x in r.json()["lessons"]}


def task_of(user, cls_path, round_, tmp_path):
    """The task `user` sees in their kernel (seeded by their hub name)."""
    import importlib

    from courses.common import acting_for

    module, name = cls_path.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    with acting_for(user, tmp_path / user):
        return cls.task_for(round_)


def test_forged_progress_is_not_counted(api, db_url):
    """Attack from the issue: a learner posts back-dated `lesson_completed` and `exercise_passed`
    for lessons never opened. Is it refused, and absent from their progress and HR's reports?"""
    back = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    forged = [
        {"event_id": uuid.uuid4().hex, "kind": kind, "course_id": course, "lesson_id": lesson,
         "exercise_id": exercise, "occurred_at": back}
        for course, lesson, exercises in (
            ("01-van-ban-dien-tu", "02-so-ky-hieu", ["doc-so-ky-hieu", "viet-so-ky-hieu"]),
            ("02-chu-ky-so", "02-ky-so", ["ky-van-ban"]))
        for kind, exercise in [("exercise_passed", x) for x in exercises] + [("lesson_completed", None)]
    ]
    r = post(api, "events", "hvforger", {"events": forged})
    forged_lessons = {(x["course_id"], x["lesson_id"]) for x in forged}
    hr = read_progress(db_url)
    assert not set(zip(hr[hr["username"] == "hvforger"]["course_id"],
                       hr[hr["username"] == "hvforger"]["lesson_id"], strict=True)) & forged_lessons
    assert not any(x["completed"] or x["passed"] for x in mine(api, "hvforger").values())
    assert r.status_code == 400, r.text
    assert "không hợp lệ" in r.json()["error"]


def test_an_opening_carries_the_servers_time_and_never_a_clients(api, db_url):
    """Is a lesson opening stored at the server's time, and one with its own time refused?"""
    opening = {"event_id": uuid.uuid4().hex, "kind": "lesson_opened", "course_id": ORDER[0],
               "lesson_id": ORDER[1]}
    before = datetime.now(UTC)
    assert post(api, "events", "hvopen", {"events": [opening]}).status_code == 201
    with session_scope(db_url) as s:
        row = s.scalar(select(ProgressEvent).where(ProgressEvent.event_id == opening["event_id"]))
        when = row.occurred_at.replace(tzinfo=row.occurred_at.tzinfo or UTC)
    assert before - timedelta(seconds=1) <= when <= datetime.now(UTC) + timedelta(seconds=1)
    dated = dict(opening, event_id=uuid.uuid4().hex, occurred_at="2026-01-01T00:00:00+00:00")
    assert post(api, "events", "hvopen", {"events": [dated]}).status_code == 400
    lesson = mine(api, "hvopen")[ORDER]
    assert lesson["opened"] and not lesson["completed"]
    # A lesson without exercises is completed when opened, by the service's rule.
    page = dict(opening, event_id=uuid.uuid4().hex, course_id="00-lam-quen", lesson_id="03-tien-do-cua-toi")
    assert post(api, "events", "hvopen", {"events": [page]}).status_code == 201
    assert mine(api, "hvopen")[("00-lam-quen", "03-tien-do-cua-toi")]["completed"]


def test_a_wrong_answer_is_stored_as_not_passed(api, db_url, tmp_path):
    """Is a wrong answer judged by the service (its own task) and stored as not passed?"""
    phrase = task_of("hvwrong", "courses.c00.go_tieng_viet.TypeVietnamese", 0, tmp_path)["phrase"]
    from courses.c00.go_tieng_viet import strip_marks

    r = post(api, "answers", "hvwrong", {"course_id": TYPING[0], "lesson_id": TYPING[1],
                                         "exercise_id": TYPING[2], "round": 0,
                                         "answer": strip_marks(phrase)})
    assert r.status_code == 200, r.text
    assert r.json()["passed"] is False and "dấu" in r.json()["feedback"]
    lesson = mine(api, "hvwrong")[TYPING[:2]]
    assert lesson["attempted"] == [TYPING[2]] and lesson["passed"] == [] and not lesson["completed"]


def test_a_right_answer_passes_at_the_servers_time_and_completes_the_lesson(api, db_url, tmp_path):
    """Is the learner's right answer (for their own task) passed, with the server's time, and
    does the lesson complete only when all its exercises are passed?"""
    phrase = task_of("hvright", "courses.c00.go_tieng_viet.TypeVietnamese", 3, tmp_path)["phrase"]
    before = datetime.now(UTC)
    r = post(api, "answers", "hvright", {"course_id": TYPING[0], "lesson_id": TYPING[1],
                                         "exercise_id": TYPING[2], "round": 3, "answer": phrase})
    after = datetime.now(UTC)
    assert r.status_code == 200, r.text
    verdict = r.json()
    assert verdict["passed"] is True and verdict["lesson_completed"] is True
    assert before <= datetime.fromisoformat(verdict["judged_at"]) <= after
    hr = read_progress(db_url)
    done = hr[hr["username"] == "hvright"]
    assert list(zip(done["course_id"], done["lesson_id"], strict=True)) == [TYPING[:2]]
    completed_at = done["completed_at"].iloc[0].to_pydatetime()
    completed_at = completed_at if completed_at.tzinfo else completed_at.replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= completed_at <= after + timedelta(seconds=1)
    # A two-exercise lesson: one passed exercise is not a completed lesson.
    task = task_of("hvright", "courses.c01.quy_trinh.IncomingOrder", 0, tmp_path)
    from sandbox.documents.workflow import MACHINES

    state, order = task["start"], []
    for _ in task["steps"]:
        action = next(a for a in task["options"] if (state, a) in MACHINES[task["kind"]])
        order.append(action)
        state = MACHINES[task["kind"]][(state, action)][0]
    r = post(api, "answers", "hvright", {"course_id": ORDER[0], "lesson_id": ORDER[1],
                                         "exercise_id": "thu-tu-van-ban-den", "round": 0,
                                         "answer": order})
    assert r.json()["passed"] is True and r.json()["lesson_completed"] is False
    assert not mine(api, "hvright")[ORDER]["completed"]


def test_unknown_course_lesson_exercise_or_kind_is_refused(api, db_url):
    """Are answers and reports about things the catalogue does not have refused, in Vietnamese,
    with nothing stored?"""
    base = {"course_id": TYPING[0], "lesson_id": TYPING[1], "exercise_id": TYPING[2], "round": 0,
            "answer": "x"}
    for change, words in (({"course_id": "99-khong-co"}, "danh mục"),
                          ({"lesson_id": "09-khong-co"}, "danh mục"),
                          ({"exercise_id": "thu-tu-van-ban-den"}, "danh mục"),  # another lesson's
                          ({"round": -1}, "không đọc được"),
                          ({"passed": True}, "không đọc được"),
                          ({"occurred_at": "2026-01-01T00:00:00+00:00"}, "không đọc được")):
        r = post(api, "answers", "hvunknown", {**base, **change})
        assert r.status_code == 400, (change, r.text)
        assert words in r.json()["error"], (change, r.json())
    for kind in ("hacked", "exercise_attempted", "exercise_passed", "lesson_completed"):
        r = post(api, "events", "hvunknown", {"event_id": uuid.uuid4().hex, "kind": kind,
                                              "course_id": TYPING[0], "lesson_id": TYPING[1]})
        assert r.status_code == 400, (kind, r.text)
    r = post(api, "events", "hvunknown", {"event_id": uuid.uuid4().hex, "kind": "lesson_opened",
                                          "course_id": "99-khong-co", "lesson_id": "01"})
    assert r.status_code == 400
    with session_scope(db_url) as s:
        assert s.scalar(select(ProgressEvent.id).where(ProgressEvent.username == "hvunknown")) is None


def test_quota_per_minute_refuses_in_vietnamese(db_url):
    """Past the answers allowed per minute, is the next answer refused (429) with a Vietnamese
    message, and not judged or stored?"""
    base, stop = serve(service.make_app(db_url, PREFIX, auth(),
                                        limits={"answers_per_minute": 3, "answers_per_day": 100}))
    try:
        body = {"course_id": TYPING[0], "lesson_id": TYPING[1], "exercise_id": TYPING[2],
                "round": 0, "answer": "sai"}
        for _ in range(3):
            assert post(base, "answers", "hvquota", body).status_code == 200
        r = post(base, "answers", "hvquota", body)
        assert r.status_code == 429
        assert "3 câu trả lời trong một phút" in r.json()["error"]
        assert post(base, "answers", "hvquota2", body).status_code == 200  # per user
    finally:
        stop()
    with session_scope(db_url) as s:
        rows = s.scalars(select(ProgressEvent).where(ProgressEvent.username == "hvquota")).all()
    assert len(rows) == 3


def test_quota_per_day_counts_the_last_24_hours(db_url):
    """Does the daily quota count answers of the last 24 hours only?"""
    from kynangso.errors import KnsError
    from kynangso.progress import store

    now = datetime.now(UTC)
    for hours in (30, 20, 2):
        store.record_verdict(db_url, "hvday", *TYPING, 0, "sai", False, now - timedelta(hours=hours))
    store.check_quota(db_url, "hvday", 10, 3, now)  # 2 in the last day: one more allowed
    store.record_verdict(db_url, "hvday", *TYPING, 0, "sai", False, now)
    with pytest.raises(KnsError) as err:
        store.check_quota(db_url, "hvday", 10, 3, now)
    assert "24 giờ" in err.value.user_message


def test_the_widget_shows_the_services_verdict_and_says_so_when_offline(api, home, monkeypatch):
    """Does the exercise in a kernel send its answer and show the service's verdict; and with
    the service unreachable, still judge, saying progress was not recorded?"""
    from courses.c00.go_tieng_viet import exercise_typing

    monkeypatch.setenv("JUPYTERHUB_USER", "hvwidget")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hvwidget")
    monkeypatch.setenv("KNS_PROGRESS_URL", api.removesuffix("api/"))
    ex = exercise_typing()
    ex.answer.value = ex.task["phrase"]
    assert ex.check().ok and "chưa được ghi" not in ex.feedback_text
    assert mine(api, "hvwidget")[TYPING[:2]]["completed"]
    monkeypatch.setenv("KNS_PROGRESS_URL", "http://127.0.0.1:9/services/progress/")
    ex.next_task()
    ex.answer.value = ex.task["phrase"]
    assert ex.check().ok
    assert ex.feedback_text.startswith("Đúng.") and "chưa được ghi vào tiến độ" in ex.feedback_text


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    return h


def test_migration_keeps_kernel_reported_rows_and_never_counts_them(tmp_path):
    """After migration 0007, is a completion a kernel reported before still in the table (nothing
    lost) but marked unjudged, and left out of the learner's summary and HR's reports?"""
    from sqlalchemy import create_engine, text

    from kynangso.progress import store

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    db.upgrade(url, "0006")
    with create_engine(url).begin() as conn:
        conn.execute(text(
            "INSERT INTO progress_events (event_id, username, kind, course_id, lesson_id, exercise_id,"
            " occurred_at, received_at) VALUES ('legacy-0001', 'hvold', 'lesson_completed',"
            " '01-van-ban-dien-tu', '02-so-ky-hieu', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
    db.upgrade(url)
    with session_scope(url) as s:
        row = s.scalar(select(ProgressEvent).where(ProgressEvent.event_id == "legacy-0001"))
        assert row is not None and row.judged is False
    assert store.summary_of(url, "hvold")["lessons"] == []
    assert read_progress(url).empty
