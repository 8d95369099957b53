"""The progress service through the real hub: learners' kernels report, roles read."""

import uuid
from datetime import UTC, datetime

import pytest

from kynangso.hub.harness import api_token, new_session, open_lab, run_in_kernel

pytestmark = pytest.mark.hub


def event(kind="exercise_passed", lesson="00-02", exercise="ex1", event_id=None):
    return {"event_id": event_id or uuid.uuid4().hex, "kind": kind, "course_id": "00",
            "lesson_id": lesson, "exercise_id": exercise, "occurred_at": datetime.now(UTC).isoformat()}


def progress(hub, path):
    return f"{hub.url}/services/progress/api/{path}"


def test_kernel_reports_progress_without_any_token_in_view(hub, login):
    """Does a learner's own kernel report an event with no token or URL typed by anyone?"""
    session = login("hocvien01")
    open_lab(hub, session, "hocvien01")
    out = run_in_kernel(hub, session, "hocvien01", (
        "from kynangso.progress.client import record\n"
        "print(record('lesson_opened', '00', '00-01'))\n"
        "print(record('exercise_passed', '00', '00-01', 'ex1'))\n"
    ))
    assert out.split() == ["True", "True"], out
    token = api_token(hub, session, "hocvien01")
    mine = new_session().get(progress(hub, "me"), headers={"Authorization": f"token {token}"}, timeout=30).json()
    lesson = next(x for x in mine["lessons"] if x["lesson_id"] == "00-01")
    assert lesson["opened"] and lesson["passed"] == ["ex1"]


def test_events_are_idempotent_and_written_for_the_token_owner_only(hub, login):
    """Is a resent event stored once, and can nobody write into someone else's progress?"""
    token = api_token(hub, login("hocvien02"), "hocvien02")
    http = new_session()
    headers = {"Authorization": f"token {token}"}
    e = event(lesson="00-03")
    first = http.post(progress(hub, "events"), json={"events": [e]}, headers=headers, timeout=30).json()
    again = http.post(progress(hub, "events"), json={"events": [e]}, headers=headers, timeout=30).json()
    assert (first["stored"], again["stored"], again["duplicates"]) == (1, 0, 1)
    # A body naming another user changes nothing: the hub's token decides whose event it is.
    forged = dict(event(lesson="00-99"), username="hocvien01")
    http.post(progress(hub, "events"), json=forged, headers=headers, timeout=30)
    hr_token = api_token(hub, login("nhansu01"), "nhansu01")
    victim = http.get(progress(hub, "users/hocvien01"), headers={"Authorization": f"token {hr_token}"},
                      timeout=30).json()
    assert "00-99" not in [x["lesson_id"] for x in victim["lessons"]]


def test_learner_cannot_read_another_learners_progress(hub, login):
    """Does a learner get 403 on another learner's progress, and HR get it?"""
    http = new_session()
    learner = api_token(hub, login("hocvien03"), "hocvien03")
    r = http.get(progress(hub, "users/hocvien01"), headers={"Authorization": f"token {learner}"}, timeout=30)
    assert r.status_code == 403
    assert "của chính mình" in r.json()["error"]
    hr = api_token(hub, login("nhansu01"), "nhansu01")
    assert http.get(progress(hub, "users/hocvien01"), headers={"Authorization": f"token {hr}"},
                    timeout=30).status_code == 200


def test_no_token_no_progress(hub):
    """Is the service closed to requests without a hub token, and to forged ones?"""
    http = new_session()
    assert http.post(progress(hub, "events"), json=event(), timeout=30, allow_redirects=False).status_code in (302, 401, 403)
    assert http.get(progress(hub, "me"), headers={"Authorization": "token forged"}, timeout=30,
                    allow_redirects=False).status_code in (302, 401, 403)


def test_malformed_events_are_refused_with_a_reason(hub, login):
    """Is an event with an unknown kind refused, with nothing stored?"""
    token = api_token(hub, login("hocvien03"), "hocvien03")
    r = new_session().post(progress(hub, "events"), json=event(kind="hacked"),
                           headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 400
    assert "không hợp lệ" in r.json()["error"]


def test_learner_completes_a_lesson_exercise_and_the_service_has_it(hub, login):
    """When a learner answers a course exercise right in their kernel, is it in their progress?"""
    session = login("hocvien02")
    open_lab(hub, session, "hocvien02")
    out = run_in_kernel(hub, session, "hocvien02", (
        "from courses.c00.go_tieng_viet import exercise_typing\n"
        "ex = exercise_typing()\n"
        "ex.answer.value = ex.task['phrase']\n"
        "ex.button.click()\n"
        "print(ex.passed, ex.course, ex.lesson, ex.exercise_id)\n"
    ))
    passed, course, lesson, exercise = out.split()
    assert passed == "True", out
    token = api_token(hub, session, "hocvien02")
    mine = new_session().get(progress(hub, "me"), headers={"Authorization": f"token {token}"}, timeout=30).json()
    entry = next(x for x in mine["lessons"] if (x["course_id"], x["lesson_id"]) == (course, lesson))
    assert exercise in entry["passed"]
    # Another learner cannot read it.
    other = api_token(hub, login("hocvien03"), "hocvien03")
    assert new_session().get(progress(hub, "users/hocvien02"), headers={"Authorization": f"token {other}"},
                             timeout=30).status_code == 403
