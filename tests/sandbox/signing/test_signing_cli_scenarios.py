"""`kns signing ...` and the seeded scenarios."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kynangso.cli import kns
from sandbox.signing.pki import TrainingPKI
from sandbox.signing.scenarios import generate_inbox, plan_inbox
from sandbox.signing.verify import verify_pdf
from tests.sandbox.signing.conftest import ORG, PASS, T0, Clock


def _run(args, pki_dir, **kw):
    return CliRunner().invoke(kns, ["signing", "--pki-dir", str(pki_dir), *args], **kw)


def test_cli_issue_sign_verify(tmp_path, document):
    """Can an operator init, issue two certificates, sign twice and verify from the CLI?"""
    pki_dir = tmp_path / "pki"
    assert _run(["init"], pki_dir).exit_code == 0
    env = {"KNS_SIGNING_PASSPHRASE": PASS}
    person = _run(
        [
            "issue",
            "--account",
            "kns-an",
            "--name",
            "Nguyễn Văn An",
            "--title",
            "Phó Chủ tịch",
            "--org",
            ORG,
            "--province",
            "Hà Thành",
            "--json",
        ],
        pki_dir,
        env=env,
    )
    assert person.exit_code == 0, person.output
    office = _run(
        [
            "issue",
            "--account",
            "vanthu",
            "--kind",
            "organisation",
            "--name",
            "Ủy ban nhân dân phường Hòa Bình",
            "--org",
            ORG,
            "--province",
            "Hà Thành",
            "--json",
        ],
        pki_dir,
        env=env,
    )
    p_key, o_key = (json.loads(r.output)["key_path"] for r in (person, office))
    src = tmp_path / "cv.pdf"
    src.write_bytes(document)
    one = _run(
        ["sign", str(src), "--key", p_key, "--out", str(tmp_path / "1.pdf")], pki_dir, env=env
    )
    assert one.exit_code == 0, one.output
    assert "Đã ký số" in one.output
    two = _run(
        [
            "sign",
            str(tmp_path / "1.pdf"),
            "--key",
            o_key,
            "--as",
            "organisation",
            "--out",
            str(tmp_path / "2.pdf"),
        ],
        pki_dir,
        input=f"{PASS}\n",
    )
    assert two.exit_code == 0, two.output
    ok = _run(["verify", str(tmp_path / "2.pdf"), "--json"], pki_dir)
    assert ok.exit_code == 0
    assert json.loads(ok.output)["ok"] is True
    half = _run(["verify", str(tmp_path / "1.pdf")], pki_dir)
    assert half.exit_code == 1
    assert "THIẾU chữ ký số của cơ quan" in half.output


def test_cli_wrong_passphrase_and_non_pdf(keys, tmp_path):
    """Does the CLI print the Vietnamese reason and exit 2 for a wrong passphrase or non-PDF?"""
    src = tmp_path / "a.docx"
    src.write_bytes(b"PK\x03\x04 not a pdf")
    bad = _run(
        ["sign", str(src), "--key", str(keys.personal.key_path)],
        keys.folder,
        env={"KNS_SIGNING_PASSPHRASE": "sai-mat-khau"},
    )
    assert bad.exit_code == 2
    assert "Mật khẩu bảo vệ khóa không đúng" in bad.output
    notpdf = _run(["verify", str(src)], keys.folder)
    assert notpdf.exit_code == 2
    assert "không phải là tệp PDF" in notpdf.output


@pytest.fixture(scope="module")
def scenario_pki(tmp_path_factory):
    clock = Clock(T0 - dt.timedelta(days=800))
    pki = TrainingPKI.create(tmp_path_factory.mktemp("spki") / "pki", clock=clock)
    clock.now = T0
    return pki


def test_scenarios_verify_as_the_key_says(scenario_pki, tmp_path):
    """Does each scenario document fail exactly the checks its answer key lists?"""
    items = generate_inbox(scenario_pki, "kns-hocvien1", tmp_path / "in", seed=3, count=10)
    assert {i.case for i in items} >= {"valid", "valid_revoked_later"}
    assert sum(not i.valid for i in items) == 8
    for item in items:
        report = verify_pdf(item.file.read_bytes(), scenario_pki, name=item.file.name)
        assert report.ok == item.valid, (item.case, report.to_text())
        assert set(report.failed()) == set(item.expected_failures), (item.case, report.failed())


def test_scenarios_differ_per_learner_and_repeat_per_seed(scenario_pki, tmp_path):
    """Do two learners get different sets, and the same learner the same set again?"""
    first = plan_inbox("kns-a", seed=1, count=8)
    assert first == plan_inbox("kns-a", seed=1, count=8)
    assert first != plan_inbox("kns-b", seed=1, count=8)
    assert first != plan_inbox("kns-a", seed=2, count=8)
    made = generate_inbox(scenario_pki, "kns-a", tmp_path / "a", seed=1, count=3)
    assert [(i.case, i.number) for i in made] == [
        (d.case, d.number) for d in plan_inbox("kns-a", seed=1, count=3)
    ]
    assert not any(p.name.endswith(".json") for p in (tmp_path / "a").iterdir())


def test_cli_scenario_writes_files_and_key(scenario_pki, tmp_path):
    """Does `kns signing scenario` write the PDFs and print the answer key as JSON?"""
    out = tmp_path / "inbox"
    result = _run(
        ["scenario", "--learner", "kns-c", "--out", str(out), "--count", "3", "--json"],
        scenario_pki.dir,
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert len(items) == 3 and all(Path(i["file"]).parent == out for i in items)
    assert sorted(p.name for p in out.iterdir()) == [
        "van-ban-den-01.pdf",
        "van-ban-den-02.pdf",
        "van-ban-den-03.pdf",
    ]


def test_cli_revoke_renew_list(tmp_path, document):
    """Does a revoked certificate stop signing, show in `list`, and refuse renewal via the CLI?"""
    pki_dir = tmp_path / "pki"
    env = {"KNS_SIGNING_PASSPHRASE": PASS}
    _run(["init"], pki_dir)
    issued = _run(
        [
            "issue",
            "--account",
            "kns-d",
            "--name",
            "Đặng Văn Dũng",
            "--title",
            "Chuyên viên",
            "--org",
            ORG,
            "--province",
            "Hà Thành",
            "--json",
        ],
        pki_dir,
        env=env,
    )
    info = json.loads(issued.output)
    renewed = _run(["renew", info["serial"], "--json"], pki_dir, env=env)
    assert renewed.exit_code == 0, renewed.output
    assert json.loads(renewed.output)["renewed_from"] == info["serial"]
    revoked = _run(["revoke", info["serial"], "--reason", "affiliation_changed"], pki_dir)
    assert revoked.exit_code == 0, revoked.output
    listed = json.loads(_run(["list", "--account", "kns-d", "--json"], pki_dir).output)
    assert [bool(c["revoked_at"]) for c in listed] == [True, False]
    src = tmp_path / "cv.pdf"
    src.write_bytes(document)
    refused = _run(["sign", str(src), "--key", info["key_path"]], pki_dir, env=env)
    assert refused.exit_code == 2
    assert "đã bị thu hồi" in refused.output
    again = _run(["renew", info["serial"]], pki_dir, env=env)
    assert again.exit_code == 2
    assert "không gia hạn được" in again.output
    bad_reason = _run(["revoke", listed[1]["serial"], "--reason", "chan"], pki_dir)
    assert bad_reason.exit_code == 2
    assert "Lý do thu hồi" in bad_reason.output
