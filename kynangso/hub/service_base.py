"""What every JSON service of the platform shares (progress, signing, the exam desk's API),
and the error page of the services that people open in the browser (reports).

The hub decides who the caller is: the handler accepts only tokens with the
`access:services!service=<name>` scope. Errors travel as `{"error": "<Vietnamese>"}`
in the body, because Tornado replaces a non-ASCII reason phrase in the status line.

Cross-site request forgery: a request authenticated by a hub token in the Authorization
header (a learner's server or kernel) cannot be forged by a page elsewhere, which cannot set
that header without the service's consent (CORS). A request authenticated by the service's
login cookie (HubOAuth: a browser) must carry the XSRF token (form field `_xsrf` or header
`X-XSRFToken`), as every state-changing request to every service of the platform does. The
services' cookies are SameSite=Lax (kynangso.hub.COOKIE_OPTIONS), which keeps them off cross-site posts.
"""

from __future__ import annotations

import html
import json
import logging

from jupyterhub.services.auth import HubAuth, HubAuthenticated
from tornado import web

from kynangso.hub import COOKIE_OPTIONS
from kynangso.i18n import t

log = logging.getLogger("kns.services")

ERROR_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {brand}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #212529; }}
  header {{ background: #f8f9fa; padding: .75rem 1.5rem; font-weight: 600; }}
  main {{ max-width: 44rem; margin: 3rem auto; padding: 0 1.5rem; text-align: center; }}
  h1 {{ font-size: 1.75rem; font-weight: 500; }}
  p {{ font-size: 1.125rem; line-height: 1.5; }}
  a.home {{ display: inline-block; margin-top: 1rem; padding: .5rem 1.25rem; border-radius: .375rem;
           background: #0d6efd; color: #fff; text-decoration: none; }}
</style></head>
<body><header>{brand}</header>
<main><h1>{title}</h1><p>{message}</p><a class="home" href="{home}">{go_home}</a></main></body></html>
"""


def error_page(title: str, message: str, home_url: str) -> str:
    """A service's error page for people (not the JSON APIs below): one Vietnamese title, one
    sentence and the way back to the hub's home page, readable without the hub's stylesheet."""
    return ERROR_PAGE.format(title=html.escape(title), message=html.escape(message),
                             home=html.escape(home_url), brand=html.escape(t("hub.brand")),
                             go_home=html.escape(t("hub.error_go_home")))


JSON_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class TokenServiceHandler(HubAuthenticated, web.RequestHandler):
    service_name = ""  # set by each service's handlers
    internal_error_key = "core.internal_error"

    def initialize(self, hub_auth: HubAuth, **dependencies):
        self.hub_auth = hub_auth
        for name, value in dependencies.items():
            setattr(self, name, value)

    @property
    def hub_scopes(self):
        return {f"access:services!service={self.service_name}"}

    def set_default_headers(self):
        # JSON only: nothing on these responses may run, load or be framed.
        self.set_header("Content-Security-Policy", JSON_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")

    def check_xsrf_cookie(self):
        """XSRF for cookie-authenticated requests only (see the module's docstring)."""
        check_xsrf(self)

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "reason", None) or (
            t(self.internal_error_key) if status_code >= 500 else self._reason
        )
        self.send({"error": message}, status_code)

    def send(self, data, status: int = 200):
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, ensure_ascii=False))


def check_xsrf(handler) -> None:
    """Refuse a cookie-authenticated, state-changing request without a valid XSRF token.

    Tornado asks before the handler runs, when nobody knows yet who the caller is: find out
    first (a hub token in the Authorization header wins over the cookie). HubOAuth asks again
    while it reads the login cookie (jupyterhub.services.auth.HubOAuth._get_user_cookie) and
    treats the request as anonymous if this raises."""
    if not hasattr(handler, "_cached_hub_user"):
        handler.get_current_user()
    check = getattr(handler.hub_auth, "check_xsrf_cookie", None)
    if check is None or getattr(handler, "_token_authenticated", False):
        return  # plain HubAuth reads no cookie: only a token can authenticate
    try:
        check(handler)
    except web.HTTPError as exc:
        log.warning("XSRF check failed: %s %s (Origin %s): %s", handler.request.method,
                    handler.request.path, handler.request.headers.get("Origin", "-"),
                    exc.log_message)
        raise web.HTTPError(403, exc.log_message, reason=t("core.xsrf_refused")) from None


def xsrf_cookie_kwargs() -> dict:
    """Tornado's `xsrf_cookie_kwargs` application setting for a service's XSRF cookie."""
    return dict(COOKIE_OPTIONS)
