"""Read HR's staff file (CSV in any encoding Excel writes, or XLSX) into cells by column.

Encoding rule for CSV (never guess silently into mojibake):
1. a BOM decides: UTF-8 (Excel's "CSV UTF-8") or UTF-16 (Excel's "Unicode Text");
2. otherwise strict UTF-8;
3. otherwise Windows-1258, accepted only if the text then holds Vietnamese letters
   and nothing outside ASCII, the Vietnamese alphabet and common punctuation
   (TCVN3/VNI legacy-font files and other code pages fail this test);
4. otherwise a clear error asking HR to save the file as "CSV UTF-8".
All text is normalised to NFC: Windows-1258 writes tone marks as combining
characters, and files from macOS are often NFD.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from openpyxl.utils import get_column_letter

from kynangso.errors import ValidationError
from kynangso.staff.formats import (
    HEADER_BY_FOLD,
    HEADERS,
    REQUIRED,
    VIETNAMESE_LETTERS,
    clean,
    fold,
)

log = logging.getLogger(__name__)

DELIMITERS = (",", ";", "\t")
HEADER_SEARCH_ROWS = 20
# Punctuation and symbols that a Windows-1258 directory may legitimately contain.
_CP1258_PUNCTUATION = frozenset("–—‘’“”…•°«»§©®×·\u00a0")


@dataclass(frozen=True)
class RawRow:
    """One non-empty data row: its row number as HR sees it in Excel, and its cells."""

    row: int
    cells: dict[str, str]


@dataclass(frozen=True)
class RawTable:
    source: str
    encoding: str | None  # None for XLSX
    rows: list[RawRow]


def read_table(path: str | Path) -> RawTable:
    """The data rows of a CSV or XLSX staff file, keyed by canonical column."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError("staff.file_missing", source=path.name) from None
    except OSError as exc:  # a folder, no permission, ...
        log.info("staff file %s: %s", path, exc)
        raise ValidationError("staff.file_unreadable", source=path.name) from None
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: Excel 97-2003 .xls
        raise ValidationError("staff.file_xls", source=path.name)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        log.info("staff file %s: .xlsx name but not a zip archive", path.name)
        raise ValidationError("staff.file_bad_xlsx", source=path.name)
    text, encoding = decode(data, path.name)
    return RawTable(path.name, encoding, _table(path.name, _csv_rows(text)))


def decode(data: bytes, source: str) -> tuple[str, str]:
    """The text of a CSV file in NFC and the encoding it was read with (see module doc)."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data:  # UTF-16 without a BOM, or not a text file at all
        log.info("staff file %s: NUL bytes and no BOM", source)
        raise ValidationError("staff.file_encoding", source=source)
    else:
        try:
            return unicodedata.normalize("NFC", data.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1258"
    try:
        text = unicodedata.normalize("NFC", data.decode(encoding))
    except UnicodeDecodeError as exc:
        log.info("staff file %s: not %s: %s", source, encoding, exc)
        raise ValidationError("staff.file_encoding", source=source) from None
    if encoding == "cp1258" and not _plausible_vietnamese(text):
        log.info("staff file %s: neither UTF-8 nor plausible Windows-1258", source)
        raise ValidationError("staff.file_encoding", source=source)
    return text, encoding


def _plausible_vietnamese(text: str) -> bool:
    non_ascii = {ch for ch in text if not ch.isascii()}
    return bool(non_ascii & VIETNAMESE_LETTERS) and non_ascii <= VIETNAMESE_LETTERS | _CP1258_PUNCTUATION


def _csv_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    hint = lines[0].strip().lower() if lines else ""
    if hint.startswith("sep=") and len(hint) == 5:
        # Excel's own hint line ("sep=;"): it names the delimiter, and Excel does not
        # show it, so the header is row 1.
        rest = text.split("\n", 1)[1] if "\n" in text else ""
        return list(csv.reader(io.StringIO(rest, newline=""), delimiter=hint[4]))
    first = next((line for line in lines if line.strip()), "")
    # The delimiter under which the header is recognised best; ties go to the one that
    # splits the first line into most fields. Excel in a Vietnamese locale writes ';',
    # "Unicode Text" writes tabs.
    def score(delimiter: str) -> tuple[int, int]:
        head = csv.reader(lines[:HEADER_SEARCH_ROWS], delimiter=delimiter)
        recognised = max((len(_recognised([clean(v) for v in row])) for row in head), default=0)
        return recognised, len(next(csv.reader([first], delimiter=delimiter), []))

    delimiter = max(DELIMITERS, key=score)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _read_xlsx(path: Path, data: bytes) -> RawTable:
    from openpyxl import load_workbook

    try:
        # data_only: the values Excel computed, not the formulas behind them.
        workbook = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        log.info("staff file %s: unreadable workbook: %r", path.name, exc)
        raise ValidationError("staff.file_bad_xlsx", source=path.name) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(min_row=1, values_only=True)]
    finally:
        workbook.close()
    return RawTable(path.name, None, _table(path.name, rows))


def _table(source: str, rows: list[list]) -> list[RawRow]:
    cleaned = [[clean(v) for v in row] for row in rows]
    header_index = _header_index(cleaned)
    if header_index is None:
        raise ValidationError("staff.file_empty", source=source)
    columns = _columns(source, cleaned[header_index])
    out = []
    for index in range(header_index + 1, len(cleaned)):
        row = cleaned[index]
        if not any(row):
            continue  # blank lines between blocks are common in HR files
        cells = {name: (row[i] if i < len(row) else "") for name, i in columns.items()}
        out.append(RawRow(index + 1, cells))
    if not out:
        raise ValidationError("staff.file_no_rows", source=source)
    return out


def _header_index(rows: list[list[str]]) -> int | None:
    """The header row: the first one naming every required column, searched among the
    first rows (HR sheets often start with a title such as "DANH SÁCH CÁN BỘ"); failing
    that, the first non-empty row, so that the error names what is missing."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if set(REQUIRED) <= set(_recognised(row)):
            return index
    return next((i for i, row in enumerate(rows) if any(row)), None)


def _recognised(row: list[str]) -> list[str]:
    return [HEADER_BY_FOLD[f] for f in map(fold, row) if f in HEADER_BY_FOLD]


def _columns(source: str, header: list[str]) -> dict[str, int]:
    """Column name -> index; unknown headers (STT, Ghi chú, ...) are ignored."""
    columns: dict[str, int] = {}
    for i, title in enumerate(header):
        name = HEADER_BY_FOLD.get(fold(title))
        if name is None:
            continue
        if name in columns:
            raise ValidationError(
                "staff.header_duplicate", source=source, column=HEADERS[name],
                first=get_column_letter(columns[name] + 1), second=get_column_letter(i + 1),
            )
        columns[name] = i
    missing = [HEADERS[c] for c in REQUIRED if c not in columns]
    if missing:
        log.info("staff file %s: header %r lacks %s", source, header, missing)
        raise ValidationError(
            "staff.header_missing", source=source, missing=", ".join(missing),
            found=", ".join(h for h in header if h) or "—", expected=", ".join(HEADERS.values()),
        )
    return columns
