"""System accounts for the hub's services (least privilege: one account per service).

On an isolated hub (root) every managed service runs as its own unprivileged system
account, named from the settings so that test hubs with random prefixes never collide:

    <isolation.user_prefix>svc-<service>     e.g. kns-svc-progress, kns-svc-reports

`ensure_system_account` creates such an account (and groups) idempotently; the hub calls it
from `prepare_environment`. The grader account of the exam course is made the same way.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import subprocess
from pathlib import Path

from kynangso.settings import Settings, isolation_enabled

log = logging.getLogger("kns.accounts")

NOLOGIN = "/usr/sbin/nologin"
MAX_NAME = 32  # useradd's limit
# Service names too long for an account name (with the prefix).
SHORT_NAMES = {"jupyterhub-idle-culler": "culler"}


def service_account(settings: Settings, service: str) -> str:
    """The Unix name of `service`'s account on this hub (`<user_prefix>svc-<service>`)."""
    return f"{settings['isolation']['user_prefix']}svc-{SHORT_NAMES.get(service, service)}"


def service_group(settings: Settings, purpose: str) -> str:
    """The Unix name of a group shared by services (`<user_prefix>grp-<purpose>`)."""
    return f"{settings['isolation']['user_prefix']}grp-{purpose}"


def ensure_group(name: str) -> int:
    """The gid of system group `name`, created if missing."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _run(["groupadd", "--system", name])
        log.info("created system group %s", name)
        return grp.getgrnam(name).gr_gid


def ensure_system_account(name: str, home: Path | str, groups: tuple[str, ...] | list[str] = ()
                          ) -> tuple[int, int]:
    """(uid, gid) of the system account `name` (own group, no login shell, no home made),
    created if missing and added to each of `groups` (created if missing). Idempotent."""
    for group in groups:
        ensure_group(group)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if len(name) > MAX_NAME:
            raise ValueError(f"account name {name!r} is longer than {MAX_NAME} characters") from None
        _run(["useradd", "--system", "--user-group", "--no-create-home",
              "--home-dir", str(home), "--shell", NOLOGIN, name])
        entry = pwd.getpwnam(name)
        log.info("created system account %s", name)
    missing = [g for g in groups if name not in grp.getgrnam(g).gr_mem]
    if missing:
        _run(["usermod", "--append", "--groups", ",".join(missing), name])
    return entry.pw_uid, entry.pw_gid


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")


def hub_isolated(settings: Settings) -> bool:
    """Whether the hub isolates its users, as seen from inside a service.

    A service that runs as its own account is not root, so it cannot tell from its own uid:
    the hub says so in $KNS_ISOLATED (set by the configurer on every managed service)."""
    flag = os.environ.get("KNS_ISOLATED")
    if flag in ("0", "1"):
        return flag == "1"
    return isolation_enabled(settings, os.geteuid() == 0)
