"""The `exams` hub service (the exam desk).

Learners' servers call it with their server token (scope `access:services!service=exams`):
list the exams open to them, fetch one (only while its window is open to one of their groups),
submit (time from our clock; after the window, the exam's late policy), fetch feedback. The
hub tells us who is calling; nobody names a student in a request.

Instructors (scope `custom:exams:manage`, granted to group `giangvien`) run the whole exam
lifecycle on the instructors' app at /services/exams/ (kynangso.exams.instructor), or open and
close windows with `kns exam open/close`.

A heartbeat tells the hub that learners with an exam in progress are active, so the idle
culler never stops their servers mid-exam.

Any number of copies may run on one PostgreSQL database and one exchange folder (docs/
operations.md, "Several copies and grading workers"): time is the database's, records are
upserts, the caller's groups come with the hub's token check, one copy at a time does the
heartbeat.

Run by the hub as a managed service, on an isolated hub as its own account (neither root nor
the grader): it shares only the exchange with the grader account (kynangso.exams.course) and
cannot enter the course folder. What needs the grader (due dates, collect and grade) it queues
for the grading worker (kynangso.exams.worker): `python -m kynangso.exams.service`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from sqlalchemy import select
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.ioloop import IOLoop

from kynangso import db
from kynangso.errors import KnsError
from kynangso.exams import (
    MANAGE_SCOPE,
    SERVICE_NAME,
    course,
    instructor,
    jobs,
    overview,
    variants,
    windows,
)
from kynangso.exams.desk import TIMESTAMP_FORMAT, Exchange, FileItem, decode_files
from kynangso.hub.landing import runs_code
from kynangso.hub.service_base import (
    TokenServiceHandler,
    check_xsrf,
    error_page,
    xsrf_cookie_kwargs,
)
from kynangso.hub.system_accounts import hub_isolated
from kynangso.i18n import t
from kynangso.models import ExamSubmission, Staff
from kynangso.settings import load_settings

log = logging.getLogger("kns.exams")
# A refused fetch's answer reaches the learner's page before their server stops.
RESTART_AFTER_S = 2.0


class Desk:
    """What the handlers share: settings, the exchange, the hub API for groups."""

    def __init__(self, settings, isolated: bool, hub_api: str, token: str):
        self.settings, self.isolated = settings, isolated
        self.db_url = settings.database_url
        self.places = course.places(settings, isolated)
        self.exchange = Exchange(self.places.exchange, self.places.course_id,
                                 anchor=self.places.share.parent)
        quotas = settings["exams"]
        self.max_bytes = quotas["max_submission_mb"] * 2**20
        self.max_files = quotas["max_files_per_submission"]
        self.max_count = quotas["max_submissions_per_window"]
        self.max_total = quotas["max_total_mb_per_window"] * 2**20
        self.hub_api, self.token = hub_api.rstrip("/"), token
        self._titles: dict[str, str | None] = {}
        # Tornado's client keeps 10 requests in flight by default: room for the heartbeat's.
        AsyncHTTPClient.configure(None, max_clients=HEARTBEAT_CONCURRENCY + 10)
        self._makers: ProcessPoolExecutor | None = None

    def title(self, exam: str) -> str | None:
        """The exam's name as the instructor wrote it: the released notebook's first heading
        (read once: a released exam does not change; a new release means a new id)."""
        if exam not in self._titles:
            try:
                self._titles[exam] = exam_title(self.exchange.released_files(exam))
            except KnsError:
                return None
        return self._titles[exam]

    async def hub(self, method: str, path: str, body: dict | None = None):
        request = HTTPRequest(f"{self.hub_api}/{path.lstrip('/')}", method=method,
                              headers={"Authorization": f"token {self.token}"},
                              body=None if body is None else json.dumps(body))
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        return response.code, (json.loads(response.body) if response.body else None)

    @staticmethod
    def groups_of(user: dict) -> set[str]:
        """The caller's hub groups, from the model the hub's token check returned for this
        request (every token may read its owner's groups: JupyterHub's identify scopes), so
        no further hub call per learner, and as many desk copies as wanted cost the hub
        nothing more. The hub is the source: the directory's role groups (kynangso.accounts.
        sync), `nangcao` from the settings and the admin page, and any group a window names.
        A model without groups is treated as no group: no window, and a server in exam mode."""
        groups = user.get("groups")
        if groups is None:
            log.warning("the hub's model of %s has no groups", user.get("name"))
            return set()
        return set(groups)

    def info(self, window: windows.Window) -> dict:
        return {"exam": window.assignment_id, "course_id": window.course_id,
                "opens_at": window.opens_at.isoformat(), "closes_at": window.closes_at.isoformat(),
                "late_policy": window.late_policy,
                "policy_text": t(f"exams.policy.{window.late_policy}",
                                 closes=windows.local(window.closes_at))}

    async def handed(self, exam: str, username: str, files: list[FileItem]) -> list[FileItem]:
        """The caller's variant (kynangso.exams.variants.handed), drawn from the course's
        variant secret; nothing without a secret or a task."""
        secret = variants.read_secret(course.variant_secret_path(self.places))
        if secret is None:
            return []
        notebooks = [f.data for f in files if f.path.endswith(".ipynb") and "/" not in f.path]
        args = (exam, username, notebooks, secret)
        if not variants.makes_files(notebooks):  # the inputs only: milliseconds
            made = await asyncio.to_thread(variants.handed, *args)
        else:
            # Signing a task's documents takes seconds of CPU (pyHanko): in processes of their
            # own, so that the desk keeps answering and a class fetching at once uses every core.
            if self._makers is None:
                self._makers = ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                                   mp_context=get_context("spawn"))
            made = await asyncio.get_running_loop().run_in_executor(self._makers, variants.handed, *args)
        return [FileItem(path, data) for path, data in made.items()]

    async def default_server(self, username: str) -> dict | None:
        """The user's default server as the hub describes it, or None (none, or no answer)."""
        code, model = await self.hub("GET", f"users/{username}")
        return ((model or {}).get("servers") or {}).get("") if code == 200 else None

    async def in_exam_mode(self, username: str, window: windows.Window) -> bool:
        """Whether the user's server started after their attempt of `window` began: the
        spawner then made it a learner-app server (exam mode), after killing every process
        of the account."""
        server = await self.default_server(username)
        began = windows.fetched_at(self.db_url, window, username)
        if not server or not server.get("started") or began is None:
            return False
        return dt.datetime.fromisoformat(server["started"]) > began

    async def restart_server(self, username: str, wait_s: float = 120) -> None:
        """Stop the user's server and start it again (the spawner makes it an exam-mode one)."""
        code, _ = await self.hub("DELETE", f"users/{username}/server")
        deadline = time.monotonic() + wait_s
        while code == 202 and time.monotonic() < deadline:  # stopping in the background
            await asyncio.sleep(1)
            if not await self.default_server(username):
                code = 204
        started, _ = await self.hub("POST", f"users/{username}/server", {})
        log.info("exam mode: %s's server restarted in exam mode (hub answered %s, then %s)",
                 username, code, started)

    def window_for(self, user: dict, exam: str) -> windows.Window | None:
        """The latest window of `exam` (open or closed) for any of the caller's hub groups."""
        return windows.window_for(self.db_url, exam, self.groups_of(user))

    def now(self) -> dt.datetime:
        """The trusted clock (the platform database's: kynangso.clock)."""
        return windows.now_utc(self.db_url)


def exam_title(files) -> str | None:
    """The first Markdown heading of the exam's first top-level notebook, or None."""
    for item in sorted(files, key=lambda f: f.path):
        if "/" in item.path or not item.path.endswith(".ipynb"):
            continue
        try:
            cells = json.loads(item.data).get("cells", [])
        except (ValueError, AttributeError):
            return None
        for cell in cells:
            if cell.get("cell_type") != "markdown":
                continue
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            for line in source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()[:200] or None
        return None
    return None


class LearnerHandler(TokenServiceHandler):
    service_name = SERVICE_NAME
    internal_error_key = "exams.internal_error"
    desk: Desk

    def fail(self, status: int, key: str, **params) -> None:
        raise web.HTTPError(status, reason=t(key, **params))


class ExamListHandler(LearnerHandler):
    """Exams open to the caller now, and closed ones they fetched (so that a late submission,
    accepted or refused by policy, can still be attempted from the Assignment List)."""

    @web.authenticated
    async def get(self):
        me = self.current_user["name"]
        now = self.desk.now()
        exams = []
        for exam in self.desk.exchange.released():
            window = self.desk.window_for(self.current_user, exam)
            if window is None:
                continue
            is_open = window.is_open(now)
            # The learner's attempt, from the desk's record: the learner app's exam mode
            # (kynangso.learner.exam) holds while it is in progress and the window open.
            attempt = windows.attempt_state(self.desk.db_url, window, me)
            if is_open or attempt != "none":
                exams.append({**self.desk.info(window), "assignment_id": exam, "open": is_open,
                              "title": self.desk.title(exam),
                              "attempt": attempt, "notebooks": self.desk.exchange.notebooks(exam)})
        self.send({"course_id": self.desk.places.course_id, "exams": exams})


class FetchHandler(LearnerHandler):
    @web.authenticated
    async def get(self, exam: str):
        me = self.current_user["name"]
        now = self.desk.now()
        window = self.desk.window_for(self.current_user, exam)
        if window is None or not window.is_open(now):
            log.warning("fetch refused: %s %s (window closed or not for them)", me, exam)
            self.fail(403, "exams.fetch_closed", exam=exam)
        try:
            files = self.desk.exchange.released_files(exam)
        except KnsError as exc:
            self.fail(404, exc.key, **exc.params)
        windows.record_fetch(self.desk.db_url, window, me, now)  # the attempt begins
        if runs_code(self.desk.groups_of(self.current_user)) and not await self.desk.in_exam_mode(me, window):
            # Their server may run code: nothing of the exam goes to it. The server started
            # next is a learner-app server (kynangso.hub.spawner), since the attempt is recorded.
            log.warning("fetch: %s %s refused until their server restarts in exam mode", me, exam)
            IOLoop.current().call_later(RESTART_AFTER_S, self.desk.restart_server, me)
            self.fail(409, "exams.exam_mode_restart", exam=self.desk.title(exam) or exam)
        handed = await self.desk.handed(exam, me, files)
        mine = {f.path for f in handed} | {f"{exam}.variant.json"}
        files = [f for f in files if f.path not in mine] + handed
        log.info("fetch: %s %s", me, exam)
        self.send({"files": [f.to_json() for f in files], "info": self.desk.info(window)})


class SubmitHandler(LearnerHandler):
    @web.authenticated
    async def post(self, exam: str):
        me = self.current_user["name"]
        now = self.desk.now()  # the only clock that counts
        window = self.desk.window_for(self.current_user, exam)
        if window is None:
            self.fail(403, "exams.submit_no_window", exam=exam)
        late = now >= window.closes_at
        if late and window.late_policy == "refuse":
            log.warning("late submission refused: %s %s at %s", me, exam, now.isoformat())
            self.fail(403, "exams.submit_late_refused", exam=exam,
                      closes=windows.local(window.closes_at))
        if len(self.request.body) > self.desk.max_bytes * 4 // 3 + 65536:
            self.fail(413, "exams.too_big", mb=self.desk.max_bytes // 2**20)
        try:
            body = json.loads(self.request.body or b"{}")
            files = decode_files(body.get("files") if isinstance(body, dict) else None,
                                 self.desk.max_bytes)
        except (ValueError, AttributeError):
            self.fail(400, "exams.bad_body")
        except KnsError as exc:
            self.fail(400, exc.key, **exc.params)
        if len(files) > self.desk.max_files:
            log.warning("submission refused: %s %s has %d files (quota %d)", me, exam, len(files),
                        self.desk.max_files)
            self.fail(413, "exams.quota_files", count=len(files), limit=self.desk.max_files)
        size = sum(len(f.data) for f in files)
        over = windows.reserve_submission(self.desk.db_url, window, me, now, size,
                                          self.desk.max_count, self.desk.max_total)
        if over:
            log.warning("submission refused: %s %s over the %s quota of window %s (%d bytes)",
                        me, exam, over, window.id, size)
            if over == "count":
                self.fail(429, "exams.quota_count", exam=exam, limit=self.desk.max_count)
            self.fail(413, "exams.quota_bytes", exam=exam, mb=self.desk.max_total // 2**20)
        stamp = now.strftime(TIMESTAMP_FORMAT)
        try:
            folder, secret = self.desk.exchange.store_submission(me, exam, files, stamp)
        except BaseException:
            windows.release_submission(self.desk.db_url, window, me, size)
            raise
        notebooks = sorted(f.path[:-6] for f in files if f.path.endswith(".ipynb") and "/" not in f.path)
        # Its record and the attempt's time in one transaction: both or neither.
        windows.record_submission(self.desk.db_url, window, me, now, late, counted=True, also=(
            ExamSubmission(exam=exam, username=me, folder=folder, timestamp=stamp, secret=secret,
                           notebooks=json.dumps(notebooks)),))
        log.info("submission: %s %s at %s%s -> %s", me, exam, stamp, " (late)" if late else "",
                 folder)
        self.send({"timestamp": stamp, "late": late,
                   "message": t("exams.submitted_late" if late else "exams.submitted",
                                time=windows.local(now))})


class FeedbackHandler(LearnerHandler):
    @web.authenticated
    def get(self, exam: str):
        me = self.current_user["name"]
        with db.session_scope(self.desk.db_url) as session:
            mine = [{"timestamp": sub.timestamp, "secret": sub.secret,
                     "notebooks": json.loads(sub.notebooks)}
                    for sub in session.scalars(select(ExamSubmission).where(
                        ExamSubmission.username == me, ExamSubmission.exam == exam)
                        .order_by(ExamSubmission.id))]
        self.send({"feedback": self.desk.exchange.feedback(mine)})


# --- instructors' page ---------------------------------------------------------------------

class ManageHandler(HubOAuthenticated, web.RequestHandler):
    """The desk's page. Instructors (MANAGE_SCOPE): the instructors' app (kynangso.exams.
    instructor: the whole exam lifecycle). Everyone else: the exams open to them, with the
    closing time and the late policy, before they fetch anything."""

    hub_scopes = {f"access:services!service={SERVICE_NAME}"}

    def manager(self) -> bool:
        return MANAGE_SCOPE in self.current_user.get("scopes", [])

    def initialize(self, hub_auth: HubOAuth, desk: Desk):
        self.hub_auth, self.desk = hub_auth, desk

    def check_xsrf_cookie(self):
        check_xsrf(self)

    def write_error(self, status_code, **kwargs):
        key = "exams.page.forbidden" if status_code == 403 else "exams.internal_error"
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "reason", None) or t(key)  # e.g. the XSRF refusal's reason
        title = t("hub.error_403_title" if status_code == 403 else "hub.error_500_title")
        self._send(error_page(title, message, url_path_join(self.hub_auth.hub_prefix, "home")))

    def _send(self, page: str) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", instructor.policy(page))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(page)

    @web.authenticated
    async def get(self):
        if self.manager():
            self.render_page()
        else:
            await self.render_learner_page()

    @web.authenticated
    def post(self):
        if not self.manager():
            raise web.HTTPError(403)
        me = self.current_user["name"]
        action, exam = self.get_body_argument("action"), self.get_body_argument("exam")
        message, ok = "", True
        try:
            title = self.title_of(exam)
            if action == "release":
                if exam not in (overview.read(self.desk.places) or {}).get("exams", {}):
                    raise KnsError("exams.app.unknown_exam", exam=exam)
                if exam in self.desk.exchange.released():  # learners may hold it: not rebuilt here
                    raise KnsError("exams.app.already_released", exam=title)
                message = start_job(self.desk, exam, "release", me, title)
            elif exam not in self.desk.exchange.released():
                raise KnsError("exams.not_released", exam=exam)
            elif action == "open":
                group = self.get_body_argument("group").strip()
                window = open_exam(self.desk, exam, group, int(self.get_body_argument("minutes")),
                                   self.get_body_argument("late_policy"), me)
                message = t("exams.app.opened", exam=title, group=instructor.group_label(group),
                            closes=instructor.when(window.closes_at))
            elif action == "close":
                close_exam(self.desk, exam, me)
                message = t("exams.app.closed", exam=title)
            elif action in ("grade", "feedback"):
                message = start_job(self.desk, exam, action, me, title)
            elif action == "mark":
                message = queue_mark(self.desk, exam, me, title, {
                    name: self.get_body_argument(name, "")
                    for name in ("student", "notebook", "grade_id", "score")})
            else:
                raise web.HTTPError(400)
        except KnsError as exc:
            message, ok = exc.user_message, False
        except ValueError:
            message, ok = t("exams.bad_minutes", minutes=self.get_body_argument("minutes")), False
        self.render_page(message, ok)

    def title_of(self, exam: str) -> str:
        summary = overview.read(self.desk.places) or {}
        return (summary.get("exams", {}).get(exam) or {}).get("title") or exam

    async def render_learner_page(self) -> None:
        esc = html.escape
        now = self.desk.now()
        self.xsrf_token  # noqa: B018 - sets the XSRF cookie, as every page of the desk does
        items = []
        for exam in self.desk.exchange.released():
            window = self.desk.window_for(self.current_user, exam)
            if window and window.is_open(now):
                info = self.desk.info(window)
                title = self.desk.title(exam) or t("exams.page.learner_untitled")  # a name, not the id
                items.append(f"<li><strong>{esc(title)}</strong>: {esc(info['policy_text'])}</li>")
        body = (f"<ul>{''.join(items)}</ul><p>{esc(t('exams.page.learner_howto'))}</p>" if items
                else f"<p>{esc(t('exams.page.learner_none'))}</p>")
        self._send(instructor.shell(t("exams.page.learner_title"), body,
                                    hub_prefix=self.hub_auth.hub_prefix))

    def render_page(self, message: str = "", ok: bool = True) -> None:
        view = instructor.gather(self.desk)
        self._send(instructor.render(
            view, xsrf=self.xsrf_form_html(), hub_prefix=self.hub_auth.hub_prefix,
            formgrader=f"../{self.desk.places.course_id}/formgrader",
            user=self.current_user["name"],
            default_minutes=self.desk.settings["exams"]["default_minutes"], notice=message, ok=ok))


def open_exam(desk: Desk, exam: str, group: str, minutes: int, policy: str, by: str) -> windows.Window:
    if not desk.isolated:
        raise KnsError("exams.not_isolated")
    window = windows.open_window(desk.db_url, desk.places.course_id, exam, group, minutes, policy, by)
    jobs.enqueue(desk.db_url, exam, "duedate", by)  # the gradebook is the grader's: the worker
    log.info("window opened by %s: %s for %s until %s (%s)", by, exam, group,
             window.closes_at.isoformat(), policy)
    return window


def close_exam(desk: Desk, exam: str, by: str) -> None:
    windows.close_window(desk.db_url, exam, by)
    jobs.enqueue(desk.db_url, exam, "duedate", by)
    log.info("window closed by %s: %s", by, exam)


def ensure_idle(desk: Desk, exam: str, title: str) -> None:
    """No release, grading or feedback queued or running for `exam` (they touch the same folders
    and the gradebook)."""
    for other in jobs.SHOWN:
        if jobs.active(desk.db_url, exam, other):
            raise KnsError("exams.app.job_busy", exam=title, kind=t(f"exams.app.job_kind.{other}"))


def start_job(desk: Desk, exam: str, kind: str, by: str, title: str) -> str:
    """Queue a job of the instructors' page (release, grade, feedback) for the grading worker,
    unless one of them is queued or running for this exam."""
    ensure_idle(desk, exam, title)
    jobs.enqueue(desk.db_url, exam, kind, by,
                 t("exams.grading.running", exam=exam) if kind == "grade" else "")
    log.info("%s of %s queued by %s", kind, exam, by)
    return t("exams.app.job_queued", exam=title, kind=t(f"exams.app.job_kind.{kind}"))


def queue_mark(desk: Desk, exam: str, by: str, title: str, form: dict[str, str]) -> str:
    """Queue an instructor's mark of a written answer waiting in the queue (the course summary's
    `pending`) for the grading worker, which writes it into the gradebook as formgrader does."""
    info = ((overview.read(desk.places) or {}).get("exams") or {}).get(exam) or {}
    key = (form["student"], form["notebook"], form["grade_id"])
    found = next(((cell, points) for row, cell, points in instructor.waiting_answers(info)
                  if (row.get("student"), row.get("notebook"), row.get("grade_id")) == key), None)
    if found is None:
        raise KnsError("exams.app.mark_not_pending")
    cell, points = found
    raw = form["score"].strip()
    try:
        score = float(raw.replace(",", "."))
    except ValueError:
        score = -1.0
    if not (points is not None and 0 <= score <= float(points)):  # NaN fails this too
        raise KnsError("exams.app.mark_bad_score", score=raw[:20],
                       points=instructor.points_text(points) if points is not None else "?")
    ensure_idle(desk, exam, title)
    jobs.enqueue(desk.db_url, exam, "mark", by, json.dumps(
        {"student": key[0], "notebook": key[1], "grade_id": key[2], "score": score}))
    log.info("mark of %s/%s/%s in %s queued by %s: %s", *key, exam, by, score)
    with db.session_scope(desk.db_url) as session:
        learner = session.scalar(select(Staff.full_name).where(Staff.username == key[0]))
    return t("exams.app.mark_queued", score=instructor.points_text(score),
             item=cell.get("title") or key[2], learner=learner or key[0])


HEARTBEAT_CONCURRENCY = 20  # hub calls in flight at once: the hub is one process


async def beat_once(desk: Desk, limit: int = HEARTBEAT_CONCURRENCY) -> int:
    """Tell the hub, `limit` calls at a time, that each learner with an exam in progress is
    active now; the number of learners. One round for 2,000 learners takes 2,000 / `limit`
    round trips instead of 2,000 in a row, so it ends well within the heartbeat's period."""
    now = desk.now()
    stamp = now.isoformat().replace("+00:00", "Z")
    body = {"last_activity": stamp, "servers": {"": {"last_activity": stamp}}}
    gate = asyncio.Semaphore(limit)

    async def one(name: str) -> None:
        async with gate:
            try:
                code, _ = await desk.hub("POST", f"users/{name}/activity", body)
            except Exception as exc:  # noqa: BLE001 - one learner's call must not end the round
                log.warning("heartbeat for %s failed: %s", name, exc)
                return
        if code >= 400:
            log.info("heartbeat for %s: hub answered %s (no running server?)", name, code)

    names = sorted(windows.in_progress(desk.db_url, now))
    await asyncio.gather(*(one(name) for name in names))
    return len(names)


async def heartbeat(desk: Desk, every: int) -> None:
    """Keep the servers of learners with an exam in progress 'active' for the idle culler.
    With several desk copies, the one holding the heartbeat's lease (kynangso.exams.jobs.hold)
    does it; another takes over within two periods if that copy dies."""
    me = jobs.worker_name()
    while True:
        await asyncio.sleep(every)
        try:
            if await asyncio.to_thread(jobs.hold, desk.db_url, "exam-heartbeat", me, every * 2):
                await beat_once(desk)
        except Exception:  # noqa: BLE001 - the loop must survive a hub restart
            log.exception("exam heartbeat failed")


class CallbackHandler(HubOAuthCallbackHandler):
    """The OAuth callback on the HubOAuth instance that started the login (PKCE verifier)."""

    def initialize(self, hub_auth: HubOAuth, desk: Desk | None = None):
        self.hub_auth = hub_auth


def make_app(desk: Desk, prefix: str, hub_auth: HubOAuth | None = None) -> web.Application:
    # One HubOAuth for both: learners' servers send tokens, instructors' browsers a cookie.
    hub_auth = hub_auth or HubOAuth(cache_max_age=60)
    deps = {"hub_auth": hub_auth, "desk": desk}
    exam = r"([a-z0-9][a-z0-9_.-]{0,63})"
    return web.Application([
        (url_path_join(prefix, "api/exams"), ExamListHandler, deps),
        (url_path_join(prefix, f"api/exams/{exam}"), FetchHandler, deps),
        (url_path_join(prefix, f"api/exams/{exam}/submissions"), SubmitHandler, deps),
        (url_path_join(prefix, f"api/exams/{exam}/feedback"), FeedbackHandler, deps),
        (url_path_join(prefix, "oauth_callback"), CallbackHandler, deps),
        (prefix, ManageHandler, deps),
    ], cookie_secret=os.urandom(32), xsrf_cookies=True, xsrf_cookie_kwargs=xsrf_cookie_kwargs(),
        hub_auth=hub_auth, compress_response=True)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s")
    settings = load_settings()
    desk = Desk(settings, hub_isolated(settings),
                os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])

    async def run():
        # Listen inside the running loop: tornado binds the server to the current loop.
        make_app(desk, prefix).listen(url.port, url.hostname)
        log.info("exam desk on %s, exchange %s", url.geturl(), desk.places.exchange)
        task = asyncio.create_task(heartbeat(desk, settings["exams"]["heartbeat_seconds"]))
        try:
            await asyncio.Event().wait()
        finally:
            task.cancel()

    try:
        asyncio.run(run())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log.info("exam desk stopped")


if __name__ == "__main__":
    main()
