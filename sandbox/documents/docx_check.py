"""Layout checker for .docx drafts against NĐ 30/2020 Phụ lục I (rules in rules/layout.yaml).

Components are found by their text (Quốc hiệu, Tiêu ngữ, "Số:", the date line, "V/v",
the type title, "Kính gửi", "Nơi nhận:"); the issuer name is the line just above "Số:".
Formatting is resolved as Word does: the run, then the paragraph style and its bases, then
the document defaults. Each finding names the rule (appendix and item), the measured value
and the expected one, in Vietnamese.

Page numbering is required when the text is estimated to run past one page (about 2,000
characters per A4 page at 13–14 pt): a .docx does not store its page count reliably.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.documents.rules import layout_rules, ruleset
from sandbox.documents.symbol import SymbolError, parse_symbol

EMU_PER_MM = 36000
EMU_PER_PT = 12700
CHARS_PER_PAGE = 2000
_DATE = re.compile(
    r"^(?P<place>[^,]*?)(?P<comma>,?)\s*ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s+"
    r"năm\s+(?P<y>\d{4})\s*$", re.IGNORECASE)


_AUTHORITY_NO_DOT = re.compile(r"^(TM|KT|TL|TUQ|Q)(?=\s)")
_ACADEMIC = re.compile(r"^(GS\.?\s*TS|PGS\.?\s*TS|GS|PGS|TSKH|TS|ThS|KS|BS|CN|Th\.S)\.?\s+")


class DocxCheckError(KnsError):
    """The file cannot be checked at all (not a .docx, or damaged)."""


@dataclass
class Finding:
    rule: str
    ref: str
    component: str
    measured: str
    expected: str
    message: str


@dataclass
class _Para:
    p: Paragraph
    text: str
    in_table: bool


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _open(path: Path):
    if not path.exists():
        raise DocxCheckError("documents.docx.missing", path=str(path))
    if not zipfile.is_zipfile(path):
        raise DocxCheckError("documents.docx.not_docx", name=path.name)
    try:
        with zipfile.ZipFile(path) as z:
            if "word/document.xml" not in z.namelist():
                raise DocxCheckError("documents.docx.not_docx", name=path.name)
        return Document(str(path))
    except DocxCheckError:
        raise
    except Exception as exc:  # python-docx raises many kinds on a damaged package
        raise DocxCheckError("documents.docx.corrupt", log_detail=f"{path}: {exc!r}",
                             name=path.name) from exc


def _paragraphs(doc) -> list[_Para]:
    """Every paragraph of the body in reading order, table cells included."""
    out: list[_Para] = []

    def walk(parent, in_table):
        for child in parent.iter_inner_content():
            if isinstance(child, Table):
                for row in child.rows:
                    seen = set()
                    for cell in row.cells:
                        if id(cell._tc) in seen:  # merged cells repeat
                            continue
                        seen.add(id(cell._tc))
                        walk(cell, True)
            else:
                out.append(_Para(child, _nfc(child.text).strip(), in_table))

    walk(doc, False)
    return out


# -- effective formatting ----------------------------------------------------------------
def _style_chain(style):
    while style is not None:
        yield style
        style = style.base_style


def _defaults_rpr(doc):
    el = doc.styles.element.find(qn("w:docDefaults"))
    if el is None:
        return None
    return el.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")


def _run_attr(run, para, doc, attr):
    value = getattr(run.font, attr)
    if value is not None:
        return value
    if run.style is not None and run.style.name != "Default Paragraph Font":
        for st in _style_chain(run.style):
            if getattr(st.font, attr) is not None:
                return getattr(st.font, attr)
    for st in _style_chain(para.style):
        if getattr(st.font, attr) is not None:
            return getattr(st.font, attr)
    rpr = _defaults_rpr(doc)
    if attr == "size" and rpr is not None and rpr.find(qn("w:sz")) is not None:
        return int(rpr.find(qn("w:sz")).get(qn("w:val"))) * EMU_PER_PT // 2
    if attr in ("bold", "italic"):
        return False
    if attr == "size":
        return 10 * EMU_PER_PT  # Word's size when nothing is declared
    return None


def _font_names(run, para, doc) -> set[str]:
    """Effective ascii and hAnsi fonts (Vietnamese letters with diacritics are hAnsi)."""
    names = set()
    for key in ("w:ascii", "w:hAnsi"):
        found = None
        chain = [run._element.rPr] if run._element.rPr is not None else []
        chain += [st.element.rPr for st in _style_chain(para.style) if st.element.rPr is not None]
        chain.append(_defaults_rpr(doc))
        for rpr in chain:
            if rpr is None or rpr.rFonts is None:
                continue
            if rpr.rFonts.get(qn(key)):
                found = rpr.rFonts.get(qn(key))
                break
            if rpr.rFonts.get(qn(key + "Theme")):
                found = t("documents.docx.value.theme_font")
                break
        names.add(found or t("documents.docx.value.unknown_font"))
    return names


def _para_attr(para, attr):
    value = getattr(para.paragraph_format, attr)
    if value is not None:
        return value
    for st in _style_chain(para.style):
        value = getattr(st.paragraph_format, attr)
        if value is not None:
            return value
    return None


def _text_runs(para):
    return [r for r in para.runs if r.text.strip()]


# -- the checker ---------------------------------------------------------------------------
class _Checker:
    def __init__(self, doc, expected_symbol: str | None):
        self.doc = doc
        self.rules = layout_rules()["rules"]
        self.tol = layout_rules()["tolerance_mm"]
        self.expected_symbol = expected_symbol
        self.findings: list[Finding] = []

    def add(self, rule: str, measured: str, expected: str, where: str = "") -> None:
        r = self.rules[rule]
        component = r["component"] + (f" ({where})" if where else "")
        self.findings.append(Finding(
            rule=rule, ref=r["ref"], component=component, measured=measured, expected=expected,
            message=t("documents.docx.finding", component=component, measured=measured,
                      expected=expected, ref=r["ref"]),
        ))

    # page setup -------------------------------------------------------------------------
    def page(self):
        for i, sec in enumerate(self.doc.sections, 1):
            where = t("documents.docx.value.section", n=i) if len(self.doc.sections) > 1 else ""
            w, h = sec.page_width, sec.page_height
            if w is None or h is None:
                self.add("paper", t("documents.docx.value.unknown"), "210 × 297 mm", where)
                continue
            wmm, hmm = w / EMU_PER_MM, h / EMU_PER_MM
            short, long_ = sorted((wmm, hmm))
            if abs(short - 210) > self.tol or abs(long_ - 297) > self.tol:
                self.add("paper", f"{wmm:.0f} × {hmm:.0f} mm", "A4, 210 × 297 mm", where)
            if sec.orientation == WD_ORIENT.LANDSCAPE or wmm > hmm:
                self.add("orientation", t("documents.docx.value.landscape"),
                         t("documents.docx.value.portrait"), where)
            for side in ("top", "bottom", "left", "right"):
                rule = self.rules[f"margin_{side}"]
                value = getattr(sec, f"{side}_margin")
                mm = (value or 0) / EMU_PER_MM
                if not rule["min_mm"] - self.tol <= mm <= rule["max_mm"] + self.tol:
                    self.add(f"margin_{side}", f"{mm:.1f} mm",
                             f"{rule['min_mm']}–{rule['max_mm']} mm", where)

    # fonts --------------------------------------------------------------------------------
    def fonts(self, paras: list[_Para]):
        bad: dict[str, str] = {}
        for item in paras:
            for run in _text_runs(item.p):
                for name in _font_names(run, item.p, self.doc):
                    if name != "Times New Roman" and name not in bad:
                        bad[name] = item.text[:40]
        for name, sample in bad.items():
            self.add("font", f"{name} (“{sample}”)", "Times New Roman")

    # a component's size and style ---------------------------------------------------------
    def style(self, rule: str, item: _Para, check_upper: bool = False):
        r = self.rules[rule]
        runs = _text_runs(item.p)
        if not runs:
            return
        sizes = {_run_attr(x, item.p, self.doc, "size") for x in runs}
        pts = sorted({round(s / EMU_PER_PT, 1) if s else 0 for s in sizes})
        if "min_pt" in r and any(not r["min_pt"] <= p <= r["max_pt"] for p in pts):
            exp = f"{r['min_pt']}" if r["min_pt"] == r["max_pt"] else f"{r['min_pt']}–{r['max_pt']}"
            self.add(rule, t("documents.docx.value.size", size=", ".join(f"{p:g}" for p in pts)),
                     t("documents.docx.value.size", size=exp), item.text[:40])
        for attr, yes, no in (("bold", "bold", "not_bold"), ("italic", "italic", "upright")):
            if attr not in r:
                continue
            values = {bool(_run_attr(x, item.p, self.doc, attr)) for x in runs}
            if values != {r[attr]}:
                measured = t(f"documents.docx.value.{yes if True in values else no}")
                if len(values) > 1:
                    measured = t("documents.docx.value.mixed")
                self.add(rule, measured, t(f"documents.docx.value.{yes if r[attr] else no}"),
                         item.text[:40])
        if check_upper and r.get("upper") and item.text != item.text.upper():
            self.add(rule, t("documents.docx.value.not_upper"), t("documents.docx.value.upper"),
                     item.text[:40])

    # the whole document ---------------------------------------------------------------------
    def run(self):
        self.page()
        paras = _paragraphs(self.doc)
        self.fonts(paras)
        texts = [p.text for p in paras]
        used: set[int] = set()

        def find(pred, start=0):
            for i in range(start, len(paras)):
                if i not in used and paras[i].text and pred(paras[i].text):
                    used.add(i)
                    return i
            return None

        qh = find(lambda s: s.upper().replace("HOÀ", "HÒA") == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        if qh is None:
            self.add("quoc_hieu", t("documents.docx.value.missing"),
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        else:
            self.style("quoc_hieu", paras[qh], check_upper=True)
        tn = find(lambda s: s.casefold().replace(" ", "").startswith("độclập-tựdo"))
        if tn is None:
            self.add("tieu_ngu", t("documents.docx.value.missing"), "Độc lập - Tự do - Hạnh phúc")
        else:
            self.style("tieu_ngu", paras[tn])
            if paras[tn].text != "Độc lập - Tự do - Hạnh phúc":
                self.add("tieu_ngu", f"“{paras[tn].text}”", "“Độc lập - Tự do - Hạnh phúc”")

        so = find(lambda s: re.match(r"^Số\s*:", s) is not None)
        symbol = None
        if so is None:
            self.add("so_ky_hieu", t("documents.docx.value.missing"), "Số: 05/KH-UBND")
        else:
            self.style("so_ky_hieu", paras[so])
            try:
                symbol = parse_symbol(paras[so].text)
            except SymbolError as exc:
                self.add("so_ky_hieu", f"“{paras[so].text}”",
                         exc.suggestion or t("documents.docx.value.valid_symbol"))
                for problem in exc.problems:
                    self.findings[-1].message += " " + problem
            if symbol and self.expected_symbol and symbol.text != self.expected_symbol:
                self.add("symbol_register", symbol.text, self.expected_symbol)
            # the issuing organisation is the line just above "Số:" (ô 2)
            above = next((i for i in range(so - 1, -1, -1) if paras[i].text), None)
            if above is not None and above not in used and paras[above].in_table:
                used.add(above)
                self.style("co_quan", paras[above], check_upper=True)
            else:
                self.add("co_quan", t("documents.docx.value.missing"),
                         t("documents.docx.value.above_so"))

        dl = find(lambda s: _DATE.match(s) is not None)
        if dl is None:
            self.add("dia_danh", t("documents.docx.value.missing"),
                     "Ba Đình, ngày 05 tháng 01 năm 2026")
        else:
            self.style("dia_danh", paras[dl])
            self.date_text(paras[dl].text)

        vv = find(lambda s: s.startswith("V/v"))
        if vv is not None:
            self.style("trich_yeu_cv", paras[vv])
        is_cong_van = symbol is not None and symbol.kind == "cong_van"
        if is_cong_van and vv is None:
            self.add("trich_yeu_cv", t("documents.docx.value.missing"), "V/v …")

        titles = {row.title for row in ruleset().types if row.title}
        tl = find(lambda s: s in titles or s.upper() in titles)
        if tl is not None:
            self.style("ten_loai", paras[tl], check_upper=True)
            if symbol and symbol.doc_type and symbol.doc_type.title not in (None, texts[tl].upper()):
                self.add("ten_loai", texts[tl], symbol.doc_type.title)
            ty = find(lambda s: True, tl + 1)
            if ty is not None:
                self.style("trich_yeu", paras[ty])
        elif symbol is not None and symbol.kind != "cong_van":
            self.add("ten_loai", t("documents.docx.value.missing"),
                     symbol.doc_type.title or symbol.doc_type.name)

        nn = find(lambda s: s.startswith("Nơi nhận"))
        if nn is None:
            self.add("noi_nhan_label", t("documents.docx.value.missing"), "Nơi nhận:")
        else:
            self.style("noi_nhan_label", paras[nn])
            items = []
            for i in range(nn + 1, len(paras)):
                if not paras[i].text.startswith("-"):
                    break
                used.add(i)
                items.append(paras[i])
                self.style("noi_nhan_list", paras[i])
            last = items[-1].text if items else ""
            if not re.match(r"^-\s*Lưu\s*:\s*VT\b", last):
                self.add("luu_vt", f"“{last}”" if last else t("documents.docx.value.missing"),
                         "- Lưu: VT, <đơn vị soạn thảo>.")
            end = nn + 1 + len(items)
            self.signer([i for i in range(end, len(paras))
                         if paras[i].in_table and paras[i].text and i not in used], paras, used)

        in_kinh_gui = False  # "Kính gửi:" and the "- …;" recipient lines under it (ô 9a)
        for i in range(len(paras)):
            if paras[i].text.startswith("Kính gửi"):
                in_kinh_gui = True
            elif not (in_kinh_gui and paras[i].text.startswith("-")):
                in_kinh_gui = False
            if in_kinh_gui:
                used.add(i)
        body = [paras[i] for i in range(len(paras))
                if i not in used and paras[i].text and not paras[i].in_table
                and (qh is None or i > qh)]
        self.body(body)
        self.page_numbers(sum(len(p.text) for p in paras))

    def signer(self, idx: list[int], paras: list[_Para], used: set[int]):
        """The signature block (ô 7a, 7b): authority and title lines, then the name."""
        if len(idx) < 2:
            return
        used.update(idx)
        *titles, name = (paras[i] for i in idx)
        for item in titles:
            self.style("quyen_han", item, check_upper=True)
            bad = _AUTHORITY_NO_DOT.match(item.text)
            if bad:
                self.add("quyen_han", f"“{bad.group(1)}”", f"“{bad.group(1)}.”", item.text[:40])
        self.style("ho_ten", name)
        title = _ACADEMIC.match(name.text)
        if title:
            self.add("ho_ten_title", f"“{title.group(0).strip()}” {name.text[title.end():]}",
                     t("documents.docx.value.no_academic_title"))

    def date_text(self, text: str):
        m = _DATE.match(text)
        d, mo = m.group("d"), m.group("m")
        want_d = f"{int(d):02d}"
        want_m = f"{int(mo):02d}" if int(mo) < 3 else str(int(mo))
        if d != want_d or mo != want_m:
            self.add("ngay_thang", f"ngày {d} tháng {mo}", f"ngày {want_d} tháng {want_m}")
        if not m.group("place").strip():
            self.add("dia_danh", t("documents.docx.value.no_place"),
                     t("documents.docx.value.place"))
        elif not m.group("comma"):
            self.add("dia_danh", t("documents.docx.value.no_comma"),
                     t("documents.docx.value.comma"))

    def body(self, body: list[_Para]):
        reported: set[str] = set()

        def once(rule, measured, expected, where):
            if rule not in reported:  # one finding per rule: the first offending paragraph
                reported.add(rule)
                self.add(rule, measured, expected, where)

        for item in body:
            where = item.text[:40]
            runs = _text_runs(item.p)
            sizes = sorted({round((_run_attr(r, item.p, self.doc, "size") or 0) / EMU_PER_PT, 1)
                            for r in runs})
            rule = self.rules["body_size"]
            if any(not rule["min_pt"] <= s <= rule["max_pt"] for s in sizes):
                once("body_size", t("documents.docx.value.size", size=", ".join(f"{s:g}" for s in sizes)),
                     t("documents.docx.value.size", size="13–14"), where)
            align = _para_attr(item.p, "alignment")
            if align not in (WD_ALIGN_PARAGRAPH.JUSTIFY,):
                once("body_align", t(f"documents.docx.value.align_{_align_name(align)}"),
                     t("documents.docx.value.align_justify"), where)
            ind = _para_attr(item.p, "first_line_indent")
            rule = self.rules["body_indent"]
            cm = (ind or 0) / 360000
            if not any(abs(cm - a) <= rule["tolerance_cm"] for a in rule["allowed_cm"]):
                once("body_indent", f"{cm:.2f} cm", "1 cm hoặc 1,27 cm", where)
            before = (_para_attr(item.p, "space_before") or 0) / EMU_PER_PT
            after = (_para_attr(item.p, "space_after") or 0) / EMU_PER_PT
            if max(before, after) < self.rules["body_spacing"]["min_pt"]:
                once("body_spacing", f"{max(before, after):g} pt", "≥ 6 pt", where)
            lines = self._line_spacing(item.p, sizes[-1] if sizes else 14)
            rule = self.rules["body_line"]
            if lines is not None and not rule["min_lines"] - 0.01 <= lines <= rule["max_lines"] + 0.01:
                once("body_line", t("documents.docx.value.lines", n=f"{lines:.2f}"),
                     t("documents.docx.value.lines", n="1–1,5"), where)

    def _line_spacing(self, p, size_pt: float) -> float | None:
        spacing = _para_attr(p, "line_spacing")
        rule = _para_attr(p, "line_spacing_rule")
        if spacing is None:
            return 1.0
        if isinstance(spacing, float):
            return spacing
        # an exact or "at least" height in EMU: compare with the single-line height of the
        # font (about 1.15 × size for Times New Roman)
        if rule in (WD_LINE_SPACING.EXACTLY, WD_LINE_SPACING.AT_LEAST) or spacing:
            return round(spacing / EMU_PER_PT / (1.15 * size_pt), 2)
        return None

    def page_numbers(self, chars: int):
        sec = self.doc.sections[0]
        rule = self.rules["page_number"]
        first_has = sec.different_first_page_header_footer and _has_page_field(
            sec.first_page_header)
        default_has = _has_page_field(sec.header)
        if (default_has and not sec.different_first_page_header_footer) or first_has:
            self.add("page_number", t("documents.docx.value.page1_shown"),
                     t("documents.docx.value.page1_hidden"))
        if chars > CHARS_PER_PAGE and not default_has:
            self.add("page_number", t("documents.docx.value.missing"),
                     t("documents.docx.value.page_field"))
        if default_has:
            for p in sec.header.paragraphs:
                if _has_page_field_el(p._p):
                    if _para_attr(p, "alignment") != WD_ALIGN_PARAGRAPH.CENTER:
                        self.add("page_number", t("documents.docx.value.not_centred"),
                                 t("documents.docx.value.centred"))
                    size = None
                    for r in p._p.iter(qn("w:r")):
                        sz = r.find(f"{qn('w:rPr')}/{qn('w:sz')}")
                        if sz is not None:
                            size = int(sz.get(qn("w:val"))) / 2
                    if size is not None and not rule["min_pt"] <= size <= rule["max_pt"]:
                        self.add("page_number", t("documents.docx.value.size", size=f"{size:g}"),
                                 t("documents.docx.value.size", size="13–14"))


def _align_name(align) -> str:
    return {WD_ALIGN_PARAGRAPH.CENTER: "center", WD_ALIGN_PARAGRAPH.RIGHT: "right",
            WD_ALIGN_PARAGRAPH.JUSTIFY: "justify"}.get(align, "left")


def _has_page_field_el(el) -> bool:
    for node in el.iter(qn("w:instrText")):
        if "PAGE" in (node.text or "").upper():
            return True
    return any("PAGE" in (n.get(qn("w:instr")) or "").upper() for n in el.iter(qn("w:fldSimple")))


def _has_page_field(header) -> bool:
    if header is None or header.is_linked_to_previous:
        return False
    return _has_page_field_el(header._element)


def check_docx(path: str | Path, expected_symbol: str | None = None) -> list[Finding]:
    """Findings for the draft at `path` (empty list = the layout passes).

    `expected_symbol` is the số, ký hiệu given by the register; the one printed on the page
    must match it. Raises DocxCheckError for a file that is not a readable .docx.
    """
    doc = _open(Path(path))
    checker = _Checker(doc, expected_symbol)
    checker.run()
    return checker.findings


def findings_as_dicts(findings: list[Finding]) -> list[dict]:
    return [asdict(f) for f in findings]
