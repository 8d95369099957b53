"""`kns backup DEST` and `kns restore SRC` (entry points in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import click

from kynangso.cli import emit, json_option, settings_of
from kynangso.errors import KnsError
from kynangso.i18n import t


def _revision(url: str) -> str | None:
    from kynangso import db
    from kynangso.backup.places import Database

    database = Database("platform", url)
    if database.file is not None and not database.file.exists():
        return None  # not made yet; opening it would create it
    return db.current_revision(url)


def _summary(manifest: dict) -> dict:
    files = [m for m in manifest["members"] if m["type"] == "file"]
    return {"created_at": manifest["created_at"], "alembic_revision": manifest["alembic_revision"],
            "databases": {d["name"]: d["kind"] for d in manifest["databases"]},
            "files": len(files), "bytes": sum(m["size"] for m in files)}


@click.command("backup", help=t("backup.cli.backup_help"))
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def backup(ctx: click.Context, dest: Path, as_json: bool) -> None:
    from kynangso.backup import archive
    from kynangso.backup.places import places

    settings = settings_of(ctx)
    manifest = archive.backup(places(settings), dest, _revision(settings.database_url))
    result = {"archive": str(dest.absolute()), **_summary(manifest)}
    emit(result, as_json, lambda r: t("backup.done", path=r["archive"], files=r["files"],
                                      mb=f"{r['bytes'] / 1e6:.1f}"))


@click.command("restore", help=t("backup.cli.restore_help"))
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def restore(ctx: click.Context, source: Path, as_json: bool) -> None:
    from kynangso.backup import archive
    from kynangso.backup.places import places

    if not source.is_file():  # checked here for a Vietnamese message (click's is English)
        raise KnsError("backup.source_missing", path=str(source))
    manifest = archive.restore(places(settings_of(ctx)), source)
    result = {"archive": str(source.absolute()), **_summary(manifest)}
    emit(result, as_json, lambda r: t("backup.restored", path=r["archive"], files=r["files"],
                                      created=r["created_at"]))
