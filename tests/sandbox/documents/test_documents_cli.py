"""`kns documents` through click's CliRunner: JSON output, exit codes, Vietnamese messages."""

import hashlib
import json
from datetime import date

import pytest
from click.testing import CliRunner

from kynangso.cli import kns
from sandbox.documents.drafting import DraftFields, write_docx


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(kns, ["documents", *args], catch_exceptions=False)

    return invoke


def test_parse_symbol_json(run):
    """Does parse-symbol print the parts of 4391/KH-UBND as JSON?"""
    res = run("parse-symbol", "4391/KH-UBND", "--json")
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert (data["type"], data["issuer"], data["number"]) == ("Kế hoạch", "UBND", 4391)


def test_parse_symbol_human(run):
    """Is the công văn explained in Vietnamese?"""
    res = run("parse-symbol", "2942/UBND-VP")
    assert res.exit_code == 0 and "Công văn" in res.output and "VP" in res.output


def test_parse_symbol_invalid(run):
    """Does an invalid symbol exit 2 with the problem and the correct form?"""
    res = run("parse-symbol", "5/UBND-VP")
    assert res.exit_code == 2
    assert "05/UBND-VP" in res.output
    res = run("parse-symbol", "12/2025/QĐ-UBND", "--json")
    data = json.loads(res.stdout)
    assert res.exit_code == 2 and data["kind"] == "legal_normative"


def test_check_docx(run, tmp_path):
    """Does check-docx pass a good draft (exit 0) and list findings for a bad one (exit 1)?"""
    fields = DraftFields(org_name="Ủy ban nhân dân phường Ba Đình", symbol="258/BC-UBND",
                         place="Ba Đình", doc_date=date(2026, 3, 2), type_key="bao_cao",
                         subject="Kết quả tháng 2", body=["Nội dung báo cáo."],
                         signer_title="Chủ tịch", signer_name="Nguyễn Văn An", drafting_unit="VP")
    good = write_docx(fields, tmp_path / "bc.docx")
    res = run("check-docx", str(good), "--symbol", "258/BC-UBND")
    assert res.exit_code == 0 and "Đạt" in res.output
    res = run("check-docx", str(good), "--symbol", "259/BC-UBND", "--json")
    data = json.loads(res.output)
    assert res.exit_code == 1 and data["findings"][0]["rule"] == "symbol_register"


def test_check_docx_not_docx(run, tmp_path):
    """Is a non-docx file refused with exit 2 and a message saying what to do?"""
    path = tmp_path / "a.docx"
    path.write_text("không phải docx")
    res = run("check-docx", str(path))
    assert res.exit_code == 2 and "lưu lại" in res.output


def test_register_and_book(run, tmp_path):
    """Does register give số đến 1 then 2, and register-book list them with PL IV columns?"""
    db = str(tmp_path / "d.sqlite")
    assert run("add-org", "UBND", "Ủy ban nhân dân phường Ba Đình", "--db", db).exit_code == 0
    common = ["--org", "UBND", "--author", "Sở Nội vụ", "--date", "20/04/2026",
              "--type", "Kế hoạch", "--subject", "Tập huấn", "--db", db]
    res = run("register", "--symbol", "4391/KH-SNV", *common, "--json")
    assert res.exit_code == 0 and json.loads(res.output)["arrival_number"] == 1
    content = tmp_path / "vb.pdf"
    content.write_bytes(b"%PDF-1.4 x")
    sha = hashlib.sha256(content.read_bytes()).hexdigest()
    res = run("register", "--symbol", "1189/KH-SNV", *common, "--file", str(content),
              "--sha256", sha)
    assert res.exit_code == 0 and "số đến 2" in res.output
    res = run("register-book", "--org", "UBND", "--year", str(date.today().year), "--db", db,
              "--json")
    rows = json.loads(res.output)
    assert [r["symbol"] for r in rows] == ["4391/KH-SNV", "1189/KH-SNV"]
    res = run("register-book", "--org", "UBND", "--db", db)
    assert res.output.startswith("Ngày đến | Số đến | Tác giả")


def test_register_refuses_bad_input(run, tmp_path):
    """Is a malformed symbol refused with exit 2 and the reason, nothing registered?"""
    db = str(tmp_path / "d.sqlite")
    run("add-org", "UBND", "UBND phường", "--db", db)
    res = run("register", "--org", "UBND", "--author", "Sở", "--symbol", "5/KH-SNV",
              "--date", "20/04/2026", "--type", "Kế hoạch", "--subject", "x", "--db", db)
    assert res.exit_code == 2 and "05/KH-SNV" in res.output
