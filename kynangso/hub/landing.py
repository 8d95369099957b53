"""Where each person lands after login, chosen by their hub groups at every server start.

Learners (`hocvien`) land on the learner app's home (kynangso.learner), and their server runs
in learner-app mode: lessons open as Voilà apps and the kernels take no code from the page.
Everyone else keeps JupyterLab: instructors, HR, admins, and learners in the advanced group
(`nangcao`, members listed in the settings' `lab.advanced_learners` or added on the hub's
admin page), who may run code of their own.

Exam mode for those who run code: an exam's files are handed out only to a server started
after the learner's attempt began (the exam desk restarts it), and while the learner has an
attempt in an open window, their server starts as a learner-app server whatever their groups
(kynangso.hub.spawner), so that no code of theirs runs beside the exam.
"""

from __future__ import annotations

import os
from importlib import resources

LEARNER_GROUP = "hocvien"
ADVANCED_GROUP = "nangcao"
STAFF_GROUPS = frozenset({"giangvien", "nhansu", "quantri"})
LEARNER_HOME = "/kns/home"  # kynangso.learner.HOME_PATH, from the server's base URL
NO_FOLDER = "/nonexistent/kynangso"  # a folder no account can create


def uses_learner_app(groups: set[str] | list[str], admin: bool = False) -> bool:
    """True for a learner outside the advanced group who holds no staff role."""
    groups = set(groups)
    return (LEARNER_GROUP in groups and ADVANCED_GROUP not in groups
            and not groups & STAFF_GROUPS and not admin)


def runs_code(groups: set[str] | list[str]) -> bool:
    """Whether a person of these groups keeps JupyterLab and its kernels (the exam desk hands
    their exam out only to a server started in exam mode). From the groups alone, as the desk
    sees them: a hub admin who is only a learner keeps JupyterLab without exam mode (admins
    are trusted; they reach the exam's source anyway)."""
    return not uses_learner_app(groups)


def learner_env(user, home: str, prefix: str, exam_mode: bool = False) -> dict[str, str]:
    """What the spawner adds to a server's environment for `user` (a hub User) whose home is
    `home`, running the Python environment at `prefix`; `exam_mode` for a person who runs code
    and has an exam in progress."""
    if not exam_mode and not uses_learner_app([g.name for g in user.groups], bool(user.admin)):
        return {}
    hub_package = resources.files("kynangso.hub")
    env = {"JUPYTERHUB_DEFAULT_URL": LEARNER_HOME, "KNS_LEARNER_APP": "1",
           # No extension that only serves a notebook page (learnerconfig/README.md).
           "JUPYTER_CONFIG_PATH": os.pathsep.join(str(hub_package / name)
                                                  for name in ("learnerconfig", "userconfig")),
           # Nothing the account may have written runs in the server or its kernels: Jupyter's
           # own folders are the environment's (root's), not ~/.jupyter and ~/.local/share/
           # jupyter (config files, kernel specs); no user site-packages (.pth files run at
           # start); no IPython folder at start (Jupyter would migrate it), and the server
           # gives its kernels a fresh one (kynangso.learner), so no startup file of the home runs.
           "PYTHONNOUSERSITE": "1", "JUPYTER_CONFIG_DIR": f"{prefix}/etc/jupyter",
           "JUPYTER_DATA_DIR": f"{prefix}/share/jupyter", "IPYTHONDIR": f"{NO_FOLDER}/ipython",
           "JUPYTER_RUNTIME_DIR": f"{home}/.local/share/jupyter/runtime"}
    if exam_mode:
        env["KNS_EXAM_MODE"] = "1"
    return env
