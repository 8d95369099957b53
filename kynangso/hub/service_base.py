"""What every token-authenticated JSON service of the platform shares (progress, signing),
and the error page of the services that people open in the browser (reports).

The hub decides who the caller is: the handler accepts only tokens with the
`access:services!service=<name>` scope. Errors travel as `{"error": "<Vietnamese>"}`
in the body, because Tornado replaces a non-ASCII reason phrase in the status line.
"""

from __future__ import annotations

import html
import json

from jupyterhub.services.auth import HubAuth, HubAuthenticated
from tornado import web

from kynangso.i18n import t

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
        # A token-authenticated JSON API, no cookies: XSRF does not apply.
        return

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
