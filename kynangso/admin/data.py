"""What the admin app shows, assembled from the platform database and the hub API's answers.

The functions that read the database take its URL; those that shape the hub's answers take the
parsed JSON and the current time, so both are tested without a hub.

Account states (what an admin must act on):
- `active`: in the directory, working, and has set a password (a used activation code), or the
  hub logs people in elsewhere (LDAP/OIDC: no activation);
- `awaiting`: in the directory and working, no password yet: needs an activation code;
- `locked`: no longer working (deactivated by an import): the hub refuses their login.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from kynangso.accounts.activation import issue_codes
from kynangso.db import session_scope
from kynangso.errors import ValidationError
from kynangso.exams.windows import local
from kynangso.i18n import t
from kynangso.models import ROLES, ActivationCode, Department, Staff
from kynangso.staff.formats import fold
from kynangso.staff.importer import ImportResult, import_file

log = logging.getLogger("kns.admin")

STATES = ("active", "awaiting", "locked")
MAX_UPLOAD_BYTES = 5 * 2**20  # a directory of 5,000 staff is ~0.5 MB as CSV, ~0.3 MB as XLSX
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".txt")


@dataclass(frozen=True)
class Person:
    code: str
    username: str
    full_name: str
    position: str
    department: str
    role: str  # the hub group
    state: str  # one of STATES
    code_expires: datetime | None  # the newest unused activation code's expiry, if any

    @property
    def role_label(self) -> str:
        return t(f"staff.role.{self.role}")

    @property
    def state_label(self) -> str:
        return t(f"admin.state.{self.state}")

    def code_status(self, now: datetime) -> str:
        if self.code_expires is None:
            return t("admin.codes.never")
        if self.code_expires > now:
            return t("admin.codes.valid_until", date=local(self.code_expires))
        return t("admin.codes.expired", date=local(self.code_expires))


@dataclass(frozen=True)
class Directory:
    people: list[Person]  # after the filter
    total: int
    counts: dict[str, int]  # state -> people (whole directory)
    departments: list[str]


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def people(url: str, native: bool = True) -> list[Person]:
    """Every member of staff with their account state, ordered by department then name."""
    with session_scope(url) as s:
        staff = list(s.scalars(select(Staff).options(joinedload(Staff.department))))
        activated = set(s.scalars(select(ActivationCode.username)
                                  .where(ActivationCode.used_at.is_not(None))))
        expiry: dict[str, datetime] = {}
        for username, expires in s.execute(
                select(ActivationCode.username, ActivationCode.expires_at)
                .where(ActivationCode.used_at.is_(None))
                .order_by(ActivationCode.created_at)):
            expiry[username] = _aware(expires)  # the newest wins: issuing cancels older ones
        result = []
        for m in staff:
            if not m.active:
                state = "locked"
            elif not native or m.username in activated:
                state = "active"
            else:
                state = "awaiting"
            result.append(Person(m.code, m.username, m.full_name, m.position, m.department.name,
                                 m.role, state, expiry.get(m.username)))
    return sorted(result, key=lambda p: (fold(p.department), _name_key(p.full_name), p.code))


def _name_key(full_name: str) -> tuple[str, str]:
    """Vietnamese order: by given name (the last word), then the whole name."""
    return fold(full_name.split()[-1] if full_name.split() else ""), fold(full_name)


def directory(url: str, *, query: str = "", department: str = "", role: str = "", state: str = "",
              native: bool = True) -> Directory:
    """The directory page: everyone, filtered by a search text (name, code or login, ignoring
    case and diacritics), a unit (exact name), a role and an account state."""
    everyone = people(url, native)
    with session_scope(url) as s:
        departments = sorted(s.scalars(select(Department.name)), key=fold)
    wanted = fold(query)
    shown = [p for p in everyone
             if (not wanted or any(wanted in fold(x) for x in (p.full_name, p.code, p.username)))
             and (not department or p.department == department)
             and (role not in ROLES or p.role == role)
             and (state not in STATES or p.state == state)]
    counts = {st: sum(1 for p in everyone if p.state == st) for st in STATES}
    return Directory(shown, len(everyone), counts, departments)


def awaiting(url: str, department: str = "", native: bool = True) -> list[Person]:
    return [p for p in people(url, native) if p.state == "awaiting"
            and (not department or p.department == department)]


def issue(url: str, usernames: list[str], days: int, by: str) -> list[tuple[Person, str, datetime]]:
    """New activation codes for `usernames` (working staff), cancelling their unused ones:
    [(person, code, expires)] in the directory's order."""
    codes = issue_codes(url, sorted(set(usernames)), days)
    everyone = {p.username: p for p in people(url)}
    log.info("activation codes issued by %s for %d account(s): %s", by, len(codes),
             ", ".join(sorted(codes)))
    return [(everyone[u], codes[u], everyone[u].code_expires) for u in everyone if u in codes]


def codes_csv(issued: list[tuple[Person, str, datetime]]) -> bytes:
    """The list HR hands out: UTF-8 with BOM, so Excel shows the diacritics."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t("admin.directory.col_name"), t("admin.directory.col_department"),
                     t("accounts.col_username"), t("accounts.col_code"), t("admin.codes.col_expires")])
    for person, code, expires in issued:
        writer.writerow([person.full_name, person.department, person.username, code, local(expires)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def import_upload(url: str, filename: str, data: bytes, *, deactivate_missing: bool,
                  by: str) -> ImportResult:
    """Import an uploaded staff file with the staff importer (one transaction: all or nothing).

    The importer reads a path, so the bytes go to a private temporary folder under the file's
    own base name (its suffix picks the reader; the name appears in the error report)."""
    name = Path(filename.replace("\\", "/")).name.strip()
    if not name or name.startswith(".") or Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise ValidationError("admin.import.bad_name", source=name or filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError("admin.import.too_big", source=name,
                              size=f"{len(data) / 2**20:.1f}".replace(".", ","),
                              mb=MAX_UPLOAD_BYTES // 2**20)
    with tempfile.TemporaryDirectory(prefix="kns-admin-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            result = import_file(path, url, deactivate_missing=deactivate_missing)
        except ValidationError as exc:
            log.warning("staff file %s from %s rejected: %s", name, by, exc.log_detail)
            raise
    log.info("staff file %s imported by %s: %d created, %d updated, %d deactivated", name, by,
             len(result.created), len(result.updated), len(result.deactivated))
    return result


def relative_time(when: str | datetime | None, now: datetime) -> str:
    """"5 phút trước": how long ago, in Vietnamese."""
    if when is None:
        return t("admin.time.never")
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    seconds = max(0.0, (now - _aware(when)).total_seconds())
    if seconds < 60:
        return t("admin.time.just_now")
    if seconds < 3600:
        return t("admin.time.minutes", n=int(seconds // 60))
    if seconds < 86400:
        return t("admin.time.hours", n=int(seconds // 3600))
    return t("admin.time.days", n=int(seconds // 86400))


@dataclass(frozen=True)
class Online:
    username: str
    full_name: str
    department: str
    role_label: str
    server: str  # Vietnamese: running / starting / stopping
    started: str
    last_activity: str


def online(users: list[dict], everyone: list[Person], now: datetime) -> list[Online]:
    """People with a server running or starting, from the hub's `GET /users?state=active`
    (models with `servers`), most recently active first."""
    known = {p.username: p for p in everyone}
    rows = []
    for user in users:
        for server in (user.get("servers") or {}).values():
            if server.get("stopped"):
                continue
            state = ("stopping" if server.get("pending") == "stop" else
                     "running" if server.get("ready") else "starting")
            person = known.get(user["name"])
            activity = server.get("last_activity") or user.get("last_activity")
            rows.append((activity or "", Online(
                user["name"], person.full_name if person else t("admin.online.unknown_person"),
                person.department if person else "", person.role_label if person else "",
                t(f"admin.online.{state}"), relative_time(server.get("started"), now),
                relative_time(activity, now))))
    rows.sort(key=lambda r: r[0], reverse=True)
    return [row for _, row in rows]


@dataclass(frozen=True)
class Health:
    name: str  # the hub's service name
    label: str  # Vietnamese
    up: bool
    detail: str


def service_label(name: str, formgrader: str) -> str:
    key = "formgrader" if name == formgrader else name
    try:
        return t(f"admin.health.name.{key}")
    except KeyError:
        return name  # a site's own service (config.d): its name is all we have


def health(services: dict[str, dict], probes: dict[str, tuple[bool, str]], expected: list[str],
           formgrader: str) -> list[Health]:
    """The platform's services: each expected one (and any other the hub runs), up or not.

    `services` is the hub's `GET /services` (name -> model); `probes` the result of probing
    each one (name -> (up, Vietnamese detail)). A service with neither a URL nor a process
    (a token the hub only knows, such as kns-sync) is not a running thing: left out."""
    names = list(expected) + sorted(n for n in services if n not in expected)
    rows = []
    for name in names:
        model = services.get(name)
        if model is None:
            rows.append(Health(name, service_label(name, formgrader), False, t("admin.health.missing")))
            continue
        if not model.get("url") and not model.get("command"):
            continue
        up, detail = probes.get(name, (False, t("admin.health.no_process")))
        rows.append(Health(name, service_label(name, formgrader), up, detail))
    return rows


def probe_process(pid: int) -> tuple[bool, str]:
    """A managed service without a URL (culler, grading worker): is its process alive?
    Another account's process answers signal 0 with EPERM: alive, all the same."""
    import os

    if not pid:
        return False, t("admin.health.no_process")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False, t("admin.health.no_process")
    except PermissionError:
        pass
    return True, t("admin.health.process", pid=pid)


def elapsed_ms(start: float) -> int:
    return max(1, round((time.monotonic() - start) * 1000))


def describe(result: ImportResult, names: dict[str, str]) -> list[str]:
    """The Vietnamese lines shown after an import."""
    lines = [t("admin.import.done", source=result.source, created=len(result.created),
               updated=len(result.updated), unchanged=len(result.unchanged),
               deactivated=len(result.deactivated), departments=len(result.departments_created))]
    if result.missing:
        lines.append(t("admin.import.missing", count=len(result.missing),
                       names=", ".join(names.get(u, u) for u in result.missing)))
    return lines

