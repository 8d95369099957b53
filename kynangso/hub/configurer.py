"""Hub configuration from the platform settings (the TLJH configurer pattern).

`apply_config(settings, c, env)` is a pure function: everything it needs from the
machine (are we root, where is the proxy, which groups exist) comes in `env`, made
by `prepare_environment`, which is the only part with side effects. Tests call
`apply_config` with a plain `traitlets.config.Config()`.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import pwd
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path

from kynangso.admin import ACCESS_SCOPE as ADMIN_SCOPE
from kynangso.admin import SERVICE_NAME as ADMIN_SERVICE
from kynangso.exams import MANAGE_SCOPE
from kynangso.exams import SERVICE_NAME as EXAMS_SERVICE
from kynangso.hub import COOKIE_OPTIONS, service_url
from kynangso.hub.auth import directory_post_auth_hook
from kynangso.hub.landing import ADVANCED_GROUP, LEARNER_GROUP
from kynangso.hub.navigation import landing_url, page_navigation
from kynangso.hub.service_layout import PROXY as PROXY_ACCOUNT
from kynangso.i18n import t
from kynangso.models import ROLES
from kynangso.progress import READ_OTHERS_SCOPE
from kynangso.settings import Settings, isolation_enabled

log = logging.getLogger("kns.hub")

# Scopes per role group. Learners get JupyterHub's default `user` role (their own
# server only); nobody but `quantri` is a hub admin. Service access for
# instructors (formgrader) and HR (reports) is granted where those services are
# defined.
ROLE_SCOPES: dict[str, list[str]] = {
    "giangvien": ["read:users:name", "read:groups:name", "list:users", "list:groups"],
    "nhansu": [],
}

EXTERNAL_AUTHENTICATORS = {
    "ldap": "ldapauthenticator.LDAPAuthenticator",
    "oidc": "oauthenticator.generic.GenericOAuthenticator",
}

SYNC_SERVICE = "kns-sync"
PROGRESS_SERVICE = "progress"
SIGNING_SERVICE = "signing"
CULLER_SERVICE = "jupyterhub-idle-culler"
EXAMS_WORKER = "exams-worker"  # the grading worker: no URL, the grader account
REPORTS_SERVICE = "reports"  # reports.service.SERVICE_NAME (the core does not import reports)
# On an isolated hub progress, signing, reports and the culler run as their own system accounts,
# made and given their folders by kynangso.hub.service_layout; the exam desk's is set in _apply_exams.


@dataclass(frozen=True)
class HubEnvironment:
    """Facts about the machine that the configuration depends on."""

    is_root: bool
    templates_dir: Path
    proxy_command: list[str]
    python: str = sys.executable
    user_env_prefix: str = sys.prefix
    userconfig_dir: str = str(resources.files("kynangso.hub") / "userconfig")
    sync_token: str = ""
    settings_file: str | None = None
    courses_source: str = ""
    exams_course: str = ""  # the exam course folder (made by prepare_environment)
    graderconfig_dir: str = str(resources.files("kynangso.hub") / "graderconfig")
    groups: dict[str, list[str]] = field(default_factory=dict)
    # Isolated hub only: service name -> its Unix account and its private folder (cwd, HOME).
    service_users: dict[str, str] = field(default_factory=dict)
    service_dirs: dict[str, str] = field(default_factory=dict)
    # Isolated hub only: the settings as the services may read them (no `auth` secrets).
    services_settings_file: str | None = None
    # Isolated hub only: the exam gradebooks the reports service reads (KNS_REPORTS_GRADEBOOKS).
    reports_gradebooks: list[dict] = field(default_factory=list)
    # spawner kubernetes: the hub services and roles the z2jh chart configured before us (each
    # service with the API token the chart made for it, and the chart's idle culler).
    chart_services: list[dict] = field(default_factory=list)
    chart_roles: list[dict] = field(default_factory=list)

    def isolated(self, settings: Settings) -> bool:
        return isolation_enabled(settings, self.is_root)


def service_options(settings: Settings, env: HubEnvironment, name: str) -> dict:
    """What a managed service's entry needs to run as its own account: `user`, `cwd` (its
    private folder) and the `environment` every platform service gets. No secret goes here:
    the hub hands each service its token in the environment (JUPYTERHUB_API_TOKEN)."""
    isolated = env.isolated(settings)
    settings_file = env.services_settings_file if isolated else env.settings_file
    environment = {"KNS_STATE_DIR": str(settings.state_dir), "KNS_ISOLATED": "1" if isolated else "0",
                   # HubOAuth's login cookie (and its OAuth state cookie): SameSite
                   "JUPYTERHUB_COOKIE_OPTIONS": json.dumps(COOKIE_OPTIONS),
                   **({"KNS_SETTINGS": settings_file} if settings_file else {})}
    options: dict = {"environment": environment}
    if name in env.service_users:
        options["user"] = env.service_users[name]
        options["cwd"] = env.service_dirs[name]
    return options


SETPRIV = "/usr/bin/setpriv"  # util-linux: exec (same pid, so the hub still stops it), no fork


def world_readable(path: str) -> bool:
    """Can any account read `path` (every folder above it searchable by others)?"""
    real = Path(path).resolve()
    try:
        if not os.stat(real).st_mode & 0o004:
            return False
        return all(os.stat(parent).st_mode & 0o001 for parent in real.parents)
    except OSError:
        return False


def proxy_command(settings: Settings, env: HubEnvironment) -> list[str]:
    """configurable-http-proxy, as its own account with no capability on an isolated hub.

    The proxy reads no file of the platform and gets its token in the environment, so it needs
    no right of root's. It stays root's (with a log line saying why) only where it cannot do its
    job otherwise: a port below 1024, or a proxy installed where other accounts cannot read it
    (the checkout's node_modules, else configurable-http-proxy on PATH, e.g. `npm install -g`).
    """
    command = list(env.proxy_command)
    account = env.service_users.get(PROXY_ACCOUNT)
    if not account or not os.path.exists(SETPRIV):
        return command
    script = shutil.which(command[0]) or command[0]
    if settings["hub"]["port"] < 1024:
        log.warning(
            "proxy runs as root: port %s is below 1024 (put a TLS front end on 443 instead)",
            settings["hub"]["port"])
        return command
    if not world_readable(script):  # e.g. the checkout closed to other accounts (0700)
        installed = shutil.which("configurable-http-proxy")
        if not installed or not world_readable(installed):
            log.warning("proxy runs as root: %s is not readable by its account %s (install "
                        "configurable-http-proxy where every account can read it)", script, account)
            return command
        command = [installed, *command[1:]]
    entry = pwd.getpwnam(account)
    return [SETPRIV, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *command]


def apply_config(settings: Settings, c, env: HubEnvironment) -> None:
    """Write the hub configuration for `settings` into the traitlets config `c`."""
    hub = settings["hub"]
    isolated = env.isolated(settings)
    kubernetes = settings["spawner"] == "kubernetes"
    if not kubernetes:  # under the z2jh chart, the chart's values own these (docs/deploy.md)
        _apply_process(settings, c, env)
    # The hub's cookies and its XSRF cookie; the hub hands the same options to users' servers.
    # compress_response: gzip for every page and static file (slow office links, issue 12).
    tornado = c.JupyterHub.tornado_settings if "tornado_settings" in c.JupyterHub else {}
    c.JupyterHub.tornado_settings = {**tornado, "cookie_options": dict(COOKIE_OPTIONS), "compress_response": True}

    # Vietnamese pages. JupyterHub calls callables in template_vars with the
    # user, so the translation function is wrapped once more.
    c.JupyterHub.template_paths = [str(env.templates_dir)]
    c.JupyterHub.template_vars = {
        "t": lambda _user: t,
        "kns_isolated": isolated,
        "kns_demo": bool(settings["office"].get("demo")),
        "kns_office_name": settings["office"]["name"],
        # Per user: the services menu and home links of their role (kynangso.hub.navigation).
        "kns_nav": partial(page_navigation, base_url=hub["base_url"].rstrip("/") + "/",
                           exams=EXAMS_SERVICE, formgrader=settings["exams"]["course_id"],
                           reports=REPORTS_SERVICE, admin_app=ADMIN_SERVICE),
    }
    # Admins, instructors and HR land on their role's app after login; learners on their own
    # server (kynangso.hub.navigation.landing_url).
    c.JupyterHub.default_url = partial(landing_url, base_url=hub["base_url"].rstrip("/") + "/",
                                       admin_app=ADMIN_SERVICE)

    _apply_auth(settings, c, env)
    if kubernetes:
        from kynangso.hub import kubernetes as kube

        kube.apply_spawner(settings, c, env)
    else:
        _apply_spawner(settings, c, env, isolated)
    _apply_services(settings, c, env)
    if kubernetes:
        kube.finish(c, env, culler=CULLER_SERVICE, reserved=(REPORTS_SERVICE,))


def _apply_process(settings: Settings, c, env: HubEnvironment) -> None:
    """Where the hub and its proxy listen, its database and secrets, how many servers start at
    once (one machine; under the z2jh chart its values say all this)."""
    hub = settings["hub"]
    state = settings.state_dir / "hub"
    c.JupyterHub.ip = hub["ip"]
    c.JupyterHub.port = hub["port"]
    c.JupyterHub.base_url = hub["base_url"]
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = hub["api_port"]
    c.JupyterHub.db_url = settings.hub_db_url
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.concurrent_spawn_limit = hub["concurrent_spawn_limit"]
    c.JupyterHub.cleanup_servers = True
    c.ConfigurableHTTPProxy.command = proxy_command(settings, env)
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub['proxy_api_port']}"
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")


def _apply_auth(settings: Settings, c, env: HubEnvironment) -> None:
    auth = settings["auth"]
    c.Authenticator.admin_users = set(settings["hub"]["admin_users"])
    c.Authenticator.allow_all = False
    if auth["type"] == "native":
        native = auth["native"]
        c.JupyterHub.authenticator_class = "kynangso.hub.auth.StaffAuthenticator"
        c.StaffAuthenticator.platform_db_url = settings.database_url
        c.StaffAuthenticator.minimum_password_length = native["minimum_password_length"]
        c.StaffAuthenticator.check_common_password = native["check_common_password"]
        c.StaffAuthenticator.allowed_failed_logins = native["allowed_failed_logins"]
        c.StaffAuthenticator.seconds_before_next_try = native["seconds_before_next_try"]
    else:
        # LDAP / OIDC check the password; the directory still decides who may
        # enter and who is admin (post_auth_hook), so allow_all is safe here.
        section = getattr(c, EXTERNAL_AUTHENTICATORS[auth["type"]].rsplit(".", 1)[1])
        c.JupyterHub.authenticator_class = EXTERNAL_AUTHENTICATORS[auth["type"]]
        for key, value in auth.get(auth["type"], {}).items():
            setattr(section, key, value)
        c.Authenticator.allow_all = True
        c.Authenticator.post_auth_hook = partial(directory_post_auth_hook, settings.database_url)
    # Role groups come from the staff directory; they exist even when empty so
    # that roles can name them.
    c.JupyterHub.load_groups = {name: {"users": sorted(env.groups.get(name, []))} for name in ROLES}
    # Learners who keep JupyterLab (kynangso.hub.landing). load_groups only adds members, so
    # those added on the hub's admin page stay.
    c.JupyterHub.load_groups[ADVANCED_GROUP] = {"users": sorted(settings["lab"]["advanced_learners"])}
    c.JupyterHub.load_roles = [
        {"name": f"kns-{group}", "groups": [group], "scopes": scopes}
        for group, scopes in ROLE_SCOPES.items()
        if scopes
    ]


def _apply_spawner(settings: Settings, c, env: HubEnvironment, isolated: bool) -> None:
    iso = settings["isolation"]
    folder = settings["lab"]["courses_folder"]
    prefix = iso["user_env"] or env.user_env_prefix
    if isolated:
        c.JupyterHub.spawner_class = "kynangso.hub.spawner.UnixUserSpawner"
        c.UnixUserSpawner.user_prefix = iso["user_prefix"]
        c.UnixUserSpawner.home_root = iso["home_root"]
        c.UnixUserSpawner.exam_db_url = settings.database_url  # exam mode (kynangso.hub.spawner)
        c.UnixUserSpawner.courses_folder = folder
        c.UnixUserSpawner.courses_source = env.courses_source
    else:
        c.JupyterHub.spawner_class = "kynangso.hub.spawner.NonIsolatedSpawner"
        c.NonIsolatedSpawner.home_dir_template = str(settings.state_dir / "homes" / "{username}")
        c.NonIsolatedSpawner.courses_folder = folder
        c.NonIsolatedSpawner.courses_source = env.courses_source
        if env.is_root:  # isolation turned off by hand on a root hub: servers run as root
            c.Spawner.args = ["--allow-root"]
    c.Spawner.cmd = [os.path.join(prefix, "bin", "kns-singleuser")]  # kynangso.hub.singleuser
    # Staff and advanced learners; other learners land on their app (kynangso.hub.landing).
    c.Spawner.default_url = f"/lab/tree/{folder}"
    c.Spawner.environment = {
        "JUPYTER_CONFIG_PATH": env.userconfig_dir,
        "PATH": f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    # Account creation plus a JupyterLab start on a busy 2-core machine.
    c.Spawner.start_timeout = 180
    c.Spawner.http_timeout = 120


def _apply_services(settings: Settings, c, env: HubEnvironment) -> None:
    services, roles = [], []
    # Course progress: every user may reach it (it only ever shows them their
    # own events); instructors and HR may also read others'.
    progress_url = service_url(settings, PROGRESS_SERVICE, "progress_port")
    services.append(
        {
            "name": PROGRESS_SERVICE,
            "url": progress_url,
            "command": [env.python, "-m", "kynangso.progress.service"],
            "oauth_no_confirm": True,
            "display": False,  # a JSON API for the servers, not a page for people
            **service_options(settings, env, PROGRESS_SERVICE),
        }
    )
    # The training CA: learners request, renew and fetch their own certificate.
    signing_url = service_url(settings, SIGNING_SERVICE, "signing_port")
    services.append(
        {
            "name": SIGNING_SERVICE,
            "url": signing_url,
            "command": [env.python, "-m", "sandbox.signing.service"],
            "oauth_no_confirm": True,
            "display": False,  # a JSON API for the servers, not a page for people
            **service_options(settings, env, SIGNING_SERVICE),
        }
    )
    exams_url = _apply_exams(settings, services, roles, env)
    everyone = [f"access:services!service={name}"
                for name in (PROGRESS_SERVICE, SIGNING_SERVICE, EXAMS_SERVICE)]
    roles.append({"name": "user", "scopes": ["self", *everyone]})
    roles.append({"name": "kns-progress-readers", "groups": ["giangvien", "nhansu"],
                  "scopes": [READ_OTHERS_SCOPE]})
    _apply_admin(settings, services, roles, env)
    c.JupyterHub.custom_scopes = {
        READ_OTHERS_SCOPE: {"description": "Read other users' course progress (instructors, HR)."},
        MANAGE_SCOPE: {"description": "Open and close exam windows (instructors)."},
        ADMIN_SCOPE: {"description": "Open the admin app (group quantri; hub admins pass anyway)."},
    }
    # The server's own token (inherited by kernels) may report progress, request a
    # certificate and reach the exam desk, nothing more.
    c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", *everyone]
    c.Spawner.environment = {
        **c.Spawner.environment,
        "KNS_PROGRESS_URL": f"{progress_url}/services/{PROGRESS_SERVICE}/",
        "KNS_SIGNING_URL": f"{signing_url}/services/{SIGNING_SERVICE}/",
        "KNS_EXAMS_URL": f"{exams_url}/services/{EXAMS_SERVICE}/",
    }
    if env.sync_token:
        # `kns staff import` pushes accounts and groups to a running hub with this token.
        services.append({"name": SYNC_SERVICE, "api_token": env.sync_token})
        roles.append(
            {"name": SYNC_SERVICE, "services": [SYNC_SERVICE],
             "scopes": ["admin:users", "admin:groups", "list:users", "read:users", "list:groups"]}
        )
    culler = settings["culler"]
    if culler["enabled"]:
        entry = {
            "name": CULLER_SERVICE,
            "command": [
                env.python, "-m", "jupyterhub_idle_culler",
                f"--timeout={culler['timeout_seconds']}",
                f"--cull-every={culler['every_seconds']}",
            ],
        }
        if CULLER_SERVICE in env.service_users:  # it needs no file: no settings, no database
            entry.update(user=env.service_users[CULLER_SERVICE], cwd=env.service_dirs[CULLER_SERVICE])
        services.append(entry)
        roles.append(
            {"name": CULLER_SERVICE, "services": [CULLER_SERVICE],
             "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]}
        )
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = list(c.JupyterHub.load_roles) + roles


def _apply_admin(settings: Settings, services: list, roles: list, env: HubEnvironment) -> None:
    """The admin app (kynangso.admin.service), for hub admins and group `quantri`.

    Its own token only reads the hub (who is online, the services' list). It writes the
    platform database like `kns staff import`; the hub's accounts and groups then follow the
    directory with the *admin's own* OAuth token, which is why its OAuth client may ask for
    admin:users and admin:groups (the hub grants them only to a user who holds them)."""
    course_id = settings["exams"]["course_id"]
    expected = [EXAMS_SERVICE, EXAMS_WORKER, PROGRESS_SERVICE, SIGNING_SERVICE, REPORTS_SERVICE]
    expected += [course_id] if env.exams_course else []
    expected += [CULLER_SERVICE] if settings["culler"]["enabled"] else []
    options = service_options(settings, env, ADMIN_SERVICE)
    native = settings["auth"]["type"] == "native"
    options["environment"].update({
        "KNS_ADMIN_NATIVE": "1" if native else "0",
        "KNS_ADMIN_CODE_DAYS": str(settings["auth"]["native"]["activation_code_days"]),
        "KNS_ADMIN_SERVICES": ",".join(expected), "LANG": "C.UTF-8",
    })
    services.append({
        "name": ADMIN_SERVICE,
        "url": service_url(settings, ADMIN_SERVICE, "admin_port"),
        "command": [env.python, "-m", "kynangso.admin.service"],
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [ADMIN_SCOPE, "admin:users", "admin:groups", "list:users",
                                        "read:users", "list:groups"],
        "display": True,
        "info": {"description": t("hub.admin_app_description")},
        **options,
    })
    roles.append({"name": "kns-platform-monitor", "services": [ADMIN_SERVICE],
                  "scopes": ["list:users", "read:users", "read:servers", "list:services",
                             "read:services"]})
    roles.append({"name": "kns-quantri-app", "groups": ["quantri"],
                  "scopes": [f"access:services!service={ADMIN_SERVICE}", ADMIN_SCOPE]})


def _apply_exams(settings: Settings, services: list, roles: list, env: HubEnvironment) -> str:
    """The exam desk (isolated: its own account, sharing only the exchange with the grader),
    the grading worker (the grader account: due dates, collect and grade, queued by the desk)
    and nbgrader's formgrader for the exam course (the grader account), for `giangvien`."""
    isolated = env.isolated(settings)
    course_id = settings["exams"]["course_id"]
    grader = settings["exams"]["grader_account"]
    prefix = settings["isolation"]["user_env"] or env.user_env_prefix
    path = f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin"  # nbgrader shells out to alembic
    exams_url = service_url(settings, EXAMS_SERVICE, "exams_port")
    common = service_options(settings, env, EXAMS_SERVICE)["environment"]
    desk = {
        "name": EXAMS_SERVICE,
        "url": exams_url,
        "command": [env.python, "-m", "kynangso.exams.service"],
        "environment": {**common, "PATH": path, "LANG": "C.UTF-8"},
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [MANAGE_SCOPE],
        "display": True,
        "info": {"description": t("hub.exams_description")},
    }
    worker = {
        "name": EXAMS_WORKER,
        "command": [env.python, "-m", "kynangso.exams.worker"],
        "environment": {**common, "PATH": path, "LANG": "C.UTF-8"},
    }
    if isolated:
        from kynangso.hub.system_accounts import service_account

        desk.update(user=service_account(settings, EXAMS_SERVICE), cwd="/")
        worker.update(user=grader)
    if env.exams_course:
        worker["cwd"] = env.exams_course
    services.extend([desk, worker])
    roles.append({"name": EXAMS_SERVICE, "services": [EXAMS_SERVICE],
                  # Learners' servers: when one started, and restarting it, for exam mode (an
                  # exam is handed out only to a server started after the attempt began). Not
                  # their groups: the hub's token check of each request returns the caller's.
                  "scopes": ["read:users:name", "users:activity",
                             f"servers!group={LEARNER_GROUP}"]})
    roles.append({"name": "kns-exam-managers", "groups": ["giangvien"], "scopes": [MANAGE_SCOPE]})
    if env.exams_course:
        formgrader = {
            "name": course_id,
            "url": service_url(settings, course_id, "formgrader_port"),
            "command": [os.path.join(prefix, "bin", "kns-singleuser")],
            "cwd": env.exams_course,
            "environment": {
                "JUPYTER_CONFIG_PATH": env.graderconfig_dir, "PATH": path, "LANG": "C.UTF-8",
                "JUPYTERHUB_DEFAULT_URL": "/formgrader",
                "JUPYTERHUB_COOKIE_OPTIONS": json.dumps(COOKIE_OPTIONS),
                # The course's nbgrader_config.py reads exams.gradebook_url from the settings.
                **({"KNS_SETTINGS": common["KNS_SETTINGS"]} if "KNS_SETTINGS" in common else {}),
            },
            "oauth_no_confirm": True,
            "display": True,
            "info": {"description": t("hub.formgrader_description")},
        }
        if isolated:
            formgrader["user"] = grader
        elif env.is_root:
            formgrader["command"].append("--allow-root")
        services.append(formgrader)
        roles.append({"name": "kns-formgrader", "groups": ["giangvien"],
                      "scopes": [f"access:services!service={course_id}"]})
    return exams_url


def prepare_environment(settings: Settings, config_dir: Path, chart=None) -> HubEnvironment:
    """Create the hub's state folder, migrate the platform database, read groups.

    The side-effect half of the configuration; run once at hub start. `chart`: under the z2jh
    chart (spawner kubernetes), the traitlets config the chart's own hub configuration filled.
    """
    from kynangso import db
    from kynangso.accounts.sync import role_groups
    from kynangso.exams import course as exam_course

    if settings["spawner"] == "kubernetes":
        # The hub pod holds no exam course, no service account and no token file: the grader's
        # and the services' Deployments hold what they need, the chart's Secret the tokens.
        db.upgrade(settings.database_url)
        hub = chart.JupyterHub if chart is not None else {}
        return HubEnvironment(
            is_root=False,
            exams_course=str(exam_course.places(settings, True).course),
            templates_dir=config_dir / "templates",
            proxy_command=[],
            settings_file=os.environ.get("KNS_SETTINGS"),
            courses_source=settings["lab"]["courses_source"] or _installed_courses(),
            groups=role_groups(settings.database_url),
            chart_services=list(hub.get("services", [])),
            chart_roles=list(hub.get("load_roles", [])),
        )

    state = settings.state_dir / "hub"
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state_dir, 0o700)
    os.chmod(state, 0o700)
    db.upgrade(settings.database_url)
    is_root = os.geteuid() == 0
    repo = config_dir.parent
    isolated = isolation_enabled(settings, is_root)
    exams = exam_course.prepare(settings, isolated, default_source=repo / "assessments" / "exams")
    proxy = repo / "node_modules" / ".bin" / "configurable-http-proxy"
    accounts = {}
    if isolated and is_root:
        from kynangso.hub import service_layout

        accounts = service_layout.prepare(settings, exams)
    return HubEnvironment(
        **accounts,
        is_root=is_root,
        exams_course=str(exams.course),
        templates_dir=config_dir / "templates",
        proxy_command=[str(proxy)] if proxy.exists() else ["configurable-http-proxy"],
        sync_token=read_or_create_token(state / f"{SYNC_SERVICE}.token"),
        settings_file=os.environ.get("KNS_SETTINGS"),
        courses_source=settings["lab"]["courses_source"] or _installed_courses(),
        groups=role_groups(settings.database_url),
    )


def _installed_courses() -> str:
    """Where the installed `courses` package lives (found, not imported: the core does not import it)."""
    spec = importlib.util.find_spec("courses")
    return str(Path(spec.origin).parent) if spec and spec.origin else ""


def read_or_create_token(path: Path) -> str:
    """A secret kept in a 0600 file, created on first use."""
    if path.exists():
        return path.read_text().strip()
    token = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token
