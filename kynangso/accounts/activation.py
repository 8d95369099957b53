"""One-time activation codes: how a staff member sets their first password.

HR hands each person a code (`kns accounts invite`); on the hub's activation page
the person enters their username, the code and a new password. Only a SHA-256 of
the code is stored (codes are random, 60 bits, so a fast hash is enough), a code
works once and expires, and issuing a new code cancels the old ones.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from kynangso.db import session_scope
from kynangso.errors import KnsError
from kynangso.models import ActivationCode, Staff

# No 0/O, 1/I/L: codes are read aloud and typed by people.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _digest(code: str) -> str:
    canonical = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(canonical.encode()).hexdigest()


def issue_codes(url: str, usernames: list[str], days: int, now: datetime | None = None) -> dict[str, str]:
    """New codes for `usernames` (active staff only), cancelling their unused ones."""
    now = now or datetime.now(UTC)
    codes: dict[str, str] = {}
    with session_scope(url) as s:
        active = set(s.scalars(select(Staff.username).where(Staff.username.in_(usernames), Staff.active)))
        unknown = sorted(set(usernames) - active)
        if unknown:
            raise KnsError("accounts.invite_unknown", usernames=", ".join(unknown))
        s.execute(
            update(ActivationCode)
            .where(ActivationCode.username.in_(usernames), ActivationCode.used_at.is_(None))
            .values(expires_at=now)
        )
        for username in usernames:
            code = new_code()
            s.add(
                ActivationCode(
                    username=username,
                    code_hash=_digest(code),
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
            )
            codes[username] = code
    return codes


def consume_code(url: str, username: str, code: str, now: datetime | None = None) -> bool:
    """Mark the code used and return True if it is valid for `username` right now."""
    now = now or datetime.now(UTC)
    with session_scope(url) as s:
        # One UPDATE guarded by every condition: two concurrent uses cannot both win.
        result = s.execute(
            update(ActivationCode)
            .where(
                ActivationCode.username == username,
                ActivationCode.code_hash == _digest(code),
                ActivationCode.used_at.is_(None),
                ActivationCode.expires_at > now,
            )
            .values(used_at=now)
        )
        return result.rowcount == 1


def staff_can_log_in(url: str, username: str) -> bool:
    """Is `username` an active member of staff in the directory?"""
    with session_scope(url) as s:
        return bool(s.scalar(select(Staff.active).where(Staff.username == username)))


def staff_role(url: str, username: str) -> str | None:
    with session_scope(url) as s:
        return s.scalar(select(Staff.role).where(Staff.username == username, Staff.active))
