"""`kns email` through click's CliRunner, and the data tables' coherence with the other
sandboxes, the catalogue, pyproject and the operators' docs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from click.testing import CliRunner

from kynangso.i18n import catalogue
from sandbox.email import message as m
from sandbox.email import scenarios
from sandbox.email.cli import email
from sandbox.email.rules import directory, sign_keys
from sandbox.email.storage import MailStore

ROOT = Path(__file__).resolve().parents[3]


def run(*args):
    return CliRunner().invoke(email, list(args), catch_exceptions=False)


def test_inspect_exit_codes(tmp_path):
    """Does inspect exit 1 listing the signs of an unsafe .eml, 0 for a clean one?"""
    sc = scenarios.generate(1, "hocvien01")
    bad = next(s for s in sc.messages if s.verdict == "phishing")
    good = next(s for s in sc.messages if s.verdict == "legitimate")
    res = run("inspect", str(m.save_eml(bad.message, tmp_path / "bad.eml")), "--json")
    assert res.exit_code == 1
    assert {s["key"] for s in json.loads(res.output)["signs"]} == set(bad.expected_signs)
    res = run("inspect", str(m.save_eml(good.message, tmp_path / "good.eml")))
    assert res.exit_code == 0 and "không thấy dấu hiệu" in res.output


def test_inspect_malformed_file_is_a_vietnamese_error(tmp_path):
    """Is a broken .eml answered with the Vietnamese message and exit 2 through `kns`?"""
    from kynangso.cli import kns

    bad = tmp_path / "x.eml"
    bad.write_bytes(b"khong phai thu")
    res = CliRunner().invoke(kns, ["email", "inspect", str(bad)])
    assert res.exit_code == 2 and "không phải là một thư điện tử hợp lệ" in res.output


def test_scenario_writes_a_maildir_and_the_key(tmp_path):
    """Does scenario fill the learner's inbox and print the answer key as JSON?"""
    res = run("scenario", "--learner", "hocvien01", "--seed", "4", "--count", "8",
              "--root", str(tmp_path), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert len(data["answers"]) == 8
    store = MailStore(tmp_path)
    assert len(store.list(data["address"])) == 8


def test_channel_command():
    """Does channel print the decision and its sources?"""
    res = run("channel", "--kind", "official_document", "--secrecy", "mat", "--json")
    data = json.loads(res.output)
    assert data["channel"] == "secret_channel" and not data["email_allowed"]
    res = run("channel", "--kind", "working_exchange")
    assert "Được gửi bằng thư điện tử công vụ" in res.output


def test_entry_point_and_docs():
    """Is `kns email` registered in pyproject and every command documented for operators?"""
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert eps["kynangso.cli"]["email"] == "sandbox.email.cli:email"
    doc = (ROOT / "docs" / "operations.md").read_text()
    for name in email.commands:
        assert f"`kns email {name}" in doc


def test_directory_reuses_the_documents_sandbox_organisations():
    """Are the register's organisations those of the documents sandbox's demo, by code and
    name, so that an attachment is filed under the same office?"""
    from sandbox.documents.widgets import DEMO_ORGS

    mine = {(o.key, o.name) for o in directory().orgs if o.registered}
    assert mine == {(code, name) for code, name, _ in DEMO_ORGS}


def test_every_domain_is_reserved_for_examples():
    """Does every address of the directory end in .example, so none reaches a real person?"""
    for box in directory().all_mailboxes():
        assert box.address.endswith(".example"), box.address


def test_every_sign_has_catalogue_entries_and_a_source():
    """Has every sign of the table a name, an explanation and a source?"""
    for key in sign_keys():
        assert f"email.sign.{key}.name" in catalogue()
        assert f"email.sign.{key}.explain" in catalogue()
