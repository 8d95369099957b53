"""Exports: the current view to .xlsx (one sheet per table) and printable PDF reports per
department and per person, generated on the server (reportlab, DejaVu for Vietnamese).

Files are written to a temporary file beside the target and moved into place, so a failed
export never leaves half a file; `*_bytes` variants return the content for a download link.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kynangso.i18n import t
from reports import charts, views
from reports.data import ReportData
from reports.fonts import FONT, FONT_BOLD, register_fonts
from reports.numbers import number

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _atomic_write(path: Path, content: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sheet_name(title: str, taken: set[str]) -> str:
    base = _BAD_SHEET.sub("-", title)[:31] or "Sheet"
    name, n = base, 2
    while name in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def xlsx_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """One formatted sheet per table: bold white header on blue, frozen, sized columns."""
    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for title, df in tables.items():
        ws = wb.create_sheet(sheet_name(title, taken))
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.freeze_panes = "A2"
        for j, col in enumerate(df.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in df.iloc[:200, j - 1]])
            ws.column_dimensions[get_column_letter(j)].width = min(max(10, width + 2), 60)
        if len(df.columns):
            ws.auto_filter.ref = ws.dimensions
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_xlsx(path: str | Path, tables: dict[str, pd.DataFrame]) -> Path:
    return _atomic_write(Path(path), xlsx_bytes(tables))


def _cell(v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime().replace(tzinfo=None)
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


# --- PDF -------------------------------------------------------------------------------------

def _styles():
    register_fonts()
    return {
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=FONT_BOLD, fontSize=11.5, leading=15, spaceBefore=8,
                             spaceAfter=4),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle("head", fontName=FONT_BOLD, fontSize=7.5, leading=9.5,
                               textColor=colors.white),
    }


def _table(df: pd.DataFrame, st, width: float):
    if df.empty:
        return Paragraph(t("reports.empty_table"), st["body"])
    data = [[Paragraph(_esc(c), st["head"]) for c in df.columns]]
    for row in df.itertuples(index=False):
        data.append([Paragraph(_esc(_fmt(v)), st["cell"]) for v in row])
    tbl = Table(data, colWidths=[width / len(df.columns)] * len(df.columns), repeatRows=1)
    tbl.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F4E79")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F2F2")]),
    ]))
    return tbl


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, int | float) and not isinstance(v, bool) or hasattr(v, "dtype"):
        return number(v)  # Vietnamese: 7,5 and 1.234
    return str(v)


def _esc(v) -> str:
    return str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(st, office: str, title: str, period_label: str, on: date) -> list:
    return [
        Paragraph(_esc(office), st["body"]),
        Spacer(1, 3 * mm),
        Paragraph(_esc(title), st["title"]),
        Paragraph(_esc(t("reports.pdf.period", period=period_label)), st["body"]),
        Paragraph(_esc(t("reports.pdf.date", date=on.strftime("%d/%m/%Y"))), st["body"]),
        Spacer(1, 4 * mm),
    ]


def _build(story: list) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm,
                            title=t("reports.pdf.doc_title"), author=t("reports.pdf.author"))

    def footer(canvas, d):
        canvas.setFont(FONT, 7.5)
        canvas.drawRightString(d.pagesize[0] - 15 * mm, 7 * mm,
                               t("reports.pdf.page", page=d.page))

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def period_label(data: ReportData, period_id: str | None) -> str:
    if period_id is None:
        return t("reports.latest_period")
    return dict(zip(data.periods["period_id"], data.periods["label"], strict=True))[period_id]


def department_pdf_bytes(data: ReportData, department: str, office: str,
                         period_id: str | None = None, on: date | None = None) -> bytes:
    """Levels, training needs and course completion of one department."""
    st = _styles()
    on = on or date.today()
    width = landscape(A4)[0] - 30 * mm
    levels = data.levels(period_id, evidence=False)  # counts only
    levels = levels[(levels["department"] == department) & levels["active"]]
    staff = data.staff[(data.staff["department"] == department) & data.staff["active"]]
    story = _header(st, office, t("reports.pdf.department_title", department=department),
                    period_label(data, period_id), on)
    story.append(Paragraph(_esc(t("reports.pdf.people", n=len(staff))), st["body"]))
    dist = views.distribution(data, levels)
    story.append(Paragraph(_esc(t("reports.section.distribution")), st["h2"]))
    story.append(charts.level_distribution(dist, views.level_names(data), dist.columns[0],
                                           width=int(width), name_col=dist.columns[1]))
    story.append(_table(dist, st, width))
    needs = data.needs(period_id, on)
    needs = needs[needs["department"] == department]
    story.append(Paragraph(_esc(t("reports.section.needs")), st["h2"]))
    story.append(_table(views.needs(data, needs).drop(columns=[views.h("department")]), st, width))
    story.append(Paragraph(_esc(t("reports.section.completion")), st["h2"]))
    story.append(_table(views.completion(data, staff), st, width))
    return _build(story)


def person_pdf_bytes(data: ReportData, username: str, office: str,
                     period_id: str | None = None, on: date | None = None) -> bytes:
    """One person's levels with evidence, history, courses, exams and recommendations."""
    st = _styles()
    on = on or date.today()
    width = landscape(A4)[0] - 30 * mm
    person = data.staff[data.staff["username"] == username].iloc[0]
    story = _header(st, office, t("reports.pdf.person_title", name=person["full_name"]),
                    period_label(data, period_id), on)
    story.append(Paragraph(_esc(t("reports.pdf.person_line", position=person["position"] or "—",
                                  department=person["department"])), st["body"]))
    levels = data.person_levels(username, period_id)
    sections = [
        ("reports.section.person_levels", views.person_levels(data, levels, username)),
        ("reports.section.history", views.person_history(data, username)),
        ("reports.section.exams", views.person_exams(data, username)),
        ("reports.section.courses", views.person_courses(data, username)),
        ("reports.section.recommendations",
         views.person_recommendations(data, data.needs(period_id, on), username)),
    ]
    for key, df in sections:
        story.append(Paragraph(_esc(t(key)), st["h2"]))
        story.append(_table(df, st, width))
    return _build(story)


def write_department_pdf(path, data, department, office, period_id=None, on=None) -> Path:
    return _atomic_write(Path(path), department_pdf_bytes(data, department, office, period_id, on))


def write_person_pdf(path, data, username, office, period_id=None, on=None) -> Path:
    return _atomic_write(Path(path), person_pdf_bytes(data, username, office, period_id, on))
