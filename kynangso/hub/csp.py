"""Content-Security-Policy for pages that show learners' or reported content.

Used as a Jupyter server extension by formgrader, and by the reports proxy for Voilà's pages.

Formgrader renders learners' notebooks on the hub's own origin, and its templates carry inline
scripts of their own (page variables, handlers), some with per-page values: a fixed policy
would either break formgrader or allow every inline script. So each HTML page under
`/formgrader/` gets a policy that allows, by SHA-256 hash, exactly the inline scripts that the
template wrote, and no other inline script or handler. On a submission page the learner's
notebook starts at `id="notebook-container"`: only scripts before that mark are the template's,
so nothing the learner wrote can be hashed in (the notebook itself is also sanitised: see
graderconfig/jupyter_server_config.json). A page streamed in pieces gets no inline script at all.
"""

from __future__ import annotations

import base64
import hashlib
import re

from tornado import web

# An inline classic or module script (no src). JSON data blocks are not executed: harmless.
_INLINE = re.compile(rb"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I)
# The template's own event handler attributes (formgrader's show/hide name buttons).
_HANDLER = re.compile(rb"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
LEARNER_MARK = b'id="notebook-container"'
POLICY = ("default-src 'self'; script-src 'self' 'unsafe-eval'{hashes}; "
          "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
          "object-src 'none'; base-uri 'self'; form-action 'self'")

# The platform's own server-rendered pages (the admin app): the hub's stylesheet and the
# page's own files, same origin; no inline script or style, no connection elsewhere, nothing
# frames them, forms post only to themselves.
APP_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def policy_for(page: bytes, learner_content: bool) -> str:
    """The policy of one HTML page: its template's inline scripts by hash."""
    own = page.split(LEARNER_MARK, 1)[0] if learner_content else page
    handlers = {a or b for a, b in _HANDLER.findall(own)}
    hashes = sorted({_sha256(body) for body in [*_INLINE.findall(own), *handlers]})
    # 'unsafe-hashes' lets handler attributes with exactly those texts run, nothing else.
    return POLICY.format(hashes=(" 'unsafe-hashes'" if handlers else "")
                         + "".join(" " + h for h in hashes))


def _sha256(body: bytes) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"


class FormgraderPolicy(web.OutputTransform):
    def __init__(self, request):
        super().__init__(request)
        self.path = request.path

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if "/formgrader/" in self.path and headers.get("Content-Type", "").startswith("text/html"):
            learner = "/formgrader/submissions/" in self.path
            policy = policy_for(chunk if finishing else b"", learner)
            # Keep the server's own directives (frame-ancestors) before ours.
            earlier = headers.get("Content-Security-Policy", "")
            headers["Content-Security-Policy"] = f"{earlier}; {policy}" if earlier else policy
        return status_code, headers, chunk


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp):
    # Before gzip (compress_response): the policy hashes the page's plain bytes.
    serverapp.web_app.transforms.insert(0, FormgraderPolicy)
    serverapp.log.info("formgrader pages get a Content-Security-Policy (inline scripts by hash)")


def style_policy(styles: list[str]) -> str:
    """The policy of a page that runs no script at all (the exam desk's pages): same-origin
    stylesheets, and its own style blocks by hash; forms post only to the page's origin."""
    hashes = "".join(" " + _sha256(style.encode("utf-8")) for style in styles)
    return ("default-src 'none'; script-src 'none'; "
            f"style-src 'self'{hashes}; img-src 'self' data:; font-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
