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


# Far above the ranges useradd gives (SUB_UID_MIN 100000 .. SUB_UID_MAX 600100000) and every
# account's uid: an id from here owns nothing on this machine.
SUBORDINATE_BASE = 0x70000000


def _subordinate_ranges(path: str) -> list[tuple[str, int, int]]:
    try:
        with open(path, encoding="utf-8") as fh:
            rows = [line.strip().split(":") for line in fh if line.count(":") == 2]
        return [(owner, int(start), int(count)) for owner, start, count in rows]
    except (OSError, ValueError):
        return []


def ensure_subordinate_id(name: str) -> int:
    """A subordinate uid and gid of account `name` (/etc/subuid, /etc/subgid) that no account,
    group or other range uses: the uid, outside their sandbox, of the learner code that this
    account grades (assessments/grading/sandbox.py maps it with `newuidmap`). Idempotent."""
    uid = pwd.getpwnam(name).pw_uid
    ranges = {path: _subordinate_ranges(path) for path in ("/etc/subuid", "/etc/subgid")}
    own = [{start for owner, start, _ in rows if owner in (name, str(uid))} for rows in ranges.values()]
    common = own[0] & own[1]
    if common:
        return min(common)
    taken = [(start, start + count) for rows in ranges.values() for _, start, count in rows]
    candidate = SUBORDINATE_BASE
    while (any(lo <= candidate < hi for lo, hi in taken) or _id_used(candidate)):
        candidate += 1
    _run(["usermod", "--add-subuids", f"{candidate}-{candidate}",
          "--add-subgids", f"{candidate}-{candidate}", name])
    log.info("gave %s the subordinate id %d (its graded kernels' uid)", name, candidate)
    return candidate


def _id_used(number: int) -> bool:
    for lookup in (pwd.getpwuid, grp.getgrgid):
        try:
            lookup(number)
            return True
        except KeyError:
            pass
    return False


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
