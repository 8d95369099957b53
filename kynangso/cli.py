"""`kns`, the operators' command line.

Sub-command groups come from the `kynangso.cli` entry points (pyproject.toml), so
each area (staff, documents, signing, filing, ...) owns its commands and the core
imports none of them. Shared conventions for every command:

- `--json` prints data as JSON on stdout (UTF-8, not ASCII-escaped);
- a KnsError prints its Vietnamese message on stderr and exits with status 2;
  the operator's detail goes to the log.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import click

from kynangso.errors import KnsError, ValidationError
from kynangso.settings import Settings, load_settings

log = logging.getLogger("kns")


def emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    """Print `data` as JSON, or through `human` for people."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(human(data) if human else data)


json_option = click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON (cho máy đọc).")


def settings_of(ctx: click.Context) -> Settings:
    """The settings, loaded once per invocation from `--settings` / $KNS_SETTINGS."""
    root = ctx.find_root()
    if "settings" not in root.meta:
        root.meta["settings"] = load_settings(root.params.get("settings_path"))
    return root.meta["settings"]


class KnsGroup(click.Group):
    """Turns KnsError into a Vietnamese message and exit status 2, without a traceback.

    The areas' command groups are loaded when first asked for, not at import: an
    area's cli module imports this one, and importing it first must still work.
    """

    _plugins_loaded = False

    def _load(self, entry_point) -> None:
        try:
            command = entry_point.load()
        except Exception as exc:  # one broken area must not take the whole CLI down
            log.warning("kns: cannot load command group %r: %s", entry_point.name, exc)
            return
        self.add_command(command, entry_point.name)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group="kynangso.cli"):
            if ep.name not in self.commands:
                self._load(ep)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        # Only the area asked for: importing every area (nbgrader's server extension, pandas,
        # the ORM) cost each `kns` call over a second of CPU.
        if name not in self.commands:
            for ep in entry_points(group="kynangso.cli", name=name):
                self._load(ep)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KnsError as exc:
            log.error("%s", exc.log_detail)
            click.echo(exc.user_message, err=True)
            if isinstance(exc, ValidationError):
                for problem in exc.problems:
                    click.echo(f"  - {problem}", err=True)
            sys.exit(2)


@click.group(cls=KnsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False),
    envvar="KNS_SETTINGS",
    help="Tệp cấu hình YAML (mặc định: cấu hình sẵn có, hoặc biến KNS_SETTINGS).",
)
@click.option("-v", "--verbose", is_flag=True, help="Ghi nhật ký chi tiết ra màn hình.")
def kns(settings_path: str | None, verbose: bool) -> None:
    """Kỹ Năng Số — công cụ quản trị nền tảng đào tạo kỹ năng số.

    Gõ `kns NHÓM --help` để xem các lệnh của từng nhóm.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings_path:
        # What the command starts (nbgrader's apps, `kns grade`) and the exam course's
        # nbgrader_config.py (exams.gradebook_url) read the same settings.
        os.environ["KNS_SETTINGS"] = os.path.abspath(settings_path)


@kns.command("init")
@json_option
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Tạo thư mục trạng thái và cơ sở dữ liệu (chạy lại nhiều lần không sao)."""
    from kynangso import db

    settings = settings_of(ctx)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    db.upgrade(settings.database_url)
    result = {
        "state_dir": str(settings.state_dir),
        "database": settings.database_url,
        "revision": db.current_revision(settings.database_url),
    }
    emit(result, as_json, lambda r: f"Đã sẵn sàng: {r['database']} (phiên bản lược đồ {r['revision']})")


@kns.command("demo")
@json_option
@click.pass_context
def demo(ctx: click.Context, as_json: bool) -> None:
    """Nạp văn phòng mẫu (DỮ LIỆU MẪU: đơn vị, cán bộ) qua đúng quy trình nhập danh sách cán bộ."""
    from kynangso.demo.office import load_demo_office
    from kynangso.staff.summary import describe_import

    result = load_demo_office(settings_of(ctx))
    emit(result.to_dict(), as_json, lambda _r: describe_import(result))


@kns.command("settings")
@json_option
@click.pass_context
def show_settings(ctx: click.Context, as_json: bool) -> None:
    """Kiểm tra và in cấu hình đang dùng (mặc định + tệp cấu hình)."""
    import yaml

    data = settings_of(ctx).data
    emit(data, as_json, lambda d: yaml.safe_dump(d, allow_unicode=True, sort_keys=False))


def main() -> None:
    kns(prog_name="kns")


if __name__ == "__main__":
    main()
