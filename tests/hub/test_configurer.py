"""apply_config is a pure function: checked against a plain traitlets Config, no hub."""

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest
from traitlets.config import Config

from kynangso.hub.configurer import HubEnvironment, apply_config
from kynangso.settings import load_settings


def env(is_root: bool, **kw) -> HubEnvironment:
    return HubEnvironment(
        is_root=is_root,
        templates_dir=Path("/srv/templates"),
        proxy_command=["/srv/node_modules/.bin/configurable-http-proxy"],
        python="/opt/env/bin/python",
        user_env_prefix="/opt/env",
        sync_token="t0ken",
        groups={"hocvien": ["b", "a"], "nhansu": ["hr"]},
        **kw,
    )


@pytest.fixture
def settings(tmp_path):
    return load_settings(overrides={"state_dir": str(tmp_path)})


def test_root_gets_one_unix_account_per_user(settings):
    """Does a hub running as root spawn each user as their own Unix account?"""
    c = Config()
    apply_config(settings, c, env(is_root=True))
    assert c.JupyterHub.spawner_class == "kynangso.hub.spawner.UnixUserSpawner"
    assert c.UnixUserSpawner.user_prefix == "kns-"
    assert c.JupyterHub.template_vars["kns_isolated"] is True


def test_ordinary_user_gets_labelled_non_isolated_mode(settings):
    """Does a hub run as an ordinary user say that it is not isolated?"""
    c = Config()
    apply_config(settings, c, env(is_root=False))
    assert c.JupyterHub.spawner_class == "kynangso.hub.spawner.NonIsolatedSpawner"
    assert c.JupyterHub.template_vars["kns_isolated"] is False
    assert str(settings.state_dir) in c.NonIsolatedSpawner.home_dir_template


def test_isolation_can_be_forced_off_as_root(tmp_path):
    """Can an operator turn isolation off explicitly (and is it then labelled)?"""
    s = load_settings(overrides={"state_dir": str(tmp_path), "isolation": {"mode": "none"}})
    c = Config()
    apply_config(s, c, env(is_root=True))
    assert c.JupyterHub.template_vars["kns_isolated"] is False


def test_users_servers_run_from_the_shared_environment(settings):
    """Do servers start from the readable users' environment, with the trimmed Lab config?"""
    c = Config()
    apply_config(settings, c, env(is_root=True))
    assert c.Spawner.cmd == ["/opt/env/bin/kns-singleuser"]
    assert c.Spawner.environment["JUPYTER_CONFIG_PATH"].endswith("userconfig")
    assert c.Spawner.default_url == "/lab/tree/KhoaHoc"


def test_role_groups_come_from_the_directory_and_always_exist(settings):
    """Are all four role groups loaded, with the directory's members?"""
    c = Config()
    apply_config(settings, c, env(is_root=True))
    groups = c.JupyterHub.load_groups
    assert set(groups) == {"hocvien", "giangvien", "nhansu", "quantri", "nangcao"}
    assert groups["hocvien"]["users"] == ["a", "b"]
    assert groups["giangvien"]["users"] == []
    assert groups["nangcao"]["users"] == []


def test_advanced_learners_setting_fills_the_advanced_group(tmp_path):
    """Are the learners named in lab.advanced_learners put in the group that keeps JupyterLab?"""
    s = load_settings(overrides={"state_dir": str(tmp_path), "lab": {"advanced_learners": ["b", "a"]}})
    c = Config()
    apply_config(s, c, env(is_root=True))
    assert c.JupyterHub.load_groups["nangcao"] == {"users": ["a", "b"]}


def test_hr_is_not_admin_and_only_quantri_admins(settings):
    """Is no role but the admins' given admin rights?"""
    c = Config()
    apply_config(settings, c, env(is_root=True))
    assert c.Authenticator.admin_users == {"quantri"}
    for role in c.JupyterHub.load_roles:
        assert "admin" not in role["name"]
        assert not any(scope.startswith("admin:") for scope in role["scopes"]) or role.get("services")


def test_password_policy_and_lockout_reach_the_authenticator(tmp_path):
    """Do the password policy and lock-out settings configure the authenticator?"""
    s = load_settings(overrides={"state_dir": str(tmp_path),
                                 "auth": {"native": {"allowed_failed_logins": 3, "minimum_password_length": 12}}})
    c = Config()
    apply_config(s, c, env(is_root=True))
    assert c.JupyterHub.authenticator_class == "kynangso.hub.auth.StaffAuthenticator"
    assert c.StaffAuthenticator.allowed_failed_logins == 3
    assert c.StaffAuthenticator.minimum_password_length == 12
    assert c.StaffAuthenticator.platform_db_url == s.database_url


def test_idle_culler_is_on_by_default_and_can_be_turned_off(settings, tmp_path):
    """Is the idle culler a hub service with only the scopes it needs?"""
    c = Config()
    apply_config(settings, c, env(is_root=True))
    names = [svc["name"] for svc in c.JupyterHub.services]
    assert "jupyterhub-idle-culler" in names
    culler_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "jupyterhub-idle-culler")
    assert set(culler_role["scopes"]) == {"list:users", "read:users:activity", "read:servers", "delete:servers"}

    off = load_settings(overrides={"state_dir": str(tmp_path), "culler": {"enabled": False}})
    c2 = Config()
    apply_config(off, c2, env(is_root=True))
    assert "jupyterhub-idle-culler" not in [svc["name"] for svc in c2.JupyterHub.services]


@pytest.mark.parametrize("kind,cls", [("ldap", "ldapauthenticator.LDAPAuthenticator"),
                                      ("oidc", "oauthenticator.generic.GenericOAuthenticator")])
def test_documented_alternative_logins(tmp_path, kind, cls):
    """Are LDAP/AD and OIDC logins a settings change only?"""
    extra = {"ldap": {"server_address": "ldap.example.vn", "bind_dn_template": ["uid={username},ou=people"]},
             "oidc": {"client_id": "kns", "authorize_url": "https://sso.example.vn/auth"}}[kind]
    s = load_settings(overrides={"state_dir": str(tmp_path), "auth": {"type": kind, kind: extra}})
    c = Config()
    apply_config(s, c, env(is_root=True))
    assert c.JupyterHub.authenticator_class == cls
    # The password check moves to LDAP/OIDC; the directory still gates who may enter.
    assert c.Authenticator.post_auth_hook.args == (s.database_url,)


def test_directory_gates_external_logins(tmp_path):
    """Does an LDAP/OIDC login of someone outside the directory get refused, and admin follow the role?"""
    import logging

    from kynangso import db
    from kynangso.hub.auth import directory_post_auth_hook
    from kynangso.models import Department, Staff

    s = load_settings(overrides={"state_dir": str(tmp_path)})
    db.upgrade(s.database_url)
    with db.session_scope(s.database_url) as session:
        dept = Department(name="Văn phòng")
        session.add_all([
            Staff(code="A1", username="a1", full_name="Admin", position="x", department=dept, role="quantri"),
            Staff(code="H1", username="h1", full_name="Học viên", position="x", department=dept, role="hocvien"),
        ])

    class FakeAuthenticator:
        admin_users = set()
        log = logging.getLogger("test")

    auth = FakeAuthenticator()
    assert directory_post_auth_hook(s.database_url, auth, None, {"name": "stranger"}) is None
    assert directory_post_auth_hook(s.database_url, auth, None, {"name": "h1"})["admin"] is False
    assert directory_post_auth_hook(s.database_url, auth, None, {"name": "a1"})["admin"] is True


@pytest.mark.parametrize("port, readable, expect_setpriv", [(8000, True, True), (443, True, False),
                                                             (8000, False, False)])
def test_proxy_runs_as_its_own_account_where_it_can(tmp_path, monkeypatch, port, readable,
                                                    expect_setpriv):
    """On an isolated hub, does configurable-http-proxy start through setpriv as the proxy's
    account with no capability, and stay root's only for a port below 1024 or a proxy that its
    account could not read?"""
    folder = Path(tempfile.mkdtemp(prefix="kns-chp-", dir="/tmp"))  # pytest's folders are 0700
    os.chmod(folder, 0o755)
    script = folder / "chp"
    script.write_text("#!/usr/bin/env node\n")
    os.chmod(script, 0o755 if readable else 0o700)
    settings = load_settings(overrides={"state_dir": str(tmp_path / "state"), "hub": {"port": port}})
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no proxy on PATH: the fallback is root
    c = Config()
    apply_config(settings, c, HubEnvironment(
        is_root=True, templates_dir=Path("/srv/templates"), proxy_command=[str(script)],
        service_users={"proxy": "nobody"}))
    command = c.ConfigurableHTTPProxy.command
    nobody = pwd.getpwnam("nobody")
    shutil.rmtree(folder)
    if expect_setpriv and os.path.exists("/usr/bin/setpriv"):
        assert command[:3] == ["/usr/bin/setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}"]
        assert {"--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"} <= set(command)
        assert command[-1] == str(script)
    else:
        assert command == [str(script)]


def test_closed_checkout_takes_the_proxy_installed_on_path(tmp_path, monkeypatch):
    """With the checkout closed (0700, as docs/operations.md recommends), is the proxy taken
    from PATH (e.g. `npm install -g`), still as its own account?"""
    closed = Path(tempfile.mkdtemp(prefix="kns-chp-", dir="/tmp"))  # 0700
    open_dir = Path(tempfile.mkdtemp(prefix="kns-chp-", dir="/tmp"))
    os.chmod(open_dir, 0o755)
    for folder in (closed, open_dir):
        (folder / "configurable-http-proxy").write_text("#!/usr/bin/env node\n")
        os.chmod(folder / "configurable-http-proxy", 0o755)
    monkeypatch.setenv("PATH", f"{open_dir}:/usr/bin:/bin")
    settings = load_settings(overrides={"state_dir": str(tmp_path / "state")})
    c = Config()
    apply_config(settings, c, HubEnvironment(
        is_root=True, templates_dir=Path("/srv/templates"),
        proxy_command=[str(closed / "configurable-http-proxy")], service_users={"proxy": "nobody"}))
    shutil.rmtree(closed)
    shutil.rmtree(open_dir)
    if os.path.exists("/usr/bin/setpriv"):
        assert c.ConfigurableHTTPProxy.command[0] == "/usr/bin/setpriv"
    assert c.ConfigurableHTTPProxy.command[-1] == str(open_dir / "configurable-http-proxy")
