"""`kns accounts`: first-login codes and hub synchronisation."""

from __future__ import annotations

import csv
import os

import click
from sqlalchemy import select

from kynangso.accounts.activation import issue_codes
from kynangso.accounts.sync import sync_hub
from kynangso.cli import emit, json_option, settings_of
from kynangso.db import session_scope, upgrade
from kynangso.i18n import t
from kynangso.models import Staff


@click.group("accounts")
def accounts() -> None:
    """Tài khoản đăng nhập: mã kích hoạt lần đầu, đồng bộ với JupyterHub."""


@accounts.command("invite")
@click.argument("usernames", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="Cấp mã cho mọi cán bộ đang làm việc.")
@click.option("--department", help="Chỉ cấp mã cho cán bộ của đơn vị này.")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="Tệp CSV ghi mã (chỉ người chạy lệnh đọc được) để phòng Nhân sự trao cho từng người.")
@json_option
@click.pass_context
def invite(ctx, usernames, everyone, department, out, as_json):
    """Cấp mã kích hoạt dùng một lần cho cán bộ đăng nhập lần đầu."""
    settings = settings_of(ctx)
    upgrade(settings.database_url)
    names = list(usernames)
    if everyone or department:
        with session_scope(settings.database_url) as s:
            q = select(Staff).where(Staff.active)
            names += [st.username for st in s.scalars(q) if not department or st.department.name == department]
    if not names:
        raise click.UsageError(t("accounts.invite_nobody"))
    codes = issue_codes(settings.database_url, sorted(set(names)), settings["auth"]["native"]["activation_code_days"])
    # The codes are secrets: the file is created 0600 before anything is written.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([t("accounts.col_username"), t("accounts.col_code")])
        writer.writerows(sorted(codes.items()))
    emit({"issued": len(codes), "file": out}, as_json, lambda r: t("accounts.invite_done", n=r["issued"], file=r["file"]))


@accounts.command("sync")
@json_option
@click.pass_context
def sync(ctx, as_json):
    """Đồng bộ tài khoản và nhóm vai trò sang JupyterHub đang chạy."""
    counts = sync_hub(settings_of(ctx))
    if counts is None:
        emit({"hub_running": False}, as_json, lambda _r: t("accounts.hub_not_running"))
    else:
        emit({"hub_running": True, **counts}, as_json, lambda r: t("accounts.sync_done", **counts))
