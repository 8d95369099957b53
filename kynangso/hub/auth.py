"""StaffAuthenticator: NativeAuthenticator tied to the staff directory.

- Passwords are bcrypt hashes in the hub database (NativeAuthenticator's table);
  repeated failures lock the account for a while (NativeAuthenticator's counter).
- Only active staff of the directory (or hub admins) may log in; leaving staff are
  refused at once, without touching their history.
- There is no open sign-up. A person activates their account with the one-time
  code HR handed them (`kns accounts invite`), choosing a password that passes
  the policy; nobody approves each account by hand. A new code for an active
  account resets its password (the "forgot password" path).
- Every page and message is Vietnamese (the hub templates and kynangso.i18n).
"""

from __future__ import annotations

from datetime import datetime

from jupyterhub.handlers import BaseHandler
from jupyterhub.handlers.login import LoginHandler
from nativeauthenticator import NativeAuthenticator
from tornado import web
from traitlets import Unicode

from kynangso.accounts import activation
from kynangso.i18n import t


def directory_post_auth_hook(platform_db_url: str, authenticator, handler, authentication):
    """For LDAP/OIDC logins: the staff directory still decides who may enter and who is admin."""
    username = authentication["name"]
    role = activation.staff_role(platform_db_url, username)
    if role is None and username not in authenticator.admin_users:
        authenticator.log.warning("login refused for %s: not active in the staff directory", username)
        return None
    authentication["admin"] = role == "quantri" or username in authenticator.admin_users
    return authentication


class VietnameseLoginHandler(LoginHandler):
    """JupyterHub's login page, with the failure explained in Vietnamese."""

    def _render(self, login_error=None, username=None, **kwargs):
        if login_error:
            login_error = self.authenticator.explain_failure(username or "")
        return super()._render(login_error=login_error, username=username, **kwargs)


class _FormHandler(BaseHandler):
    """Shared bits of the activation and change-password forms."""

    def render_form(self, template: str, status: int = 200, **ns):
        self.set_status(status)
        return self.render_template(
            template,
            min_password_length=self.authenticator.minimum_password_length,
            **ns,
        )

    def password_problem(self, password: str, confirmation: str) -> str | None:
        if password != confirmation:
            return t("login.password_mismatch")
        if len(password) < self.authenticator.minimum_password_length:
            return t("login.password_too_short", n=self.authenticator.minimum_password_length)
        if self.authenticator.check_common_password and self.authenticator.is_password_common(password):
            return t("login.password_too_common")
        return None


class ActivateHandler(_FormHandler):
    """/hub/activate: first login with the one-time code from HR."""

    async def get(self):
        self.finish(await self.render_form("activate.html"))

    async def post(self):
        auth: StaffAuthenticator = self.authenticator
        username = auth.normalize_username(self.get_body_argument("username", "", strip=True))
        code = self.get_body_argument("code", "", strip=True)
        password = self.get_body_argument("password", "", strip=False)
        confirmation = self.get_body_argument("password_confirmation", "", strip=False)

        def fail(message: str, status: int = 400):
            return self.render_form("activate.html", status=status, activate_error=message, username=username)

        if not username or not code:
            return self.finish(await fail(t("login.activate_missing_fields")))
        if auth.is_blocked(username):
            return self.finish(await fail(auth.explain_failure(username), 429))
        problem = self.password_problem(password, confirmation)
        if problem:
            return self.finish(await fail(problem))
        if not activation.consume_code(auth.platform_db_url, username, code):
            # Counts as a failed login, so codes cannot be guessed at speed.
            auth.add_login_attempt(username)
            self.log.warning("activation refused for %s (bad, used or expired code)", username)
            return self.finish(await fail(t("login.activate_bad_code"), 403))
        if auth.user_exists(username):
            # A fresh code for an existing account is HR's password reset.
            auth.change_password(username, password)
            self.log.info("password reset with an activation code: %s", username)
            return self.finish(await self.render_form("activate.html", activate_ok=t("login.activate_ok")))
        info = auth.create_user(username, password, is_authorized=True)
        if info is None:  # the name itself was refused by the hub's username rules
            self.log.error("activation: create_user refused %s after a valid code", username)
            return self.finish(await fail(t("login.activate_failed"), 500))
        self.log.info("account activated: %s", username)
        self.finish(await self.render_form("activate.html", activate_ok=t("login.activate_ok")))


class ChangePasswordHandler(_FormHandler):
    """/hub/change-password: the logged-in user changes their own password."""

    @web.authenticated
    async def get(self):
        self.finish(await self.render_form("change-password.html"))

    @web.authenticated
    async def post(self):
        auth: StaffAuthenticator = self.authenticator
        user = self.current_user
        old = self.get_body_argument("old_password", "", strip=False)
        password = self.get_body_argument("password", "", strip=False)
        confirmation = self.get_body_argument("password_confirmation", "", strip=False)
        info = auth.get_user(user.name)
        if info is None or not info.is_valid_password(old):
            auth.add_login_attempt(user.name)
            return self.finish(await self.render_form("change-password.html", 403, change_error=t("login.old_password_wrong")))
        problem = self.password_problem(password, confirmation)
        if problem:
            return self.finish(await self.render_form("change-password.html", 400, change_error=problem))
        auth.change_password(user.name, password)
        self.log.info("password changed by %s", user.name)
        self.finish(await self.render_form("change-password.html", change_ok=t("login.password_changed")))


class StaffAuthenticator(NativeAuthenticator):
    """NativeAuthenticator for directory staff, activated by one-time codes."""

    platform_db_url = Unicode(
        help="SQLAlchemy URL of the platform database holding the staff directory and activation codes."
    ).tag(config=True)

    def explain_failure(self, username: str) -> str:
        """The Vietnamese reason a login failed, without revealing whether the name exists."""
        if username and self.is_blocked(username):
            last = self.login_attempts[username]["time"]
            remaining = self.seconds_before_next_try - (datetime.now() - last).total_seconds()
            return t("login.login_locked", minutes=max(1, round(remaining / 60)))
        return t("login.login_failed")

    async def authenticate(self, handler, data):
        username = await super().authenticate(handler, data)
        if username is None:
            return None
        role = activation.staff_role(self.platform_db_url, username)
        # The directory decides who is an admin; hub.admin_users is the bootstrap list.
        return {"name": username, "admin": role == "quantri" or username in self.admin_users}

    def check_allowed(self, username, authentication=None):
        """Active staff of the directory, and the configured admins, may log in."""
        if username in self.admin_users:
            return True
        allowed = activation.staff_can_log_in(self.platform_db_url, username)
        if not allowed:
            self.log.warning("login refused for %s: not active in the staff directory", username)
        return allowed

    def get_handlers(self, app):
        # NativeAuthenticator's open /signup and admin approval pages are left out on purpose.
        return [
            (r"/login", VietnameseLoginHandler),
            (r"/activate", ActivateHandler),
            (r"/change-password", ChangePasswordHandler),
        ]
