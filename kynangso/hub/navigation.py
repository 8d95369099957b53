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


def page_navigation(user, *, base_url: str, exams: str, formgrader: str, reports: str) -> Navigation:
    """The menu and home links for `user` (a JupyterHub User, or None before login)."""
    if user is None:
        return Navigation(learner=False)
    groups = {g.name for g in user.groups}
    admin = bool(user.admin) or "quantri" in groups

    def service(name: str) -> str:
        return f"{base_url}services/{name}/"

    menu: dict[str, str] = {}
    links: list[tuple[str, str, str | None]] = []
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


# Where each role lands after login when no page was asked for (JupyterHub.default_url):
# group -> path under the hub's base URL. Others keep JupyterHub's default (their own server).
LANDING = {"giangvien": "services/exams/"}


def landing_url(handler, *, base_url: str) -> str:
    """The landing page of the logged-in user's role, or "" for JupyterHub's default."""
    user = handler.current_user
    groups = {g.name for g in getattr(user, "groups", [])} if user is not None else set()
    for group, path in LANDING.items():
        if group in groups:
            return f"{base_url}{path}"
    return ""
