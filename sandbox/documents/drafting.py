"""Drafting helper: a correctly laid-out .docx from structured fields (NĐ 30/2020 Phụ lục I).

The layout follows Phụ lục I, Phần I (Mục I: A4, margins, Times New Roman, page numbers
from page 2 centred in the top margin; Mục II: each component's size and style) and the
first-page arrangement of Mục IV: a two-column header (issuer and số on the left, Quốc
hiệu, Tiêu ngữ and the date on the right), the type and trích yếu centred (or "V/v" under
the số for a công văn), the body, then Nơi nhận on the left and the signer on the right.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from kynangso.errors import ValidationError
from kynangso.i18n import t
from sandbox.documents.rules import ruleset
from sandbox.documents.symbol import SymbolError, parse_symbol

FONT = "Times New Roman"
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"


@dataclass
class DraftFields:
    """What the drafter fills in. `symbol` is the number from the register, e.g. 4391/KH-UBND."""

    org_name: str
    symbol: str
    place: str
    doc_date: date
    type_key: str
    subject: str
    body: list[str]
    signer_title: str
    signer_name: str
    drafting_unit: str
    parent_name: str = ""
    signer_authority: str = ""  # TM. / KT. / Q. / TL. / TUQ. line, e.g. "TM. ỦY BAN NHÂN DÂN"
    recipients: list[str] = field(default_factory=list)
    kinh_gui: list[str] = field(default_factory=list)  # công văn, tờ trình, báo cáo lên trên
    urgency_stamp: str = ""  # "KHẨN", "THƯỢNG KHẨN", "HỎA TỐC"
    archive_copies: int | None = None


def date_line(place: str, d: date) -> str:
    """"Ba Đình, ngày 05 tháng 01 năm 2026": leading zero for day < 10 and months 1, 2
    (Phụ lục I, Mục II.4.b)."""
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"{place}, ngày {d.day:02d} tháng {month} năm {d.year}"


def validate(fields: DraftFields) -> list[str]:
    problems = []
    rules = ruleset(fields.doc_date)
    dtype = rules.type_by_key(fields.type_key)
    if dtype is None:
        problems.append(t("documents.draft.bad_type", type=fields.type_key))
    try:
        sym = parse_symbol(fields.symbol, fields.doc_date)
        if dtype is not None and sym.doc_type != (dtype if dtype.abbrev else None):
            problems.append(t("documents.draft.symbol_type", symbol=sym.text, name=dtype.name))
    except SymbolError as exc:
        problems.extend(exc.problems)
    for name in ("org_name", "place", "subject", "signer_title", "signer_name", "drafting_unit"):
        if not str(getattr(fields, name) or "").strip():
            problems.append(t("documents.draft.missing", field=t(f"documents.draft.field.{name}")))
    if not [p for p in fields.body if p.strip()]:
        problems.append(t("documents.draft.missing", field=t("documents.draft.field.body")))
    return problems


def _run(paragraph, text, size, bold=False, italic=False):
    run = paragraph.add_run(text)
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    rpr = run._element.get_or_add_rPr()
    rpr.rFonts.set(qn("w:hAnsi"), FONT)
    rpr.rFonts.set(qn("w:eastAsia"), FONT)
    rpr.rFonts.set(qn("w:cs"), FONT)
    return run


def _para(container, text, size, bold=False, italic=False, align=WD_ALIGN_PARAGRAPH.CENTER,
          before=0, after=0):
    p = container.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_before = Pt(before)
    p.paragraph_format.space_after = Pt(after)
    if text:
        _run(p, text, size, bold, italic)
    return p


def _no_borders(table):
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def _page_number_header(section):
    # Page numbers from page 2, centred in the top margin; page 1 shows none (Mục I.7).
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = _run(p, "", 13)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)


def build(fields: DraftFields) -> Document:
    """The python-docx Document for `fields` (validated first; ValidationError if not)."""
    problems = validate(fields)
    if problems:
        raise ValidationError("documents.draft.rejected", problems=problems)
    dtype = ruleset(fields.doc_date).type_by_key(fields.type_key)
    is_cong_van = dtype.abbrev is None

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    normal.element.rPr.rFonts.set(qn("w:hAnsi"), FONT)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.left_margin, sec.right_margin = Mm(30), Mm(15)
    _page_number_header(sec)

    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(head)
    left, right = head.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(10)
    left.paragraphs[0].text = ""
    if fields.parent_name:
        _para(left, fields.parent_name.upper(), 13)
    _para(left, fields.org_name.upper(), 13, bold=True)
    _para(left, f"Số: {parse_symbol(fields.symbol).text}", 13, before=6)
    if is_cong_van:
        _para(left, f"V/v {fields.subject}", 12, before=6)
    if fields.urgency_stamp:
        _para(left, fields.urgency_stamp.upper(), 13, bold=True, before=6)
    left._tc.remove(left.paragraphs[0]._p)
    _para(right, QUOC_HIEU, 12, bold=True)
    _para(right, TIEU_NGU, 13, bold=True)
    _para(right, date_line(fields.place, fields.doc_date), 14, italic=True, before=12)
    right._tc.remove(right.paragraphs[0]._p)

    if not is_cong_van:
        _para(doc, dtype.title, 14, bold=True, before=18)
        _para(doc, fields.subject, 14, bold=True, after=12)
    if fields.kinh_gui:
        lines = fields.kinh_gui
        if len(lines) == 1:
            _para(doc, f"Kính gửi: {lines[0]}.", 14, before=12, after=6)
        else:
            _para(doc, "Kính gửi:", 14, before=12)
            for i, name in enumerate(lines):
                end = "." if i == len(lines) - 1 else ";"
                _para(doc, f"- {name}{end}", 14)
    for text in fields.body:
        if not text.strip():
            continue
        p = _para(doc, text.strip(), 14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=0, after=6)
        p.paragraph_format.first_line_indent = Cm(1.27)
        p.paragraph_format.line_spacing = 1.15

    sign = doc.add_table(rows=1, cols=2)
    _no_borders(sign)
    nl, sr = sign.rows[0].cells
    nl.width, sr.width = Cm(7.5), Cm(9)
    _para(nl, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT,
          before=6)
    recips = (["Như trên"] if fields.kinh_gui else []) + list(fields.recipients)
    for name in recips:
        _para(nl, f"- {name};", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    copies = f"({fields.archive_copies:02d})" if fields.archive_copies else ""
    _para(nl, f"- Lưu: VT, {fields.drafting_unit}{copies}.", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    nl._tc.remove(nl.paragraphs[0]._p)
    if fields.signer_authority:
        _para(sr, fields.signer_authority.upper(), 14, bold=True, before=6)
    _para(sr, fields.signer_title.upper(), 14, bold=True)
    for _ in range(3):
        _para(sr, "", 14)
    _para(sr, fields.signer_name, 14, bold=True)
    sr._tc.remove(sr.paragraphs[0]._p)
    return doc


def write_docx(fields: DraftFields, path: str | Path) -> Path:
    """Write the draft to `path` atomically (temp file, then os.replace)."""
    path = Path(path)
    doc = build(fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".docx", dir=path.parent)
    os.close(fd)
    try:
        doc.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
