"""Số, ký hiệu (number and symbol) of administrative documents: parse, format, explain.

Rules (NĐ 30/2020): Phụ lục I, Phần I, Mục II.3 (format, leading zero below 10, upper case,
"/" between number and ký hiệu, "-" between groups, no spaces); Phụ lục III, Mục I (type
abbreviations, some mixed-case: QyĐ, CTr, TTr, TrS); Điều 15.1 (numbers start at 01).

A typed document is `<số>/<type>-<issuer>[-...]`; a công văn is `<số>/<issuer>-<unit>`;
a copy is `<số>/<SY|SL|TrS>-<issuer>`. When the first group is an official type
abbreviation the symbol is read as typed (an issuer whose abbreviation equals a type
abbreviation would be ambiguous; the decree leaves abbreviations to the head, Mục II.3.b).

Symbols of other systems are recognised and explained rather than accepted: legal
normative documents carry the year (`12/2025/QĐ-UBND`, Điều 4.2.a sends them to the
VBQPPL law) and Party documents join number and type with "-" (`1397-BC/BCSĐ`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from kynangso.errors import ValidationError
from kynangso.i18n import t
from sandbox.documents.rules import DocType, ruleset

_PREFIX = re.compile(r"^\s*số\s*:?\s*", re.IGNORECASE)
_LEGAL = re.compile(r"^(\d+)/((?:19|20)\d\d)/(.+)$")
_PARTY = re.compile(r"^(\d+)-([^/\s]+)/(\S+)$")
_GROUP = re.compile(r"^[A-ZĐ0-9]+$")
_DASHES = "–—‐‑_"


class SymbolError(ValidationError):
    """The text is not a valid NĐ 30 administrative số, ký hiệu.

    `problems` lists every fault in Vietnamese; `suggestion` is the corrected symbol
    when one can be derived; `kind` is "format", "legal_normative" or "party".
    """

    def __init__(self, key, problems, suggestion=None, kind="format", **params):
        self.suggestion = suggestion
        self.kind = kind
        if suggestion:
            problems = [*problems, t("documents.symbol.suggestion", suggestion=suggestion)]
        super().__init__(key, problems=problems, **params)


@dataclass(frozen=True)
class Symbol:
    """A parsed số, ký hiệu. `groups` are the issuer groups (for a công văn: issuer, unit)."""

    number: int
    kind: str  # "typed" | "cong_van" | "copy"
    doc_type: DocType | None
    groups: tuple[str, ...]

    @property
    def notation(self) -> str:
        head = (self.doc_type.abbrev,) if self.doc_type and self.doc_type.abbrev else ()
        return "-".join(head + self.groups)

    @property
    def text(self) -> str:
        return f"{self.number:02d}/{self.notation}"

    @property
    def issuer(self) -> str:
        return self.groups[0]

    def as_dict(self) -> dict:
        return {
            "symbol": self.text,
            "number": self.number,
            "notation": self.notation,
            "kind": self.kind,
            "type": self.doc_type.name if self.doc_type else t("documents.type.cong_van"),
            "type_abbrev": self.doc_type.abbrev if self.doc_type else None,
            "issuer": self.issuer,
            "unit": self.groups[1] if self.kind == "cong_van" else None,
            "source": self.doc_type.source if self.doc_type else None,
            "explanation": explain(self),
        }


def explain(sym: Symbol) -> str:
    """One Vietnamese sentence saying what the symbol denotes."""
    if sym.kind == "cong_van":
        return t("documents.symbol.explain_cong_van", number=sym.number, issuer=sym.groups[0],
                 unit=sym.groups[1])
    key = "explain_copy" if sym.kind == "copy" else "explain_typed"
    return t(f"documents.symbol.{key}", number=sym.number, name=sym.doc_type.name,
             abbrev=sym.doc_type.abbrev, issuer="-".join(sym.groups))


def _fold(s: str) -> str:
    return s.replace("Đ", "D").replace("đ", "d").casefold()


def parse_symbol(text: str, on: date | None = None) -> Symbol:
    """Parse a số, ký hiệu ("Số: 4391/KH-UBND" or "4391/KH-UBND"); raise SymbolError."""
    rules = ruleset(on)
    raw = unicodedata.normalize("NFC", text or "").strip()
    body = _PREFIX.sub("", raw, count=1)
    if not body:
        raise SymbolError("documents.symbol.invalid", [t("documents.symbol.empty")], text=raw)

    compact = re.sub(r"\s+", "", body)
    legal = _LEGAL.match(compact)
    if legal:
        number, year, notation = legal.groups()
        sugg = f"{int(number):02d}/{notation}"
        raise SymbolError(
            "documents.symbol.not_administrative",
            [t("documents.symbol.legal_normative", text=body, year=year, suggestion=sugg)],
            kind="legal_normative", text=body,
        )
    party = _PARTY.match(compact)
    if party:
        number, type_part, issuer = party.groups()
        sugg = f"{int(number):02d}/{type_part}-{issuer}"
        raise SymbolError(
            "documents.symbol.not_administrative",
            [t("documents.symbol.party", text=body, suggestion=sugg)],
            kind="party", text=body,
        )

    problems: list[str] = []
    if compact != body:
        problems.append(t("documents.symbol.spaces", text=body))
    for ch in _DASHES:
        if ch in compact:
            problems.append(t("documents.symbol.dash", text=body, char=ch))
            compact = compact.replace(ch, "-")
    if compact.count("/") != 1:
        problems.append(t("documents.symbol.slash", text=body))
        raise SymbolError("documents.symbol.invalid", problems, text=body)

    number_part, notation = compact.split("/")
    number: int | None = None
    if not number_part.isdigit() or not number_part.isascii():
        problems.append(t("documents.symbol.number_not_digits", number=number_part))
    else:
        number = int(number_part)
        if number == 0:
            problems.append(t("documents.symbol.number_zero"))
            number = None
        elif number_part != f"{number:02d}":
            problems.append(t("documents.symbol.leading_zero", number=number_part,
                              correct=f"{number:02d}"))

    groups = notation.split("-")
    if any(g == "" for g in groups):
        problems.append(t("documents.symbol.empty_group", notation=notation))
        groups = [g for g in groups if g]
    if not groups:
        raise SymbolError("documents.symbol.invalid", problems, text=body)

    first = groups[0]
    doc_type = rules.type_by_abbrev(first)
    if doc_type is None:
        near = rules.abbrev_case_insensitive(first) or next(
            (r for r in rules.types + rules.copies if r.abbrev and _fold(r.abbrev) == _fold(first)),
            None,
        )
        if near is not None:
            problems.append(t("documents.symbol.type_case", got=first, name=near.name,
                              official=near.abbrev))
            doc_type = near

    rest = groups[1:] if doc_type else groups
    fixed_rest = []
    for g in rest:
        if _GROUP.match(g):
            fixed_rest.append(g)
        elif _GROUP.match(g.upper()):
            problems.append(t("documents.symbol.group_case", got=g, correct=g.upper()))
            fixed_rest.append(g.upper())
        else:
            problems.append(t("documents.symbol.group_chars", got=g))
            fixed_rest.append(g)

    if doc_type is not None:
        kind = "copy" if doc_type in rules.copies else "typed"
        if not fixed_rest:
            problems.append(t("documents.symbol.typed_no_issuer", notation=notation,
                              name=doc_type.name, abbrev=doc_type.abbrev))
    else:
        kind = "cong_van"
        if len(fixed_rest) == 1:
            problems.append(t("documents.symbol.cv_no_unit", notation=notation))
        elif len(fixed_rest) > 2:
            problems.append(t("documents.symbol.cv_too_many", notation=notation,
                              first=first))

    if problems:
        suggestion = None
        complete = fixed_rest and (kind != "cong_van" or len(fixed_rest) == 2)
        all_groups_ok = all(_GROUP.match(g) for g in fixed_rest)
        if number is not None and complete and all_groups_ok:
            suggestion = Symbol(number, kind, doc_type, tuple(fixed_rest)).text
        raise SymbolError("documents.symbol.invalid", problems, suggestion=suggestion, text=body)
    return Symbol(number, kind, doc_type, tuple(fixed_rest))


def format_symbol(number: int, issuer: str, type_abbrev: str | None = None,
                  unit: str | None = None, on: date | None = None) -> str:
    """Build a số, ký hiệu and validate it: typed when `type_abbrev` is given, else công văn.

    >>> format_symbol(4391, "UBND", "KH")
    '4391/KH-UBND'
    >>> format_symbol(5, "UBND", unit="VP")
    '05/UBND-VP'
    """
    if type_abbrev:
        notation = "-".join(p for p in (type_abbrev, issuer, unit) if p)
    else:
        notation = "-".join(p for p in (issuer, unit) if p)
    text = f"{number:02d}/{notation}" if number >= 0 else f"{number}/{notation}"
    return parse_symbol(text, on).text
