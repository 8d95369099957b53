"""Where each person lands after login, chosen by their hub groups at every server start.

Learners (`hocvien`) land on the learner app's home (kynangso.learner), and their server runs
in learner-app mode: lessons open as Voilà apps and the kernels take no code from the page.
Everyone else keeps JupyterLab: instructors, HR, admins, and learners in the advanced group
(`nangcao`, members listed in the settings' `lab.advanced_learners` or added on the hub's
admin page), who may run code of their own.
"""

from __future__ import annotations

LEARNER_GROUP = "hocvien"
ADVANCED_GROUP = "nangcao"
STAFF_GROUPS = frozenset({"giangvien", "nhansu", "quantri"})
LEARNER_HOME = "/kns/home"  # kynangso.learner.HOME_PATH, from the server's base URL


def uses_learner_app(groups: set[str] | list[str], admin: bool = False) -> bool:
    """True for a learner outside the advanced group who holds no staff role."""
    groups = set(groups)
    return (LEARNER_GROUP in groups and ADVANCED_GROUP not in groups
            and not groups & STAFF_GROUPS and not admin)


def learner_env(user) -> dict[str, str]:
    """What the spawner adds to a server's environment for `user` (a hub User)."""
    if not uses_learner_app([g.name for g in user.groups], bool(user.admin)):
        return {}
    return {"JUPYTERHUB_DEFAULT_URL": LEARNER_HOME, "KNS_LEARNER_APP": "1"}
