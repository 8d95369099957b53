"""Dossier codes (mã số hồ sơ) in the format in force on the receipt date. Pure functions.

The daily sequence itself is kept by storage (one row per unit and day, incremented inside the
write transaction) so that concurrent receptions get distinct numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from kynangso.errors import KnsError
from kynangso.workdays.loader import read_yaml


@dataclass(frozen=True)
class CodeFormat:
    name: str
    effective_from: date
    effective_to: date | None
    layout: str
    unit_regex: str
    seq_digits: int
    seq_max: int | None
    centralised: bool
    source: str

    def regex(self) -> re.Pattern[str]:
        n = self.seq_digits
        seq = rf"\d{{{n},}}" if self.seq_max is None else rf"\d{{{n}}}"
        body = (re.escape(self.layout)
                .replace(r"\{unit\}", f"(?P<unit>{self.unit_regex})")
                .replace(r"\{yymmdd\}", r"(?P<yymmdd>\d{6})")
                .replace(r"\{aa\}", r"(?P<aa>\d{2})")
                .replace(r"\{seq\}", f"(?P<seq>{seq})"))
        return re.compile(f"^{body}$")

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@cache
def code_formats() -> tuple[CodeFormat, ...]:
    path = Path(str(resources.files("sandbox.filing") / "data" / "code_formats.yaml"))
    rows = read_yaml(path.read_text(encoding="utf-8"))["formats"]
    return tuple(
        CodeFormat(
            name=r["name"], effective_from=date.fromisoformat(r["effective_from"]),
            effective_to=date.fromisoformat(r["effective_to"]) if r.get("effective_to") else None,
            layout=r["layout"], unit_regex=r["unit_regex"], seq_digits=int(r["seq_digits"]),
            seq_max=r.get("seq_max"), centralised=bool(r.get("centralised")), source=r["source"],
        )
        for r in rows
    )


def format_for(day: date, centralised: bool = False) -> CodeFormat:
    """The code format in force on `day` (the centralised variant when the procedure has one)."""
    candidates = [f for f in code_formats() if f.in_force(day)]
    if centralised and any(f.centralised for f in candidates):
        candidates = [f for f in candidates if f.centralised]
    else:
        candidates = [f for f in candidates if not f.centralised]
    if not candidates:
        raise KnsError("filing.no_code_format", day=day.strftime("%d/%m/%Y"))
    return max(candidates, key=lambda f: f.effective_from)


def make_code(unit: str, day: date, seq: int, centralised: bool = False, aa: str = "00",
              fmt: CodeFormat | None = None) -> str:
    """Build the code for the `seq`-th dossier received by `unit` on `day`."""
    fmt = fmt or format_for(day, centralised)
    if not re.fullmatch(fmt.unit_regex, unit):
        raise KnsError("filing.bad_unit_code", unit=unit, format=fmt.name,
                       example=_example_unit(fmt))
    if seq < 1 or (fmt.seq_max is not None and seq > fmt.seq_max):
        raise KnsError("filing.sequence_full", unit=unit, day=day.strftime("%d/%m/%Y"),
                       max=fmt.seq_max or "")
    if not re.fullmatch(r"\d{2}", aa):
        raise KnsError("filing.bad_aa", value=aa)
    return fmt.layout.format(unit=unit, yymmdd=day.strftime("%y%m%d"), aa=aa,
                             seq=str(seq).zfill(fmt.seq_digits))


def _example_unit(fmt: CodeFormat) -> str:
    return {"tt01_2018": "000.00.12.H29", "tt04_2025_centralised": "G22.001.01"}.get(
        fmt.name, "000.00.12.H29")


@dataclass(frozen=True)
class ParsedCode:
    format: CodeFormat
    unit: str
    day: date
    seq: int
    aa: str | None


def parse_code(code: str) -> ParsedCode:
    """Recognise a code: which format, unit, receipt date and sequence; refuse anything else.

    The format must also be the one in force on the date the code carries.
    """
    text = code.strip()
    for fmt in sorted(code_formats(), key=lambda f: (f.centralised, f.effective_from),
                      reverse=True):
        m = fmt.regex().match(text)
        if not m:
            continue
        try:
            day = date(2000 + int(m["yymmdd"][:2]), int(m["yymmdd"][2:4]), int(m["yymmdd"][4:]))
        except ValueError:
            continue
        if not fmt.in_force(day):
            continue
        return ParsedCode(fmt, m["unit"], day, int(m["seq"]), m.groupdict().get("aa"))
    raise KnsError("filing.bad_code", code=code)
