"""The staff directory file format HR fills in: columns, role names, text clean-up.

These are the tokens of the file format (like a schema), not sentences for people:
the importer recognises them, the exporter writes them. Header and role matching
ignore case, diacritics, spacing and punctuation, so "Ma can bo", "MÃ CÁN BỘ" and
"Mã  cán bộ" all name the same column.
"""

from __future__ import annotations

import re
import unicodedata

# Canonical column -> the header the exporter writes (HR's wording).
HEADERS: dict[str, str] = {
    "code": "Mã cán bộ",
    "full_name": "Họ và tên",
    "position": "Chức vụ",
    "department": "Đơn vị",
    "email": "Email",
    "role": "Vai trò",
}
REQUIRED = ("code", "full_name", "position", "department", "role")

# Other headers HR files are seen with; compared after `fold()`.
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("Mã CB", "Mã cán bộ, công chức", "Mã nhân viên", "Mã số", "Mã"),
    "full_name": ("Họ tên", "Họ và tên cán bộ", "Tên cán bộ"),
    "position": ("Chức danh", "Chức vụ, chức danh"),
    "department": ("Phòng ban", "Phòng, ban", "Đơn vị công tác", "Bộ phận"),
    "email": ("E-mail", "Thư điện tử", "Địa chỉ email", "Địa chỉ thư điện tử"),
    "role": ("Nhóm", "Nhóm người dùng", "Vai trò trên hệ thống"),
}

# Hub group -> the Vietnamese name the exporter writes.
ROLE_LABELS: dict[str, str] = {
    "hocvien": "Học viên",
    "giangvien": "Giảng viên",
    "nhansu": "Nhân sự",
    "quantri": "Quản trị",
}
_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "quantri": ("Quản trị viên", "admin"),
}

# The hub username is the lowercased code: safe as a Unix account name suffix,
# a URL path segment and a JupyterHub name.
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,30}")
EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
MAX_LENGTH = {"full_name": 200, "position": 200, "department": 200, "email": 254}

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

# The Vietnamese alphabet beyond ASCII, in NFC: the 5 tone marks on the 12 vowels,
# and đ. A letter outside ASCII and this set in a name is almost always mojibake
# (a file decoded with the wrong encoding, or TCVN3/VNI legacy fonts).
_VOWELS = "aăâeêioôơuưy"
_TONES = "\u0300\u0301\u0309\u0303\u0323"
VIETNAMESE_LETTERS = frozenset(
    unicodedata.normalize("NFC", ch)
    for base in _VOWELS + _VOWELS.upper()
    for ch in [base] + [base + tone for tone in _TONES]
) | frozenset("đĐ")


def fold(text: str) -> str:
    """Lowercase, without diacritics, spaces or punctuation: "MÃ CÁN BỘ" -> "macanbo"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text.lower() if ch.isalnum() and not unicodedata.combining(ch))


HEADER_BY_FOLD: dict[str, str] = {
    fold(name): column
    for column, names in ((c, (HEADERS[c], *_HEADER_ALIASES[c])) for c in HEADERS)
    for name in names
}
ROLE_BY_FOLD: dict[str, str] = {
    fold(name): role
    for role in ROLE_LABELS
    for name in (role, ROLE_LABELS[role], *_ROLE_ALIASES.get(role, ()))
}


def clean(value: object) -> str:
    """A cell as NFC text: invisible characters dropped, whitespace runs collapsed, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores a code typed as 1024 as 1024.0
    text = unicodedata.normalize("NFC", str(value)).translate(_INVISIBLE)
    return " ".join(text.split())


def foreign_letters(text: str) -> list[str]:
    """Letters in `text` that belong to neither ASCII nor the Vietnamese alphabet."""
    seen: list[str] = []
    for ch in text:
        if ch.isalpha() and not ch.isascii() and ch not in VIETNAMESE_LETTERS and ch not in seen:
            seen.append(ch)
    return seen
