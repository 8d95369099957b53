"""Rule tables and the số, ký hiệu parser (NĐ 30/2020 Phụ lục I Mục II.3, Phụ lục III)."""

from datetime import date

import pytest

from sandbox.documents.rules import ruleset
from sandbox.documents.symbol import SymbolError, format_symbol, parse_symbol

# Phụ lục III, Mục I: every abbreviation, typed out here independently of the YAML table.
PL3 = {
    "Nghị quyết (cá biệt)": "NQ", "Quyết định (cá biệt)": "QĐ", "Chỉ thị": "CT",
    "Quy chế": "QC", "Quy định": "QyĐ", "Thông cáo": "TC", "Thông báo": "TB",
    "Hướng dẫn": "HD", "Chương trình": "CTr", "Kế hoạch": "KH", "Phương án": "PA",
    "Đề án": "ĐA", "Dự án": "DA", "Báo cáo": "BC", "Biên bản": "BB", "Tờ trình": "TTr",
    "Hợp đồng": "HĐ", "Công điện": "CĐ", "Bản ghi nhớ": "BGN", "Bản thỏa thuận": "BTT",
    "Giấy ủy quyền": "GUQ", "Giấy mời": "GM", "Giấy giới thiệu": "GGT",
    "Giấy nghỉ phép": "GNP", "Phiếu gửi": "PG", "Phiếu chuyển": "PC", "Phiếu báo": "PB",
}
COPIES = {"Bản sao y": "SY", "Bản trích sao": "TrS", "Bản sao lục": "SL"}


def test_table_has_29_types_with_sources():
    """Does the table list the 29 types of Điều 7, each citing its source?"""
    rules = ruleset(date(2026, 1, 1))
    assert len(rules.types) == 29
    assert all(row.source for row in rules.types + rules.copies + rules.urgency + rules.secrecy)
    assert {r.name: r.abbrev for r in rules.types if r.abbrev} == PL3
    assert {r.name for r in rules.types if r.abbrev is None} == {"Công văn", "Thư công"}


def test_rules_before_nd30_are_empty():
    """Is the table versioned by effective date (nothing in force before 05/3/2020)?"""
    assert ruleset(date(2019, 12, 31)).types == ()
    assert len(ruleset(date(2020, 3, 5)).types) == 29


def test_thu_cong_is_not_tc():
    """Is TC read as Thông cáo, not Thư công?"""
    assert parse_symbol("07/TC-UBND").doc_type.name == "Thông cáo"


def test_marks():
    """Are the three urgency and three secrecy marks present?"""
    rules = ruleset(date(2026, 1, 1))
    assert [m.stamp for m in rules.urgency if m.stamp] == ["KHẨN", "THƯỢNG KHẨN", "HỎA TỐC"]
    assert [m.stamp for m in rules.secrecy] == ["MẬT", "TỐI MẬT", "TUYỆT MẬT"]


@pytest.mark.parametrize("name,abbrev", sorted({**PL3, **COPIES}.items()))
def test_every_abbreviation_parses(name, abbrev):
    """Is every abbreviation of Phụ lục III accepted exactly as written (mixed case too)?"""
    sym = parse_symbol(f"Số: 05/{abbrev}-UBND")
    assert sym.doc_type.name == name
    assert sym.text == f"05/{abbrev}-UBND"
    assert sym.kind == ("copy" if abbrev in COPIES.values() else "typed")


@pytest.mark.parametrize("abbrev", ["QyĐ", "CTr", "TTr", "TrS"])
def test_mixed_case_in_upper_case_is_corrected(abbrev):
    """Is QYĐ (all capitals) refused with the official mixed-case form suggested?"""
    with pytest.raises(SymbolError) as err:
        parse_symbol(f"12/{abbrev.upper()}-UBND")
    assert err.value.suggestion == f"12/{abbrev}-UBND"
    assert abbrev in " ".join(err.value.problems)


@pytest.mark.parametrize("text,kind,type_name,issuer", [
    ("4391/KH-UBND", "typed", "Kế hoạch", "UBND"),
    ("2942/UBND-VP", "cong_van", None, "UBND"),
    ("1189/KH-UBND", "typed", "Kế hoạch", "UBND"),
    ("258/BC-UBND", "typed", "Báo cáo", "UBND"),
    ("Số: 05/BNV-VP", "cong_van", None, "BNV"),
    ("15/QĐ-BNV", "typed", "Quyết định (cá biệt)", "BNV"),
])
def test_real_symbols(text, kind, type_name, issuer):
    """Are real symbols read with the right kind, type and issuer?"""
    sym = parse_symbol(text)
    assert (sym.kind, sym.issuer) == (kind, issuer)
    assert (sym.doc_type.name if sym.doc_type else None) == type_name


def test_cong_van_unit():
    """Is the drafting unit of a công văn recognised?"""
    assert parse_symbol("2942/UBND-VP").as_dict()["unit"] == "VP"


@pytest.mark.parametrize("text,suggestion", [
    ("5/UBND-VP", "05/UBND-VP"),
    ("005/KH-UBND", "05/KH-UBND"),
    ("4391 / KH-UBND", "4391/KH-UBND"),
    ("4391/KH-ubnd", "4391/KH-UBND"),
    ("4391/kh-UBND", "4391/KH-UBND"),
    ("05/QD-UBND", "05/QĐ-UBND"),
    ("05/KH–UBND", "05/KH-UBND"),
])
def test_faults_with_suggestion(text, suggestion):
    """Is each common fault refused with the correct form suggested?"""
    with pytest.raises(SymbolError) as err:
        parse_symbol(text)
    assert err.value.kind == "format"
    assert err.value.suggestion == suggestion
    assert f"«{suggestion}»" in err.value.problems[-1]


@pytest.mark.parametrize("text", ["", "   ", "Số:", "4391", "4391/", "00/KH-UBND", "ab/KH-UBND",
                                  "05/KH", "05/UBND", "05/UBND-VP-TH", "05/KH--UBND",
                                  "05/KH-ỦBND", "1/2/3"])
def test_malformed_is_refused_not_crashing(text):
    """Is malformed input refused with a Vietnamese explanation rather than a crash?"""
    with pytest.raises(SymbolError) as err:
        parse_symbol(text)
    assert err.value.problems
    assert "Nghị định 30/2020" in err.value.user_message


def test_legal_normative_symbol_is_explained():
    """Is 12/2025/QĐ-UBND recognised as a legal normative document, not an NĐ 30 one?"""
    with pytest.raises(SymbolError) as err:
        parse_symbol("12/2025/QĐ-UBND")
    assert err.value.kind == "legal_normative"
    assert "quy phạm pháp luật" in err.value.problems[0]
    assert "12/QĐ-UBND" in err.value.problems[0]


def test_party_symbol_is_explained():
    """Is 1397-BC/BCSĐ recognised as a Party document?"""
    with pytest.raises(SymbolError) as err:
        parse_symbol("1397-BC/BCSĐ")
    assert err.value.kind == "party"
    assert "Đảng" in err.value.problems[0]


def test_format_symbol():
    """Does formatting add the leading zero and choose the typed or công văn form?"""
    assert format_symbol(4391, "UBND", "KH") == "4391/KH-UBND"
    assert format_symbol(5, "UBND", unit="VP") == "05/UBND-VP"
    assert format_symbol(3, "UBND", "QyĐ") == "03/QyĐ-UBND"
    with pytest.raises(SymbolError):
        format_symbol(3, "ubnd x", "KH")
