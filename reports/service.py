"""The `reports` JupyterHub service: hub OAuth in front of a locked-down Voilà.

Why not `jupyterhub-singleuser` with Voilà as an extension: that is a full Jupyter server and
serves /lab, /api/contents and /api/kernels to whoever may reach the service, i.e. arbitrary
code as the service account (shared/reference/pitfalls.md). Voilà 0.5 has no JupyterHub OAuth
of its own (voila#112). So:

- Voilà runs standalone (`voila.app.Voila`) on a private loopback port with a random token,
  `base_url=/services/reports/`, template lab, no tracebacks, preheated kernel pools and idle
  culling. It serves only the dashboards folder.
- This process listens where the hub routes `/services/reports/`, authenticates the browser
  with hub OAuth (HubOAuthenticated: cookie, scope `access:services!service=reports`, which
  the hub grants to group `nhansu`; admins pass anyway) and forwards an allow-list only:
  the three dashboards, Voilà's static files, and the kernel websocket of a page it rendered
  for the same user. Everything else is 403, before Voilà sees it.
- Voilà's kernel websocket would run any `execute_request` a browser sends; this proxy passes
  only the widget messages (comm_*, kernel_info, comm_info) from the browser to the kernel, so
  the only code that runs is the dashboard's own.
- The index (`/services/reports/`) lists the dashboards; downloads are plain links served here
  (`export/<dashboard>.<xlsx|pdf>?<filter>`, reports.downloads), behind the same hub scope.
- Voilà uses the `kns` template (reports.voila_template): `lab` with a Vietnamese loading screen,
  and the dashboards' kernel (reports.kernel: ipykernel without its debugger).

Run by the hub as a managed service: `python -m reports.service`.
"""

from __future__ import annotations

import asyncio
import atexit
import html
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpclient, ioloop, web, websocket

from kynangso.errors import KnsError
from kynangso.hub import COOKIE_OPTIONS, service_url
from kynangso.hub.service_base import error_page
from kynangso.i18n import t
from reports import downloads
from reports.voila_template import TEMPLATE, write_template

log = logging.getLogger("kns.reports")

SERVICE_NAME = "reports"
ACCESS_SCOPE = f"access:services!service={SERVICE_NAME}"
DASHBOARDS = ("tong-quan", "ho-so-ca-nhan", "nhu-cau-dao-tao")
KERNEL_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KERNEL_IN_PAGE = re.compile(rf'"kernelId":\s*"({KERNEL_ID})"')
# Messages a dashboard page legitimately sends to its kernel (ipywidgets 8 over comms).
ALLOWED_FROM_BROWSER = {"comm_msg", "comm_open", "comm_close", "comm_info_request",
                        "kernel_info_request"}
WIDGET_TARGETS = {"jupyter.widget", "jupyter.widget.control", "jupyter.widget.version"}
STATIC = re.compile(r"^voila/(static|labextensions|api/themes)/[\w@./-]+$"
                    r"|^voila/templates/[\w-]+/static/[\w@./-]+$")
KERNEL_TTL_S = 6 * 3600


def dashboards_dir() -> Path:
    return Path(str(resources.files("reports") / "dashboards"))


def hub_service_config(settings, python: str, options: dict | None = None,
                       gradebooks: list[dict] | None = None) -> tuple[dict, list[dict]]:
    """The service entry and the role for the hub configuration (called by the configurer).

    Only group `nhansu` gets `access:services!service=reports`; hub admins reach every
    service anyway. Nothing else is granted: the service reads the databases itself and
    needs no hub API scope. `options` (configurer.service_options) make it run as its own
    account on an isolated hub; `gradebooks` are the exam gradebooks it may read there.
    """
    options = dict(options or {})
    env = {"KNS_STATE_DIR": str(settings.state_dir),
           "PATH": f"{os.path.dirname(python)}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    if os.environ.get("KNS_SETTINGS"):
        env["KNS_SETTINGS"] = os.environ["KNS_SETTINGS"]
    env.update(options.pop("environment", {}))
    env["KNS_REPORTS_POOL_SIZE"] = str(settings["reports"]["pool_size"])
    if gradebooks:
        env["KNS_REPORTS_GRADEBOOKS"] = json.dumps(gradebooks)
    service = {
        "name": SERVICE_NAME,
        "url": service_url(settings, SERVICE_NAME, "reports_port"),
        "command": [python, "-m", "reports.service"],
        "environment": env,
        "oauth_no_confirm": True,
        "display": True,
        "info": {"description": t("reports.service.description")},
        **options,
    }
    roles = [{"name": "kns-reports-viewers", "groups": ["nhansu"], "scopes": [ACCESS_SCOPE]}]
    return service, roles


# --- Voilà, private ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def voila_command(python: str, port: int, prefix: str, pool_size: int = 1,
                  cull_idle_s: int = 900) -> list[str]:
    """Voilà's command line. Its token is not here (a command line is readable by every
    account in /proc): with `auto_token`, jupyter_server's identity provider takes it from
    $JUPYTER_TOKEN (see start_voila)."""
    return [
        python, "-m", "voila", str(dashboards_dir()), "--no-browser",
        "--Voila.ip=127.0.0.1", f"--Voila.port={port}", f"--Voila.base_url={prefix}",
        "--Voila.auto_token=True", f"--template={TEMPLATE}", "--theme=light",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.preheat_kernel=True", f"--VoilaConfiguration.default_pool_size={pool_size}",
        "--MappingKernelManager.cull_interval=60", f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
        "--MappingKernelManager.cull_connected=False",
    ]


# --- the proxy -----------------------------------------------------------------------------

class Upstream:
    """Where Voilà listens, its token, and which kernel belongs to which user's page."""

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token
        self.kernels: dict[str, tuple[str, float]] = {}

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def remember(self, kernel_id: str, user: str) -> None:
        now = time.monotonic()
        self.kernels = {k: v for k, v in self.kernels.items() if now - v[1] < KERNEL_TTL_S}
        self.kernels[kernel_id] = (user, now)

    def owns(self, kernel_id: str, user: str) -> bool:
        return self.kernels.get(kernel_id, ("", 0))[0] == user


class Base(HubOAuthenticated, web.RequestHandler):
    def initialize(self, hub_auth: HubOAuth, upstream: Upstream):
        self.hub_auth = hub_auth
        self.upstream = upstream

    @property
    def hub_scopes(self):
        return {ACCESS_SCOPE}

    def write_error(self, status_code, **kwargs):
        key = {403: "forbidden", 404: "forbidden"}.get(status_code, "failed")
        title = t("hub.error_403_title" if key == "forbidden" else "hub.error_500_title")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(error_page(title, t(f"reports.service.{key}"),
                               url_path_join(self.hub_auth.hub_prefix, "home")))

    def deny(self, why: str):
        log.warning("reports: refused %s %s for %s: %s", self.request.method, self.request.path,
                    (self.current_user or {}).get("name"), why)
        raise web.HTTPError(403)


class CallbackHandler(HubOAuthCallbackHandler):
    """The OAuth callback, on the same HubOAuth instance that started the login: the PKCE
    code verifier lives in that instance's memory (the stock handler would use a new one)."""

    def initialize(self, hub_auth: HubOAuth, upstream: Upstream | None = None):
        self.hub_auth = hub_auth


INDEX_CSS = """
body {background: #f5f7fa}
.kns-index {max-width: 1100px; margin: 0 auto; padding: 24px 16px}
.kns-index h1 {color: #1F4E79; font-size: 28px; margin: 8px 0 6px}
.kns-index .kns-cards {display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
                       gap: 16px; margin-top: 18px}
.kns-index .kns-card {background: #fff; border: 1px solid #d0d7de; border-radius: 8px;
                      padding: 18px 20px; display: flex; flex-direction: column}
.kns-index .kns-card h2 {font-size: 19px; margin: 0 0 8px}
.kns-index .kns-card h2 a {color: #1F4E79; text-decoration: none}
.kns-index .kns-card p {flex: 1; color: #333; margin: 0 0 14px}
.kns-index .kns-open {align-self: flex-start; background: #1F4E79; color: #fff; padding: 6px 16px;
                      border-radius: 4px; text-decoration: none}
.kns-bar {background: #fff; border-bottom: 1px solid #d0d7de; padding: 10px 16px}
.kns-bar a {color: #1F4E79; text-decoration: none; margin-right: 18px}
"""


class IndexHandler(Base):
    """The HR app's home: each dashboard with its name, what it shows and a link."""

    @web.authenticated
    def get(self):
        e = html.escape
        hub = self.hub_auth.hub_prefix
        cards = "".join(
            f"<section class='kns-card'><h2><a href='voila/render/{name}.ipynb'>"
            f"{e(t(f'reports.service.{name}'))}</a></h2>"
            f"<p>{e(t(f'reports.service.about.{name}'))}</p>"
            f"<a class='kns-open' href='voila/render/{name}.ipynb' "
            f"aria-label='{e(t('reports.service.open'))}: {e(t(f'reports.service.{name}'))}'>"
            f"{e(t('reports.service.open'))}</a></section>"
            for name in DASHBOARDS)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{e(t('reports.service.title'))}</title>"
            f"<link rel='stylesheet' href='{e(url_path_join(hub, 'static/css/style.min.css'))}'>"
            f"<style>{INDEX_CSS}</style></head><body>"
            f"<nav class='kns-bar'><a href='{e(url_path_join(hub, 'home'))}'>"
            f"{e(t('reports.service.home'))}</a>"
            f"<span>{e(t('reports.service.title'))}</span></nav>"
            f"<main class='kns-index'><h1>{e(t('reports.service.title'))}</h1>"
            f"<p class='lead'>{e(t('reports.service.intro'))}</p>"
            f"<div class='kns-cards'>{cards}</div></main></body></html>")


class ReportCache:
    """The report data for downloads, read at most every `max_age_s` (a download within that
    time reuses it; a dashboard's own data may be as old as its page)."""

    def __init__(self, loader=None, max_age_s: float = 120.0):
        self.loader = loader or downloads.load_current
        self.max_age_s = max_age_s
        self.value = None
        self.read_at = 0.0
        self.lock = asyncio.Lock()

    async def get(self):
        async with self.lock:
            if self.value is None or time.monotonic() - self.read_at > self.max_age_s:
                self.value = await asyncio.get_running_loop().run_in_executor(None, self.loader)
                self.read_at = time.monotonic()
            return self.value


class ExportHandler(Base):
    """One click, one file: the Excel or PDF of a dashboard for the filter in the link."""

    def initialize(self, hub_auth: HubOAuth, upstream: Upstream, cache: ReportCache):
        super().initialize(hub_auth, upstream)
        self.cache = cache

    @web.authenticated
    async def get(self, name: str, kind: str):
        if name not in DASHBOARDS:
            self.deny("not a dashboard")
        given = {k: self.get_query_argument(k, "") for k in downloads.FILTERS[name]}
        try:
            data, office = await self.cache.get()
            filename, mime, content = await asyncio.get_running_loop().run_in_executor(
                None, downloads.build, data, office, name, kind, given)
        except downloads.BadFilter as exc:
            log.warning("reports: download %s.%s for %s refused: %s", name, kind,
                        self.current_user["name"], exc.log_detail)
            self.set_status(400)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish("<!doctype html><html lang='vi'><meta charset='utf-8'>"
                        f"<p>{html.escape(exc.user_message)}</p></html>")
            return
        except KnsError as exc:
            log.warning("reports: download %s.%s failed: %s", name, kind, exc.log_detail)
            raise web.HTTPError(500) from exc
        log.info("reports: %s downloaded %s (%d bytes)", self.current_user["name"], filename,
                 len(content))
        self.set_header("Content-Type", mime)
        self.set_header("Content-Disposition",
                        f"attachment; filename=\"{filename.encode('ascii', 'replace').decode()}\"; "
                        f"filename*=UTF-8''{quote(filename)}")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(content)


class ProxyHandler(Base):
    """Allow-listed HTTP routes forwarded to Voilà; anything else is refused here."""

    async def _forward(self, rel: str, remember_kernel: bool = False):
        url = self.upstream.url + self.request.uri
        body = self.request.body if self.request.method in ("POST", "PUT") else None
        headers = {k: v for k, v in self.request.headers.items()
                   if k.lower() in ("accept", "accept-language", "content-type", "if-none-match",
                                    "if-modified-since")}
        headers.update(self.upstream.headers())
        resp = await httpclient.AsyncHTTPClient().fetch(
            url, method=self.request.method, body=body, headers=headers, follow_redirects=False,
            raise_error=False, request_timeout=300, allow_nonstandard_methods=True)
        if resp.code >= 400:
            log.warning("reports: upstream %s answered %s", rel, resp.code)
            raise web.HTTPError(404 if resp.code == 404 else 502)
        content = resp.body or b""
        if remember_kernel:
            for kid in set(_KERNEL_IN_PAGE.findall(content.decode("utf-8", "replace"))):
                self.upstream.remember(kid, self.current_user["name"])
        self.set_status(resp.code)
        for k in ("Content-Type", "Etag", "Last-Modified", "Cache-Control"):
            if k in resp.headers:
                self.set_header(k, resp.headers[k])
        if resp.headers.get("Content-Type", "").startswith("text/html"):
            # Voilà's own inline scripts by hash; none that an output or a widget adds runs.
            from kynangso.hub.csp import policy_for
            self.set_header("Content-Security-Policy", policy_for(content, learner_content=False)
                            + "; frame-ancestors 'self'")
        self.finish(content or None)  # a 204 (Voilà's kernel shutdown) may carry no body

    @web.authenticated
    async def get(self, rel: str):
        if ".." in rel or "%2e" in self.request.uri.lower() or "//" in rel:
            self.deny("path traversal")
        m = re.fullmatch(r"voila/render/([\w-]+)\.ipynb", rel)
        if m:
            if m.group(1) not in DASHBOARDS:
                self.deny("not a dashboard")
            return await self._forward(rel, remember_kernel=True)
        if STATIC.fullmatch(rel):
            return await self._forward(rel)
        m = re.fullmatch(rf"api/kernels/({KERNEL_ID})", rel)
        if m and self.upstream.owns(m.group(1), self.current_user["name"]):
            return await self._forward(rel)
        self.deny("not allow-listed")

    @web.authenticated
    async def post(self, rel: str):
        # The page asks Voilà to shut its kernel down when it is closed.
        m = re.fullmatch(rf"voila/api/shutdown/({KERNEL_ID})", rel)
        if m and self.upstream.owns(m.group(1), self.current_user["name"]):
            return await self._forward(rel)
        self.deny("not allow-listed")

    @web.authenticated
    def put(self, rel: str):
        self.deny("method")

    delete = patch = put


def message_type(message: str | bytes) -> tuple[str, dict]:
    """(msg_type, content) of a browser → kernel message (JSON or legacy binary framing)."""
    try:
        if isinstance(message, bytes):
            nbufs = struct.unpack("!I", message[:4])[0]
            offsets = struct.unpack(f"!{nbufs}I", message[4:4 + 4 * nbufs])
            end = offsets[1] if nbufs > 1 else len(message)
            msg = json.loads(message[offsets[0]:end])
        else:
            msg = json.loads(message)
        return str(msg["header"]["msg_type"]), msg.get("content") or {}
    except (ValueError, KeyError, TypeError, struct.error):
        return "", {}


def allowed_from_browser(message: str | bytes) -> bool:
    kind, content = message_type(message)
    if kind == "comm_open":
        return content.get("target_name") in WIDGET_TARGETS
    return kind in ALLOWED_FROM_BROWSER


class ChannelsHandler(HubOAuthenticated, websocket.WebSocketHandler):
    """The kernel websocket of a page this user opened, filtered browser → kernel."""

    def initialize(self, hub_auth: HubOAuth, upstream: Upstream, filtered: bool = True):
        self.hub_auth = hub_auth
        self.upstream = upstream
        self.filtered = filtered
        self.conn = None
        self.pending: list = []

    @property
    def hub_scopes(self):
        return {ACCESS_SCOPE}

    def check_origin(self, origin):
        return urlparse(origin).netloc == self.request.headers.get("Host")

    def select_subprotocol(self, subprotocols):
        return None  # plain JSON framing, which this proxy can read and filter

    async def get(self, *args, **kwargs):
        user = self.get_current_user()
        if not user:
            raise web.HTTPError(403)
        kid = args[0]
        if not self.upstream.owns(kid, user["name"]):
            log.warning("reports: %s refused kernel %s (not a page they opened)", user["name"], kid)
            raise web.HTTPError(403)
        return await super().get(*args, **kwargs)

    async def open(self, kid: str):
        ws_url = "ws" + self.upstream.url[4:] + self.request.uri
        req = httpclient.HTTPRequest(ws_url, headers=self.upstream.headers())
        try:
            self.conn = await websocket.websocket_connect(
                req, on_message_callback=self._from_kernel, max_message_size=64 * 1024 * 1024)
        except Exception as exc:
            log.warning("reports: cannot reach kernel %s: %s", kid, exc)
            self.close(1011)
            return
        for m in self.pending:
            await self.conn.write_message(m, binary=isinstance(m, bytes))
        self.pending = []

    def _from_kernel(self, message):
        if message is None:
            self.close()
            return
        if self.ws_connection is not None:
            self.write_message(message, binary=isinstance(message, bytes))

    async def on_message(self, message):
        if self.filtered and not allowed_from_browser(message):
            log.warning("reports: dropped %r from %s", message_type(message)[0],
                        self.current_user["name"])
            return
        if self.conn is None:
            self.pending.append(message)
        else:
            await self.conn.write_message(message, binary=isinstance(message, bytes))

    def on_close(self):
        if self.conn is not None:
            self.conn.close()


def make_app(prefix: str, upstream: Upstream, hub_auth: HubOAuth | None = None,
             loader=None) -> web.Application:
    hub_auth = hub_auth or HubOAuth(cache_max_age=60)
    args = {"hub_auth": hub_auth, "upstream": upstream}
    cache = ReportCache(loader)
    return web.Application(
        [
            (prefix, IndexHandler, args),
            (url_path_join(prefix, r"export/([\w-]+)\.(xlsx|pdf)"), ExportHandler,
             {**args, "cache": cache}),
            (url_path_join(prefix, "oauth_callback"), CallbackHandler, args),
            (url_path_join(prefix, rf"api/kernels/({KERNEL_ID})/channels"), ChannelsHandler, args),
            (url_path_join(prefix, rf"voila/query/({KERNEL_ID})"), ChannelsHandler,
             {**args, "filtered": False}),
            (url_path_join(prefix, r"(.*)"), ProxyHandler, args),
        ],
        cookie_secret=os.urandom(32),
        hub_auth=hub_auth,
        compress_response=True,
        # Tornado does not check before the handler; HubOAuth does, on every cookie-authenticated
        # POST (Voilà's kernel-shutdown beacon sends `_xsrf` from the cookie).
        xsrf_cookies=False,
        xsrf_cookie_kwargs=dict(COOKIE_OPTIONS),
    )


async def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise TimeoutError(f"voila did not listen on {port}")


def start_voila(prefix: str, python: str = sys.executable, **kwargs) -> tuple[subprocess.Popen, Upstream]:
    port, token = free_port(), secrets.token_hex(24)
    cmd = voila_command(python, port, prefix, **kwargs)
    # The service's hub token and OAuth settings stay in this process: the dashboard kernels
    # need none of them. Voilà's own token goes through its environment, never its argv.
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    env["JUPYTER_TOKEN"] = token
    # The `kns` template (Vietnamese loading screen), written from the catalogue into a folder
    # of this account's own, first on Voilà's search path.
    templates = tempfile.mkdtemp(prefix="kns-voila-")
    write_template(Path(templates), python)
    atexit.register(shutil.rmtree, templates, ignore_errors=True)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (templates, env.get("JUPYTER_PATH")) if p)
    proc = subprocess.Popen(cmd, cwd=str(dashboards_dir()), env=env)
    return proc, Upstream(f"http://127.0.0.1:{port}", token)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s kns.reports] %(message)s")
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    # Settings `reports.pool_size`, passed by hub_service_config; each kernel holds the frames
    # (~0.75 GB at 5,000 staff x 8 periods, see benchmarks/bench_reports.py).
    pool = int(os.environ.get("KNS_REPORTS_POOL_SIZE", "1"))
    proc, upstream = start_voila(prefix, pool_size=pool)

    def stop(*_a):
        proc.terminate()
        ioloop.IOLoop.current().add_callback_from_signal(ioloop.IOLoop.current().stop)

    signal.signal(signal.SIGTERM, stop)
    loop = ioloop.IOLoop.current()
    loop.run_sync(lambda: wait_for_port(int(upstream.url.rsplit(":", 1)[1])))
    make_app(prefix, upstream).listen(url.port, url.hostname)
    log.info("reports service on %s%s (voila at %s)", os.environ["JUPYTERHUB_SERVICE_URL"], prefix,
             upstream.url)
    try:
        loop.start()
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
