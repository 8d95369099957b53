"""`kns signing ...`: the training PKI, signing and verification from the command line.

Passphrases are asked for without echo (or read from $KNS_SIGNING_PASSPHRASE for scripts).
`verify` exits 0 when the document is valid, 1 when it is not, 2 on bad input.
"""

from __future__ import annotations

import logging
import pwd
import sys
from pathlib import Path

import click

from kynangso.cli import emit, json_option, settings_of
from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.signing.pki import KINDS, Subject, TrainingPKI

_PASS = dict(envvar="KNS_SIGNING_PASSPHRASE", help="Mật khẩu bảo vệ khóa (mặc định: hỏi).")


def _dir(ctx: click.Context) -> Path:
    folder = ctx.find_object(dict).get("pki_dir")
    return Path(folder) if folder else settings_of(ctx).state_dir / "pki"


def _pki(ctx: click.Context) -> TrainingPKI:
    return TrainingPKI(_dir(ctx))


def _info(info) -> dict:
    return info.as_dict()


def _human_cert(d: dict) -> str:
    return t("signing.cli_cert", **d)


@click.group("signing")
@click.option(
    "--pki-dir",
    type=click.Path(file_okay=False),
    help="Thư mục của hệ thống chứng thực đào tạo (mặc định: <state_dir>/pki).",
)
@click.pass_context
def signing(ctx: click.Context, pki_dir: str | None) -> None:
    """Chữ ký số: hệ thống chứng thực đào tạo, ký và kiểm tra văn bản PDF."""
    ctx.ensure_object(dict)["pki_dir"] = pki_dir
    if not logging.getLogger().isEnabledFor(logging.INFO):
        # pyHanko logs each failed path validation with a traceback; the report already says
        # what failed, in Vietnamese. `kns -v` shows them.
        logging.getLogger("pyhanko").setLevel(logging.ERROR)
        logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)


@signing.command("init")
@json_option
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Tạo CA gốc và CA cấp phát đào tạo (chạy lại không sao)."""
    pki = TrainingPKI.create(_dir(ctx))
    emit({"pki_dir": str(pki.dir)}, as_json, lambda d: t("signing.cli_init", **d))


@signing.command("issue")
@click.option(
    "--account", required=True, help="Tài khoản của người được cấp (vd. kns-nguyenvanan)."
)
@click.option("--name", required=True, help="Họ tên (hoặc tên cơ quan, tổ chức).")
@click.option("--title", help="Chức danh (bắt buộc với chứng thư cá nhân).")
@click.option("--org", "organisation", required=True, help="Cơ quan, tổ chức.")
@click.option("--unit", help="Đơn vị trực thuộc.")
@click.option("--province", required=True, help="Tỉnh, thành phố.")
@click.option("--kind", type=click.Choice(sorted(KINDS)), default="personal", show_default=True)
@click.option("--key-type", default="ec-p256", show_default=True)
@click.option("--owner", help="Tài khoản Unix sở hữu tệp khóa (khi chạy bằng root).")
@click.option("--passphrase", prompt=True, hide_input=True, confirmation_prompt=True, **_PASS)
@json_option
@click.pass_context
def issue(
    ctx,
    account,
    name,
    title,
    organisation,
    unit,
    province,
    kind,
    key_type,
    owner,
    passphrase,
    as_json,
) -> None:
    """Cấp chứng thư số mới (Mẫu 01 cá nhân, Mẫu 02 cơ quan, tổ chức)."""
    uid = _uid(owner)
    info = _pki(ctx).issue(
        Subject(name, organisation, province, title, unit),
        passphrase,
        account=account,
        kind=kind,
        owner_uid=uid,
        key_type=key_type,
    )
    emit(_info(info), as_json, _human_cert)


def _uid(owner: str | None) -> int | None:
    if owner is None:
        return None
    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise KnsError("signing.cli_no_user", user=owner) from None


@signing.command("renew")
@click.argument("serial")
@click.option("--passphrase", prompt=True, hide_input=True, confirmation_prompt=True, **_PASS)
@json_option
@click.pass_context
def renew(ctx, serial, passphrase, as_json) -> None:
    """Gia hạn chứng thư số (khóa mới, tối đa 3 năm)."""
    emit(_info(_pki(ctx).renew(serial, passphrase)), as_json, _human_cert)


@signing.command("revoke")
@click.argument("serial")
@click.option(
    "--reason",
    default="unspecified",
    show_default=True,
    help="key_compromise, affiliation_changed, superseded, cessation_of_operation, ...",
)
@json_option
@click.pass_context
def revoke(ctx, serial, reason, as_json) -> None:
    """Thu hồi chứng thư số và phát hành lại danh sách thu hồi (CRL)."""
    emit(_info(_pki(ctx).revoke(serial, reason)), as_json, _human_cert)


@signing.command("crl")
@click.pass_context
def crl(ctx) -> None:
    """Phát hành lại danh sách chứng thư bị thu hồi (CRL)."""
    _pki(ctx).publish_crl()
    click.echo(t("signing.cli_crl"))


@signing.command("list")
@click.option("--account", help="Chỉ liệt kê chứng thư của tài khoản này.")
@json_option
@click.pass_context
def list_certs(ctx, account, as_json) -> None:
    """Liệt kê chứng thư số đã cấp."""
    rows = [_info(i) for i in _pki(ctx).certificates(account)]
    emit(rows, as_json, lambda rs: "\n".join(_human_cert(r) for r in rs) or t("signing.cli_none"))


@signing.command("sign")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Tệp khóa PKCS#12 (.p12) của người ký.",
)
@click.option(
    "--as",
    "mode",
    type=click.Choice(["personal", "organisation", "copy", "attachment"]),
    default="personal",
    show_default=True,
    help="personal: người có thẩm quyền; organisation: cơ quan (dấu); copy: bản sao "
    "điện tử; attachment: tệp kèm theo, phụ lục.",
)
@click.option("--doc-number", help="Số, ký hiệu văn bản chính (cho --as attachment).")
@click.option(
    "--copy-form",
    default="SAO Y",
    show_default=True,
    type=click.Choice(["SAO Y", "SAO LỤC", "TRÍCH SAO"]),
)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Tệp kết quả (mặc định: <tên>.signed.pdf)."
)
@click.option("--passphrase", prompt=True, hide_input=True, **_PASS)
@json_option
@click.pass_context
def sign_cmd(ctx, file, key_path, mode, doc_number, copy_form, out, passphrase, as_json) -> None:
    """Ký số một văn bản PDF."""
    from sandbox.signing import sign
    from sandbox.signing.pki import write_atomic

    src = Path(file)
    try:
        data = src.read_bytes()
    except OSError:
        raise KnsError("signing.cli_no_file", file=file) from None
    pki = _pki(ctx)
    key = sign.load_key(key_path, passphrase, pki)
    if mode == "personal":
        signed = sign.sign_personal(data, key, pki, name=src.name)
    elif mode == "organisation":
        signed = sign.sign_organisation(data, key, pki, name=src.name)
    elif mode == "copy":
        signed = sign.sign_copy(data, key, pki, form=copy_form, name=src.name)
    else:
        if not doc_number:
            raise KnsError("signing.cli_need_doc_number")
        signed = sign.sign_attachment(data, key, pki, doc_number=doc_number, name=src.name)
    target = Path(out) if out else src.with_suffix(".signed.pdf")
    write_atomic(target, signed, 0o644)
    emit(
        {"file": str(target), "signer": key.common_name},
        as_json,
        lambda d: t("signing.cli_signed", **d),
    )


@signing.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--profile",
    type=click.Choice(["administrative", "copy", "attachment", "any"]),
    default="administrative",
    show_default=True,
    help="administrative: cần chữ ký cá nhân và của cơ quan; copy/attachment: cần chữ "
    "ký của cơ quan; any: chỉ kiểm tra các chữ ký có trong tệp.",
)
@json_option
@click.pass_context
def verify_cmd(ctx, file, profile, as_json) -> None:
    """Kiểm tra chữ ký số của một văn bản PDF và in báo cáo từng mục."""
    from sandbox.signing.verify import verify_pdf

    try:
        data = Path(file).read_bytes()
    except OSError:
        raise KnsError("signing.cli_no_file", file=file) from None
    report = verify_pdf(data, _pki(ctx), name=Path(file).name, profile=profile)
    emit(report.as_dict(), as_json, lambda _d: report.to_text())
    sys.exit(0 if report.ok else 1)


@signing.command("scenario")
@click.option("--learner", required=True, help="Tài khoản học viên (mỗi người một bộ khác nhau).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--count", default=8, show_default=True, type=click.IntRange(1, 50))
@click.option("--owner", help="Tài khoản Unix sở hữu các tệp tạo ra (khi chạy bằng root).")
@json_option
@click.pass_context
def scenario_cmd(ctx, learner, seed, out_dir, count, owner, as_json) -> None:
    """Tạo bộ văn bản đến có chữ ký số (hợp lệ và có lỗi) cho một học viên."""
    from sandbox.signing.scenarios import generate_inbox

    items = generate_inbox(
        _pki(ctx), learner, Path(out_dir), seed=seed, count=count, owner_uid=_uid(owner)
    )
    emit(
        [i.as_dict() for i in items],
        as_json,
        lambda rows: t("signing.cli_scenario", n=len(rows), folder=out_dir),
    )
