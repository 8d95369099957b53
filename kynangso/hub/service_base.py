"""What every token-authenticated JSON service of the platform shares (progress, signing).

The hub decides who the caller is: the handler accepts only tokens with the
`access:services!service=<name>` scope. Errors travel as `{"error": "<Vietnamese>"}`
in the body, because Tornado replaces a non-ASCII reason phrase in the status line.
"""

from __future__ import annotations

import json

from jupyterhub.services.auth import HubAuth, HubAuthenticated
from tornado import web

from kynangso.i18n import t

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
