"""Write the staff directory in the same format HR imports (export then import changes nothing)."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from kynangso.errors import KnsError
from kynangso.staff.directory import StaffEntry
from kynangso.staff.formats import HEADERS, ROLE_LABELS


def rows_for(entries: list[StaffEntry]) -> list[list[str]]:
    """Header row, then one row per staff member, with Vietnamese role names."""
    out = [list(HEADERS.values())]
    for e in entries:
        out.append([e.code, e.full_name, e.position, e.department, e.email or "", ROLE_LABELS[e.role]])
    return out


def write_rows(path: str | Path, rows: list[list[str]]) -> Path:
    """Write `rows` as .csv (UTF-8 with BOM, which Excel opens with diacritics) or .xlsx.

    Atomic: written to a temporary file beside the target, then renamed over it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise KnsError("staff.export_format", target=path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if suffix == ".csv":
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
                csv.writer(fh, lineterminator="\r\n").writerows(rows)
        else:
            os.close(fd)
            _write_xlsx(Path(tmp), rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Cán bộ"
    for row in rows:
        # Text cells throughout: a code such as 0012 must not become the number 12.
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    workbook.save(path)
