"""Issue 14, items 5 and 6: the exam desk's rules that a learner (or a page elsewhere) must not
bend. Real hub with real Unix accounts (root only), nothing mocked; each test is the attack.

- Cross-site request forgery: a page on another origin makes the learner's browser post to
  the desk with the desk's cookie but without the XSRF token; an empty exam would become the
  learner's latest submission.
- Quotas: a learner submits once more than allowed in a window, too many files, too many bytes;
  each past the limit must be refused with a Vietnamese reason and leave nothing stored.
- The same forgery against the reports service: a page elsewhere shuts HR's dashboard kernel.
- Late rules per group: group A's window closes, A submits late; group B's window of the same
  exam opens later. A's late work must still score 0 (accept_zero) or be refused (refuse),
  whatever the gradebook's single due date says.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from nbgrader.api import Gradebook

from kynangso.hub.harness import IS_ROOT, api_token, cookie, isolated_hub, log_in

pytestmark = [pytest.mark.slow(150), pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="the attacks need real accounts (root)")]

STAFF = {
    "giangvien01": ("Vũ Thị Lan", "giangvien", "GiangVien@2026"),
    "quantri": ("Đỗ Minh Quân", "quantri", "QuanTri@2026!"),
    "nhansu01": ("Đặng Thị Mai", "nhansu", "NhanSu@2026"),
    "hocvien01": ("Nguyễn Thị Hồng", "hocvien", "HocVien1@2026"),  # group nhom-a
    "hocvien02": ("Trần Văn Đức", "hocvien", "HocVien2@2026"),  # group nhom-b
    "hocvien03": ("Lê Thị Ánh", "hocvien", "HocVien3@2026"),
    "hocvien04": ("Hoàng Văn Bình", "hocvien", "HocVien4@2026"),
    "hocvien05": ("Phạm Thu Trang", "hocvien", "HocVien5@2026"),
    "hocvien06": ("Bùi Quang Huy", "hocvien", "HocVien6@2026"),
}
COURSE = "kiem-tra-nang-luc"
LATE_ZERO, LATE_REFUSE, OPEN = "van-ban", "tong-hop", "dich-vu-cong"
# Small quotas, so that going past them costs little.
QUOTAS = {"max_submissions_per_window": 3, "max_files_per_submission": 5,
          "max_total_mb_per_window": 2, "max_submission_mb": 1}
MB = 2**20


def _known_settings() -> dict:
    """The quota settings this version of the platform knows: on code that predates them the
    hub starts without them, and the tests fail on what the desk does, not on the settings."""
    schema = json.loads((Path(__import__("kynangso").__file__).parent / "settings_schema.json")
                        .read_text())["properties"]["exams"]["properties"]
    return {key: value for key, value in QUOTAS.items() if key in schema}


@pytest.fixture(scope="module")
def rhub(tmp_path_factory):
    # The learners call the desk as their servers do; they are learner-app learners (a learner
    # who runs code gets the exam only on a server in exam mode: tests/security/test_exam_mode.py).
    with isolated_hub(tmp_path_factory.mktemp("desk-rules"), STAFF,
                      {"exams": _known_settings(), "lab": {"advanced_learners": []}}, tag="r") as hub:
        teacher = log_in(hub, "giangvien01").session
        t_token = api_token(hub, teacher, "giangvien01")
        admin = api_token(hub, log_in(hub, "quantri").session, "quantri")
        for exam in (LATE_ZERO, LATE_REFUSE, OPEN):
            for step in ("assign", "release"):
                r = requests.post(f"{hub.url}/services/{COURSE}/formgrader/api/assignment/{exam}/{step}",
                                  headers={"Authorization": f"token {t_token}"}, timeout=600)
                assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
        # Two groups of learners with their own windows (before any call to the desk, which
        # keeps a user's groups for a few seconds).
        for group, user in (("nhom-a", "hocvien01"), ("nhom-b", "hocvien02")):
            head = {"Authorization": f"token {admin}"}
            assert requests.post(f"{hub.url}/hub/api/groups/{group}", headers=head,
                                 timeout=60).status_code == 201
            assert requests.post(f"{hub.url}/hub/api/groups/{group}/users", headers=head, timeout=60,
                                 json={"users": [user]}).status_code == 200
        hub.teacher = teacher
        hub.sessions, hub.tokens = {}, {}
        for user in STAFF:
            if user.startswith("hocvien"):
                hub.sessions[user] = log_in(hub, user).session
                hub.tokens[user] = api_token(hub, hub.sessions[user], user)
        assert kns(hub, "exam", "open", OPEN, "--group", "hocvien", "--minutes", "120",
                   "--late", "refuse").returncode == 0
        yield hub


# --- helpers --------------------------------------------------------------------------------

def kns(hub, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KNS_SETTINGS": str(hub.settings_file)}
    return subprocess.run([sys.executable, "-m", "kynangso.cli", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def desk_url(hub, path: str) -> str:
    return f"{hub.url}/services/exams/api/exams/{path}"


def api(hub, user: str, method: str, path: str, **kw) -> requests.Response:
    """The learner's server calls the desk with its hub token, as the Assignment List does."""
    return requests.request(method, desk_url(hub, path), timeout=300,
                            headers={"Authorization": f"token {hub.tokens[user]}"}, **kw)


def item(path: str, data: bytes) -> dict:
    return {"path": path, "data": base64.b64encode(data).decode("ascii")}


def stored(hub, user: str, exam: str) -> list[str]:
    """The submission folders in the exchange's inbound, and the desk's records, of user+exam."""
    from kynangso.exams.course import places

    inbound = places(hub.settings, True).exchange / COURSE / "inbound"
    folders = sorted(p.name for p in inbound.iterdir() if p.name.startswith(f"{user}+{exam}+")) \
        if inbound.is_dir() else []
    with sqlite3.connect(hub.settings.database_url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute("SELECT folder FROM exam_submissions WHERE username = ? AND exam = ?",
                            (user, exam)).fetchall()
    assert sorted(r[0] for r in rows) == folders, (rows, folders)
    return folders


def fetched(hub, user: str, exam: str) -> list[dict]:
    r = api(hub, user, "GET", exam)
    assert r.status_code == 200, r.text[:500]
    return r.json()["files"]


def desk_cookie_session(hub, user: str) -> requests.Session:
    """The learner's browser after visiting the desk's page: the desk's login cookie and its
    XSRF cookie are set (hub OAuth on the first visit)."""
    session = hub.sessions[user]
    page = session.get(f"{hub.url}/services/exams/", timeout=60)
    assert page.status_code == 200, page.text[:500]
    assert any(c.name.startswith("service-exams") or c.name.endswith("service-exams")
               for c in session.cookies), [c.name for c in session.cookies]
    return session


# --- XSRF and SameSite ----------------------------------------------------------------------

def test_cross_site_post_with_the_desk_cookie_submits_nothing(rhub):
    """Attack (CSRF): a page on another origin auto-submits a form (enctype text/plain, its
    body a JSON exam with no files) to the desk's submission API. The learner's browser adds
    the desk's cookies; the page cannot read the XSRF token, so it sends none. The desk must
    refuse, and no submission may be stored in the learner's name."""
    hub, user, exam = rhub, "hocvien05", OPEN
    session = desk_cookie_session(hub, user)
    forged = session.post(desk_url(hub, f"{exam}/submissions"), timeout=60,
                          data=b'{"files": [], "x": "="}',
                          headers={"Content-Type": "text/plain", "Origin": "http://evil.example",
                                   "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                   "Sec-Fetch-Dest": "document"})
    assert forged.status_code == 403, (forged.status_code, forged.text[:300])
    assert stored(hub, user, exam) == [], "a cross-site post stored a submission"
    # Same again as a script elsewhere would (fetch with credentials, no token header).
    forged = session.post(desk_url(hub, f"{exam}/submissions"), json={"files": []}, timeout=60,
                          headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site",
                                   "Sec-Fetch-Mode": "cors"})
    assert forged.status_code == 403 and stored(hub, user, exam) == []
    # The refusal says why, in Vietnamese.
    assert "trang" in forged.json()["error"], forged.text[:300]
    # The instructors' form is protected the same way (no window opened by a forged post).
    before = kns(hub, "exam", "list", "--json").stdout
    forged = hub.teacher.post(f"{hub.url}/services/exams/", timeout=60, data={
        "exam": LATE_ZERO, "group": "hocvien", "minutes": "30", "late_policy": "refuse",
        "action": "open"}, headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403 and "Đã mở bài thi" not in forged.text
    assert kns(hub, "exam", "list", "--json").stdout == before


def test_same_origin_post_with_the_xsrf_token_is_accepted(rhub):
    """The desk's own page (same origin) sends the XSRF token from the cookie: it works, as do
    calls with the learner's hub token in the Authorization header (no cookie, no XSRF)."""
    hub, user, exam = rhub, "hocvien05", OPEN
    session = desk_cookie_session(hub, user)
    xsrf = cookie(session, "_xsrf", "/services/exams/")
    assert xsrf, [(c.name, c.path) for c in session.cookies]
    nb = fetched(hub, user, exam)
    before = len(stored(hub, user, exam))
    r = session.post(desk_url(hub, f"{exam}/submissions"), json={"files": nb}, timeout=120,
                     headers={"X-XSRFToken": xsrf, "Sec-Fetch-Site": "same-origin",
                              "Sec-Fetch-Mode": "cors"})
    assert r.status_code == 200, r.text[:500]
    assert len(stored(hub, user, exam)) == before + 1
    r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb})
    assert r.status_code == 200, r.text[:500]
    assert len(stored(hub, user, exam)) == before + 2


def test_service_cookies_are_samesite_lax(rhub):
    """A cookie without SameSite goes with cross-site requests in some browsers (and with a
    top-level POST in Chrome's first two minutes): the desk's login and XSRF cookies, and the
    hub's, say SameSite=Lax."""
    hub = rhub
    session = log_in(hub, "hocvien06").session
    seen = {}
    r = session.get(f"{hub.url}/services/exams/", timeout=60)
    for response in [*r.history, r]:
        for header in response.raw.headers.getlist("Set-Cookie"):
            name = header.split("=", 1)[0]
            seen[name] = header
    desk = [h for n, h in seen.items() if "service-exams" in n and "oauth-state" not in n]
    assert desk, seen
    for header in [*desk, seen.get("_xsrf", "_xsrf (not set)")]:
        assert re.search(r";\s*samesite=lax", header, re.I), header
    login = [c for c in session.cookies if c.name.startswith("jupyterhub-")]
    assert login
    for c in login:
        assert (c.get_nonstandard_attr("SameSite") or c.get_nonstandard_attr("samesite") or "").lower() \
            == "lax", (c.name, c._rest)


def test_reports_kernel_shutdown_needs_the_xsrf_token(rhub):
    """Attack (CSRF on the reports service, its one forwarded POST): a page elsewhere posts the
    shutdown of HR's dashboard kernel with HR's cookie. Refused without the XSRF token; with
    it (as Voilà's own page sends it, from the cookie, when the tab closes) it works."""
    hub = rhub
    session = log_in(hub, "nhansu01").session
    page = session.get(f"{hub.url}/services/reports/voila/render/tong-quan.ipynb", timeout=300)
    assert page.status_code == 200, page.text[:500]
    kid = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.text).group(1)
    shutdown = f"{hub.url}/services/reports/voila/api/shutdown/{kid}"

    def alive() -> bool:
        return session.get(f"{hub.url}/services/reports/api/kernels/{kid}", timeout=60).status_code == 200

    assert alive()
    forged = session.post(shutdown, files={"x": (None, "1")}, timeout=60, headers={
        "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
    assert forged.status_code == 403, (forged.status_code, forged.text[:300])
    assert alive(), "a cross-site post shut HR's dashboard kernel down"
    xsrf = cookie(session, "_xsrf", "/services/reports/")
    assert xsrf
    r = session.post(shutdown, files={"_xsrf": (None, xsrf)}, timeout=60,
                     headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors"})
    assert r.status_code < 300, (r.status_code, r.text[:300])
    deadline = time.monotonic() + 60  # the kernel stops in the background
    while alive() and time.monotonic() < deadline:
        time.sleep(1)
    assert not alive()


# --- quotas ---------------------------------------------------------------------------------

def test_one_submission_past_the_count_quota_is_refused(rhub):
    """Attack: submit again and again (each up to the size limit, kept forever) until the
    exchange fills. Past the count per window the desk refuses, says so, stores nothing."""
    hub, user, exam = rhub, "hocvien03", OPEN
    nb = fetched(hub, user, exam)
    limit = QUOTAS["max_submissions_per_window"]
    for _ in range(limit):
        r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb})
        assert r.status_code == 200, r.text[:500]
    r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb})
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert f"{limit} lần" in r.json()["error"], r.text[:300]
    assert len(stored(hub, user, exam)) == limit


def test_too_many_files_in_one_submission_is_refused(rhub):
    """Attack: one submission with thousands of small files (inodes, collect time)."""
    hub, user, exam = rhub, "hocvien06", OPEN
    nb = fetched(hub, user, exam)
    limit = QUOTAS["max_files_per_submission"]
    extra = [item(f"rac/{i}.txt", b"x") for i in range(limit + 1 - len(nb))]
    r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb + extra})
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert f"{limit} tệp" in r.json()["error"], r.text[:300]
    assert stored(hub, user, exam) == []
    # Within the limit it is accepted (the refusal above did not use up a submission).
    r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb + extra[:-1]})
    assert r.status_code == 200, r.text[:300]
    assert len(stored(hub, user, exam)) == 1


def test_too_many_bytes_in_a_window_is_refused(rhub):
    """Attack: each submission under the size limit, but together more than the learner's
    share of the exchange for one window."""
    hub, user, exam = rhub, "hocvien04", OPEN
    nb = fetched(hub, user, exam)
    big = [item("phu-luc.bin", os.urandom(int(0.8 * MB)))]
    for _ in range(2):  # 1.6 MB of the 2 MB allowed
        r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb + big})
        assert r.status_code == 200, r.text[:300]
    r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb + big})
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert f"{QUOTAS['max_total_mb_per_window']} MB" in r.json()["error"], r.text[:300]
    assert len(stored(hub, user, exam)) == 2
    # A small one still fits.
    r = api(hub, user, "POST", f"{exam}/submissions", json={"files": nb})
    assert r.status_code == 200, r.text[:300]


# --- late rules per group -------------------------------------------------------------------

def answered(hub, user: str, exam: str, tmp: Path) -> list[dict]:
    """The released exam as the learner fetched it, with correct answers in the sidecar (what
    the question widgets write in the learner's kernel)."""
    from assessments.exams.answers import simulate_submission
    from kynangso.exams.course import places, variant_secret_path

    files = fetched(hub, user, exam)
    folder = tmp / f"{exam}-{user}"
    # The variants are drawn from the course's secret, which root (the operator) can read.
    secret = variant_secret_path(places(hub.settings, True)).read_bytes().strip()
    simulate_submission(exam, user, folder, "correct", secret=secret)
    sidecar = folder / f"{exam}.answers.json"
    return [f for f in files if f["path"] != sidecar.name] + [item(sidecar.name, sidecar.read_bytes())]


def with_added_cell(files: list[dict], exam: str) -> list[dict]:
    """The submission with one cell the learner added (the scorer patch of issue 14)."""
    out = []
    for f in files:
        if f["path"] == f"{exam}.ipynb":
            nb = json.loads(base64.b64decode(f["data"]))
            nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None,
                                "outputs": [], "source": "import assessments.questions.grading as g\n"
                                "g._score = lambda *a: float(a[4])"})
            f = item(f["path"], json.dumps(nb).encode())
        out.append(f)
    return out


def grading_flags(hub, exam: str) -> dict[str, set[str]]:
    with sqlite3.connect(hub.settings.database_url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute("SELECT username, kind FROM grading_flags WHERE exam = ?", (exam,))
        found: dict[str, set[str]] = {}
        for user, kind in rows:
            found.setdefault(user, set()).add(kind)
    return found


def grade_on_the_desk(hub, exam: str) -> None:
    """'Thu bài và chấm tự động' on the desk's page; wait for the grading worker."""
    page = hub.teacher.get(f"{hub.url}/services/exams/", timeout=60)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    hub.teacher.post(f"{hub.url}/services/exams/", data={"_xsrf": xsrf, "exam": exam, "action": "grade"},
                     timeout=60)
    deadline = time.monotonic() + 900  # two notebooks in a sandbox on a busy machine
    while time.monotonic() < deadline:
        text = hub.teacher.get(f"{hub.url}/services/exams/", timeout=60).text
        # The exam's card on the instructors' app, and its latest job's state.
        card = re.search(rf"data-exam='{re.escape(exam)}'>.*?</section>", text, re.S)
        state = re.search(r"data-job='grade' data-state='(\w+)'", card.group(0) if card else "")
        assert not state or state.group(1) != "failed", text[-3000:]
        if state and state.group(1) == "done":
            return
        time.sleep(3)
    raise AssertionError("grading did not finish:\n" + hub.log()[-3000:])


def wait_for_jobs(hub, exam: str) -> None:
    """The grading worker writes due dates from its queue: wait until it has caught up."""
    deadline = time.monotonic() + 300  # a busy machine
    while time.monotonic() < deadline:
        with sqlite3.connect(hub.settings.database_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute("SELECT status FROM exam_jobs WHERE exam = ?", (exam,)).fetchall()
        if all(s in ("done", "failed") for (s,) in rows):
            assert all(s == "done" for (s,) in rows), rows
            return
        time.sleep(1)
    raise AssertionError(f"due-date jobs of {exam} still queued")


def test_late_work_of_one_group_stays_late_when_another_group_opens(rhub, tmp_path):
    """Attack (accept_zero): learner A's group window has closed; A submits late, which is
    accepted to be scored 0. Then group B gets its own, later window of the same exam. With
    one due date per exam in the gradebook (the latest window's close), A's late work would be
    graded as on time. A's submission must score 0; B's, on time, keeps its score."""
    hub, exam = rhub, LATE_ZERO
    a, b = "hocvien01", "hocvien02"
    assert kns(hub, "exam", "open", exam, "--group", "nhom-a", "--minutes", "30",
               "--late", "accept_zero").returncode == 0
    files_a = answered(hub, a, exam, tmp_path)
    assert api(hub, b, "GET", exam).status_code == 403  # not B's turn yet
    assert kns(hub, "exam", "close", exam).returncode == 0
    wait_for_jobs(hub, exam)
    r = api(hub, a, "POST", f"{exam}/submissions", json={"files": files_a})
    assert r.status_code == 200 and r.json()["late"] is True, r.text[:300]
    # Group B's window opens after A's late submission, and closes later.
    assert kns(hub, "exam", "open", exam, "--group", "nhom-b", "--minutes", "60",
               "--late", "accept_zero").returncode == 0
    # B also added a cell that patches the scorer: strict grading removes it, and the worker
    # records the flag that HR's person page and export show.
    files_b = with_added_cell(answered(hub, b, exam, tmp_path), exam)
    r = api(hub, b, "POST", f"{exam}/submissions", json={"files": files_b})
    assert r.status_code == 200 and r.json()["late"] is False, r.text[:300]
    wait_for_jobs(hub, exam)
    grade_on_the_desk(hub, exam)
    flags = grading_flags(hub, exam)
    assert "added_cells" in flags.get(b, set()) and a not in flags, flags

    gradebook = Path(hub.settings["exams"]["root"]) / COURSE / "gradebook.db"
    with Gradebook(f"sqlite:///{gradebook}", course_id=COURSE) as gb:
        late, on_time = gb.find_submission(exam, a), gb.find_submission(exam, b)
        assert on_time.score > 0 and not on_time.late_submission_penalty, on_time.to_dict()
        assert late.total_seconds_late > 0, "A's late submission is graded as on time"
        assert late.score > 0 and late.late_submission_penalty == pytest.approx(late.score), \
            late.to_dict()


def test_late_refusal_holds_when_another_group_opens(rhub, tmp_path):
    """Attack (refuse): A's window has closed; B's window of the same exam opens later. A tries
    again while B's window is open: refused, with the Vietnamese reason, nothing stored."""
    hub, exam = rhub, LATE_REFUSE
    a, b = "hocvien01", "hocvien02"
    assert kns(hub, "exam", "open", exam, "--group", "nhom-a", "--minutes", "30",
               "--late", "refuse").returncode == 0
    files_a = answered(hub, a, exam, tmp_path)
    assert kns(hub, "exam", "close", exam).returncode == 0
    assert kns(hub, "exam", "open", exam, "--group", "nhom-b", "--minutes", "60",
               "--late", "refuse").returncode == 0
    r = api(hub, a, "POST", f"{exam}/submissions", json={"files": files_a})
    assert r.status_code == 403 and "không được nhận" in r.json()["error"], r.text[:300]
    assert stored(hub, a, exam) == []
    r = api(hub, b, "POST", f"{exam}/submissions", json={"files": answered(hub, b, exam, tmp_path)})
    assert r.status_code == 200 and r.json()["late"] is False, r.text[:300]


# --- in a real browser (last: Playwright's loop stays open until the module ends) --------

class _AttackerSite:
    """Another origin (another port of this host: same site, so SameSite=Lax lets the cookies
    go; only the XSRF token can stop the post) serving a page that posts to the desk."""

    def __init__(self, html: str):
        import http.server
        import threading

        body = html.encode()

        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_forged_form_in_a_real_browser_submits_nothing(rhub, browser):
    """Attack (CSRF, as it happens): the learner, logged in and having opened the desk's page,
    visits a page on another origin that auto-submits a text/plain form whose body is an empty
    exam in JSON. Chromium sends the desk's cookies with it. Nothing may be stored."""
    hub, user, exam = rhub, "hocvien06", OPEN
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", hub.passwords[user])
        page.click("#login_submit")
        page.wait_for_load_state()
        page.goto(f"{hub.url}/services/exams/")
        assert "Bài thi của tôi" in page.content(), page.content()[:500]
        desk = {c["name"]: c for c in context.cookies(f"{hub.url}/services/exams/")}
        assert desk["service-exams"]["sameSite"] == "Lax", desk
        before = len(stored(hub, user, exam))
        site = _AttackerSite(
            f"<form id='f' method='post' enctype='text/plain' "
            f"action='{desk_url(hub, f'{exam}/submissions')}'>"
            "<input type='hidden' name='{\"files\": [], \"x\": \"' value='\"}'></form>"
            "<script>document.getElementById('f').submit()</script>")
        try:
            page.goto(site.url)
            page.wait_for_url("**/submissions", timeout=60_000)  # the form's navigation
            page.wait_for_load_state()
            answer = page.content()
        finally:
            site.close()
        assert len(stored(hub, user, exam)) == before, f"the forged form stored a submission: {answer[:300]}"
        assert "mã bảo vệ" in answer, answer[:500]
    finally:
        context.close()
