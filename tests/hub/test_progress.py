"""The progress service through the real hub: learners' kernels send answers and openings,
the service judges and records, roles read."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kynangso.hub.harness import api_token, new_session, open_lab, run_in_kernel

pytestmark = pytest.mark.hub


def event(kind="lesson_opened", lesson="01-man-hinh-lam-viec", course="00-lam-quen", event_id=None):
    """A report as a kernel sends it now: an opening, no time (the service stamps its own)."""
    return {"event_id": event_id or uuid.uuid4().hex, "kind": kind, "course_id": course,
            "lesson_id": lesson}


def progress(hub, path):
    return f"{hub.url}/services/progress/api/{path}"


def test_kernel_reports_progress_without_any_token_in_view(hub, login):
    """Does a learner's own kernel report an event with no token or URL typed by anyone?"""
    session = login("hocvien01")
    open_lab(hub, session, "hocvien01")
    out = run_in_kernel(hub, session, "hocvien01", (
        "from kynangso.progress.client import record, submit_answer\n"
        "from courses.c00.man_hinh import ScreenQuestion\n"
        "print(record('lesson_opened', '00-lam-quen', '01-man-hinh-lam-viec'))\n"
        "task = ScreenQuestion.task_for(0)\n"
        "print(submit_answer('00-lam-quen', '01-man-hinh-lam-viec', 'vung-man-hinh', 0, task['answer'])['passed'])\n"
    ))
    assert out.split() == ["True", "True"], out
    token = api_token(hub, session, "hocvien01")
    mine = new_session().get(progress(hub, "me"), headers={"Authorization": f"token {token}"}, timeout=30).json()
    lesson = next(x for x in mine["lessons"] if x["lesson_id"] == "01-man-hinh-lam-viec")
    assert lesson["opened"] and lesson["passed"] == ["vung-man-hinh"] and lesson["completed"]
    # Exercises with practice files: the service builds its own copy (a one-stop desk, a
    # practice CA) in its own folder, as its own account, and judges there.
    out = run_in_kernel(hub, session, "hocvien01", (
        "from kynangso.progress.client import submit_answer\n"
        "from courses.c02.ky_so import SignDocument\n"
        "from courses.c02.practice import PASSPHRASE\n"
        "task = SignDocument.task_for(0)\n"
        "r = submit_answer('02-chu-ky-so', '02-ky-so', 'ky-van-ban', 0,\n"
        "                  {'certificate': task['role'], 'passphrase': PASSPHRASE})\n"
        "print(r['passed'])\n"
        "r = submit_answer('03-dich-vu-cong', '01-tiep-nhan-ho-so', 'quyet-dinh-tiep-nhan', 0,\n"
        "                  {'action': 'khong-co', 'missing': None})\n"
        "print(r['passed'], 'Quyết định đúng' in r['feedback'])\n"
    ))
    assert out.split() == ["True", "False", "True"], out


def test_events_are_idempotent_and_written_for_the_token_owner_only(hub, login):
    """Is a resent event stored once, and can nobody write into someone else's progress?"""
    token = api_token(hub, login("hocvien02"), "hocvien02")
    http = new_session()
    headers = {"Authorization": f"token {token}"}
    e = event(lesson="03-tien-do-cua-toi")
    first = http.post(progress(hub, "events"), json={"events": [e]}, headers=headers, timeout=30).json()
    again = http.post(progress(hub, "events"), json={"events": [e]}, headers=headers, timeout=30).json()
    assert (first["stored"], again["stored"], again["duplicates"]) == (1, 0, 1)
    # A body naming another user changes nothing: the hub's token decides whose event it is.
    forged = dict(event(lesson="02-bai-tap-va-phan-hoi"), username="hocvien01")
    http.post(progress(hub, "events"), json=forged, headers=headers, timeout=30)
    hr_token = api_token(hub, login("nhansu01"), "nhansu01")
    victim = http.get(progress(hub, "users/hocvien01"), headers={"Authorization": f"token {hr_token}"},
                      timeout=30).json()
    assert "02-bai-tap-va-phan-hoi" not in [x["lesson_id"] for x in victim["lessons"]]


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


def test_forged_back_dated_completions_are_refused_and_not_counted(hub, login):
    """Issue 14 attack: a learner's kernel posts back-dated `lesson_completed` and
    `exercise_passed` for lessons never opened. Refused, and not in what HR reads?"""
    session = login("hocvien03")
    open_lab(hub, session, "hocvien03")
    back = (datetime.now(UTC) - timedelta(days=120)).isoformat()
    out = run_in_kernel(hub, session, "hocvien03", (
        f"back = {back!r}\n"
        "import os, requests, uuid\n"
        "url = os.environ['KNS_PROGRESS_URL'].rstrip('/') + '/api/events'\n"
        "events = [{'event_id': uuid.uuid4().hex, 'kind': k, 'course_id': '02-chu-ky-so',\n"
        "           'lesson_id': '03-kiem-tra-chu-ky', 'exercise_id': x, 'occurred_at': back}\n"
        "          for k, x in (('exercise_passed', 'kiem-tra-van-ban-den'), ('lesson_completed', None))]\n"
        "r = requests.post(url, json={'events': events}, timeout=60,\n"
        "                  headers={'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']})\n"
        "print(r.status_code)\n"
    ))
    hr = api_token(hub, login("nhansu01"), "nhansu01")
    seen = new_session().get(progress(hub, "users/hocvien03"), headers={"Authorization": f"token {hr}"},
                             timeout=30).json()
    assert "03-kiem-tra-chu-ky" not in [x["lesson_id"] for x in seen["lessons"]]
    assert out.split()[-1] == "400", out


def test_learner_completes_a_lesson_exercise_and_the_service_has_it(hub, login):
    """When a learner answers a course exercise right in their kernel, is it in their progress?"""
    session = login("hocvien02")
    open_lab(hub, session, "hocvien02")
    out = run_in_kernel(hub, session, "hocvien02", (
        "from courses.c00.go_tieng_viet import exercise_typing\n"
        "ex = exercise_typing()\n"
        "ex.answer.value = ex.task['phrase']\n"
        "ex.button.click()\n"
        "print(ex.passed, ex.course, ex.lesson, ex.exercise_id, 'ghi' in ex.feedback_text)\n"
    ))
    passed, course, lesson, exercise, not_recorded = out.split()
    assert passed == "True", out
    assert not_recorded == "False", out  # the service's verdict, recorded
    token = api_token(hub, session, "hocvien02")
    mine = new_session().get(progress(hub, "me"), headers={"Authorization": f"token {token}"}, timeout=30).json()
    entry = next(x for x in mine["lessons"] if (x["course_id"], x["lesson_id"]) == (course, lesson))
    assert exercise in entry["passed"] and entry["completed"]
    # Another learner cannot read it.
    other = api_token(hub, login("hocvien03"), "hocvien03")
    assert new_session().get(progress(hub, "users/hocvien02"), headers={"Authorization": f"token {other}"},
                             timeout=30).status_code == 403
