"""Exam mode on a learner-app server: while the learner has an exam in progress (fetched, not
yet submitted, window open: the desk's own record, windows.attempt_state), the server serves
only the exam's app view and what it needs.

- `ExamState` asks the desk's exam list (with the server's token) when the learner's pages
  load, and in the background when its answer is over `poll_s` seconds old at a request.
- `ExamGate` stands in front of the server's routing (`web_app.find_handler`): while an exam
  is in progress, a request outside the allow-list below gets `RefusedHandler` (403 with a
  Vietnamese message): JupyterLab, the contents and kernels APIs (except a kernel's own
  socket, which Voilà's page uses and which takes no code: kynangso.learner), terminals, files,
  other lessons. The learner's home sends them to the exam instead.
- `ExamHandler` leads to the exam's app: the released notebook rendered by Voilà (whose
  question widgets write the sidecar), with the exam bar (closing time, late policy, "Nộp bài")
  put at the top of the page by `bar_transform` (the hub forbids framing the page). "Nộp bài"
  posts to nbgrader's own submit (the Assignment List's server extension, kynangso.exams.labext,
  through the desk), then `DoneHandler` asks the desk again.
"""

from __future__ import annotations

import html
import logging
import os
import re
import time
from urllib.parse import quote, unquote

from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from tornado.ioloop import IOLoop

from kynangso import voila_template
from kynangso.i18n import t
from kynangso.learner import exam_mode_enabled, home

log = logging.getLogger(__name__)

KERNEL_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Relative to the server's base URL. {exam} is the exam in progress (re-escaped).
ALLOWED = (
    r"kns/exam(/(done))?",
    r"voila/render/{exam}/[^/]+\.ipynb",
    r"voila/(static|kns-static|templates|api/themes|labextensions|api/shutdown)/.*",
    rf"api/kernels/{KERNEL_ID}(/channels)?",
    rf"voila/execution/{KERNEL_ID}",
    r"api/kernelspecs(/.*)?",
    r"static/.*",
    r"api|api/status|api/me",
    r"assignments/submit",
    r"favicon\.ico",
    r"oauth_callback",  # the server's own login (a server started during the exam)
)


class ExamState:
    """Which exam, if any, the learner has in progress, from the desk's list."""

    def __init__(self, poll_s: float = 15.0):
        self.poll_s = poll_s
        self.current: dict | None = None
        self.fetched: set[str] = set()  # exams this server fetched (ExamHandler)
        self.checked_at = 0.0

    @staticmethod
    def in_progress(desk_list: dict | None) -> dict | None:
        for exam in (desk_list or {}).get("exams", []):
            if exam.get("attempt") == "in_progress" and exam.get("open") and exam.get("notebooks"):
                return exam
        return None

    async def refresh(self) -> dict | None:
        status, body = await home.fetch("exams")
        if status == 200:  # no answer: keep what we knew (a desk restart does not end an exam)
            self.current = self.in_progress(body)
        self.checked_at = time.monotonic()
        return self.current


def allowed(rel: str, exam: str) -> bool:
    patterns = [p.replace("{exam}", re.escape(quote(exam))) for p in ALLOWED]
    return any(re.fullmatch(p, rel) for p in patterns)


class ExamGate:
    """Stands in for `web_app.find_handler`: refuses what exam mode does not serve."""

    def __init__(self, web_app, find_handler, state: ExamState):
        self.web_app, self.find_handler, self.state = web_app, find_handler, state
        self.base = web_app.settings["base_url"]

    def __call__(self, request, **kwargs):
        # Routing is synchronous: a stale answer is refreshed in the background, so a request
        # is decided on an answer at most `poll_s` (plus one desk call) old.
        if time.monotonic() - self.state.checked_at >= self.state.poll_s:
            self.state.checked_at = time.monotonic()
            IOLoop.current().spawn_callback(self.state.refresh)
        exam = self.state.current
        rel = request.path[len(self.base):].strip("/") if request.path.startswith(self.base) else None
        if rel is not None and ".." in unquote(rel).split("/"):
            # Tornado decodes %2e%2e%2f in a route's argument, and Voilà renders what the
            # contents manager finds there: a path out of the exam's folder is never served.
            log.warning("learner app: refused %s %s (a '..' in the path)", request.method, rel)
            return self.web_app.get_handler_delegate(request, RefusedHandler, {"state": self.state})
        if rel is not None and rel.startswith("api/contents") and request.method not in ("GET", "HEAD"):
            # No notebook of the learner's own making: Voilà would run its code on render.
            log.warning("learner app: refused %s %s", request.method, rel)
            return self.web_app.get_handler_delegate(request, RefusedHandler,
                                                     {"state": self.state, "key": "learner.app.read_only"})
        if rel is not None and rel.startswith("voila/") and exam_mode_enabled():
            # A learner who runs code, in exam mode (kynangso.hub.landing): their notebooks,
            # lessons and the exam's folder as it was before this server fetched it may hold
            # code of theirs, which Voilà would run. Only the exam fetched here opens.
            target = self.exam_mode_page(rel, exam)
            if target is not None:
                log.warning("exam mode: refused %s %s", request.method, rel)
                return self.web_app.get_handler_delegate(request, target, {"state": self.state,
                                                                           "key": "learner.app.exam_mode_only"})
        if exam is not None and rel is not None:
            if not allowed(rel, exam["assignment_id"]):
                log.warning("exam mode: refused %s %s during %s", request.method, rel, exam["assignment_id"])
                target = ToExamHandler if rel in ("", "kns/home") else RefusedHandler
                # A learner in exam mode gets JupyterLab back when the window closes, not at
                # "Nộp bài": the page says so.
                key = "learner.app.exam_mode_only" if exam_mode_enabled() else "learner.exam.refused"
                return self.web_app.get_handler_delegate(request, target, {"state": self.state, "key": key})
        return self.find_handler(request, **kwargs)


    def exam_mode_page(self, rel: str, exam: dict | None):
        """The handler for a Voilà page on an exam-mode server, or None to serve it."""
        if not rel.startswith("voila/render/"):
            return None  # Voilà's static files and its kernels' sockets
        fetched = [f"voila/render/{quote(e)}/" for e in self.state.fetched]
        if any(rel.startswith(prefix) for prefix in fetched):
            return None
        if exam is not None and rel.startswith(f"voila/render/{quote(exam['assignment_id'])}/"):
            return ToExamHandler  # fetched there first
        return RefusedHandler


def exam_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/kns/exam"


def app_url(base_url: str, exam: dict) -> str:
    notebook = exam["notebooks"][0]
    return f"{base_url.rstrip('/')}/voila/render/{quote(exam['assignment_id'])}/{quote(notebook)}.ipynb"


def message_page(title: str, message: str, link: str, link_text: str, message_id: str = "kns-exam-message") -> str:
    return (f"<!doctype html><html lang='vi'><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<body style='font-family:system-ui,sans-serif;padding:24px'><h1>{html.escape(title)}</h1>"
            f"<p id='{message_id}'>{html.escape(message)}</p><p><a href='{html.escape(link)}'>"
            f"{html.escape(link_text)}</a></p></body></html>")


class _StateHandler(JupyterHandler):
    def initialize(self, state: ExamState, key: str = "learner.exam.refused"):
        self.state, self.key = state, key


class RefusedHandler(_StateHandler):
    """403 for everything exam mode does not serve, in Vietnamese (JSON for the APIs)."""

    def check_xsrf_cookie(self):
        pass  # nothing is done: the refusal itself must not fail on a missing token

    @web.authenticated
    def refuse(self, *args, **kwargs):
        self.set_status(403)
        message = t(self.key)
        if self.request.path.startswith(self.base_url + "api/"):
            self.finish({"message": message})
            return
        self.finish(message_page(t("learner.exam.title"), message, exam_url(self.base_url),
                                 t("learner.exam.back_to_exam" if self.state.current else "learner.app.back_home"),
                                 "kns-exam-refused"))

    get = post = put = delete = patch = head = options = refuse


class ToExamHandler(_StateHandler):
    """The home (and the server's root) lead to the exam while it is in progress."""

    @web.authenticated
    def get(self, *args, **kwargs):
        self.redirect(exam_url(self.base_url))


class ExamHandler(_StateHandler):
    """GET kns/exam: the exam in progress (its Voilà app, with the exam bar), or the home.

    A learner who runs code begins the attempt from JupyterLab, and the desk hands the exam
    out only to the server restarted in exam mode (kynangso.hub.landing): that server fetches
    it here, with nbgrader's own fetch (the Assignment List's), on the first visit."""

    @web.authenticated
    async def get(self):
        exam = await self.state.refresh()
        # In exam mode, once per server whatever the home holds: the folder may be one that
        # the account made before, with a notebook of its own under the exam's name.
        if exam and (not os.path.isfile(self.notebook(exam))
                     or exam_mode_enabled() and exam["assignment_id"] not in self.state.fetched):
            result = self.settings["assignment_list_manager"].fetch_assignment(
                exam["course_id"], exam["assignment_id"])
            if result.get("success"):
                self.state.fetched.add(exam["assignment_id"])
            else:
                log.warning("exam mode: fetching %s failed: %s", exam["assignment_id"], result.get("value"))
                self.set_status(503)
                self.finish(message_page(t("learner.exam.title"), str(result.get("value")),
                                         self.base_url + "kns/exam", t("learner.exam.try_again")))
                return
        self.redirect(app_url(self.base_url, exam) if exam else self.base_url + "kns/home")

    def notebook(self, exam: dict) -> str:
        root = self.settings.get("server_root_dir") or os.path.expanduser("~")
        return os.path.join(os.path.expanduser(root), exam["assignment_id"], f"{exam['notebooks'][0]}.ipynb")


def exam_bar(state: ExamState, base_url: str) -> bytes:
    from kynangso.learner.handlers import render

    exam = state.current
    return render("exam_bar.html", exam=exam, title=home.exam_title(exam),
                  closes=home.exam_rows({"exams": [exam]})[0].closes,
                  submit=base_url + "assignments/submit", done=base_url + "kns/exam/done").encode()


def bar_transform(state: ExamState, base_url: str):
    """A tornado output transform that puts the exam bar at the top of the exam's Voilà page,
    before the loading screen of our `kns` template (kynangso.voila_template). Voilà streams the
    page piece by piece, and Jinja splits the `<body …>` tag where it has expressions; the
    loading screen's opening tag is one piece of our own."""
    marker = voila_template.LOADING_MARKER.encode()

    class ExamBar(web.OutputTransform):
        def __init__(self, request):
            super().__init__(request)
            exam = state.current
            rel = request.path[len(base_url):] if request.path.startswith(base_url) else ""
            self.pending = exam is not None and rel.startswith(
                f"voila/render/{quote(exam['assignment_id'])}/")

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            if not headers.get("Content-Type", "").startswith("text/html"):
                self.pending = False
            if self.pending:
                headers.pop("Content-Length", None)  # the page grows by the bar
            return status_code, headers, self.transform_chunk(chunk, finishing)

        def transform_chunk(self, chunk, finishing):
            if self.pending:
                at = chunk.find(marker)
                if at >= 0:
                    self.pending = False
                    chunk = chunk[:at] + exam_bar(state, base_url) + chunk[at:]
            return chunk

    return ExamBar


class DoneHandler(_StateHandler):
    """GET kns/exam/done: look at the desk again (after "Nộp bài") and go where it says."""

    @web.authenticated
    async def get(self):
        exam = await self.state.refresh()
        self.redirect(exam_url(self.base_url) if exam else self.base_url + "kns/home")
