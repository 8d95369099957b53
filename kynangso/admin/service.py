"""The `admin` hub service: the Vietnamese admin app at /services/admin/.

Pages (server-rendered HTML that works without script, styled with the hub's own stylesheet;
one small same-origin script only shows the chosen file's name):

    /                  the staff directory: full name, unit, role, account state; search, filters
    import             upload HR's staff file (CSV/XLSX) into the staff importer (all or nothing);
                       a rejected file shows the importer's report, row by row
    codes              who awaits activation; issue codes (all, one click: a CSV download) or
                       one person's (shown once); a new code for a forgotten password
    online             who has a server running, since when, last activity ("5 phút trước")
    health             each platform service: registered with the hub, and answering or running
    /hub/admin         JupyterHub's own admin page, linked for what only it does

Who may open it: hub admins (the `admin` flag of the hub's user model) and holders of
ACCESS_SCOPE (group `quantri`, configurer). Everyone else: the hub refuses the OAuth login
(no `access:services!service=admin`) and this service answers 403 in Vietnamese.

Rights. The service's own token (JUPYTERHUB_API_TOKEN) can only read: `list:users`,
`read:users`, `read:servers` (who is online) and `list:services`, `read:services` (health).
It writes the platform database (group `<prefix>grp-platformdb`), as `kns staff import` and
`kns accounts invite` do. After an import the hub's accounts and role groups must follow the
directory (kynangso.accounts.sync.push_directory): that is done with the *admin's own* OAuth
token (this service's OAuth client may ask for admin:users, admin:groups; the hub grants them
only to a user who holds them), so the service account itself never holds a right to create
accounts or make admins.

Every POST carries the XSRF token (check_xsrf); uploads are limited (data.MAX_UPLOAD_BYTES);
every page gets a strict Content-Security-Policy (kynangso.hub.csp.APP_POLICY).

Run by the hub as a managed service: `python -m kynangso.admin.service`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from datetime import UTC, datetime
from html import escape as e
from urllib.parse import quote, urlencode, urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpclient, web

from kynangso.accounts.sync import push_directory
from kynangso.admin import ACCESS_SCOPE, SERVICE_NAME, data
from kynangso.errors import KnsError, ValidationError
from kynangso.exams.windows import LOCAL_TZ, local
from kynangso.hub.csp import APP_POLICY
from kynangso.hub.service_base import check_xsrf, xsrf_cookie_kwargs
from kynangso.hub.system_accounts import hub_isolated
from kynangso.i18n import t
from kynangso.models import ROLES
from kynangso.settings import load_settings
from kynangso.staff.formats import HEADERS

log = logging.getLogger("kns.admin")

TABS = ("directory", "import", "codes", "online", "health")
TAB_PATHS = {"directory": "", "import": "import", "codes": "codes", "online": "online",
             "health": "health"}
CSS = """
.kns-admin { max-width: 1280px; }
.kns-admin h1 { font-size: 1.6rem; margin: .25rem 0 1rem; }
.kns-admin .nav-tabs { margin-bottom: 1rem; }
.kns-admin .kns-filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; }
.kns-admin .kns-filters .form-control, .kns-admin .kns-filters .form-select { width: auto; }
.kns-admin .kns-filters input[type=search] { min-width: 18rem; }
.kns-admin table { font-size: .95rem; }
.kns-admin td.kns-code { font-family: monospace; white-space: nowrap; }
.kns-admin .kns-state-awaiting { color: #8a5300; }
.kns-admin .kns-state-locked { color: #842029; }
.kns-admin .kns-state-active { color: #0f5132; }
.kns-admin .kns-report li { margin-bottom: .35rem; }
.kns-admin .kns-hubadmin { color: #555; font-size: .9rem; }
.kns-admin form.kns-inline { display: inline; }
.navbar .nav-link, .navbar-text { white-space: nowrap; }
.kns-admin .kns-filters input[type=search] { min-width: 24rem; }
/* The browser's own file button speaks the browser's language: a Vietnamese label instead. */
.kns-admin .kns-file input[type=file] { position: absolute; width: 1px; height: 1px; opacity: 0; }
.kns-admin .kns-file label.btn { margin-right: .75rem; }
.kns-admin .kns-file input[type=file]:focus + label.btn { outline: 2px solid #1F4E79; }
"""
# Shows the chosen file's name beside the Vietnamese "Chọn tệp" label (the native text is hidden).
SCRIPT = """
document.addEventListener("DOMContentLoaded", function () {
  var input = document.getElementById("file"), shown = document.getElementById("file-name");
  if (!input || !shown) { return; }
  input.addEventListener("change", function () {
    shown.textContent = input.files.length ? input.files[0].name : shown.dataset.empty;
  });
});
"""


class Context:
    """What every handler shares: the settings, the database, the hub API."""

    def __init__(self, settings, hub_api: str, token: str, *, native: bool = True,
                 code_days: int = 14, expected: list[str] | None = None, formgrader: str = ""):
        self.settings = settings
        self.db_url = settings.database_url
        self.hub_api, self.token = hub_api.rstrip("/"), token
        self.native, self.code_days = native, code_days
        self.expected = list(expected or [])
        self.formgrader = formgrader
        self.isolated = hub_isolated(settings)
        self.prefix = f"/services/{SERVICE_NAME}/"  # where the hub routes us (set by make_app)

    async def hub(self, path: str) -> tuple[int, object]:
        """GET on the hub's API with the service's own (read-only) token."""
        request = httpclient.HTTPRequest(f"{self.hub_api}/{path.lstrip('/')}",
                                         headers={"Authorization": f"token {self.token}"},
                                         request_timeout=20)
        response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code != 200:
            log.warning("hub API %s answered %s", path, response.code)
            return response.code, None
        return 200, json.loads(response.body)


class AdminPage(HubOAuthenticated, web.RequestHandler):
    """A page of the admin app: hub admins and ACCESS_SCOPE holders only."""

    hub_scopes = {ACCESS_SCOPE}
    ctx: Context

    def initialize(self, hub_auth: HubOAuth, ctx: Context):
        self.hub_auth, self.ctx = hub_auth, ctx

    def check_hub_user(self, model):
        # The hub's admins hold every service's access but no custom scope: the admin flag.
        if model.get("kind", "user") == "user" and model.get("admin"):
            return model
        return super().check_hub_user(model)

    def set_default_headers(self):
        self.set_header("Content-Security-Policy", APP_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Cache-Control", "no-store")  # names and codes: not for a shared cache

    def check_xsrf_cookie(self):
        check_xsrf(self)

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info", (None, None))[1]
        if status_code == 403:
            title, message = t("hub.error_403_title"), getattr(exc, "reason", None)
            if not message or message.isascii():
                message = t("admin.forbidden")
            log.warning("admin app: refused %s %s (%s)", self.request.method, self.request.path,
                        getattr(exc, "log_message", "") or "no access")
        else:
            title, message = t("hub.error_500_title"), t("admin.failed")
        from kynangso.hub.service_base import error_page

        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(error_page(title, message, url_path_join(self.hub_auth.hub_prefix, "home")))

    @property
    def me(self) -> str:
        return self.current_user["name"]

    def url(self, tab: str, **query) -> str:
        base = self.ctx.prefix + TAB_PATHS[tab]
        query = {k: v for k, v in query.items() if v}
        return base + ("?" + urlencode(query) if query else "")

    def show(self, tab: str, body: str, status: int = 200) -> None:
        hub = self.hub_auth.hub_prefix
        office = self.ctx.settings["office"]
        banners = ""
        if not self.ctx.isolated:
            banners += ("<div class='alert alert-danger text-center fw-bold rounded-0 mb-0' "
                        f"role='alert'>{e(t('core.not_isolated'))}</div>")
        if office.get("demo"):
            banners += ("<div class='alert alert-info text-center small rounded-0 py-1 mb-0' "
                        f"role='status'>{e(t('core.demo_banner'))}</div>")
        tabs = "".join(
            f"<li class='nav-item'><a class='nav-link{' active' if name == tab else ''}' "
            f"{'aria-current=page ' if name == tab else ''}id='kns-tab-{name}' "
            f"href='{e(self.url(name))}'>{e(t(f'admin.nav.{name}'))}</a></li>" for name in TABS)
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{e(t(f'admin.nav.{tab}'))} · {e(t('admin.title'))} · {e(t('hub.brand'))}</title>"
            f"<link rel='stylesheet' href='{e(url_path_join(hub, 'static/css/style.min.css'))}'>"
            f"<link rel='stylesheet' href='{e(self.ctx.prefix)}static/admin.css'>"
            f"<script src='{e(self.ctx.prefix)}static/admin.js' defer></script>"
            f"</head><body>{banners}"
            "<nav class='navbar navbar-expand-sm bg-body-tertiary mb-3' "
            f"aria-label='{e(t('hub.nav_label'))}'><div class='container-fluid'>"
            f"<span id='jupyterhub-logo' class='navbar-brand'><a href='{e(url_path_join(hub, 'home'))}'>"
            f"<img src='{e(url_path_join(hub, 'logo'))}' alt='{e(t('hub.logo_alt'))}' "
            "class='jpy-logo'></a></span>"
            f"<span id='kns-brand' class='navbar-text fw-semibold me-3'>{e(t('hub.brand'))}"
            f"<span class='fw-normal'> · {e(office['name'])}</span></span>"
            "<ul class='navbar-nav me-auto'>"
            f"<li class='nav-item'><a class='nav-link' id='kns-home' "
            f"href='{e(url_path_join(hub, 'home'))}'>{e(t('admin.nav.home'))}</a></li>"
            f"<li class='nav-item'><a class='nav-link' id='kns-hub-admin' "
            f"href='{e(url_path_join(hub, 'admin'))}' title='{e(t('admin.nav.hub_admin_note'))}'>"
            f"{e(t('admin.nav.hub_admin'))}</a></li></ul>"
            f"<span class='navbar-text me-2'>{e(self.me)}</span>"
            f"<a class='btn btn-sm btn-outline-secondary' href='{e(url_path_join(hub, 'logout'))}'>"
            f"{e(t('hub.logout'))}</a></div></nav>"
            f"<main class='container-fluid kns-admin'><h1>{e(t('admin.title'))}</h1>"
            f"<ul class='nav nav-tabs'>{tabs}</ul>{body}</main></body></html>")

    def notice(self, lines: list[str], kind: str = "success", title: str = "") -> str:
        if not lines and not title:
            return ""
        head = f"<p class='fw-semibold mb-1'>{e(title)}</p>" if title else ""
        items = "".join(f"<p class='mb-1'>{e(line)}</p>" for line in lines)
        return f"<div class='alert alert-{kind}' role='status' id='kns-notice'>{head}{items}</div>"


def _options(values: list[tuple[str, str]], selected: str) -> str:
    return "".join(f"<option value='{e(v)}'{' selected' if v == selected else ''}>{e(label)}</option>"
                   for v, label in values)


class DirectoryHandler(AdminPage):
    @web.authenticated
    def get(self):
        q = self.get_query_argument("q", "").strip()
        department = self.get_query_argument("department", "")
        role = self.get_query_argument("role", "")
        state = self.get_query_argument("state", "")
        found = data.directory(self.ctx.db_url, query=q, department=department, role=role,
                               state=state, native=self.ctx.native)
        rows = "".join(
            f"<tr><td class='kns-code'>{e(p.code)}</td><td>{e(p.full_name)}</td>"
            f"<td>{e(p.position)}</td><td>{e(p.department)}</td><td>{e(p.role_label)}</td>"
            f"<td class='kns-code'>{e(p.username)}</td>"
            f"<td class='kns-state-{p.state}'>{e(p.state_label)}</td></tr>" for p in found.people)
        table = (
            "<table class='table table-striped table-hover' id='kns-directory'><thead><tr>"
            + "".join(f"<th scope='col'>{e(t(f'admin.directory.{c}'))}</th>" for c in
                      ("col_code", "col_name", "col_position", "col_department", "col_role",
                       "col_username", "col_state"))
            + f"</tr></thead><tbody>{rows}</tbody></table>") if found.people else (
            f"<p class='alert alert-secondary'>{e(t('admin.directory.empty'))}</p>")
        filters = (
            f"<form method='get' class='kns-filters mb-3' role='search' action='{e(self.url('directory'))}'>"
            f"<div><label class='form-label' for='q'>{e(t('admin.directory.search'))}</label>"
            f"<input class='form-control' type='search' id='q' name='q' value='{e(q)}' "
            f"placeholder='{e(t('admin.directory.search_placeholder'))}'></div>"
            f"<div><label class='form-label' for='department'>{e(t('admin.directory.department'))}</label>"
            f"<select class='form-select' id='department' name='department'>"
            + _options([("", t("admin.directory.all_departments"))]
                       + [(d, d) for d in found.departments], department)
            + f"</select></div><div><label class='form-label' for='role'>{e(t('admin.directory.role'))}</label>"
            f"<select class='form-select' id='role' name='role'>"
            + _options([("", t("admin.directory.all_roles"))]
                       + [(r, t(f"staff.role.{r}")) for r in ROLES], role)
            + f"</select></div><div><label class='form-label' for='state'>{e(t('admin.directory.state'))}</label>"
            f"<select class='form-select' id='state' name='state'>"
            + _options([("", t("admin.directory.all_states"))]
                       + [(s, t(f"admin.state.{s}")) for s in data.STATES], state)
            + f"</select></div><div><button class='btn btn-primary' type='submit'>"
            f"{e(t('admin.directory.apply'))}</button> <a class='btn btn-outline-secondary' "
            f"href='{e(self.url('directory'))}'>{e(t('admin.directory.clear'))}</a></div></form>")
        counts = t("admin.directory.counts", shown=len(found.people), total=found.total,
                   **found.counts)
        self.show("directory", f"<p>{e(t('admin.directory.intro'))}</p>{filters}"
                                 f"<p id='kns-counts' class='fw-semibold'>{e(counts)}</p>{table}")


class ImportHandler(AdminPage):
    def form(self) -> str:
        columns = ", ".join(HEADERS.values())
        return (
            f"<p>{e(t('admin.import.intro', mb=data.MAX_UPLOAD_BYTES // 2**20, columns=columns))}</p>"
            f"<form method='post' enctype='multipart/form-data' action='{e(self.url('import'))}' "
            f"class='mb-4' id='kns-import-form'>{self.xsrf_form_html()}"
            f"<p class='form-label mb-1'>{e(t('admin.import.file'))}</p>"
            "<div class='mb-2 kns-file'>"
            "<input type='file' id='file' name='file' accept='.xlsx,.csv'>"
            f"<label class='btn btn-outline-primary' for='file'>{e(t('admin.import.choose'))}</label>"
            f"<span id='file-name' data-empty='{e(t('admin.import.none_chosen'))}'>"
            f"{e(t('admin.import.none_chosen'))}</span></div>"
            "<div class='form-check mb-2'><input class='form-check-input' type='checkbox' "
            "id='deactivate_missing' name='deactivate_missing' value='1'>"
            f"<label class='form-check-label' for='deactivate_missing'>"
            f"{e(t('admin.import.deactivate_missing'))}</label></div>"
            f"<button class='btn btn-primary' type='submit'>{e(t('admin.import.submit'))}</button></form>")

    @web.authenticated
    def get(self):
        self.show("import", self.form())

    @web.authenticated
    async def post(self):
        uploads = self.request.files.get("file") or []
        if not uploads or not uploads[0]["filename"]:
            self.show("import", self.notice([t("admin.import.no_file")], "warning") + self.form(), 400)
            return
        upload = uploads[0]
        deactivate = self.get_body_argument("deactivate_missing", "") == "1"
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(None, lambda: data.import_upload(
                self.ctx.db_url, upload["filename"], upload["body"], deactivate_missing=deactivate,
                by=self.me))
        except ValidationError as exc:
            report = "".join(f"<li>{e(p)}</li>" for p in exc.problems)
            body = (f"<div class='alert alert-danger' role='alert' id='kns-import-error'>"
                    f"<p class='fw-semibold mb-1'>{e(t('admin.import.rejected_title'))}</p>"
                    f"<p class='mb-1'>{e(exc.user_message)}</p>"
                    + (f"<ol class='kns-report mb-0' id='kns-import-problems'>{report}</ol>" if report else "")
                    + "</div>")
            self.show("import", body + self.form(), 400)
            return
        names = {p.username: p.full_name for p in data.people(self.ctx.db_url, self.ctx.native)}
        lines = data.describe(result, names)
        kind = "success"
        if result.changed:
            lines.append(await self.sync_hub(loop))
            if result.created:
                lines.append(t("admin.import.next_codes"))
        if any(line == t("admin.import.sync_failed") for line in lines):
            kind = "warning"
        self.show("import", self.notice(lines, kind, t("admin.import.done_title")) + self.form())

    async def sync_hub(self, loop) -> str:
        """The hub's accounts and groups follow the directory, with the admin's own token."""
        token = self.hub_auth.get_token(self)
        try:
            counts = await loop.run_in_executor(
                None, push_directory, self.ctx.hub_api, token, self.ctx.db_url)
        except KnsError as exc:
            log.warning("hub sync after import by %s failed: %s", self.me, exc.log_detail)
            return t("admin.import.sync_failed")
        except Exception:  # noqa: BLE001 - the directory is saved; say so, log the rest
            log.exception("hub sync after import by %s failed", self.me)
            return t("admin.import.sync_failed")
        log.info("hub sync after import by %s: %s", self.me, counts)
        return t("admin.import.synced", **counts)


class CodesHandler(AdminPage):
    def page(self, department: str, message: str = "", kind: str = "success", status: int = 200):
        now = datetime.now(UTC)
        waiting = data.awaiting(self.ctx.db_url, department, self.ctx.native)
        departments = sorted({p.department for p in data.awaiting(self.ctx.db_url, "", self.ctx.native)})
        xsrf = self.xsrf_form_html()
        rows = "".join(
            f"<tr><td>{e(p.full_name)}</td><td>{e(p.department)}</td><td>{e(p.role_label)}</td>"
            f"<td class='kns-code'>{e(p.username)}</td><td>{e(p.code_status(now))}</td>"
            f"<td><form method='post' class='kns-inline' action='{e(self.url('codes'))}'>{xsrf}"
            f"<input type='hidden' name='username' value='{e(p.username)}'>"
            f"<button class='btn btn-sm btn-outline-primary' name='action' value='one'>"
            f"{e(t('admin.codes.issue_one' if p.code_expires is None else 'admin.codes.reissue_one'))}"
            "</button></form></td></tr>" for p in waiting)
        body = self.notice([message], kind) if message else ""
        body += f"<p>{e(t('admin.codes.intro', days=self.ctx.code_days))}</p>"
        body += (
            f"<form method='get' class='kns-filters mb-3' action='{e(self.url('codes'))}'>"
            f"<div><label class='form-label' for='department'>{e(t('admin.directory.department'))}</label>"
            "<select class='form-select' id='department' name='department'>"
            + _options([("", t("admin.directory.all_departments"))] + [(d, d) for d in departments],
                       department)
            + f"</select></div><div><button class='btn btn-outline-secondary' type='submit'>"
            f"{e(t('admin.directory.apply'))}</button></div></form>")
        if waiting:
            body += (
                f"<form method='post' action='{e(self.url('codes'))}' class='mb-3'>{xsrf}"
                f"<input type='hidden' name='department' value='{e(department)}'>"
                f"<button class='btn btn-primary' name='action' value='all' id='kns-issue-all'>"
                f"{e(t('admin.codes.issue_all', count=len(waiting)))}</button></form>"
                "<table class='table table-striped' id='kns-awaiting'><thead><tr>"
                f"<th>{e(t('admin.directory.col_name'))}</th><th>{e(t('admin.directory.col_department'))}</th>"
                f"<th>{e(t('admin.directory.col_role'))}</th><th>{e(t('admin.directory.col_username'))}</th>"
                f"<th>{e(t('admin.codes.col_code_state'))}</th><th></th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")
        else:
            body += f"<p class='alert alert-secondary'>{e(t('admin.codes.none_waiting'))}</p>"
        body += (
            f"<h2 class='h5 mt-4'>{e(t('admin.codes.reset_title'))}</h2>"
            f"<p>{e(t('admin.codes.reset_intro'))}</p>"
            f"<form method='post' class='kns-filters' action='{e(self.url('codes'))}'>{xsrf}"
            f"<div><label class='form-label' for='reset-username'>{e(t('admin.codes.reset_username'))}</label>"
            "<input class='form-control' id='reset-username' name='username' required></div>"
            f"<div><button class='btn btn-outline-primary' name='action' value='one'>"
            f"{e(t('admin.codes.reissue_one'))}</button></div></form>")
        self.show("codes", body, status)

    @web.authenticated
    def get(self):
        self.page(self.get_query_argument("department", ""))

    @web.authenticated
    def post(self):
        action = self.get_body_argument("action", "")
        department = self.get_body_argument("department", "")
        if action == "all":
            names = [p.username for p in data.awaiting(self.ctx.db_url, department, self.ctx.native)]
            if not names:
                scope = t("admin.codes.scope_department", department=department) if department else ""
                self.page(department, t("admin.codes.nobody", scope=scope), "warning")
                return
            issued = data.issue(self.ctx.db_url, names, self.ctx.code_days, self.me)
            stamp = datetime.now(UTC).astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
            filename = f"{t('admin.codes.filename')}-{stamp}.csv"
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition",
                            f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}")
            self.finish(data.codes_csv(issued))
            return
        username = self.get_body_argument("username", "").strip().lower()
        try:
            issued = data.issue(self.ctx.db_url, [username], self.ctx.code_days, self.me)
        except KnsError as exc:
            log.info("activation code for %r refused (by %s): %s", username, self.me, exc.log_detail)
            self.page(department, t("admin.codes.unknown", username=username), "danger", 400)
            return
        person, code, expires = issued[0]
        self.page(department, t("admin.codes.issued_one", name=person.full_name,
                                username=person.username, code=code, date=local(expires)))


class OnlineHandler(AdminPage):
    @web.authenticated
    async def get(self):
        code, users = await self.ctx.hub("users?state=active")
        if code != 200:
            self.show("online", self.notice([t("admin.online.hub_unreachable")], "warning"), 502)
            return
        rows = data.online(users, data.people(self.ctx.db_url, self.ctx.native), datetime.now(UTC))
        if not rows:
            self.show("online", f"<p>{e(t('admin.online.intro'))}</p>"
                                  f"<p class='alert alert-secondary'>{e(t('admin.online.none'))}</p>")
            return
        body = "".join(
            f"<tr><td>{e(r.full_name)}</td><td>{e(r.department)}</td><td>{e(r.role_label)}</td>"
            f"<td class='kns-code'>{e(r.username)}</td><td>{e(r.server)}</td><td>{e(r.started)}</td>"
            f"<td>{e(r.last_activity)}</td></tr>" for r in rows)
        heads = "".join(f"<th>{e(t(k))}</th>" for k in (
            "admin.directory.col_name", "admin.directory.col_department", "admin.directory.col_role",
            "admin.directory.col_username", "admin.online.col_server", "admin.online.col_started",
            "admin.online.col_activity"))
        self.show("online", f"<p>{e(t('admin.online.intro'))}</p>"
                              f"<p class='fw-semibold'>{e(t('admin.online.count', count=len(rows)))}</p>"
                              f"<table class='table table-striped' id='kns-online'><thead><tr>{heads}"
                              f"</tr></thead><tbody>{body}</tbody></table>")


async def probe_url(url: str) -> tuple[bool, str]:
    """Any HTTP answer means the service listens; a refused or silent port does not."""
    start = time.monotonic()
    try:
        response = await httpclient.AsyncHTTPClient().fetch(
            url, raise_error=False, follow_redirects=False, connect_timeout=3, request_timeout=5)
    except Exception as exc:  # noqa: BLE001 - refused, reset, timed out: all "down"
        return False, t("admin.health.refused", reason=type(exc).__name__)
    if response.code == 599:
        return False, t("admin.health.refused", reason=str(response.error or "599"))
    return True, t("admin.health.answered", ms=data.elapsed_ms(start))


class HealthHandler(AdminPage):
    @web.authenticated
    async def get(self):
        code, services = await self.ctx.hub("services")
        if code != 200 or not isinstance(services, dict):
            self.show("health", self.notice([t("admin.online.hub_unreachable")], "warning"), 502)
            return
        names = [n for n, m in services.items() if m.get("url") or m.get("command")]
        results = await asyncio.gather(*(
            probe_url(services[n]["url"]) if services[n].get("url")
            else asyncio.sleep(0, data.probe_process(int(services[n].get("pid") or 0)))
            for n in names))
        probes = dict(zip(names, results, strict=True))
        rows = data.health(services, probes, self.ctx.expected, self.ctx.formgrader)
        down = [r for r in rows if not r.up]
        for row in down:
            log.warning("health: service %s is down: %s", row.name, row.detail)
        summary = (self.notice([t("admin.health.some_down", count=len(down))], "danger") if down
                   else self.notice([t("admin.health.all_up")]))
        body = "".join(
            f"<tr><td>{e(r.label)}</td><td class='{'text-success' if r.up else 'text-danger'} fw-semibold'>"
            f"{e(t('admin.health.up' if r.up else 'admin.health.down'))}</td><td>{e(r.detail)}</td></tr>"
            for r in rows)
        heads = "".join(f"<th>{e(t(f'admin.health.{k}'))}</th>" for k in
                        ("col_service", "col_state", "col_detail"))
        self.show("health", f"<p>{e(t('admin.health.intro'))}</p>{summary}"
                              f"<table class='table' id='kns-health'><thead><tr>{heads}</tr></thead>"
                              f"<tbody>{body}</tbody></table>")


class StaticHandler(web.RequestHandler):
    """The app's few styles and its one script, as files: the policy allows nothing inline."""

    def initialize(self, body: str, kind: str):
        self.body, self.kind = body, kind

    def set_default_headers(self):
        self.set_header("X-Content-Type-Options", "nosniff")

    def get(self):
        self.set_header("Content-Type", f"{self.kind}; charset=utf-8")
        self.set_header("Cache-Control", "max-age=3600")
        self.finish(self.body)


class CallbackHandler(HubOAuthCallbackHandler):
    """The OAuth callback on the HubOAuth instance that started the login (PKCE verifier)."""

    def initialize(self, hub_auth: HubOAuth, ctx: Context | None = None):
        self.hub_auth = hub_auth


def make_app(ctx: Context, prefix: str, hub_auth: HubOAuth | None = None) -> web.Application:
    hub_auth = hub_auth or HubOAuth(cache_max_age=60)
    ctx.prefix = prefix if prefix.endswith("/") else prefix + "/"
    deps = {"hub_auth": hub_auth, "ctx": ctx}
    return web.Application([
        (prefix, DirectoryHandler, deps),
        (url_path_join(prefix, "import"), ImportHandler, deps),
        (url_path_join(prefix, "codes"), CodesHandler, deps),
        (url_path_join(prefix, "online"), OnlineHandler, deps),
        (url_path_join(prefix, "health"), HealthHandler, deps),
        (url_path_join(prefix, "static/admin.css"), StaticHandler, {"body": CSS, "kind": "text/css"}),
        (url_path_join(prefix, "static/admin.js"), StaticHandler,
         {"body": SCRIPT, "kind": "text/javascript"}),
        (url_path_join(prefix, "oauth_callback"), CallbackHandler, deps),
    ], cookie_secret=os.urandom(32), xsrf_cookies=True, xsrf_cookie_kwargs=xsrf_cookie_kwargs(),
        hub_auth=hub_auth, compress_response=True)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s")
    settings = load_settings()
    expected = [n for n in os.environ.get("KNS_ADMIN_SERVICES", "").split(",") if n]
    ctx = Context(settings, os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"],
                  native=os.environ.get("KNS_ADMIN_NATIVE", "1") == "1",
                  code_days=int(os.environ.get("KNS_ADMIN_CODE_DAYS", "14")),
                  expected=expected, formgrader=settings["exams"]["course_id"])
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])

    async def run():
        # A body over this is cut off by tornado; up to it, the handler answers in Vietnamese.
        make_app(ctx, prefix).listen(url.port, url.hostname, max_body_size=4 * data.MAX_UPLOAD_BYTES)
        log.info("admin app on %s%s", url.geturl(), prefix)
        await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log.info("admin app stopped")


if __name__ == "__main__":
    main()
