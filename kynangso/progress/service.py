"""The `progress` JupyterHub service: records and returns course progress.

Every request carries a hub token (a learner's kernel uses its server's token,
which the hub scopes to `access:services!service=progress`). The hub tells us
whose token it is; a user writes and reads only their own events. Reading
someone else's progress needs the `custom:progress:read` scope, which the
configuration grants to instructors and HR only.

Run by the hub as a managed service: `python -m kynangso.progress.service`.
"""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import urlparse

from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from kynangso import db
from kynangso.errors import KnsError
from kynangso.hub.service_base import TokenServiceHandler
from kynangso.i18n import t
from kynangso.progress import READ_OTHERS_SCOPE, SERVICE_NAME, store
from kynangso.settings import load_settings

log = logging.getLogger("kns.progress")
MAX_EVENTS_PER_REQUEST = 500


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
                if store.record(self.db_url, username, event):
                    stored += 1
                else:
                    duplicates += 1
            except KnsError as exc:
                rejected += 1
                log.warning("progress: rejected from %s: %s", username, exc.log_detail)
        if rejected and not stored and not duplicates:
            raise web.HTTPError(400, reason=t("progress.bad_event"))
        self.send({"stored": stored, "duplicates": duplicates, "rejected": rejected}, 201 if stored else 200)


class SummaryHandler(BaseHandler):
    @web.authenticated
    def get(self, name: str | None = None):
        me = self.current_user
        name = name or me["name"]
        if name != me["name"] and READ_OTHERS_SCOPE not in set(me.get("scopes", [])):
            log.warning("progress: %s tried to read %s's progress", me["name"], name)
            raise web.HTTPError(403, reason=t("progress.forbidden_other"))
        self.send(store.summary_of(self.db_url, name))


def make_app(db_url: str, prefix: str, hub_auth: HubAuth | None = None) -> web.Application:
    hub_auth = hub_auth or HubAuth(cache_max_age=60)
    args = {"hub_auth": hub_auth, "db_url": db_url}
    return web.Application(
        [
            (url_path_join(prefix, "api/events"), EventsHandler, args),
            (url_path_join(prefix, "api/me"), SummaryHandler, args),
            (url_path_join(prefix, r"api/users/([^/]+)"), SummaryHandler, args),
        ]
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s kns.progress] %(message)s")
    settings = load_settings()
    db.upgrade(settings.database_url)
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    app = make_app(settings.database_url, prefix)
    app.listen(url.port, url.hostname)
    log.info("progress service on %s%s", os.environ["JUPYTERHUB_SERVICE_URL"], prefix)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
