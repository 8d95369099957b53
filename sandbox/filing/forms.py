"""Forms BM.01–BM.06 as .docx, filled with the dossier's real data (domain README §3.3).

Field layout follows the BM.01–BM.06 set of QĐ 3621/QĐ-BYT (2025), the best available template;
titles follow the set in force on the receipt date (TT 01/2018 "Mẫu" before 01/7/2025).
Files are written to a temporary name and moved into place, so a failure leaves nothing half
written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.workdays import fmt_moment
from sandbox.filing.desk import DossierView, UnitConfig

FORMS = ("bm01", "bm02", "bm03", "bm04", "bm05", "bm06")
NEW_SET_FROM = date(2025, 7, 1)  # NĐ 118/2025 in force; before: TT 01/2018 (domain README §3.1)


def form_title(form: str, day: date) -> str:
    """The form's title in the set in force on `day`."""
    edition = "new" if day >= NEW_SET_FROM else "old"
    return t(f"filing.form.{form}.title_{edition}")


def available_forms(v: DossierView) -> list[str]:
    """The forms that this dossier's history makes issuable (what the desk may print)."""
    acts = set(v.done_actions)
    out = []
    if v.code:
        out.append("bm01")
    if "request_supplement" in acts or "request_supplement_processing" in acts:
        out.append("bm02")
    if v.state == "tu_choi":
        out.append("bm03")
    if "apologise" in acts:
        out.append("bm04")
    if v.code:
        out.append("bm05")
    return out


def _d(value: datetime | date | None) -> str:
    if value is None:
        return "…"
    return value.strftime("%d/%m/%Y")


def _new_doc():
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    return doc


def _para(doc, text: str, bold: bool = False, center: bool = False, italic: bool = False,
          size: int | None = None):
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return p


def _header(doc, unit: UnitConfig, number: str) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.text = f"{unit.parent}\n{unit.name.upper()}\n{number}"
    right.text = t("filing.form.national_motto")
    for cell in (left, right):
        for p in cell.paragraphs:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _signatures(doc, left: str, right: str, left_name: str = "", right_name: str = "") -> None:
    table = doc.add_table(rows=1, cols=2)
    a, b = table.rows[0].cells
    a.text = f"{left}\n{t('filing.form.sign_hint')}\n\n\n{left_name}"
    b.text = f"{right}\n{t('filing.form.sign_hint')}\n\n\n{right_name}"
    for cell in (a, b):
        for p in cell.paragraphs:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _applicant_lines(doc, v: DossierView) -> None:
    _para(doc, t("filing.form.applicant", name=v.applicant_name))
    _para(doc, t("filing.form.id_number", value=v.applicant_id))
    _para(doc, t("filing.form.address", value=v.address or "…"))
    _para(doc, t("filing.form.contact", phone=v.phone or "…", email=v.email or "…"))
    if v.authoriser:
        _para(doc, t("filing.form.authoriser", value=v.authoriser))


def _place_date(doc, unit: UnitConfig, when: datetime) -> None:
    _para(doc, t("filing.form.place_date", place=unit.place,
                 d=f"{when.day:02d}", m=f"{when.month:02d}", y=when.year),
          italic=True).alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _event_time(v: DossierView, action: str, fallback: datetime | None) -> datetime:
    e = v.event(action)
    when = e.at if e else fallback
    if when is None:
        raise KnsError("filing.form_not_issuable", form=action, code=v.code or v.id)
    return when


def _bm01(doc, v: DossierView, unit: UnitConfig) -> None:
    if v.code is None:
        raise KnsError("filing.form_not_issuable", form="BM.01", code=v.id)
    _para(doc, t("filing.form.code", code=v.code), bold=True)
    _para(doc, t("filing.form.bm01.centre", unit=unit.name))
    _applicant_lines(doc, v)
    _para(doc, t("filing.form.request", value=v.request_text))
    _para(doc, t("filing.form.documents"))
    for n, item in enumerate(v.documents, start=1):
        extra = f" ({item.filename})" if item.filename else ""
        _para(doc, f"{n}. {item.name} — {t('filing.form.copies', n=item.copies)}{extra}")
    _para(doc, t("filing.form.bm01.sets", n=v.copies))
    _para(doc, t("filing.form.bm01.days", n=v.procedure.days))
    _para(doc, t("filing.form.bm01.received", moment=fmt_moment(v.received_at)))
    _para(doc, t("filing.form.bm01.due", moment=fmt_moment(v.due_at)), bold=True)
    _para(doc, t("filing.form.bm01.return_at", value=t(f"filing.channel.{v.channel}")))
    _para(doc, t("filing.form.bm01.book", book=v.book_no, seq=v.book_seq))
    _signatures(doc, t("filing.form.sign_applicant"), t("filing.form.sign_receiver"),
                v.applicant_name, v.event("receive").actor)


def _bm02(doc, v: DossierView, unit: UnitConfig) -> None:
    action = "request_supplement_processing" if v.event("request_supplement_processing") \
        else "request_supplement"
    e = v.event(action)
    if e is None:
        raise KnsError("filing.form_not_issuable", form="BM.02", code=v.code or v.id)
    _applicant_lines(doc, v)
    _para(doc, t("filing.form.request", value=v.request_text))
    if v.code:
        _para(doc, t("filing.form.code", code=v.code))
    _para(doc, t("filing.form.bm02.items"))
    for n, item in enumerate(e.detail.get("items") or [], start=1):
        _para(doc, f"{n}. {item}")
    _para(doc, t("filing.form.reason", value=e.detail.get("reason", "")))
    _para(doc, t("filing.form.bm02.contact", name=e.actor, phone="…"))
    _place_date(doc, unit, e.at)
    _signatures(doc, "", t("filing.form.bm02.signer"), "", e.actor)


def _bm03(doc, v: DossierView, unit: UnitConfig) -> None:
    e = v.event("refuse")
    if e is None:
        raise KnsError("filing.form_not_issuable", form="BM.03", code=v.code or v.id)
    _applicant_lines(doc, v)
    if v.code:
        _para(doc, t("filing.form.code", code=v.code))
    _para(doc, t("filing.form.request", value=v.request_text))
    _para(doc, t("filing.form.bm03.reasons", value=e.detail.get("reason", "")))
    _para(doc, t("filing.form.bm03.sorry"))
    _place_date(doc, unit, e.at)
    _signatures(doc, t("filing.form.sign_applicant"), t("filing.form.sign_receiver"),
                v.applicant_name, e.actor)


def _bm04(doc, v: DossierView, unit: UnitConfig) -> None:
    e = v.event("apologise")
    if e is None:
        raise KnsError("filing.form_not_issuable", form="BM.04", code=v.code or v.id)
    _para(doc, t("filing.form.bm04.to", name=v.applicant_name), bold=True)
    _para(doc, t("filing.form.bm04.body", received=fmt_moment(v.received_at),
                 procedure=v.procedure.name, id_number=v.applicant_id, code=v.code))
    _para(doc, t("filing.form.bm04.old_due", moment=fmt_moment(v.original_due_at)))
    _para(doc, t("filing.form.bm04.late"))
    _para(doc, t("filing.form.reason", value=e.detail.get("reason", "")))
    _para(doc, t("filing.form.bm04.apology"))
    _para(doc, t("filing.form.bm04.new_due", moment=fmt_moment(v.due_at)), bold=True)
    _place_date(doc, unit, e.at)
    _signatures(doc, "", t("filing.form.bm04.signer"), "", e.actor)


def _bm05(doc, v: DossierView, unit: UnitConfig) -> None:
    if v.code is None:
        raise KnsError("filing.form_not_issuable", form="BM.05", code=v.id)
    _para(doc, t("filing.form.code", code=v.code), bold=True)
    _para(doc, t("filing.form.bm05.body", body=v.procedure.resolving_body))
    _para(doc, t("filing.form.bm05.received", moment=fmt_moment(v.received_at)))
    _para(doc, t("filing.form.bm05.due", moment=fmt_moment(v.due_at)))
    cols = [t(f"filing.form.bm05.col{i}") for i in range(1, 6)]
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, cols, strict=True):
        cell.text = text
    for h in v.handovers:
        row = table.add_row().cells
        row[0].text = t("filing.form.bm05.give_take", giver=h.from_unit, receiver=h.to_unit)
        row[1].text = fmt_moment(h.at)
        row[2].text = t(f"filing.rating.{h.rating}")
        row[3].text = h.note
        row[4].text = f"{h.giver} / {h.receiver}"


def _bm06(doc, dossiers: Iterable[DossierView]) -> None:
    cols = [t(f"filing.form.bm06.col{i}") for i in range(1, 12)]
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, cols, strict=True):
        cell.text = text
    for n, v in enumerate(dossiers, start=1):
        row = table.add_row().cells
        values = [str(n), v.code or "", v.procedure.name, v.applicant_name,
                  " / ".join(x for x in (v.address, v.phone) if x), v.procedure.resolving_body,
                  fmt_moment(v.received_at) if v.received_at else "",
                  fmt_moment(v.due_at) if v.due_at else "",
                  fmt_moment(v.returned_at) if v.returned_at else "",
                  t(f"filing.return.{v.return_method}") if v.return_method else "", ""]
        for cell, value in zip(row, values, strict=True):
            cell.text = value


_BUILDERS = {"bm01": _bm01, "bm02": _bm02, "bm03": _bm03, "bm04": _bm04, "bm05": _bm05}
_NUMBER = {"bm01": "TTPVHCC", "bm02": "PBS", "bm03": "PTC", "bm04": "PXL", "bm05": "PKS"}


def _save(doc, out: Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".docx.tmp")
    os.close(fd)
    try:
        doc.save(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def render_form(form: str, v: DossierView, out: str | Path, unit: UnitConfig | None = None
                ) -> Path:
    """Write form `form` (bm01…bm05) for dossier `v` to `out` (.docx)."""
    if form not in _BUILDERS:
        raise KnsError("filing.unknown_form", form=form, choices=", ".join(FORMS))
    unit = unit or UnitConfig()
    day = (v.received_at or v.submitted_at or datetime.now()).date()
    doc = _new_doc()
    seq = v.book_seq or v.id
    _header(doc, unit, t("filing.form.number", n=seq, suffix=_NUMBER[form]))
    _para(doc, form_title(form, day), bold=True, center=True, size=14)
    _BUILDERS[form](doc, v, unit)
    return _save(doc, out)


def render_register(dossiers: list[DossierView], out: str | Path, period: str,
                    unit: UnitConfig | None = None) -> Path:
    """BM.06 Sổ theo dõi hồ sơ for the given dossiers (those with a code), in receipt order."""
    unit = unit or UnitConfig()
    rows = sorted((v for v in dossiers if v.code), key=lambda v: (v.received_at, v.code))
    day = rows[0].received_at.date() if rows else date.today()
    doc = _new_doc()
    _para(doc, unit.name.upper(), bold=True, center=True)
    _para(doc, form_title("bm06", day), bold=True, center=True, size=14)
    _para(doc, t("filing.form.bm06.period", period=period), italic=True, center=True)
    _bm06(doc, rows)
    return _save(doc, out)


def render_receipt(v: DossierView, reference: str, out: str | Path,
                   unit: UnitConfig | None = None) -> Path:
    """The electronic receipt (biên lai điện tử) of a confirmed payment of dossier `v`."""
    unit = unit or UnitConfig()
    p = next((x for x in v.payments if x.reference == reference), None)
    if p is None or p.status != "da_thanh_toan":
        raise KnsError("filing.receipt_not_paid", reference=reference)
    doc = _new_doc()
    _header(doc, unit, t("filing.form.receipt.number", n=p.receipt_no))
    _para(doc, t("filing.form.receipt.title"), bold=True, center=True, size=14)
    _para(doc, t("filing.form.receipt.payer", name=v.applicant_name, id_number=v.applicant_id))
    if v.code:
        _para(doc, t("filing.form.code", code=v.code))
    _para(doc, t("filing.form.receipt.content", procedure=v.procedure.name))
    _para(doc, t("filing.form.receipt.amount",
                 amount=f"{int(p.amount_paid):,}".replace(",", ".")), bold=True)
    _para(doc, t("filing.form.receipt.method",
                 method=t("filing.form.receipt.online" if p.online else "filing.form.receipt.cash")))
    _para(doc, t("filing.form.receipt.reference", ref=p.reference, txn=p.bank_txn))
    _para(doc, t("filing.form.receipt.when", moment=fmt_moment(p.confirmed_at)))
    return _save(doc, out)


def docx_text(path: str | Path) -> str:
    """All text of a .docx (paragraphs and table cells), for checks and tests."""
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)
