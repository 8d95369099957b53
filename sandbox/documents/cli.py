"""`kns documents`: operators' commands for the document sandbox.

- `parse-symbol TEXT`: read and explain a số, ký hiệu (exit 2 when it is not valid);
- `check-docx FILE`: check a draft's layout (exit 1 when findings, 2 when unreadable);
- `add-org`, `register`, `register-book`: keep a practice register in a SQLite file.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click

from kynangso.cli import emit, json_option
from kynangso.i18n import t
from sandbox.documents.docx_check import check_docx, findings_as_dicts
from sandbox.documents.rules import register_columns
from sandbox.documents.storage import Actor, Registry, default_db_path
from sandbox.documents.symbol import SymbolError, parse_symbol

db_option = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Tệp SQLite của sổ thực hành (mặc định ~/.kynangso/documents.sqlite).",
)


def _date(value: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise click.BadParameter(t("documents.cli.bad_date", value=value))


@click.group("documents")
def documents() -> None:
    """Văn bản đến, văn bản đi theo Nghị định 30/2020 (môi trường thực hành)."""


@documents.command("parse-symbol")
@click.argument("text")
@json_option
def parse_symbol_cmd(text: str, as_json: bool) -> None:
    """Đọc và giải thích số, ký hiệu văn bản, ví dụ "4391/KH-UBND"."""
    try:
        sym = parse_symbol(text)
    except SymbolError as exc:
        if not as_json:
            raise
        emit({"valid": False, "text": text, "kind": exc.kind, "message": exc.user_message,
              "problems": exc.problems, "suggestion": exc.suggestion}, True)
        sys.exit(2)
    data = {"valid": True, **sym.as_dict()}
    emit(data, as_json, lambda d: f"{d['symbol']}: {d['explanation']}")


@documents.command("check-docx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--symbol", "expected", default=None,
              help="Số, ký hiệu trong sổ đăng ký, để so với số in trên văn bản.")
@json_option
def check_docx_cmd(file: Path, expected: str | None, as_json: bool) -> None:
    """Kiểm tra thể thức, kỹ thuật trình bày của dự thảo .docx."""
    findings = check_docx(file, expected_symbol=expected)
    data = {"file": str(file), "passed": not findings, "findings": findings_as_dicts(findings)}

    def human(d):
        if d["passed"]:
            return t("documents.docx.passed")
        lines = [t("documents.docx.summary", n=len(d["findings"]))]
        lines += [f"  - {f['message']}" for f in d["findings"]]
        return "\n".join(lines)

    emit(data, as_json, human)
    if findings:
        sys.exit(1)


@documents.command("add-org")
@click.argument("code")
@click.argument("name")
@click.option("--place", default="", help="Địa danh ghi trên văn bản.")
@db_option
@json_option
def add_org(code: str, name: str, place: str, db_path: Path | None, as_json: bool) -> None:
    """Thêm một cơ quan mô phỏng (CODE là chữ viết tắt dùng trong ký hiệu)."""
    reg = Registry(db_path or default_db_path())
    try:
        data = reg.add_organisation(code, name, place)
    finally:
        reg.close()
    emit(data, as_json, lambda d: t("documents.cli.org_added", code=d["code"], name=d["name"]))


@documents.command("register")
@click.option("--org", required=True, help="Chữ viết tắt cơ quan nhận (đã thêm bằng add-org).")
@click.option("--author", required=True, help="Tác giả: cơ quan ban hành văn bản đến.")
@click.option("--symbol", required=True, help="Số, ký hiệu văn bản đến.")
@click.option("--date", "doc_date", required=True, help="Ngày văn bản (dd/mm/yyyy).")
@click.option("--type", "type_name", required=True, help="Tên loại văn bản, ví dụ Kế hoạch.")
@click.option("--subject", required=True, help="Trích yếu nội dung.")
@click.option("--urgency", type=click.Choice(["thuong", "khan", "thuong_khan", "hoa_toc"]),
              default="thuong", help="Mức độ khẩn.")
@click.option("--secrecy", type=click.Choice(["mat", "toi_mat", "tuyet_mat"]), default=None,
              help="Độ mật (sổ và dãy số riêng).")
@click.option("--file", "content_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Tệp văn bản điện tử (khi đó phải có --sha256).")
@click.option("--sha256", default=None, help="Mã SHA-256 do nơi gửi khai báo.")
@click.option("--clerk", default="Văn thư", help="Họ tên văn thư đăng ký (ghi vào nhật ký).")
@db_option
@json_option
def register(org, author, symbol, doc_date, type_name, subject, urgency, secrecy, content_file,
             sha256, clerk, db_path, as_json) -> None:
    """Đăng ký một văn bản đến vào sổ và cấp số đến."""
    reg = Registry(db_path or default_db_path())
    try:
        entry = reg.register_incoming(
            org, Actor(clerk, "van_thu"), author=author, symbol=symbol, doc_date=_date(doc_date),
            type_name=type_name, subject=subject, urgency=urgency, secrecy=secrecy,
            medium="electronic" if content_file else "paper",
            content=content_file.read_bytes() if content_file else None, declared_sha256=sha256,
        )
    finally:
        reg.close()
    cols = [c["field"] for c in register_columns("incoming")]
    data = {c: entry[c] for c in cols} | {"id": entry["id"], "year": entry["year"]}
    emit(data, as_json, lambda d: t("documents.cli.registered", number=d["arrival_number"],
                                    year=d["year"], symbol=d["symbol"]))


@documents.command("register-book")
@click.option("--org", required=True, help="Chữ viết tắt cơ quan.")
@click.option("--year", type=int, default=None, help="Năm của sổ (mặc định năm nay).")
@click.option("--outgoing", is_flag=True, help="Sổ văn bản đi (mặc định: sổ văn bản đến).")
@db_option
@json_option
def register_book(org, year, outgoing, db_path, as_json) -> None:
    """In sổ đăng ký văn bản đến (hoặc đi) của một năm, theo các cột của Phụ lục IV."""
    reg = Registry(db_path or default_db_path())
    year = year or date.today().year
    try:
        rows = reg.outgoing_register(org, year) if outgoing else reg.incoming_register(org, year)
    finally:
        reg.close()
    kind = "outgoing" if outgoing else "incoming"
    labels = [c["label"] for c in register_columns(kind)]
    fields = [c["field"] for c in register_columns(kind)]

    def human(rs):
        out = [" | ".join(labels)]
        out += [" | ".join("" if r[f] is None else str(r[f]) for f in fields) for r in rs]
        return "\n".join(out)

    emit(rows, as_json, human)

