"""Read side of the staff directory: listings and the hub state the directory implies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from kynangso.models import ROLES, Staff
from kynangso.staff.formats import fold


@dataclass(frozen=True)
class StaffEntry:
    """A staff member as listed and exported (role is the hub group)."""

    code: str
    username: str
    full_name: str
    position: str
    department: str
    email: str | None
    role: str
    active: bool


def list_staff(
    session: Session, *, department: str | None = None, role: str | None = None,
    include_inactive: bool = False,
) -> list[StaffEntry]:
    """Staff ordered by code. `department` matches part of the name, ignoring case and diacritics."""
    query = select(Staff).options(joinedload(Staff.department)).order_by(Staff.code)
    if role is not None:
        query = query.where(Staff.role == role)
    if not include_inactive:
        query = query.where(Staff.active.is_(True))
    wanted = fold(department) if department else None
    return [
        StaffEntry(s.code, s.username, s.full_name, s.position, s.department.name, s.email,
                   s.role, s.active)
        for s in session.scalars(query)
        if wanted is None or wanted in fold(s.department.name)
    ]


def desired_hub_state(session: Session) -> dict:
    """The hub users and groups the directory calls for.

    `users` holds every staff member (inactive ones with `active: False`, no group and
    no admin right, so the hub can block them while keeping their history);
    `groups` holds, for each role, the usernames of the active staff with that role.
    Each active member is in exactly one group, the one of their role; `quantri` is
    also a hub admin.
    """
    users: dict[str, dict] = {}
    groups: dict[str, list[str]] = {role: [] for role in ROLES}
    for s in session.scalars(select(Staff).order_by(Staff.username)):
        users[s.username] = {
            "groups": [s.role] if s.active else [],
            "admin": s.active and s.role == "quantri",
            "active": s.active,
        }
        if s.active:
            groups[s.role].append(s.username)
    return {"users": users, "groups": groups}
