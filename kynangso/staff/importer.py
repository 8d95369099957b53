"""Import HR's staff directory into the platform database, whole or not at all.

Three steps, each visible: `read_table` (reader.py) turns the file into cells;
`validate_rows` checks every row and collects every problem, raising one
ValidationError listing them all (row numbers as HR sees them in Excel); `sync`
compares the rows with the database and applies the changes inside one
transaction. Matching is on the hub username (the lowercased code). Staff absent
from the file are kept; with `deactivate_missing` they are set inactive, never
deleted, so their results stay in history.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kynangso.db import session_scope
from kynangso.errors import ValidationError
from kynangso.i18n import t
from kynangso.models import Department, Staff
from kynangso.staff.formats import (
    EMAIL_RE,
    HEADERS,
    MAX_LENGTH,
    REQUIRED,
    ROLE_BY_FOLD,
    USERNAME_RE,
    fold,
    foreign_letters,
)
from kynangso.staff.reader import RawRow, RawTable, read_table

log = logging.getLogger(__name__)

# Non-letters a person's name may hold (Ksor H'Nhi, Nguyễn Thị Minh-Thư).
_NAME_PUNCTUATION = frozenset(" -.'’")
FIELDS = ("code", "full_name", "position", "department", "email", "role", "active")


@dataclass(frozen=True)
class StaffRow:
    """One validated row of the directory."""

    row: int
    code: str
    username: str
    full_name: str
    position: str
    department: str
    email: str | None
    role: str


@dataclass
class StaffUpdate:
    """A staff member whose record changes: field -> [old, new]."""

    username: str
    code: str
    full_name: str
    changes: dict[str, list] = field(default_factory=dict)


@dataclass
class ImportResult:
    """What an import changed (or, for a dry run, would change). Lists hold usernames."""

    source: str
    encoding: str | None
    dry_run: bool
    rows: int
    created: list[str] = field(default_factory=list)
    updated: list[StaffUpdate] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # absent from the file, left active
    departments_created: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated or self.departments_created)

    def to_dict(self) -> dict:
        return asdict(self)


def import_file(
    path: str | Path, database_url: str, *, dry_run: bool = False, deactivate_missing: bool = False
) -> ImportResult:
    """Read, validate and apply a staff file in one transaction (nothing written on a dry run)."""
    table = read_table(path)
    rows = validate_rows(table)
    with session_scope(database_url) as session:
        result = sync(session, rows, source=table.source, dry_run=dry_run,
                      deactivate_missing=deactivate_missing)
    result.encoding = table.encoding
    log.info(
        "staff import %s%s: %d created, %d updated, %d unchanged, %d deactivated",
        table.source, " (dry run)" if dry_run else "", len(result.created), len(result.updated),
        len(result.unchanged), len(result.deactivated),
    )
    return result


def validate_rows(table: RawTable) -> list[StaffRow]:
    """Every row checked; all problems raised together, sorted by row."""
    problems: list[tuple[int, str]] = []
    rows: list[StaffRow] = []
    first_by_username: dict[str, int] = {}
    first_by_email: dict[str, int] = {}
    for raw in table.rows:
        row, found = _validate_row(raw)
        problems.extend((raw.row, p) for p in found)
        # Duplicates are checked on every row, even one with other problems, so
        # that HR sees them all in one go.
        username = raw.cells.get("code", "").lower()
        if username in first_by_username:
            problems.append((raw.row, t("staff.problem.duplicate_code", row=raw.row,
                                        code=raw.cells["code"], first=first_by_username[username])))
        elif username:
            first_by_username[username] = raw.row
        email = raw.cells.get("email", "").lower()
        if email in first_by_email:
            problems.append((raw.row, t("staff.problem.duplicate_email", row=raw.row,
                                        email=raw.cells["email"], first=first_by_email[email])))
        elif email:
            first_by_email[email] = raw.row
        if row is not None:
            rows.append(row)
    if problems:
        _reject(table.source, problems)
    return rows


def _reject(source: str, problems: list[tuple[int, str]]) -> None:
    problems.sort(key=lambda p: p[0])  # stable: a row's problems keep their column order
    log.info("staff file %s rejected: %d problem(s)", source, len(problems))
    raise ValidationError(
        "staff.file_rejected", problems=[p for _, p in problems], source=source, count=len(problems)
    )


def _validate_row(raw: RawRow) -> tuple[StaffRow | None, list[str]]:
    cells, n = raw.cells, raw.row
    problems = [
        t("staff.problem.missing", row=n, column=HEADERS[c]) for c in REQUIRED if not cells.get(c)
    ]
    code, name = cells.get("code", ""), cells.get("full_name", "")
    username = code.lower()
    if code and not USERNAME_RE.fullmatch(username):
        problems.append(t("staff.problem.code_unsafe", row=n, code=code))
    if name:
        odd = [ch for ch in dict.fromkeys(name) if not (ch.isalpha() or ch in _NAME_PUNCTUATION)]
        odd += foreign_letters(name)
        if odd:
            problems.append(t("staff.problem.name_chars", row=n, name=name, chars=_show(odd)))
    for column in ("position", "department"):
        value = cells.get(column, "")
        odd = [ch for ch in dict.fromkeys(value) if unicodedata.category(ch)[0] in "CM"]
        odd += foreign_letters(value)
        if odd:
            problems.append(t("staff.problem.text_chars", row=n, column=HEADERS[column],
                              value=value, chars=_show(odd)))
    for column, limit in MAX_LENGTH.items():
        if len(cells.get(column, "")) > limit:
            problems.append(t("staff.problem.too_long", row=n, column=HEADERS[column],
                              length=len(cells[column]), limit=limit))
    # Addresses are compared and stored lowercased: HR types them in any case.
    email = cells.get("email", "").lower() or None
    if email is not None and not EMAIL_RE.fullmatch(email):
        problems.append(t("staff.problem.email_invalid", row=n, email=cells["email"]))
    role_text = cells.get("role", "")
    role = ROLE_BY_FOLD.get(fold(role_text))
    if role_text and role is None:
        problems.append(t("staff.problem.role_unknown", row=n, role=role_text))
    if problems:
        return None, problems
    return StaffRow(n, code, username, name, cells["position"], cells["department"], email, role), []


def _show(chars: list[str]) -> str:
    return ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in chars)


def sync(
    session: Session, rows: list[StaffRow], *, source: str, dry_run: bool = False,
    deactivate_missing: bool = False,
) -> ImportResult:
    """Bring the staff table in line with `rows`; return what changed. Caller commits."""
    result = ImportResult(source=source, encoding=None, dry_run=dry_run, rows=len(rows))
    existing = {
        s.username: s for s in session.scalars(select(Staff).options(selectinload(Staff.department)))
    }
    # Department names match ignoring case, so "Phòng kinh tế" joins "Phòng Kinh tế".
    departments: dict[str, Department | str] = {
        d.name.casefold(): d for d in session.scalars(select(Department))
    }
    in_file = {row.username for row in rows}
    _check_email_conflicts(rows, existing, in_file, deactivate_missing, source)

    for row in rows:
        department = _department(session, departments, row.department, result, dry_run)
        dept_name = department if isinstance(department, str) else department.name
        staff = existing.get(row.username)
        if staff is None:
            result.created.append(row.username)
            if not dry_run:
                session.add(Staff(
                    code=row.code, username=row.username, full_name=row.full_name,
                    position=row.position, department=department, email=row.email,
                    role=row.role, active=True,
                ))
            continue
        wanted = {
            "code": row.code, "full_name": row.full_name, "position": row.position,
            "department": dept_name, "email": row.email, "role": row.role, "active": True,
        }
        current = {
            "code": staff.code, "full_name": staff.full_name, "position": staff.position,
            "department": staff.department.name, "email": staff.email, "role": staff.role,
            "active": staff.active,
        }
        changes = {f: [current[f], wanted[f]] for f in FIELDS if current[f] != wanted[f]}
        if not changes:
            result.unchanged.append(row.username)
            continue
        result.updated.append(StaffUpdate(row.username, row.code, row.full_name, changes))
        if dry_run:
            continue
        for name, (_old, new) in changes.items():
            if name == "department":
                staff.department = department
            else:
                setattr(staff, name, new)

    for username, staff in sorted(existing.items()):
        if username in in_file or not staff.active:
            continue
        if deactivate_missing:
            result.deactivated.append(username)
            if not dry_run:
                staff.active = False
        else:
            result.missing.append(username)
    session.flush()
    return result


def _department(session, departments, name, result, dry_run) -> Department | str:
    key = name.casefold()
    if key not in departments:
        result.departments_created.append(name)
        if dry_run:
            departments[key] = name
        else:
            departments[key] = Department(name=name)
            session.add(departments[key])
    return departments[key]


def _check_email_conflicts(rows, existing, in_file, deactivate_missing, source) -> None:
    """An address in the file that belongs to someone who stays active but is not in the file."""
    if deactivate_missing:
        return  # everyone absent from the file is being deactivated
    owners = {
        s.email.lower(): s for u, s in existing.items() if u not in in_file and s.active and s.email
    }
    problems = [
        (row.row, t("staff.problem.email_taken", row=row.row, email=row.email,
                    code=owners[row.email].code, name=owners[row.email].full_name))
        for row in rows if row.email in owners
    ]
    if problems:
        _reject(source, problems)
