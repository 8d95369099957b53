"""The whole exam cycle on a real hub with real Unix accounts (root only).

Generate and release in formgrader (as an instructor, through the hub), open a window on the
exam desk's page, learners fetch from their Assignment List API (they run code, so the desk
restarts their server in exam mode, which fetches the exam), answer through the question
widgets' code run as their own account, submit; the window closes (`kns exam close`); a late submission
is refused or scored 0 by policy; collect, `kns grade`, a manual grade, feedback released and
fetched. Around it, what an attacker learner would try. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from nbgrader.api import Gradebook

from kynangso.exams.course import places, variant_secret_path
from kynangso.hub.harness import (
    IS_ROOT,
    api_token,
    cookie,
    isolated_hub,
    log_in,
    open_lab,
    run_as_learner,
    start_exam,
)

pytestmark = [pytest.mark.slow(300), pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="exam windows need an isolated (root) hub")]

STAFF = {
    "giangvien01": ("Vũ Thị Lan", "giangvien", "GiangVien@2026"),
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien@2026"),
    "hocvien02": ("Trần Văn Đức", "hocvien", "HocVien2@2026"),
    "hocvien03": ("Lê Thị Ánh", "hocvien", "HocVien3@2026"),
    "hocvien04": ("Hoàng Văn Bình", "hocvien", "HocVien4@2026"),
    "quantri": ("Đỗ Minh Quân", "quantri", "QuanTri@2026!"),
}
COURSE = "kiem-tra-nang-luc"
EXAM, STRICT = "tong-hop", "van-ban"  # accept_zero and refuse windows
CULL_S = 60


@pytest.fixture(scope="module")
def ehub(tmp_path_factory):
    extra = {"culler": {"timeout_seconds": CULL_S, "every_seconds": 10}, "exams": {"heartbeat_seconds": 5}}
    with isolated_hub(tmp_path_factory.mktemp("exam-hub"), STAFF, extra, tag="e") as hub:
        yield hub


# --- small helpers ------------------------------------------------------------------------

def course_dir(hub) -> Path:
    return Path(hub.settings["exams"]["root"]) / COURSE


def formgrader(hub, token: str, method: str, path: str, **kw):
    url = f"{hub.url}/services/{COURSE}/formgrader/api/{path}"
    return requests.request(method, url, headers={"Authorization": f"token {token}"}, timeout=300, **kw)


def on_server(hub, session, user: str, request):
    """`request()` to the learner's server; once more after starting it if the idle culler
    (CULL_S, short for step 7) stopped it meanwhile, which a busy machine makes likely."""
    r = request()
    # The hub answers for a stopped server: 424 "server not running" to a GET, and to a POST
    # first its own XSRF check, 403 (the form's token is the server's); while the culler is
    # stopping it, the hub's "stopping" page (HTML, where the server answers JSON). None is
    # ever the answer expected here, so a 403 that is genuine stays 403 after the retry.
    if r.status_code in (403, 424) or "text/html" in r.headers.get("Content-Type", ""):
        open_lab(hub, session, user)
        r = request()
    return r


def lab_action(hub, session, user: str, action: str, exam: str):
    def post():
        xsrf = cookie(session, "_xsrf", f"/user/{user}/") or ""
        return session.post(f"{hub.url}/user/{user}/assignments/{action}",
                            data={"course_id": COURSE, "assignment_id": exam},
                            headers={"X-XSRFToken": xsrf}, timeout=300)
    r = on_server(hub, session, user, post)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return r.json()


def listed(hub, session, user: str) -> dict:
    r = on_server(hub, session, user, lambda: session.get(
        f"{hub.url}/user/{user}/assignments", params={"course_id": COURSE}, timeout=120))
    assert r.status_code == 200, r.text[:300]
    return r.json()


def as_user(hub, user: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", hub.unix_name(user), "--", *cmd],
                          capture_output=True, text=True, timeout=60)


def kns(hub, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KNS_SETTINGS": str(hub.settings_file)}
    return subprocess.run([sys.executable, "-m", "kynangso.cli", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def manage_page(hub, session):
    """The exam desk's instructor page (hub OAuth on the first visit)."""
    return session.get(f"{hub.url}/services/exams/", timeout=60)


def server_running(hub, admin_token: str, user: str) -> bool:
    r = requests.get(f"{hub.url}/hub/api/users/{user}", headers={"Authorization": f"token {admin_token}"},
                     timeout=30)
    return bool(r.json().get("servers", {}).get(""))


# Run as the learner's own account (their server runs no code in exam mode; the widgets'
# clicks are driven in tests/browser): the fetched notebook's cells build the widgets, then each
# widget is given the answer a learner of that quality would click (values computed outside,
# from the same variant code the grader uses).
ANSWER = """
import json, os
os.chdir(os.path.expanduser("~/{exam}"))
ns = {{}}
for cell in json.load(open("{exam}.ipynb"))["cells"]:
    if cell["cell_type"] == "code":
        exec("".join(cell["source"]), ns)
bai = ns["bai"]
for item, value in json.loads({values!r}).items():
    bai.questions[item].set_value(value)
    bai.questions[item].save()
print("ANSWERED", sorted(json.load(open("{exam}.answers.json"))["answers"]))
"""


def answers_of(hub, exam: str, user: str, quality: str, tmp: Path) -> str:
    """Answers computed outside, as the operator can: from the course's variant secret."""
    from assessments.exams.answers import simulate_submission

    secret = variant_secret_path(places(hub.settings, True)).read_bytes().strip()
    return json.dumps(simulate_submission(exam, user, tmp / f"{exam}-{user}", quality,
                                          secret=secret))


def test_exam_cycle(ehub, tmp_path):
    """Does an exam go from release to feedback, with windows, late policy and the culler
    respected, and does a learner get nowhere near others' work or the answers?"""
    hub = ehub
    teacher = log_in(hub, "giangvien01").session
    t_token = api_token(hub, teacher, "giangvien01")
    admin_token = api_token(hub, log_in(hub, "quantri").session, "quantri")
    sessions = {u: log_in(hub, u).session for u in ("hocvien01", "hocvien02", "hocvien03", "hocvien04")}

    # 1. Generate and release both exams in formgrader, through the hub, as the instructor.
    for exam in (EXAM, STRICT):
        r = formgrader(hub, t_token, "POST", f"assignment/{exam}/assign")
        assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
        r = formgrader(hub, t_token, "POST", f"assignment/{exam}/release")
        assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
    # A learner cannot reach formgrader, even with a token of their own.
    l_token = api_token(hub, sessions["hocvien01"], "hocvien01")
    assert formgrader(hub, l_token, "GET", "assignments").status_code == 403

    for user in sessions:
        open_lab(hub, sessions[user], user)

    # 2. Before any window: nothing listed, fetching gets nothing.
    assert listed(hub, sessions["hocvien01"], "hocvien01")["value"] == []
    lab_action(hub, sessions["hocvien01"], "hocvien01", "fetch", EXAM)
    assert as_user(hub, "hocvien01", "test", "-e", os.path.join(hub_home(hub, "hocvien01"), EXAM)).returncode == 1

    # 3. The instructor opens EXAM (accept late, score 0) on the desk's page, STRICT by CLI.
    page = manage_page(hub, teacher)
    assert page.status_code == 200 and "Quản lý đợt thi" in page.text, page.text[:500]
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = teacher.post(f"{hub.url}/services/exams/", data={
        "_xsrf": xsrf, "exam": EXAM, "group": "hocvien", "minutes": "30",
        "late_policy": "accept_zero", "action": "open"}, timeout=60)
    assert "Đã mở bài thi" in r.text, r.text[:1000]
    # A learner sees their own exams on the page (with the late policy), but no instructor
    # tools, and cannot open a window by posting the form.
    mine = manage_page(hub, sessions["hocvien02"])
    assert mine.status_code == 200 and "Quản lý đợt thi" not in mine.text
    # The exam by its title, never its id (kynangso.exams.service).
    assert "chấm 0 điểm" in mine.text and "Kiểm tra năng lực số: phần chung" in mine.text, mine.text[:1000]
    lxsrf = cookie(sessions["hocvien02"], "_xsrf", "/services/exams/")
    assert lxsrf  # a valid form token: the refusal below is the desk's, not XSRF's
    forged = sessions["hocvien02"].post(f"{hub.url}/services/exams/", timeout=60, data={
        "_xsrf": lxsrf, "exam": STRICT, "group": "hocvien",
        "minutes": "30", "late_policy": "refuse", "action": "open"})
    assert forged.status_code == 403
    out = kns(hub, "exam", "open", STRICT, "--group", "hocvien", "--minutes", "30", "--late", "refuse")
    assert out.returncode == 0, out.stderr

    # 4. Learners see the exams with the policy, fetch, and answer through the widgets.
    seen = listed(hub, sessions["hocvien01"], "hocvien01")["value"]
    released = {a["assignment_id"]: a for a in seen if a["status"] == "released"}
    assert set(released) == {EXAM, STRICT}
    assert "chấm 0 điểm" in released[EXAM]["policy_text"]
    assert "từ chối" in released[STRICT]["policy_text"]
    for user, exam in (("hocvien01", EXAM), ("hocvien02", EXAM), ("hocvien03", EXAM), ("hocvien04", STRICT)):
        # The idle culler (CULL_S, short for step 7) may have stopped the server while the
        # others restarted on a busy machine: started again first, as on_server does.
        open_lab(hub, sessions[user], user)
        start_exam(hub, sessions[user], user, COURSE, exam)  # restarted in exam mode
    home1 = hub_home(hub, "hocvien01")
    assert as_user(hub, "hocvien01", "test", "-f", f"{home1}/{EXAM}/{EXAM}.ipynb").returncode == 0
    info = json.loads(as_user(hub, "hocvien01", "cat", f"{home1}/{EXAM}/exam-info.json").stdout)
    assert info["late_policy"] == "accept_zero"
    # The released copy carries neither hidden tests nor the answer key.
    released_nb = as_user(hub, "hocvien01", "cat", f"{home1}/{EXAM}/{EXAM}.ipynb").stdout
    assert "BEGIN HIDDEN TESTS" not in released_nb and "score_" not in released_nb

    for user, exam, quality in (("hocvien01", EXAM, "correct"), ("hocvien02", EXAM, "partial"),
                                ("hocvien03", EXAM, "correct"), ("hocvien04", STRICT, "correct")):
        code = ANSWER.format(exam=exam, values=answers_of(hub, exam, user, quality, tmp_path))
        printed = run_as_learner(hub, user, code)
        assert "ANSWERED" in printed, printed

    # 5. Attacks while the exam runs.
    where = Path(hub.settings["exams"]["root"])
    exchange = places(hub.settings, True).exchange
    for target in (where, course_dir(hub) / "source" / EXAM, course_dir(hub) / "gradebook.db",
                   exchange.parent, exchange / COURSE / "inbound"):
        r = as_user(hub, "hocvien01", "ls", str(target))
        assert r.returncode != 0 and "Permission denied" in r.stderr, (target, r.stdout, r.stderr)
    r = as_user(hub, "hocvien01", "cat", f"{hub_home(hub, 'hocvien02')}/{EXAM}/{EXAM}.answers.json")
    assert r.returncode != 0 and "Permission denied" in r.stderr
    inbound = exchange / COURSE / "inbound"
    r = as_user(hub, "hocvien01", "touch", str(inbound / f"hocvien02+{EXAM}+forged"))
    assert r.returncode != 0 and "Permission denied" in r.stderr
    # The checkout's exam source (hidden tests, answer keys) is closed to learners too.
    repo_source = Path(__file__).resolve().parents[2] / "assessments" / "exams" / "source"
    r = as_user(hub, "hocvien01", "ls", str(repo_source))
    assert r.returncode != 0 and "Permission denied" in r.stderr
    # nbgrader's instructor server extensions are off in learners' servers (hocvien01's, in
    # exam mode, refuses everything but the exam anyway).
    assert sessions["hocvien01"].get(f"{hub.url}/user/hocvien01/formgrader", timeout=60).status_code in (403, 404)
    # The desk refuses a file name that leaves the submission folder, with a Vietnamese reason.
    bad = requests.post(f"{hub.url}/services/exams/api/exams/{EXAM}/submissions",
                        headers={"Authorization": f"token {l_token}"}, timeout=60,
                        json={"files": [{"path": "../../x", "data": ""}]})
    assert bad.status_code == 400 and "không hợp lệ" in bad.json()["error"]
    # Forge the submission time: a timestamp file in the folder is ignored by the desk.
    as_user(hub, "hocvien01", "sh", "-c", f"echo '2020-01-01 00:00:00.000000 UTC' > {home1}/{EXAM}/timestamp.txt")

    # 6. Submissions on time.
    for user in ("hocvien01", "hocvien02"):
        result = lab_action(hub, sessions[user], user, "submit", EXAM)
        assert result["success"], result
    lab_action(hub, sessions["hocvien04"], "hocvien04", "submit", STRICT)

    # 7. The culler: hocvien03 has an exam in progress, hocvien04 (submitted) an idle server.
    deadline = time.monotonic() + CULL_S * 4
    while time.monotonic() < deadline and server_running(hub, admin_token, "hocvien04"):
        time.sleep(5)
    assert not server_running(hub, admin_token, "hocvien04"), "idle server was not culled"
    assert server_running(hub, admin_token, "hocvien03"), "server with an exam in progress was culled"

    # 8. Close both windows by CLI; late work follows each exam's policy.
    assert kns(hub, "exam", "close", EXAM).returncode == 0
    assert kns(hub, "exam", "close", STRICT).returncode == 0
    open_lab(hub, sessions["hocvien04"], "hocvien04")  # culled above: starts again
    lab_action(hub, sessions["hocvien04"], "hocvien04", "fetch", EXAM)  # too late to fetch
    assert as_user(hub, "hocvien04", "test", "-e", f"{hub_home(hub, 'hocvien04')}/{EXAM}").returncode == 1
    late = lab_action(hub, sessions["hocvien03"], "hocvien03", "submit", EXAM)
    assert late["success"], late  # accepted (accept_zero) ...
    refused = lab_action(hub, sessions["hocvien04"], "hocvien04", "submit", STRICT)
    assert refused["success"] is False and "không được nhận" in refused["value"], refused

    # 9. Collect and grade: EXAM from the desk's page ("Thu bài và chấm tự động": nbgrader
    # collect + kns grade as the grader account), STRICT in formgrader + `kns grade` by hand.
    page = manage_page(hub, teacher)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    teacher.post(f"{hub.url}/services/exams/", data={"_xsrf": xsrf, "exam": EXAM, "action": "grade"},
                 timeout=60)
    # The page names the exam by its title (kynangso.exams.instructor).
    done = "Đã thu bài và chấm tự động bài «Kiểm tra năng lực số: phần chung»: 3 bài đã chấm, 0 bài lỗi"
    deadline = time.monotonic() + 600
    while done not in (text := manage_page(hub, teacher).text) and time.monotonic() < deadline:
        assert "không thành công" not in text, text
        time.sleep(3)
    assert done in manage_page(hub, teacher).text
    r = formgrader(hub, t_token, "POST", f"assignment/{STRICT}/collect")
    assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
    stamp = (course_dir(hub) / "submitted" / "hocvien01" / EXAM / "timestamp.txt").read_text()
    assert not stamp.startswith("2020"), stamp
    grader = hub.settings["exams"]["grader_account"]
    r = subprocess.run(["runuser", "-u", grader, "--", f"{sys.prefix}/bin/kns", "grade", STRICT,
                        "--course-dir", str(course_dir(hub))],
                       capture_output=True, text=True, timeout=900, cwd=str(course_dir(hub)),
                       env={**os.environ, "PATH": f"{sys.prefix}/bin:/usr/sbin:/usr/bin:/bin",
                            "HOME": str(where)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

    with Gradebook(f"sqlite:///{course_dir(hub) / 'gradebook.db'}", course_id=COURSE) as gb:
        full = gb.find_submission(EXAM, "hocvien01")
        part = gb.find_submission(EXAM, "hocvien02")
        latecomer = gb.find_submission(EXAM, "hocvien03")
        grades = [g for nb in full.notebooks for g in nb.grades]
        auto_max = sum(g.max_score for g in grades if g.auto_score is not None)
        assert full.score == pytest.approx(auto_max) and auto_max > 0
        assert 0 < part.score < full.score
        # nbgrader keeps the score and records a penalty of the same size: the net result is 0.
        assert latecomer.total_seconds_late > 0
        assert latecomer.score > 0 and latecomer.late_submission_penalty == pytest.approx(latecomer.score)
        manual = [g for g in grades if g.auto_score is None and g.max_score > 0]
        assert manual, "the exam has a manually graded task"
        grade_id = manual[0].id
    r = formgrader(hub, t_token, "PUT", f"grade/{grade_id}", json={"manual_score": 2, "extra_credit": 0})
    assert r.status_code == 200, r.text[:500]
    with Gradebook(f"sqlite:///{course_dir(hub) / 'gradebook.db'}", course_id=COURSE) as gb:
        assert gb.find_submission(EXAM, "hocvien01").score == pytest.approx(auto_max + 2)

    # 10. Feedback generated, released, fetched by the learner; it reveals no hidden test.
    for step in ("generate_feedback", "release_feedback"):
        r = formgrader(hub, t_token, "POST", f"assignment/{EXAM}/{step}")
        assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
    open_lab(hub, sessions["hocvien01"], "hocvien01")  # the culler may have stopped it
    state = lab_action(hub, sessions["hocvien01"], "hocvien01", "fetch_feedback", EXAM)
    assert state["success"], state
    found = as_user(hub, "hocvien01", "sh", "-c", f"cat {home1}/{EXAM}/feedback/*/{EXAM}.html")
    assert found.returncode == 0 and "BEGIN HIDDEN TESTS" not in found.stdout and "score_" not in found.stdout
    # hocvien02 asks for feedback: theirs was not released to them by name, and nobody else's
    # is served (the desk answers from the caller's identity, not from a parameter).
    open_lab(hub, sessions["hocvien02"], "hocvien02")
    lab_action(hub, sessions["hocvien02"], "hocvien02", "fetch_feedback", EXAM)
    mine = as_user(hub, "hocvien02", "sh", "-c", f"ls {hub_home(hub, 'hocvien02')}/{EXAM}/feedback/*/")
    assert EXAM in mine.stdout


def hub_home(hub, user: str) -> str:
    import pwd

    return pwd.getpwnam(hub.unix_name(user)).pw_dir

