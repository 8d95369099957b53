"""The `progress` JupyterHub service: judges exercise answers, records and returns progress.

Every request carries a hub token (a learner's kernel uses its server's token,
which the hub scopes to `access:services!service=progress`). The hub tells us
whose token it is; a user writes and reads only their own progress. Reading
someone else's progress needs the `custom:progress:read` scope, which the
configuration grants to instructors and HR only.

- POST api/answers: an exercise's answer; the service rebuilds the learner's task, judges
  the answer with the course's rule code (kynangso.progress.judge) and stores its verdict
  at its own time; quotas per learner (settings `progress.*`).
- POST api/events: lesson openings only, stamped with the service's time. Verdicts, lesson
  completions and client times are refused: the service derives them.
- GET api/me, api/users/<name>: the judged summary.

Run by the hub as a managed service: `python -m kynangso.progress.service`.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from kynangso import db
from kynangso.errors import KnsError
from kynangso.hub.service_base import TokenServiceHandler
from kynangso.i18n import t
from kynangso.progress import READ_OTHERS_SCOPE, SERVICE_NAME, judge, store
from kynangso.settings import load_settings

log = logging.getLogger("kns.progress")
MAX_EVENTS_PER_REQUEST = 500
MAX_ANSWER_REQUEST_BYTES = 32_000
# Judging may build a learner's practice files (signing, PDF checks): off the event loop.
JUDGE_THREADS = 4
QUOTA_KEYS = ("progress.quota_minute", "progress.quota_day")


class BaseHandler(TokenServiceHandler):
    service_name = SERVICE_NAME


class EventsHandler(BaseHandler):
    @web.authenticated
    def post(self):
        username = self.current_user["name"]
        try:
            body = json.loads(self.request.body or b"{}")
            events = body["events"] if isinstance(body, dict) and "events" in body else [body]
            if not isinstance(events, list) or len(events) > MAX_EVENTS_PER_REQUEST:
                raise ValueError(f"events must be a list of at most {MAX_EVENTS_PER_REQUEST}")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("progress: unreadable body from %s: %s", username, exc)
            raise web.HTTPError(400, reason=t("progress.bad_event")) from None
        stored = duplicates = rejected = 0
        for event in events:
            # One bad event is logged and skipped; the others in the batch still count.
            try:
                if store.record_opening(self.db_url, username, event):
                    stored += 1
                else:
                    duplicates += 1
            except KnsError as exc:
                rejected += 1
                log.warning("progress: rejected from %s: %s", username, exc.log_detail)
        if rejected and not stored and not duplicates:
            raise web.HTTPError(400, reason=t("progress.bad_event"))
        self.send({"stored": stored, "duplicates": duplicates, "rejected": rejected}, 201 if stored else 200)


class AnswersHandler(BaseHandler):
    @web.authenticated
    async def post(self):
        username = self.current_user["name"]
        try:
            if len(self.request.body or b"") > MAX_ANSWER_REQUEST_BYTES:
                raise ValueError("answer request too large")
            body = json.loads(self.request.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("an answer request is an object")
        except ValueError as exc:
            log.warning("progress: unreadable answer from %s: %s", username, exc)
            raise web.HTTPError(400, reason=t("progress.bad_answer")) from None
        try:
            verdict = await ioloop.IOLoop.current().run_in_executor(
                self.pool, judge.judge_and_record, self.db_url, username, body,
                self.limits["answers_per_minute"], self.limits["answers_per_day"], self.workdir)
        except KnsError as exc:
            log.warning("progress: answer from %s refused: %s", username, exc.log_detail)
            status = 429 if exc.key in QUOTA_KEYS else 400
            raise web.HTTPError(status, reason=exc.user_message) from None
        self.send(verdict)


class SummaryHandler(BaseHandler):
    @web.authenticated
    def get(self, name: str | None = None):
        me = self.current_user
        name = name or me["name"]
        if name != me["name"] and READ_OTHERS_SCOPE not in set(me.get("scopes", [])):
            log.warning("progress: %s tried to read %s's progress", me["name"], name)
            raise web.HTTPError(403, reason=t("progress.forbidden_other"))
        self.send(store.summary_of(self.db_url, name))


def practice_workdir(settings) -> Path:
    """Where the service keeps its copies of learners' practice files (disposable): in its own
    folder (state/services/progress, 0700 to its account on an isolated hub), never in a
    shared place where a learner could plant a desk or a CA before it."""
    folder = settings.state_dir / "services" / SERVICE_NAME / "practice"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def make_app(db_url: str, prefix: str, hub_auth: HubAuth | None = None, limits: dict | None = None,
             workdir: Path | None = None) -> web.Application:
    hub_auth = hub_auth or HubAuth(cache_max_age=60)
    limits = limits or dict(load_settings()["progress"])
    args = {"hub_auth": hub_auth, "db_url": db_url}
    if workdir is None:  # (tests) a fresh private one (mkdtemp: 0700, a new name), removed at exit
        workdir = Path(tempfile.mkdtemp(prefix="kns-progress-practice-"))
        atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    answer_args = {**args, "limits": limits, "workdir": workdir,
                   "pool": ThreadPoolExecutor(JUDGE_THREADS, thread_name_prefix="kns-judge")}
    return web.Application(
        [
            (url_path_join(prefix, "api/answers"), AnswersHandler, answer_args),
            (url_path_join(prefix, "api/events"), EventsHandler, args),
            (url_path_join(prefix, "api/me"), SummaryHandler, args),
            (url_path_join(prefix, r"api/users/([^/]+)"), SummaryHandler, args),
        ],
        compress_response=True,
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s kns.progress] %(message)s")
    settings = load_settings()
    db.upgrade(settings.database_url)
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    judge.registry()  # import every course module now, not on the first learner's answer
    app = make_app(settings.database_url, prefix, limits=dict(settings["progress"]),
                   workdir=practice_workdir(settings))
    app.listen(url.port, url.hostname)
    log.info("progress service on %s%s", os.environ["JUPYTERHUB_SERVICE_URL"], prefix)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
