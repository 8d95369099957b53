"""`kns staff` through click's CliRunner: JSON output, exit codes, Vietnamese messages."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kynangso.cli import kns

ROWS = [
    ["CB001", "Nguyễn Thị Thu Hương", "Chánh Văn phòng", "Văn phòng HĐND và UBND", "", "Giảng viên"],
    ["CB002", "Đặng Văn Đức", "Công chức một cửa", "Trung tâm Phục vụ hành chính công", "",
     "Học viên"],
    ["CB003", "Lê Thị Ánh Tuyết", "Chuyên viên", "Phòng Kinh tế", "tuyet@phuong.example", "Học viên"],
]


@pytest.fixture
def run(settings):
    """Run `kns ...` against the test's own state folder (KNS_STATE_DIR set by `settings`)."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(kns, list(args), catch_exceptions=False)

    return invoke


def test_import_json_then_list(run, make_csv):
    """Does `kns staff import --json` report what it created, and `list --json` show it?"""
    path = make_csv(ROWS)
    result = run("staff", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(data["created"]) == ["cb001", "cb002", "cb003"]
    assert data["encoding"] == "utf-8-sig"

    listed = json.loads(run("staff", "list", "--json", "--role", "Học viên").stdout)
    assert [r["username"] for r in listed] == ["cb002", "cb003"]
    listed = json.loads(run("staff", "list", "--json", "--department", "kinh te").stdout)
    assert [r["full_name"] for r in listed] == ["Lê Thị Ánh Tuyết"]


def test_human_summary_is_vietnamese(run, make_csv):
    """Does the human summary say, in Vietnamese, what was created and what changed?"""
    path = make_csv(ROWS)
    out = run("staff", "import", str(path)).stdout
    assert "Đã nhập tệp can-bo.csv: 3 cán bộ mới, 0 cập nhật" in out
    changed = [list(r) for r in ROWS]
    changed[1][2] = "Phó Giám đốc"
    out = run("staff", "import", str(make_csv(changed, name="v2.csv"))).stdout
    assert "1 cập nhật, 2 không đổi" in out
    assert "cb002: Đặng Văn Đức: Chức vụ: Công chức một cửa → Phó Giám đốc" in out


def test_bad_file_exits_2_with_rows_listed(run, make_csv):
    """Does a bad file exit with status 2 and list its bad rows in Vietnamese on stderr?"""
    rows = [*ROWS, ["CB001", "", "CV", "VP", "", "Học viên"]]
    result = run("staff", "import", str(make_csv(rows)), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "KHÔNG được nhập" in result.stderr
    assert "- Dòng 5: thiếu Họ và tên." in result.stderr
    assert '- Dòng 5: mã cán bộ "CB001" trùng với dòng 2' in result.stderr
    assert json.loads(run("staff", "list", "--json").stdout) == []


def test_dry_run_and_deactivate_missing(run, make_csv):
    """Does --dry-run store nothing, and --deactivate-missing deactivate without deleting?"""
    path = make_csv(ROWS)
    dry = json.loads(run("staff", "import", str(path), "--dry-run", "--json").stdout)
    assert dry["dry_run"] and len(dry["created"]) == 3
    assert json.loads(run("staff", "list", "--json").stdout) == []

    run("staff", "import", str(path))
    short = make_csv(ROWS[:1], name="short.csv")
    out = run("staff", "import", str(short)).stdout
    assert "--deactivate-missing" in out  # says how to deactivate the others
    data = json.loads(run("staff", "import", str(short), "--deactivate-missing", "--json").stdout)
    assert data["deactivated"] == ["cb002", "cb003"]
    assert [r["username"] for r in json.loads(run("staff", "list", "--json").stdout)] == ["cb001"]
    everyone = json.loads(run("staff", "list", "--all", "--json").stdout)
    assert [(r["username"], r["active"]) for r in everyone] == [
        ("cb001", True), ("cb002", False), ("cb003", False)]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_round_trip(run, make_csv, tmp_path, suffix):
    """Does `kns staff export` write a file that re-imports with no change?"""
    run("staff", "import", str(make_csv(ROWS)))
    target = tmp_path / f"xuat{suffix}"
    out = run("staff", "export", str(target)).stdout
    assert "Đã xuất 3 cán bộ" in out
    data = json.loads(run("staff", "import", str(target), "--json").stdout)
    assert (data["created"], data["updated"], len(data["unchanged"])) == ([], [], 3)


def test_bad_role_filter_and_export_format(run, tmp_path):
    """Are an unknown --role and an unsupported export type refused with status 2?"""
    result = run("staff", "list", "--role", "Khách")
    assert result.exit_code == 2 and 'Vai trò "Khách" không có' in result.stderr
    result = run("staff", "export", str(tmp_path / "x.pdf"))
    assert result.exit_code == 2 and "chỉ hỗ trợ tệp .xlsx hoặc .csv" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_demo_file_imports(run, tmp_path):
    """Does `kns staff demo-file` write a file that `kns staff import` accepts?"""
    target = tmp_path / "mau.csv"
    assert "DỮ LIỆU MẪU" in run("staff", "demo-file", str(target)).stdout
    data = json.loads(run("staff", "import", str(target), "--json").stdout)
    assert len(data["created"]) == 20


def test_help_is_vietnamese(run):
    """Do the staff commands describe themselves in Vietnamese?"""
    assert "Danh sách cán bộ" in run("staff", "--help").stdout
    out = run("staff", "import", "--help").stdout
    assert "Chạy thử" in out and "ngừng hoạt động" in out
