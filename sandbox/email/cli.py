"""`kns email`: operators' commands for the e-mail sandbox.

- `inspect FILE.eml`: the signs of phishing found in a message (exit 1 when any, 2 when the
  file is not a message);
- `scenario`: write a learner's seeded inbox into a Maildir and print the answer key;
- `channel`: which channel a piece of work must use, with the rules and their sources.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kynangso.cli import emit, json_option
from kynangso.i18n import t
from sandbox.email import channels, scenarios
from sandbox.email.message import load_eml
from sandbox.email.signs import Context, inspect
from sandbox.email.storage import MailStore, default_root

pki_option = click.option(
    "--pki", "pki_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Thư mục CA đào tạo (kns signing init) để kiểm tra hoặc tạo văn bản ký số đính kèm.",
)


def _pki(folder: Path | None):
    if folder is None:
        return None
    from sandbox.signing.pki import TrainingPKI

    return TrainingPKI(folder)


@click.group("email")
def email() -> None:
    """Thư điện tử công vụ: nhận diện thư lừa đảo, dùng đúng kênh (môi trường thực hành)."""


@email.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pki_option
@json_option
def inspect_cmd(file: Path, pki_dir: Path | None, as_json: bool) -> None:
    """Tìm các dấu hiệu lừa đảo, không an toàn trong một tệp thư .eml."""
    found = inspect(load_eml(file), Context(pki=_pki(pki_dir)))
    data = {"file": str(file), "signs": [s.as_dict() for s in found]}

    def human(d):
        if not d["signs"]:
            return t("email.cli.inspect_clean", file=d["file"])
        lines = [t("email.cli.inspect_found", file=d["file"], n=len(d["signs"]))]
        lines += [f"  - {s['name']}: {s['explanation']}" for s in d["signs"]]
        return "\n".join(lines)

    emit(data, as_json, human)
    if found:
        sys.exit(1)


@email.command("scenario")
@click.option("--learner", required=True, help="Tên đăng nhập của học viên.")
@click.option("--seed", default="0", help="Hạt giống của bộ bài (cùng hạt giống: bộ tương đương).")
@click.option("--count", type=click.IntRange(2, 60), default=12, help="Số thư.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Thư mục các hộp thư (mặc định ~/.kynangso/mail).")
@pki_option
@json_option
def scenario_cmd(learner, seed, count, root, pki_dir, as_json) -> None:
    """Tạo hộp thư bài tập của một học viên và in đáp án (chỉ cho người quản trị)."""
    sc = scenarios.generate(seed, learner, n=count, pki=_pki(pki_dir))
    scenarios.deliver(MailStore(root or default_root()), sc)
    data = {"learner": learner, "seed": seed, "address": sc.recipient,
            "answers": sc.answer_key()}
    emit(data, as_json, lambda d: t("email.cli.scenario_written", n=len(d["answers"]),
                                    learner=learner, address=d["address"],
                                    folder=t("email.folder.inbox")))


@email.command("channel")
@click.option("--kind", type=click.Choice(channels.KINDS), required=True,
              help="Loại việc: văn bản phát hành, văn bản nhận được, trao đổi công việc, dữ liệu cá nhân.")
@click.option("--secrecy", type=click.Choice(channels.SECRECY), default="none", help="Độ mật.")
@click.option("--mailbox", type=click.Choice(channels.MAILBOXES), default="work",
              help="Hộp thư định dùng: công vụ (work) hay cá nhân (personal).")
@json_option
def channel_cmd(kind, secrecy, mailbox, as_json) -> None:
    """Việc này được gửi bằng thư điện tử không, hay phải qua kênh khác (kèm căn cứ)."""
    decision = channels.decide(channels.Situation(kind, secrecy, mailbox))

    def human(d):
        lines = [d["summary"]]
        for r in d["reasons"]:
            lines.append(f"  - {r['text']}")
            lines += [f"      · {s['text']} ({s['status_label']})" for s in r["sources"]]
        return "\n".join(lines)

    emit(decision.as_dict(), as_json, human)
