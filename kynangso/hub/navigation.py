"""What each role is offered on the hub's pages: the services menu and the home page's links.

JupyterHub lists in its menu every displayed service the user may reach, under the service's
name. Reaching a service is not the same as having a use for it (every server's token must
reach the exam desk, so every learner may), so the menu is narrowed here to the services of
the user's role groups, each under its Vietnamese name. Hub admins get everything.
The hub calls `page_navigation` for each page (a `template_vars` callable) with its User.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kynangso.i18n import t

LEARNER = "hocvien"
STAFF_GROUPS = ("giangvien", "nhansu", "quantri")  # any of these: not a learner


@dataclass(frozen=True)
class Navigation:
    learner: bool
    menu: dict[str, str] = field(default_factory=dict)  # service name: Vietnamese label
    # (element id, Vietnamese label, href or None for the user's own server)
    links: list[tuple[str, str, str | None]] = field(default_factory=list)


def is_admin(user) -> bool:
    """A hub admin or a member of group `quantri` (the admin app's people)."""
    return bool(user.admin) or "quantri" in {g.name for g in user.groups}


def landing_url(handler, *, admin_app: str) -> str:
    """Where a person lands after login (JupyterHub.default_url, called with the handler):
    admins on the admin app; everyone else where the hub sends them anyway ("")."""
    user = handler.current_user
    return admin_app if user is not None and is_admin(user) else ""


def page_navigation(user, *, base_url: str, exams: str, formgrader: str, reports: str,
                    admin_app: str = "admin") -> Navigation:
    """The menu and home links for `user` (a JupyterHub User, or None before login)."""
    if user is None:
        return Navigation(learner=False)
    groups = {g.name for g in user.groups}
    admin = is_admin(user)

    def service(name: str) -> str:
        return f"{base_url}services/{name}/"

    menu: dict[str, str] = {}
    links: list[tuple[str, str, str | None]] = []
    if admin:
        menu[admin_app] = t("hub.menu_admin_app")
        links.append(("kns-link-admin-app", t("hub.home_link_admin_app"), service(admin_app)))
    if admin or "giangvien" in groups:
        menu[exams] = t("hub.menu_exams_desk")
        menu[formgrader] = t("hub.menu_formgrader")
        links += [("kns-link-exams-desk", t("hub.home_link_exams_desk"), service(exams)),
                  ("kns-link-formgrader", t("hub.home_link_formgrader"), service(formgrader))]
    if admin or "nhansu" in groups:
        menu[reports] = t("hub.menu_reports")
        links.append(("kns-link-reports", t("hub.home_link_reports"), service(reports)))
    learner = not admin and not (groups & set(STAFF_GROUPS))
    if learner:
        menu[exams] = t("hub.menu_exams_learner")
        links.append(("kns-link-course", t("hub.home_link_course"), None))
    return Navigation(learner=learner, menu=menu, links=links)
