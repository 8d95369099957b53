"""`kns staff`: import HR's directory, list staff, export, write the demo file."""

from __future__ import annotations

from pathlib import Path

import click

from kynangso import db
from kynangso.cli import emit, json_option, settings_of
from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.staff.directory import list_staff
from kynangso.staff.export import rows_for, write_rows
from kynangso.staff.formats import ROLE_BY_FOLD, fold
from kynangso.staff.importer import import_file
from kynangso.staff.summary import describe_import, role_label


def _database(ctx: click.Context) -> str:
    settings = settings_of(ctx)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    db.upgrade(settings.database_url)
    return settings.database_url


@click.group("staff", help=t("staff.help.group"))
def staff() -> None:
    pass


@staff.command("import", help=t("staff.help.import"))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help=t("staff.help.dry_run"))
@click.option("--deactivate-missing", is_flag=True, help=t("staff.help.deactivate_missing"))
@json_option
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, dry_run: bool, deactivate_missing: bool, as_json: bool):
    url = _database(ctx)
    result = import_file(file, url, dry_run=dry_run, deactivate_missing=deactivate_missing)
    data = result.to_dict()
    hub = None
    if not dry_run:
        # The directory is committed; a running hub gets the accounts and groups now
        # (otherwise it loads them when it starts).
        from kynangso.accounts.sync import sync_hub

        hub = sync_hub(settings_of(ctx))
        data["hub_sync"] = hub
    emit(data, as_json, lambda _: describe_import(result) + ("\n" + t("accounts.sync_done", **hub) if hub else ""))


@staff.command("list", help=t("staff.help.list"))
@click.option("--department", "-d", metavar="ĐƠN_VỊ", help=t("staff.help.department"))
@click.option("--role", "-r", metavar="VAI_TRÒ", help=t("staff.help.role"))
@click.option("--all", "include_inactive", is_flag=True, help=t("staff.help.all"))
@json_option
@click.pass_context
def list_cmd(ctx, department: str | None, role: str | None, include_inactive: bool, as_json: bool):
    group = None
    if role is not None:
        group = ROLE_BY_FOLD.get(fold(role))
        if group is None:
            raise KnsError("staff.role_filter_unknown", role=role)
    with db.session_scope(_database(ctx)) as session:
        entries = list_staff(session, department=department, role=group,
                             include_inactive=include_inactive)
    data = [vars(e) for e in entries]
    emit(data, as_json, _table)


def _table(rows: list[dict]) -> str:
    if not rows:
        return t("staff.list_empty")
    lines = [
        t("staff.list_line", code=r["code"], username=r["username"], name=r["full_name"],
          role=role_label(r["role"]), department=r["department"], position=r["position"])
        for r in rows
    ]
    lines.append(t("staff.list_total", count=len(rows)))
    return "\n".join(lines)


@staff.command("export", help=t("staff.help.export"))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def export_cmd(ctx: click.Context, target: Path, as_json: bool) -> None:
    with db.session_scope(_database(ctx)) as session:
        entries = list_staff(session)
    write_rows(target, rows_for(entries))
    data = {"target": str(target), "count": len(entries)}
    emit(data, as_json, lambda d: t("staff.export_done", count=d["count"], target=d["target"]))


@staff.command("demo-file", help=t("staff.help.demo_file"))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def demo_file_cmd(target: Path, as_json: bool) -> None:
    from kynangso.demo.office import DEMO_STAFF, write_demo_csv

    write_demo_csv(target)
    data = {"target": str(target), "count": len(DEMO_STAFF)}
    emit(data, as_json, lambda d: t("staff.demo_file_done", count=d["count"], target=d["target"]))
