"""Import results and staff fields as Vietnamese text for people (CLI, `kns demo`)."""

from __future__ import annotations

from kynangso.i18n import t
from kynangso.staff.importer import ImportResult


def role_label(role: str) -> str:
    return {
        "hocvien": t("staff.role.hocvien"),
        "giangvien": t("staff.role.giangvien"),
        "nhansu": t("staff.role.nhansu"),
        "quantri": t("staff.role.quantri"),
    }[role]


def field_label(field: str) -> str:
    return {
        "code": t("staff.field.code"),
        "full_name": t("staff.field.full_name"),
        "position": t("staff.field.position"),
        "department": t("staff.field.department"),
        "email": t("staff.field.email"),
        "role": t("staff.field.role"),
        "active": t("staff.field.active"),
    }[field]


def show_value(field: str, value: object) -> str:
    if value is None or value == "":
        return t("staff.empty")
    if field == "active":
        return t("staff.bool_true") if value else t("staff.bool_false")
    if field == "role":
        return role_label(str(value))
    return str(value)


def describe_import(r: ImportResult) -> str:
    """A summary line, then one line per created, updated and deactivated member."""
    counts = dict(
        source=r.source, created=len(r.created), updated=len(r.updated),
        unchanged=len(r.unchanged), deactivated=len(r.deactivated),
        departments=len(r.departments_created),
    )
    lines = [t("staff.dry_run_summary", **counts) if r.dry_run else t("staff.import_summary", **counts)]
    lines += [t("staff.line_created", username=u) for u in r.created]
    for u in r.updated:
        changes = "; ".join(
            t("staff.line_change", field=field_label(f), old=show_value(f, old), new=show_value(f, new))
            for f, (old, new) in u.changes.items()
        )
        lines.append(t("staff.line_updated", username=u.username, name=u.full_name, changes=changes))
    lines += [t("staff.line_deactivated", username=u) for u in r.deactivated]
    if r.missing:
        lines.append(t("staff.missing_note", count=len(r.missing), usernames=", ".join(r.missing)))
    return "\n".join(lines)
