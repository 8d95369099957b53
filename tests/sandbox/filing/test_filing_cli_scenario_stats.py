"""`kns filing` commands, the scenario generator, statistics and the toàn trình rule."""

import json
from datetime import datetime

from click.testing import CliRunner

from kynangso.cli import kns
from sandbox.filing import fullyonline
from sandbox.filing.desk import FilingDesk, Upload
from sandbox.filing.scenario import KINDS, generate
from sandbox.filing.stats import desk_summary


def run(*args):
    return CliRunner().invoke(kns, ["filing", *args])


def test_due_command_explains_count():
    """Does `kns filing due` print the Tết-crossing appointment and how it was counted?"""
    r = run("due", "--received", "2026-02-13 16:10", "--days", "3")
    assert r.exit_code == 0, r.output
    assert "sau 15:00" in r.output and "Thứ Hai, 23/02/2026" in r.output
    assert "17 giờ 00 phút, ngày 26/02/2026" in r.output


def test_due_command_makeup_saturday_json():
    """Does the JSON output count the make-up Saturday 22/08/2026 and skip 31/8–2/9?"""
    r = run("due", "--received", "2026-08-21 10:00", "--days", "7", "--json")
    data = json.loads(r.output)
    assert data["due_date"] == "2026-09-03"
    assert any("22/08/2026" in s and "làm bù" in s for s in data["steps"])


def test_due_command_with_procedure():
    """Does --procedure take the days and the counting rule of the procedure?"""
    r = run("due", "--received", "2026-11-23 16:00", "--procedure", "CT-BS", "--json")
    data = json.loads(r.output)
    assert data["convention"] == "count_receipt_day"
    assert data["due_date"] == "2026-11-25"  # after 15:00 -> 25/11, since 24/11 is a holiday


def test_due_command_bad_inputs():
    """Are an impossible date, a missing --days and a 2027 date refused with exit 2?"""
    r = run("due", "--received", "2026-02-30 10:00", "--days", "3")
    assert r.exit_code == 2 and "Không đọc được thời điểm" in r.output
    r = run("due", "--received", "2026-02-03 10:00")
    assert r.exit_code == 2 and "--days" in r.output
    r = run("due", "--received", "2027-02-03 10:00", "--days", "1")
    assert r.exit_code == 2 and "2027" in r.output
    r = run("due", "--received", "2026-02-03 10:00", "--procedure", "NOPE")
    assert r.exit_code == 2 and "NOPE" in r.output


def test_code_command():
    """Does `kns filing code` build a TT 01/2018 code and check a TT 04/2025 one?"""
    r = run("code", "--unit", "000.00.12.H29", "--date", "2025-06-30", "--seq", "12")
    assert r.output.startswith("000.00.12.H29-250630-0012") and "TT 01/2018" in r.output
    r = run("code", "--check", "G22.001.01-260202-010007", "--json")
    assert json.loads(r.output)["format"] == "tt04_2025_centralised"
    r = run("code", "--check", "xyz")
    assert r.exit_code == 2


def test_scenario_is_seeded_per_learner(tmp_path):
    """Do two learners get different dossiers of the same kinds, and a rerun the same ones?"""
    a = generate(tmp_path / "a.sqlite", "hoa", seed=1)
    b = generate(tmp_path / "b.sqlite", "binh", seed=1)
    a2 = generate(tmp_path / "a2.sqlite", "hoa", seed=1)
    assert sorted(a["kinds"]) == sorted(b["kinds"]) and set(a["kinds"]) == set(KINDS)
    names = lambda p: [v.applicant_name for v in FilingDesk(p).all_dossiers()]  # noqa: E731
    assert names(tmp_path / "a.sqlite") != names(tmp_path / "b.sqlite")
    assert names(tmp_path / "a.sqlite") == names(tmp_path / "a2.sqlite")
    assert a["expected"] == a2["expected"]


def test_scenario_answer_key_matches_desk(tmp_path):
    """Does receiving each 'qua_tet' dossier give exactly the expected appointment?"""
    db = tmp_path / "s.sqlite"
    result = generate(db, "lan", seed=3, count=12)
    desk = FilingDesk(db)
    for item in result["expected"]:
        if item["kind"] in ("qua_tet", "lam_bu"):
            v = desk.get(item["id"])
            desk.receive(item["id"], v.submitted_at, "cb")
            assert desk.get(item["id"]).due_at.isoformat(timespec="minutes") == item["due_at"]
        if item["kind"] == "thieu_giay_to":
            assert desk.missing(item["id"]) == [item["missing"]]


def _returned(desk, at, online, late=False):
    files = {"giay_de_nghi": [Upload("a.pdf", b"1")], "hop_dong_thue": [Upload("b.pdf", b"2")]}
    docs = files if online else {"giay_de_nghi": 1, "hop_dong_thue": 1}
    i = desk.submit("KT-HKD", {"name": "Võ Thị Mai", "id_number": "001190000001"},
                    channel="truc_tuyen" if online else "truc_tiep", documents=docs, at=at)
    desk.receive(i, at, "cb")
    desk.hand_over(i, "Phòng Kinh tế", at, "cb", "cv")
    ready = datetime(2026, 3, 9, 9, 0) if late else at.replace(hour=at.hour + 1)
    desk.result_ready(i, ready, "cv", electronic=online)
    if online:
        ref = desk.start_payment(i, ready)
        desk.confirm_payment(ref, 100000, ready, "NH1")
    else:
        desk.pay_at_desk(i, ready, "cb")
    desk.return_result(i, "truc_tuyen" if online else "truc_tiep", ready, "cb")
    return i


def test_fully_online_needs_every_condition(desk):
    """Is a dossier toàn trình only with online filing, files, online payment and online return?"""
    i = _returned(desk, datetime(2026, 3, 2, 9, 0), online=True)
    assert fullyonline.is_fully_online(desk.get(i))
    j = _returned(desk, datetime(2026, 3, 2, 9, 0), online=False)
    unmet = fullyonline.unmet_conditions(desk.get(j))
    assert {"submitted_online", "files_uploaded", "paid_online", "electronic_result",
            "returned_online"} <= set(unmet)
    assert "Hồ sơ không nộp trực tuyến." in fullyonline.explain(desk.get(j))


def test_statistics(desk):
    """Are on-time rate, overdue in progress, apologies and online shares computed per month?"""
    _returned(desk, datetime(2026, 3, 2, 9, 0), online=True)
    _returned(desk, datetime(2026, 3, 2, 10, 0), online=False, late=True)
    k = desk.submit("KT-HKD", {"name": "Lý Văn Long", "id_number": "001190000002"},
                    channel="truc_tuyen", documents={"giay_de_nghi": 1, "hop_dong_thue": 1},
                    at=datetime(2026, 3, 2, 11, 0))
    desk.receive(k, datetime(2026, 3, 2, 11, 0), "cb")
    desk.hand_over(k, "Phòng Kinh tế", datetime(2026, 3, 2, 11, 30), "cb", "cv")
    desk.apologise(k, __import__("datetime").date(2026, 3, 6), "Chờ xác minh",
                   datetime(2026, 3, 3, 9, 0), "Chủ tịch")
    table = desk_summary(desk, now=datetime(2026, 3, 9, 9, 0))
    row = table.iloc[0].to_dict()
    assert row["period"] == "2026-03" and row["received"] == 3 and row["resolved"] == 2
    assert row["on_time_rate"] == 0.5
    assert row["overdue_in_progress"] == 1 and row["apologies"] == 1
    assert abs(row["online_share"] - 2 / 3) < 1e-9
    assert abs(row["fully_online_share"] - 1 / 3) < 1e-9
    r = run("stats", "--db", desk.db_path, "--now", "2026-03-09 09:00")
    assert "đúng hạn 50.0%" in r.output and "quá hạn đang xử lý 1" in r.output


def test_stats_missing_db(tmp_path):
    """Is a statistics request on a missing file refused with a clear message?"""
    r = run("stats", "--db", str(tmp_path / "none.sqlite"))
    assert r.exit_code == 2 and "Không có tệp dữ liệu thực hành" in r.output
