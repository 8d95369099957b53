"""The procedure catalogue (validated on load) and the dossier-code formats."""

from datetime import date
from decimal import Decimal

import pytest

from kynangso.errors import KnsError, ValidationError
from sandbox.filing.catalogue import UnknownProcedure, default_catalogue, load_catalogue
from sandbox.filing.codes import format_for, make_code, parse_code


def test_seeded_catalogue():
    """Does the shipped catalogue load, with Decimal fees and required documents?"""
    cat = default_catalogue()
    assert len(cat) >= 8
    p = cat.get("XD-GPXD")
    assert p.days == 15 and p.fee == Decimal("75000") and p.service_level == "mot_phan"
    assert "ban_ve" in p.required_keys() and p.document("ban_ve").quantity == 2
    assert cat.get("CT-BS").convention.count_receipt_day is True
    assert [x.code for x in cat.search("khai sinh")] == ["HT-KS"]


def test_unknown_procedure():
    """Does asking for an unknown code give a Vietnamese error naming it?"""
    with pytest.raises(UnknownProcedure, match="«ZZ»"):
        default_catalogue().get("ZZ")


def test_bad_catalogue_lists_every_problem(tmp_path):
    """Are a negative fee, a bad time, a duplicate code and a bad document all listed?"""
    p = tmp_path / "bad.yaml"
    p.write_text("""
procedures:
  - {code: A, name: x, level: xa, field: f, days: 3, fee: -1000, fee_unit: hồ sơ,
     resolving_body: b, service_level: toan_trinh, source: s,
     documents: [{key: d, name: n, quantity: 1, form: ban_chinh}]}
  - {code: A, name: y, level: huyen, field: f, days: -2, fee: abc, fee_unit: hồ sơ,
     resolving_body: b, service_level: muc_4, source: s,
     documents: [{key: d, name: n, quantity: 0, form: ban_nhap}]}
""", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalogue(p)
    text = "\n".join(info.value.problems)
    for needle in ("không được âm", "bị trùng", "huyen", "-2", "abc", "muc_4", "ban_nhap",
                   "số lượng «0»"):
        assert needle in text, needle
    assert "Tệp danh mục thủ tục" in info.value.user_message


def test_catalogue_yaml_error(tmp_path):
    """Is a file with broken YAML refused with a message, not a traceback?"""
    p = tmp_path / "broken.yaml"
    p.write_text("procedures: [ {code: A", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalogue(p)
    assert "Sai cú pháp YAML" in info.value.problems[0]


def test_format_switches_on_1_july_2025():
    """Is TT 01/2018 in force on 30/06/2025 and TT 03/2025 from 01/07/2025?"""
    assert format_for(date(2025, 6, 30)).name == "tt01_2018"
    assert format_for(date(2025, 7, 1)).name == "tt03_2025"
    assert format_for(date(2026, 1, 24), centralised=True).name == "tt03_2025"
    assert format_for(date(2026, 1, 25), centralised=True).name == "tt04_2025_centralised"


def test_old_format_has_four_digit_sequence():
    """Does TT 01/2018 stop at 9999 a day while TT 03/2025 grows past it?"""
    with pytest.raises(KnsError, match="hết số thứ tự"):
        make_code("000.00.12.H29", date(2025, 6, 30), 10000)
    assert make_code("000.00.12.H29", date(2025, 7, 1), 10000) == "000.00.12.H29-250701-10000"


def test_centralised_code():
    """Does the TT 04/2025 code carry the AA digits before the sequence?"""
    code = make_code("G22.001.01", date(2026, 2, 23), 12, centralised=True, aa="01")
    assert code == "G22.001.01-260223-010012"
    parsed = parse_code(code)
    assert (parsed.aa, parsed.seq, parsed.day) == ("01", 12, date(2026, 2, 23))


def test_bad_unit_code_refused():
    """Is a unit code that does not fit the TT 01/2018 structure refused with an example?"""
    with pytest.raises(KnsError, match="000.00.12.H29"):
        make_code("H29", date(2025, 6, 30), 1)


@pytest.mark.parametrize("code", ["000.00.12.H29-250632-0001", "000.00.12.H29-250630-01",
                                  "abc", "000.00.12.H29-240101-0001-9"])
def test_bad_codes_refused(code):
    """Are malformed codes or impossible dates refused?"""
    with pytest.raises(KnsError, match="không phải là mã số hồ sơ hợp lệ"):
        parse_code(code)
