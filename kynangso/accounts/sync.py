"""Keep the hub's users and role groups equal to the staff directory.

At hub start the configuration loads the groups (`role_groups`); while the hub
runs, `sync_hub` pushes changes through the REST API with the `kns-sync`
service's token, so an import takes effect without a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path

import requests

from kynangso.db import session_scope
from kynangso.errors import KnsError
from kynangso.settings import Settings
from kynangso.staff.directory import desired_hub_state

log = logging.getLogger(__name__)


def role_groups(url: str) -> dict[str, list[str]]:
    """{group: [usernames]} for the active staff, one role group each."""
    with session_scope(url) as s:
        return desired_hub_state(s)["groups"]


def hub_api_url(settings: Settings) -> str:
    hub = settings["hub"]
    return f"http://127.0.0.1:{hub['api_port']}{hub['base_url'].rstrip('/')}/hub/api"


def sync_hub(settings: Settings, timeout: float = 10) -> dict[str, int] | None:
    """Push the directory to the running hub; None when no hub is running."""
    token_file = Path(settings.state_dir) / "hub" / "kns-sync.token"
    if not token_file.exists():
        return None
    api = hub_api_url(settings)
    token = token_file.read_text().strip()
    try:
        requests.get(api + "/", timeout=timeout).raise_for_status()
    except requests.ConnectionError:
        return None
    return push_directory(api, token, settings.database_url, timeout)


def push_directory(api: str, token: str, database_url: str, timeout: float = 10) -> dict[str, int]:
    """Make the hub's users, admins and role groups those of the directory, with `token`
    (scopes admin:users, admin:groups, list:users, read:users, list:groups): the kns-sync
    service's, or an admin's own (the admin app acts with the admin's token)."""
    http = requests.Session()
    http.headers["Authorization"] = f"token {token}"

    def call(method: str, path: str, **kwargs):
        r = http.request(method, api + path, timeout=timeout, **kwargs)
        if r.status_code >= 400 and r.status_code != 409:
            raise KnsError("accounts.sync_failed", log_detail=f"{method} {path}: {r.status_code} {r.text}")
        return r

    wanted = role_groups(database_url)
    admins = set(wanted["quantri"])
    existing = {u["name"]: u for u in call("GET", "/users").json()}
    counts = {"users_created": 0, "memberships_changed": 0}
    everyone = sorted({u for members in wanted.values() for u in members})
    new = [u for u in everyone if u not in existing]
    if new:
        call("POST", "/users", json={"usernames": new})
        counts["users_created"] = len(new)
    for username in everyone:
        is_admin = username in admins
        if username in existing and existing[username].get("admin") != is_admin:
            call("PATCH", f"/users/{username}", json={"admin": is_admin})
    groups = {g["name"]: set(g["users"]) for g in call("GET", "/groups").json()}
    for name, members in wanted.items():
        current = groups.get(name)
        if current is None:
            call("POST", f"/groups/{name}")
            current = set()
        add, remove = sorted(set(members) - current), sorted(current - set(members))
        if add:
            call("POST", f"/groups/{name}/users", json={"users": add})
        if remove:
            call("DELETE", f"/groups/{name}/users", json={"users": remove})
        counts["memberships_changed"] += len(add) + len(remove)
    log.info("hub sync: %s", counts)
    return counts
