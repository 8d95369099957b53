"""The Vietnamese hub pages (hub_config/templates), rendered without a hub.

The jinja environment is built the way JupyterHub 6.1.1 builds it
(`JupyterHub.init_tornado_settings`): our folder first, then JupyterHub's own
templates, which are also reachable as "templates/<name>". The namespace is the
one `BaseHandler.template_namespace` gives plus, per page, what the handler
passes; `template_vars` are applied with JupyterHub's rule that a callable value
is called with the user. Assertions are on what a person sees: the visible text,
the labels, the banners.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from jupyterhub._data import DATA_FILES_PATH
from jupyterhub.utils import url_path_join

from kynangso.hub.navigation import page_navigation
from kynangso.i18n import catalogue, t

ROOT = Path(__file__).resolve().parents[2]
OURS = ROOT / "hub_config" / "templates"
ORIGINALS = Path(DATA_FILES_PATH) / "templates"
OFFICE = "Văn phòng HĐND và UBND xã Minh Tân"
FORMGRADER = "thi-nang-luc"
# Displayed services as JupyterHub passes them (every one the user may reach), in the hub's order.
SERVICES = [{"name": name, "href": f"/services/{name}/"}
            for name in ("progress", "signing", "exams", FORMGRADER, "admin", "reports")]

# Translated copies of JupyterHub's templates (must keep their structure) and our own pages.
TRANSLATED = [
    "page.html", "login.html", "home.html", "spawn.html", "spawn_pending.html",
    "stop_pending.html", "not_running.html", "error.html", "404.html", "logout.html",
    "token.html", "oauth.html",
]
OWN = ["activate.html", "change-password.html"]

# English UI words of the original pages that must not be seen on ours (case-sensitive,
# whole words). "Token" stays: it is the agreed name of that page.
ENGLISH = [
    "Sign in", "Sign In", "Sign up", "Password", "password", "Username", "Login", "Log in",
    "Logout", "Home", "Admin", "Services", "Start My Server", "Stop My Server", "My Server",
    "Your server", "Server", "server", "Start", "Stop", "Launch", "Relaunch", "start", "stop",
    "Spawn", "Spawning", "Named Servers", "Successfully", "logged out", "moons", "Warning",
    "Error", "Event log", "Complete", "refresh", "Refresh", "requires JavaScript", "Please",
    "Toggle", "Close", "Note", "Permissions", "Never", "Expires", "Created", "Last used",
    "revoke", "delete", "Show password", "Hide password", "Options", "Hour", "Day", "Week",
    "Month", "Year", "Max", "Authorized", "Application", "scopes", "the", "your", "You",
]
# English strings that JupyterHub's inline scripts would put on screen.
ENGLISH_IN_SCRIPTS = [
    "'Stopping...'", "'Stopping server...'", "'Server stopped successfully!'",
    "'Error stopping server'", "'Stop Server'", '"Hide password"', '"Show password"',
]
INPUT_TYPES_WITHOUT_LABEL = {"hidden", "submit", "button", "reset", "image"}


# --- the fake hub objects a handler would pass ------------------------------------------


@dataclass
class FakeSpawner:
    name: str = ""
    active: bool = False
    ready: bool = False
    pending: str | None = None
    display_name: str = ""
    last_activity: datetime | None = None
    options_form: str = ""


@dataclass
class FakeGroup:
    name: str


@dataclass
class FakeUser:
    """The parts of jupyterhub.user.User the templates (and kynangso.hub.navigation) read."""

    name: str
    spawners: dict[str, FakeSpawner] = field(default_factory=lambda: {"": FakeSpawner()})
    admin: bool = False
    groups: list[FakeGroup] = field(default_factory=list)

    @property
    def json_escaped_name(self) -> str:
        return self.name

    @property
    def spawner(self) -> FakeSpawner:
        return self.spawners[""]

    def all_spawners(self, include_default=True):
        return [s for n, s in self.spawners.items() if include_default or n]

    def server_url(self, server_name=""):
        return url_path_join("/user", self.name, server_name, "")


@dataclass
class FakeAuthenticator:
    request_otp: bool = False
    otp_prompt: str = "OTP:"


@dataclass
class FakeToken:
    api_id: str
    note: str
    scopes: list[str]
    last_activity: datetime | None
    created: datetime | None
    expires_at: datetime | None


@dataclass
class FakeOAuthClient:
    description: str
    redirect_uri: str


def static_url(path, include_version=True, **kwargs):
    return "/hub/static/" + path


def environment(folders: list[Path], enable_async: bool = True) -> Environment:
    """A copy of JupyterHub.init_tornado_settings' jinja environment."""
    loader = ChoiceLoader(
        [
            PrefixLoader({"templates": FileSystemLoader([str(ORIGINALS)])}, "/"),
            FileSystemLoader([str(f) for f in folders] + [str(ORIGINALS)]),
        ]
    )
    return Environment(loader=loader, autoescape=True, enable_async=enable_async)


HUB_ENV = environment([OURS])
HUB_ENV_SYNC = environment([OURS], enable_async=False)
ORIGINAL_ENV = environment([])


def template_vars(isolated: bool, demo: bool) -> dict:
    """What the hub configuration passes as JupyterHub.template_vars.

    `t` is wrapped once more because JupyterHub calls every callable value with the user.
    """
    return {
        "t": lambda _user: t,
        "kns_isolated": isolated,
        "kns_demo": demo,
        "kns_office_name": OFFICE,
        "kns_nav": partial(page_navigation, base_url="/", exams="exams", formgrader=FORMGRADER,
                           reports="reports"),
    }


def namespace(user: FakeUser | None, isolated: bool = True, demo: bool = False, **page) -> dict:
    """BaseHandler.render_template's namespace: the common part, template_vars, the page's part."""
    ns = dict(
        base_url="/hub/",
        prefix="/",
        user=user,
        login_url="/hub/login",
        login_service="",
        logout_url="/hub/logout",
        static_url=static_url,
        version_hash="20261126091500",
        services=SERVICES if user else [],
        parsed_scopes={"admin-ui": {}} if user and user.admin else {},
        expanded_scopes=set(),
        xsrf="2|xsrf-token-value",
    )
    ns["xsrf_token"] = ns["xsrf"]
    for key, value in template_vars(isolated, demo).items():
        ns[key] = value(user) if callable(value) else value
    ns.update(page)
    return ns


# --- one realistic context per page state ----------------------------------------------

NOW = datetime(2026, 11, 26, 8, 30)
LEARNER = "hocvien01"
# Messages the platform's handlers pass to the pages (their text lives in login.yaml).
LOGIN_FAILED = "Tên đăng nhập hoặc mật khẩu không đúng."
BAD_CODE = "Mã kích hoạt không đúng hoặc đã hết hạn."
ACTIVATED = "Tài khoản đã được kích hoạt."
OLD_PASSWORD_WRONG = "Mật khẩu hiện tại không đúng."
PASSWORD_CHANGED = "Đã đổi mật khẩu."


def learner(active=False, pending=None, named=False):
    spawners = {"": FakeSpawner(active=active, ready=active and not pending, pending=pending)}
    if named:
        spawners["thuc-hanh"] = FakeSpawner(name="thuc-hanh", active=True, ready=True, last_activity=NOW)
        spawners["on-tap"] = FakeSpawner(name="on-tap")
    return FakeUser(LEARNER, spawners, groups=[FakeGroup("hocvien")])


def staff(name: str, group: str, admin: bool = False) -> FakeUser:
    return FakeUser(name, admin=admin, groups=[FakeGroup(group)])


def login_page(**kw):
    page = dict(user=None, next="", username="", login_error=None,
                authenticator_login_url="/hub/login?next=", authenticator=FakeAuthenticator(),
                custom_html="")
    page.update(kw)
    return page


def home_page(user, allow_named=False):
    return dict(user=user, url="/hub/spawn/" + user.name, allow_named_servers=allow_named,
                named_server_limit_per_user=2, url_path_join=url_path_join,
                spawners=user.spawners, default_server=user.spawner, invalid_server_names=[])


def error_page(code, status, message=""):
    return dict(user=learner(), status_code=code, status_message=status, message=message,
                message_html="", extra_error_html="", exception=None)


def token_page(max_seconds=0, user=None):
    """An instructor's token page (learners get a sentence instead), with JupyterHub's own notes."""
    token = FakeToken("a1", "Sổ tay dữ liệu", ["read:users!user=giangvien01"], NOW, NOW, None)
    server = FakeToken("a2", "Server at /user/giangvien01/", ["access:servers"], NOW, NOW, None)
    client = {"token_id": "o1", "description": "Server at /user/giangvien01/",
              "last_activity": None, "created": NOW, "tokens": [token]}
    service = {"token_id": "o2", "description": "JupyterHub service reports",
               "last_activity": None, "created": NOW, "tokens": [token]}
    return dict(user=user or staff("giangvien01", "giangvien"), api_tokens=[token, server],
                oauth_clients=[client, service],
                token_expires_in_options_html="", token_expires_in_max_seconds=max_seconds)


SPAWN_FORM = (
    '<label for="kns-course">Khóa học</label>'
    '<select id="kns-course" name="course"><option>Văn bản hành chính</option></select>'
)

CASES = {
    "login": ("login.html", login_page()),
    "login-error": ("login.html", login_page(username="hocvien01",
                                             login_error=LOGIN_FAILED)),
    "login-terms": ("login.html", login_page(login_term_url="/hub/dieu-khoan")),
    "home-stopped": ("home.html", home_page(learner())),
    "home-running": ("home.html", home_page(learner(active=True))),
    "home-named": ("home.html", home_page(learner(active=True, named=True), allow_named=True)),
    "spawn": ("spawn.html", dict(user=learner(), for_user=learner(), spawner_options_form=SPAWN_FORM,
                                 error_message=None, url="/hub/spawn/hocvien01?_xsrf=x")),
    "spawn-error": ("spawn.html", dict(user=learner(), for_user=learner(),
                                       spawner_options_form=SPAWN_FORM,
                                       error_message="Hết dung lượng ổ đĩa.", url="/hub/spawn")),
    "spawn_pending": ("spawn_pending.html", dict(user=learner(active=True, pending="spawn"),
                                                 spawner=FakeSpawner(active=True, pending="spawn"),
                                                 progress_url="/hub/api/users/hocvien01/server/progress")),
    "stop_pending": ("stop_pending.html", dict(user=learner(active=True, pending="stop"),
                                               spawner=FakeSpawner(active=True, pending="stop"),
                                               progress_url="/hub/api/users/hocvien01/server/progress")),
    "not_running": ("not_running.html", dict(user=learner(), server_name="",
                                             spawn_url="/hub/spawn/hocvien01")),
    "not_running-implicit": ("not_running.html", dict(user=learner(), server_name="thuc-hanh",
                                                      spawn_url="/hub/spawn/hocvien01/thuc-hanh",
                                                      implicit_spawn_seconds=5)),
    "not_running-failed": ("not_running.html", dict(user=learner(), server_name="", failed=True,
                                                    failed_message="Hết thời gian chờ.",
                                                    spawn_url="/hub/spawn/hocvien01")),
    "error-403": ("error.html", error_page(403, "Forbidden")),
    "error-404": ("404.html", error_page(404, "Not Found")),
    "error-500": ("error.html", error_page(500, "Internal Server Error")),
    "error-503": ("error.html", error_page(503, "Service Unavailable")),
    "error-418": ("error.html", error_page(418, "I'm a Teapot")),
    "logout": ("logout.html", dict(user=None)),
    "token": ("token.html", token_page()),
    "token-learner": ("token.html", token_page(user=learner())),
    "oauth": ("oauth.html", dict(
        user=learner(),
        oauth_client=FakeOAuthClient("Báo cáo kết quả học tập", "/services/reports/oauth_callback"),
        allowed_scopes=["identify"],
        scope_descriptions=[{"scope": None, "description": "Identify the user.", "filter": ""}])),
    "activate": ("activate.html", dict(user=None, min_password_length=10)),
    "activate-error": ("activate.html", dict(user=None, min_password_length=10, username="hocvien01",
                                             activate_error=BAD_CODE)),
    "activate-ok": ("activate.html", dict(user=None, min_password_length=10,
                                          activate_ok=ACTIVATED)),
    "change-password": ("change-password.html", dict(user=learner(), min_password_length=10)),
    "change-password-error": ("change-password.html", dict(user=learner(), min_password_length=10,
                                                           change_error=OLD_PASSWORD_WRONG)),
    "change-password-ok": ("change-password.html", dict(user=learner(), min_password_length=10,
                                                        change_ok=PASSWORD_CHANGED)),
}


def render(name: str, isolated: bool = True, demo: bool = False, env: Environment = HUB_ENV,
           **page) -> str:
    ns = namespace(page.pop("user", None), isolated, demo, **page)
    template = env.get_template(name)
    if env.is_async:
        return asyncio.run(template.render_async(**ns))
    return template.render(**ns)


def render_case(case: str, **kw) -> str:
    name, page = CASES[case]
    return render(name, **kw, **page)


class Page(HTMLParser):
    """What a person sees (text, tooltips, button captions) and the elements, from HTML."""

    TEXT_ATTRS = ("title", "alt", "aria-label", "placeholder")

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self._hidden_depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        self.elements.append((tag, attrs))
        if tag in ("script", "style"):
            self._hidden_depth += 1
        self.texts.extend(attrs[a] for a in self.TEXT_ATTRS if attrs.get(a))
        if tag == "input" and attrs.get("type") in ("submit", "button"):
            self.texts.append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden_depth -= 1

    def handle_data(self, data):
        if not self._hidden_depth and data.strip():
            self.texts.append(" ".join(data.split()))

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def find(self, tag=None, **attrs) -> list[dict]:
        return [a for t_, a in self.elements
                if (tag is None or t_ == tag) and all(a.get(k) == v for k, v in attrs.items())]

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.elements if a.get("id")}


# --- every page -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_page_is_vietnamese(case):
    """Does the page render, say lang="vi", and show no English UI words?"""
    html = render_case(case)
    assert '<html lang="vi">' in html
    page = Page(html)
    found = [w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", page.text)]
    assert not found, f"{case}: English on screen: {found}\n{page.text}"
    assert not [s for s in ENGLISH_IN_SCRIPTS if s in html]
    assert t("hub.brand") in page.text


@pytest.mark.parametrize("case", CASES)
def test_isolation_banner_iff_not_isolated(case):
    """Is the not-isolated warning at the top of the page exactly when kns_isolated is False?"""
    warning = t("core.not_isolated")
    unsafe = render_case(case, isolated=False)
    assert warning in Page(unsafe).text
    # "at the top": before the navigation bar.
    assert unsafe.index('id="kns-not-isolated"') < unsafe.index("<nav")
    safe = render_case(case, isolated=True)
    assert warning not in Page(safe).text
    assert 'id="kns-not-isolated"' not in safe


def test_missing_isolation_flag_warns():
    """If the hub forgets to pass kns_isolated, is the warning shown rather than hidden?"""
    page = login_page()
    ns = namespace(page.pop("user"), **page)
    del ns["kns_isolated"]
    html = asyncio.run(HUB_ENV.get_template("login.html").render_async(**ns))
    assert t("core.not_isolated") in Page(html).text


@pytest.mark.parametrize("case", ["login", "home-stopped", "error-500"])
def test_demo_banner_iff_demo(case):
    """Is the demo-data banner shown on demo data only?"""
    assert t("core.demo_banner") in Page(render_case(case, demo=True)).text
    assert t("core.demo_banner") not in Page(render_case(case, demo=False)).text


@pytest.mark.parametrize("case", ["login", "home-stopped", "activate"])
def test_office_name_in_title_and_header(case):
    """Is the office named next to "Kỹ Năng Số" in the window title and in the header?"""
    html = render_case(case)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert t("hub.brand") in title and OFFICE in title
    header = html[html.index('id="kns-brand"'):]
    header = header[: header.index("</span>\n")]
    assert t("hub.brand") in header and OFFICE in header


@pytest.mark.parametrize("case", CASES)
def test_every_input_has_a_label(case):
    """Does every visible <input> have a <label for> (and every label a field)?"""
    page = Page(render_case(case))
    label_targets = {a.get("for") for a in page.find("label")}
    unlabelled = [a for a in page.find("input")
                  if a.get("type", "text") not in INPUT_TYPES_WITHOUT_LABEL
                  and a.get("id") not in label_targets]
    assert not unlabelled, unlabelled
    assert label_targets <= page.ids(), label_targets - page.ids()


@pytest.mark.parametrize("case", CASES)
def test_sync_rendering_matches(case):
    """Does the page render the same without async (JupyterHub renders error pages that way)?"""
    assert render_case(case, env=HUB_ENV_SYNC) == render_case(case)


# --- same structure as JupyterHub's pages -----------------------------------------------

# The learner's token page is deliberately not JupyterHub's (no form, no token list).
STRUCTURE_CASES = [c for c, (name, _) in CASES.items() if name in TRANSLATED and c != "token-learner"]


@pytest.mark.parametrize("case", STRUCTURE_CASES)
def test_keeps_ids_names_and_classes_of_the_original(case):
    """Are all ids, form field names and classes of JupyterHub's page still there (its JS needs them)?"""
    name, page = CASES[case]
    ours = Page(render(name, **page))
    original = Page(render(name, env=ORIGINAL_ENV, **page))
    assert original.ids() <= ours.ids(), original.ids() - ours.ids()

    def names(p):
        return {a["name"] for _, a in p.elements if a.get("name")}

    def classes(p):
        return {c for _, a in p.elements for c in a.get("class", "").split()}

    assert names(original) <= names(ours), names(original) - names(ours)
    assert classes(original) <= classes(ours), classes(original) - classes(ours)


REQUIRE_RE = re.compile(r"require\(\[[^\]]*\]")
SCRIPT_SRC_RE = re.compile(r'<script src="([^"]+)"')


@pytest.mark.parametrize("case", STRUCTURE_CASES)
def test_loads_the_same_scripts(case):
    """Are JupyterHub's script files and page modules (home, token, jhapi…) still loaded?"""
    name, page = CASES[case]
    ours = render(name, **page)
    original = render(name, env=ORIGINAL_ENV, **page)
    for pattern in (REQUIRE_RE, SCRIPT_SRC_RE):
        missing = set(pattern.findall(original)) - set(pattern.findall(ours))
        assert not missing, missing


BLOCK_RE = re.compile(r"{%-?\s*block\s+(\w+)")


@pytest.mark.parametrize("name", TRANSLATED)
def test_keeps_every_block(name):
    """Can everything that extends JupyterHub's template still override the same blocks?"""
    original = set(BLOCK_RE.findall((ORIGINALS / name).read_text(encoding="utf-8")))
    ours = set(BLOCK_RE.findall((OURS / name).read_text(encoding="utf-8")))
    assert original <= ours, original - ours


def test_error_dialog_keeps_its_id():
    """Does utils.js still find #error-dialog although the dialog's title is Vietnamese?"""
    page = Page(render_case("home-stopped"))
    assert page.find("div", id="error-dialog")
    assert t("hub.error_dialog_title") in page.text


# --- the catalogue ----------------------------------------------------------------------

KEY_IN_TEMPLATE = re.compile(r"""['"]((?:hub|core)\.[a-z0-9_]+)['"]""")


def template_keys() -> dict[str, set[str]]:
    return {p.name: set(KEY_IN_TEMPLATE.findall(p.read_text(encoding="utf-8")))
            for p in sorted(OURS.glob("*.html"))}


def test_every_key_used_in_templates_exists():
    """Is every catalogue key that a template names present in the catalogue?"""
    messages = catalogue()
    missing = {name: sorted(k for k in keys if k not in messages)
               for name, keys in template_keys().items()}
    assert not any(missing.values()), missing
    assert sum(len(k) for k in template_keys().values()) > 100  # the grep really finds them


def test_every_hub_message_is_used():
    """Is every hub.* message used by a template or by the platform's Python code?"""
    used = set().union(*template_keys().values())
    for folder in ("kynangso", "hub_config"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(KEY_IN_TEMPLATE.findall(path.read_text(encoding="utf-8")))
    unused = sorted(k for k in catalogue() if k.startswith("hub.") and k not in used)
    assert not unused, unused


# --- page by page -----------------------------------------------------------------------


def test_login_page():
    """Does the login page ask for the Vietnamese fields and offer only the activation link?"""
    html = render_case("login")
    page = Page(html)
    for key in ("login_heading", "login_username", "login_password", "login_show_password",
                "login_insecure", "login_first_time", "login_activate_link"):
        assert t(f"hub.{key}") in page.text, key
    assert page.find("input", type="submit", value=t("hub.login_submit"))
    assert page.find("form", action="/hub/login?next=", method="post")
    links = re.search(r'<p id="kns-login-links".*?</p>', html, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', links) == ["/hub/activate"]
    assert "signup" not in html
    assert json.dumps(t("hub.login_hide_password")) in html  # for the show/hide script


def test_login_error_and_terms():
    """Are the refusal message and the terms checkbox shown in Vietnamese?"""
    assert LOGIN_FAILED in Page(render_case("login-error")).text
    terms = Page(render_case("login-terms")).text
    assert t("hub.login_terms_before") in terms and t("hub.login_terms_link") in terms


def test_home_buttons():
    """Is the learner offered "Mở không gian học tập", and "Dừng" once it runs?"""
    stopped = Page(render_case("home-stopped"))
    assert t("hub.home_start") in stopped.text
    assert not stopped.find("a", id="stop")
    running = Page(render_case("home-running"))
    assert t("hub.home_stop") in running.text and running.find("a", id="stop")
    assert t("hub.home_open") in running.text
    for key in ("nav_home", "logout", "nav_change_password"):
        assert t(f"hub.{key}") in running.text, key
    assert t("hub.nav_admin") not in running.text
    assert t("hub.nav_token") not in running.text  # tokens are for staff
    instructor = Page(render("home.html", **home_page(staff("giangvien01", "giangvien"))))
    assert t("hub.nav_token") in instructor.text


def test_home_admin_link():
    """Does an administrator see "Quản trị" in the navigation?"""
    admin = FakeUser("quantri", admin=True)
    assert t("hub.nav_admin") in Page(render("home.html", **home_page(admin))).text


def test_home_named_servers_table():
    """Are the named-server table headers and actions Vietnamese?"""
    text = Page(render_case("home-named")).text
    for key in ("named_heading", "named_th_name", "named_th_url", "named_th_activity",
                "named_th_actions", "named_add", "named_stop", "named_start", "named_delete"):
        assert t(f"hub.{key}") in text, key
    assert t("hub.named_intro_limited", limit=2) in text


def test_spawn_pending_and_stop_pending():
    """Do the waiting pages say in Vietnamese what is happening?"""
    text = Page(render_case("spawn_pending")).text
    assert t("hub.spawn_pending_starting") in text and t("hub.spawn_pending_log") in text
    html = render_case("spawn_pending")
    assert json.dumps(t("hub.spawn_pending_stopping")) in html  # a JS literal
    assert t("hub.stop_pending_stopping") in Page(render_case("stop_pending")).text


def test_not_running_pages():
    """Does the not-running page distinguish a failed start, with the failure's message?"""
    text = Page(render_case("not_running-failed")).text
    assert t("hub.spawn_failed_heading") in text and "Hết thời gian chờ." in text
    assert t("hub.relaunch") in text
    named = Page(render_case("not_running-implicit")).text
    assert t("hub.not_running_named", name="thuc-hanh") in named
    assert t("hub.not_running_implicit") in named


@pytest.mark.parametrize("code", [403, 404, 500, 503])
def test_error_pages_explain_common_codes(code):
    """Does an error page say what happened and what to do, keeping the hub's message?"""
    name, page = CASES[f"error-{code}"]
    text = Page(render(name, **{**page, "message": "chi tiết từ máy chủ"})).text
    assert t(f"hub.error_{code}_title") in text
    assert t(f"hub.error_{code}_help") in text
    assert str(code) in text and "chi tiết từ máy chủ" in text


def test_error_page_keeps_our_reason_not_upstream_english():
    """Is a Vietnamese reason from our own code kept as the detail, once, while JupyterHub's
    English reason (the status line often repeats the message) stays off the page (issue 12)?"""
    english = "You do not have permission to access JupyterHub service reports"
    text = Page(render("error.html", **error_page(403, english, message=english))).text
    assert t("hub.error_403_title") in text and "permission" not in text
    assert t("hub.error_detail") not in text  # no empty "technical detail" heading
    ours = "Bài thi «tong-hop» hiện không mở cho nhóm của Anh/Chị."
    text = Page(render("error.html", **error_page(403, ours, message=ours))).text
    assert text.count(ours) == 1


def test_error_page_other_code():
    """Does an uncommon code still get a Vietnamese title and sentence with the code?"""
    text = Page(render_case("error-418")).text
    assert t("hub.error_other_help", code=418) in text
    assert t("hub.error_other_title") in text and "Teapot" not in text


def menu(user: FakeUser) -> list[tuple[str, str]]:
    page = Page(render("home.html", **home_page(user)))
    return [(a["href"], a.get("class")) for a in page.find("a") if a.get("class") == "dropdown-item"]


@pytest.mark.parametrize(("user", "expected"), [
    (learner(), [("/services/exams/", "hub.menu_exams_learner")]),
    (staff("giangvien01", "giangvien"), [("/services/exams/", "hub.menu_exams_desk"),
                                         (f"/services/{FORMGRADER}/", "hub.menu_formgrader")]),
    (staff("nhansu01", "nhansu"), [("/services/reports/", "hub.menu_reports")]),
    (staff("quantri", "quantri", admin=True), [("/services/exams/", "hub.menu_exams_desk"),
                                                (f"/services/{FORMGRADER}/", "hub.menu_formgrader"),
                                                ("/services/admin/", "hub.menu_admin_app"),
                                                ("/services/reports/", "hub.menu_reports")]),
], ids=["learner", "instructor", "hr", "admin"])
def test_services_menu_by_role(user, expected):
    """Does the services menu list only the role's services, by Vietnamese name, never the
    servers' JSON APIs (progress, signing), and the home page link to the role's pages?"""
    html = render("home.html", **home_page(user))
    items = re.findall(r'<a class="dropdown-item" href="([^"]+)">([^<]*)</a>', html)
    assert items == [(href, t(key)) for href, key in expected]
    assert "/services/progress/" not in html and "/services/signing/" not in html
    links = {a["id"]: a["href"] for a in Page(html).find("a") if a.get("id", "").startswith("kns-link-")}
    if user.name == LEARNER:
        assert links == {"kns-link-course": "/hub/spawn/" + LEARNER}
    else:
        assert set(links.values()) == {href for href, _ in expected}


def test_token_page_not_for_learners():
    """Does a learner get a sentence and the way home, with no token form and nothing to revoke?"""
    page = Page(render_case("token-learner"))
    assert t("hub.token_not_for_learners") in page.text
    assert not page.find("form", id="request-token-form")
    assert t("hub.token_revoke") not in page.text


def test_token_notes_of_jupyterhub_in_vietnamese():
    """Are JupyterHub's own token notes and client names ("Server at …", "JupyterHub service …")
    shown in Vietnamese on the staff's token page?"""
    text = Page(render_case("token")).text
    assert "Server at" not in text and "JupyterHub service" not in text
    assert t("hub.token_note_server", url="/user/giangvien01/") in text
    assert t("hub.token_note_service", name="reports") in text  # an instructor has no reports menu


def test_spawn_progress_events_in_vietnamese():
    """Does the spawn-pending page turn JupyterHub's English progress events into Vietnamese?"""
    html = render_case("spawn_pending")
    for key in ("requested", "starting", "ready", "failed", "other"):
        assert json.dumps(t(f"hub.spawn_progress_{key}")) in html, key
    assert '"Server requested"' in html and '"Spawning server..."' in html


def test_token_expiry_choices_follow_the_hub_limit():
    """Are the token expiry choices JupyterHub's, in Vietnamese, with the last one selected?"""

    def options(max_seconds):
        page = Page(render("token.html", **token_page(max_seconds)))
        opts = page.find("option")
        html = render("token.html", **token_page(max_seconds))
        labels = re.findall(r"<option [^>]*>([^<]*)</option>", html)
        return [(o["value"], label, "selected" in o)
                for o, label in zip(opts, labels, strict=True)]

    unlimited = options(0)
    assert [label for _, label, _ in unlimited][-1] == t("hub.token_expires_never")
    assert len(unlimited) == 6 and unlimited[-1][2] and not unlimited[0][2]
    week = options(7 * 86400)
    assert [v for v, _, _ in week] == ["3600", "86400", "604800"] and week[-1][2]
    two_days = options(2 * 86400)
    assert two_days[-1][:2] == ("", t("hub.token_expires_max_hours", n="48"))
    ninety = options(90 * 86400)
    assert ninety[-1][:2] == ("", t("hub.token_expires_max_days", n="90"))


def form_fields(page: Page) -> set[str]:
    return {a["name"] for t_, a in page.elements if t_ in ("input", "select") and a.get("name")}


def test_activate_form():
    """Does the activation form post the agreed fields, with the password rule explained?"""
    page = Page(render_case("activate"))
    assert page.find("form", method="post", action="/hub/activate")
    assert form_fields(page) == {"_xsrf", "username", "code", "password", "password_confirmation"}
    assert page.find("input", name="_xsrf", type="hidden", value="2|xsrf-token-value")
    assert page.find("input", name="password", minlength="10")
    assert t("hub.password_policy_length", min_length=10) in page.text
    assert t("hub.activate_code_help") in page.text


def test_activate_messages():
    """Is a refusal shown as a red alert (name kept) and success as green with a login link?"""
    error = Page(render_case("activate-error"))
    assert BAD_CODE in error.text
    assert error.find("div", id="kns-activate-error", role="alert")
    assert error.find("input", name="username", value="hocvien01")
    ok_html = render_case("activate-ok")
    ok = Page(ok_html)
    alert = ok_html[ok_html.index('id="kns-activate-ok"'):]
    assert "alert-success" in ok_html and ACTIVATED in ok.text
    assert 'href="/hub/login"' in alert[: alert.index("</div>")]
    assert not ok.find("form")


def test_change_password_form():
    """Does the change-password form post the agreed fields and show both outcomes?"""
    page = Page(render_case("change-password"))
    assert page.find("form", method="post", action="/hub/change-password")
    assert {"_xsrf", "old_password", "password", "password_confirmation"} <= form_fields(page)
    assert t("hub.password_policy_length", min_length=10) in page.text
    error = Page(render_case("change-password-error"))
    assert error.find("div", id="kns-change-error") and OLD_PASSWORD_WRONG in error.text
    ok = Page(render_case("change-password-ok"))
    assert ok.find("div", id="kns-change-ok") and PASSWORD_CHANGED in ok.text
