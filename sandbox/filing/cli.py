"""`kns filing ...`: due dates, dossier codes, statistics, catalogue, practice scenarios."""

from __future__ import annotations

from datetime import date, datetime

import click

from kynangso.cli import emit, json_option
from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.workdays import compute_due, default_calendar, default_conventions

DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S")


def parse_datetime(value: str) -> datetime:
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    raise KnsError("filing.bad_datetime", value=value)


def parse_date(value: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise KnsError("filing.bad_date", value=value)


@click.group("filing")
def filing() -> None:
    """Mô phỏng Bộ phận Một cửa và Cổng dịch vụ công: hạn giải quyết, mã hồ sơ, thống kê."""


@filing.command("due")
@click.option("--received", "received", required=True,
              help="Thời điểm tiếp nhận, ví dụ \"2026-02-13 16:10\".")
@click.option("--days", type=int, default=None,
              help="Số ngày làm việc (mặc định: thời hạn của thủ tục).")
@click.option("--procedure", default=None, help="Mã thủ tục trong danh mục, ví dụ KT-HKD.")
@json_option
def due(received: str, days: int | None, procedure: str | None, as_json: bool) -> None:
    """In hạn trả kết quả và cách đếm ngày làm việc."""
    at = parse_datetime(received)
    conv = default_conventions()["blds_147"]
    name = ""
    if procedure:
        from sandbox.filing.catalogue import default_catalogue

        proc = default_catalogue().get(procedure)
        conv, name = proc.convention, proc.name
        days = proc.days if days is None else days
    if days is None:
        raise KnsError("filing.cli.days_required")
    result = compute_due(default_calendar(), at, days, conv)
    data = result.as_dict() | ({"procedure": procedure, "procedure_name": name}
                               if procedure else {})

    def human(d: dict) -> str:
        head = t("filing.cli.due_head", procedure=name) if name else ""
        return head + "\n".join(f"- {s}" for s in d["steps"])

    emit(data, as_json, human)


@filing.command("code")
@click.option("--unit", default=None, help="Mã định danh của đơn vị, ví dụ 000.00.12.H29.")
@click.option("--date", "day", default=None, help="Ngày tiếp nhận, ví dụ 2026-02-23.")
@click.option("--seq", type=int, default=1, show_default=True, help="Số thứ tự trong ngày.")
@click.option("--centralised", is_flag=True, help="Thủ tục trên hệ thống tập trung toàn quốc.")
@click.option("--aa", default="00", show_default=True, help="02 chữ số của cơ quan chủ quản.")
@click.option("--check", "check", default=None, help="Kiểm tra một mã hồ sơ có sẵn.")
@json_option
def code(unit: str | None, day: str | None, seq: int, centralised: bool, aa: str,
         check: str | None, as_json: bool) -> None:
    """Tạo mã số hồ sơ theo quy định đang có hiệu lực, hoặc kiểm tra một mã (--check)."""
    from sandbox.filing.codes import format_for, make_code, parse_code

    if check:
        p = parse_code(check)
        data = {"code": check, "format": p.format.name, "unit": p.unit,
                "date": p.day.isoformat(), "seq": p.seq, "source": p.format.source}
        emit(data, as_json, lambda d: t("filing.cli.code_ok", code=d["code"], unit=d["unit"],
                                        date=p.day.strftime("%d/%m/%Y"), seq=d["seq"],
                                        source=d["source"]))
        return
    if not unit or not day:
        raise KnsError("filing.cli.code_args")
    d = parse_date(day)
    fmt = format_for(d, centralised)
    value = make_code(unit, d, seq, centralised=centralised, aa=aa, fmt=fmt)
    data = {"code": value, "format": fmt.name, "source": fmt.source}
    emit(data, as_json, lambda x: t("filing.cli.code_made", code=x["code"], source=x["source"]))


@filing.command("stats")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False),
              help="Tệp dữ liệu thực hành (SQLite).")
@click.option("--now", "now", default=None, help="Thời điểm tính quá hạn (mặc định: bây giờ).")
@click.option("--period", type=click.Choice(["M", "Q", "Y"]), default="M", show_default=True,
              help="Kỳ thống kê: tháng, quý, năm.")
@json_option
def stats(db: str, now: str | None, period: str, as_json: bool) -> None:
    """Thống kê: tỷ lệ đúng hạn, quá hạn đang xử lý, xin lỗi, tỷ lệ trực tuyến."""
    from pathlib import Path

    from sandbox.filing.desk import FilingDesk
    from sandbox.filing.stats import desk_summary

    if not Path(db).exists():
        raise KnsError("filing.cli.no_db", path=db)
    moment = parse_datetime(now) if now else datetime.now()
    table = desk_summary(FilingDesk(db), moment, period)
    rows = table.to_dict(orient="records")

    def human(rs: list[dict]) -> str:
        if not rs:
            return t("filing.cli.stats_empty")
        lines = []
        for r in rs:
            rate = "—" if r["on_time_rate"] != r["on_time_rate"] else f"{r['on_time_rate']:.1%}"
            lines.append(t("filing.cli.stats_row", unit=r["unit"], period=r["period"],
                           received=r["received"], resolved=r["resolved"], rate=rate,
                           overdue=r["overdue_in_progress"], apologies=r["apologies"],
                           online=f"{r['online_share']:.1%}",
                           full=f"{r['fully_online_share']:.1%}"))
        return "\n".join(lines)

    emit(rows, as_json, human)


@filing.command("catalogue")
@json_option
def catalogue_cmd(as_json: bool) -> None:
    """Liệt kê danh mục thủ tục hành chính của môi trường thực hành."""
    from sandbox.filing.catalogue import default_catalogue

    rows = [{"code": p.code, "name": p.name, "days": p.days, "fee": str(p.fee),
             "fee_unit": p.fee_unit, "service_level": p.service_level,
             "resolving_body": p.resolving_body} for p in default_catalogue()]
    emit(rows, as_json, lambda rs: "\n".join(
        t("filing.cli.catalogue_row", code=r["code"], name=r["name"], days=r["days"],
          fee=r["fee"], unit=r["fee_unit"], level=t(f"filing.service_level.{r['service_level']}"))
        for r in rs))


@filing.command("scenario")
@click.option("--learner", required=True, help="Tên tài khoản học viên (mỗi người một bộ).")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False),
              help="Tệp dữ liệu thực hành sẽ tạo (SQLite).")
@click.option("--seed", type=int, default=0, show_default=True, help="Số hạt giống của đợt.")
@click.option("--count", type=int, default=12, show_default=True, help="Số hồ sơ trong hàng chờ.")
@json_option
def scenario_cmd(learner: str, db: str, seed: int, count: int, as_json: bool) -> None:
    """Tạo hàng chờ hồ sơ thực hành cho một học viên."""
    from sandbox.filing.scenario import generate

    result = generate(db, learner, seed=seed, count=count)
    emit(result, as_json, lambda r: t("filing.cli.scenario_made", n=r["count"], db=db,
                                      kinds=", ".join(sorted(set(r["kinds"])))))
