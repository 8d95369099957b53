"""ipywidgets front end of the document sandbox: one function per panel, each returning the
top-level widget, so a learner runs one line (e.g. `registration_form()`) and never edits code.

Panels: `inbox_panel` (sổ đăng ký / hộp văn bản đến), `registration_form` (đăng ký văn bản
đến), `routing_form` (trình và giao xử lý), `outgoing_form` (cấp số, đăng ký, phát hành
văn bản đi), `docx_check_panel` (tải lên và kiểm tra .docx).

Every action is validated first; each message is shown next to the field it is about, and
the overall result under the button. The parts of a panel are reachable as `panel.parts`
(a dict) so tests can set values and click buttons as a person would.
"""

from __future__ import annotations

import html
import tempfile
from datetime import date
from pathlib import Path

import ipywidgets as w

from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import t
from sandbox.documents.docx_check import check_docx
from sandbox.documents.rules import register_columns, ruleset
from sandbox.documents.storage import Actor, Registry
from sandbox.documents.symbol import SymbolError, parse_symbol

DEMO_ORGS = [
    ("UBND", "Ủy ban nhân dân phường Ba Đình", "Ba Đình"),
    ("SNV", "Sở Nội vụ thành phố Hà Nội", "Hà Nội"),
    ("CAP", "Công an phường Ba Đình", "Ba Đình"),
]
_LABEL = {"description_width": "170px"}
_WIDE = w.Layout(width="480px")


def _registry(registry: Registry | None) -> Registry:
    """The learner's practice registry, with demo organisations the first time."""
    reg = registry or Registry()
    if not reg.organisations():
        for code, name, place in DEMO_ORGS:
            reg.add_organisation(code, name, place)
    return reg


def _msg() -> w.HTML:
    return w.HTML(value="")


def _show(label: w.HTML, text: str, ok: bool = False) -> None:
    colour = "#1b5e20" if ok else "#b71c1c"
    label.value = f'<span style="color:{colour}">{html.escape(text)}</span>' if text else ""


def _show_error(label: w.HTML, exc: KnsError) -> None:
    lines = [exc.user_message] + list(getattr(exc, "problems", []) or [])
    label.value = '<span style="color:#b71c1c">' + "<br>".join(
        html.escape(x) for x in lines) + "</span>"


def _row(field: w.Widget, message: w.HTML) -> w.HBox:
    return w.HBox([field, message])


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr>" + "".join(
            f"<td>{html.escape('' if r.get(f) is None else _fmt(r.get(f)))}</td>" for f, _ in columns
        ) + "</tr>"
        for r in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(columns)}">{html.escape(t("documents.ui.empty"))}</td></tr>'
    return f'<table class="kns-register" border="1" cellpadding="4"><tr>{head}</tr>{body}</table>'


def _fmt(value) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


# -- 1. inbox and register ------------------------------------------------------------------
def inbox_panel(registry: Registry | None = None, org: str = "UBND",
                clerk: str = "Văn thư") -> w.VBox:
    """Hộp văn bản đến and the sổ đăng ký văn bản đến, with deadline flags and reminders."""
    reg = _registry(registry)
    states = ["pending", "registered", "submitted", "assigned", "in_progress", "completed",
              "returned"]
    choice = w.Dropdown(
        options=[(t("documents.ui.all"), "")] + [(t(f"documents.state.{s}"), s) for s in states],
        value="", description=t("documents.ui.filter_state"), style=_LABEL)
    refresh = w.Button(description=t("documents.ui.refresh"), icon="refresh")
    reminders = w.HTML()
    table = w.HTML()
    columns = [(c["field"], c["label"]) for c in register_columns("incoming")] + [
        ("state_label", t("documents.ui.col_state")), ("due_date", t("documents.ui.col_due")),
        ("deadline_label", t("documents.ui.col_deadline"))]

    def render(*_):
        rows = reg.inbox(org, (choice.value,) if choice.value else None)
        for r in rows:
            r["deadline_label"] = t(f"documents.deadline.{r['deadline_status']}")
        table.value = _table(rows, columns)
        due = [r for r in rows if r["deadline_status"] in ("due_soon", "overdue")]
        reminders.value = "<br>".join(
            html.escape(t("documents.ui.reminder", number=r["arrival_number"] or "",
                          symbol=r["symbol"], status=r["deadline_label"],
                          due=_fmt(r["due_date"]), unit=r["lead_unit"]))
            for r in due)

    # electronic documents waiting on the liên thông axis (Điều 21.2): receive or return
    pending = w.Dropdown(description=t("documents.ui.pending"), style=_LABEL, layout=_WIDE)
    pending_msg = _msg()
    receive_btn = w.Button(description=t("documents.ui.receive"), button_style="primary")
    reason = w.Text(description=t("documents.ui.return_reason"), style=_LABEL, layout=_WIDE)
    reason_msg = _msg()
    return_btn = w.Button(description=t("documents.ui.return"), button_style="warning")
    clerk_actor = Actor(clerk, "van_thu")

    def render_all(*_):
        _set_options(pending, _doc_options(reg, org, ("pending",)))
        render()

    def on_receive(_):
        _show(pending_msg, "")
        if pending.value is None:
            _show(pending_msg, t("documents.ui.choose_doc"))
            return
        try:
            entry = reg.receive(pending.value, clerk_actor)
        except KnsError as exc:
            _show_error(pending_msg, exc)
            return
        _show(pending_msg, t("documents.ui.received", number=entry["arrival_number"]), ok=True)
        render_all()

    def on_return(_):
        _show(pending_msg, "")
        _show(reason_msg, "")
        if pending.value is None:
            _show(pending_msg, t("documents.ui.choose_doc"))
            return
        if not reason.value.strip():
            _show(reason_msg, t("documents.exchange.need_reason"))
            return
        try:
            reg.return_invalid(pending.value, clerk_actor, reason.value)
        except KnsError as exc:
            _show_error(pending_msg, exc)
            return
        _show(pending_msg, t("documents.ui.returned"), ok=True)
        reason.value = ""
        render_all()

    choice.observe(render, names="value")
    refresh.on_click(render_all)
    receive_btn.on_click(on_receive)
    return_btn.on_click(on_return)
    render_all()
    box = w.VBox([w.HTML(f"<h3>{html.escape(t('documents.ui.inbox_title'))}</h3>"),
                  _row(pending, pending_msg), receive_btn, _row(reason, reason_msg), return_btn,
                  w.HBox([choice, refresh]), reminders, table])
    box.parts = {"state": choice, "refresh": refresh, "table": table, "reminders": reminders,
                 "pending": pending, "pending_message": pending_msg, "receive": receive_btn,
                 "reason": reason, "reason_message": reason_msg, "return": return_btn,
                 "render": render_all}
    return box


# -- 2. registration --------------------------------------------------------------------------
def registration_form(registry: Registry | None = None, org: str = "UBND",
                      clerk: str = "Văn thư") -> w.VBox:
    """Đăng ký văn bản đến (Điều 22): fields of the register, checked before saving."""
    reg = _registry(registry)
    rules = ruleset()
    author = w.Text(description=t("documents.ui.author"), style=_LABEL, layout=_WIDE)
    symbol = w.Text(description=t("documents.ui.symbol"), placeholder="4391/KH-UBND",
                    style=_LABEL, layout=_WIDE)
    doc_date = w.DatePicker(description=t("documents.ui.doc_date"), style=_LABEL)
    dtype = w.Dropdown(options=[r.name for r in rules.types], value="Công văn",
                       description=t("documents.ui.type"), style=_LABEL)
    subject = w.Textarea(description=t("documents.ui.subject"), style=_LABEL, layout=_WIDE)
    medium = w.ToggleButtons(options=[(t("documents.ui.paper"), "paper"),
                                      (t("documents.ui.electronic"), "electronic")],
                             value="paper", description=t("documents.ui.medium"), style=_LABEL)
    urgency = w.Dropdown(options=[(m.name, m.key) for m in rules.urgency], value="thuong",
                         description=t("documents.ui.urgency"), style=_LABEL)
    secrecy = w.Dropdown(options=[(t("documents.ui.not_secret"), None)]
                         + [(m.name, m.key) for m in rules.secrecy],
                         value=None, description=t("documents.ui.secrecy"), style=_LABEL)
    upload = w.FileUpload(accept="", multiple=False, description=t("documents.ui.upload"))
    sha = w.Text(description=t("documents.ui.sha256"), style=_LABEL, layout=_WIDE)
    button = w.Button(description=t("documents.ui.register"), button_style="primary")
    msgs = {k: _msg() for k in ("author", "symbol", "doc_date", "subject", "file")}
    result = _msg()

    def on_symbol(change):
        text = change["new"].strip()
        if not text:
            _show(msgs["symbol"], "")
            return
        try:
            _show(msgs["symbol"], parse_symbol(text).as_dict()["explanation"], ok=True)
        except SymbolError as exc:
            _show(msgs["symbol"], " ".join(exc.problems[:2]) if exc.kind == "format"
                  else exc.problems[0], ok=exc.kind != "format")

    symbol.observe(on_symbol, names="value")

    def click(_):
        for m in (*msgs.values(), result):
            _show(m, "")
        ok = True
        if not author.value.strip():
            _show(msgs["author"], t("documents.incoming.need_author"))
            ok = False
        if not subject.value.strip():
            _show(msgs["subject"], t("documents.incoming.need_subject"))
            ok = False
        if doc_date.value is None:
            _show(msgs["doc_date"], t("documents.incoming.need_doc_date"))
            ok = False
        if not symbol.value.strip():
            _show(msgs["symbol"], t("documents.incoming.need_symbol"))
            ok = False
        else:
            try:
                parse_symbol(symbol.value)
            except SymbolError as exc:
                if exc.kind == "format":
                    _show(msgs["symbol"], " ".join(exc.problems))
                    ok = False
        content = None
        if medium.value == "electronic":
            if not upload.value:
                _show(msgs["file"], t("documents.ui.need_file"))
                ok = False
            else:
                content = bytes(upload.value[0]["content"])
        if not ok:
            _show(result, t("documents.ui.fix_fields"))
            return
        try:
            entry = reg.register_incoming(
                org, Actor(clerk, "van_thu"), author=author.value, symbol=symbol.value,
                doc_date=doc_date.value, type_name=dtype.value, subject=subject.value,
                medium=medium.value, urgency=urgency.value, secrecy=secrecy.value,
                content=content, declared_sha256=sha.value.strip() or None,
            )
        except ValidationError as exc:
            target = msgs["file"] if medium.value == "electronic" else result
            _show_error(target, exc)
            if target is not result:
                _show(result, t("documents.ui.fix_fields"))
            return
        except KnsError as exc:
            _show_error(result, exc)
            return
        _show(result, t("documents.cli.registered", number=entry["arrival_number"],
                        year=entry["year"], symbol=entry["symbol"]), ok=True)
        for field in (author, symbol, subject, sha):
            field.value = ""
        upload.value = ()

    button.on_click(click)
    box = w.VBox([
        w.HTML(f"<h3>{html.escape(t('documents.ui.register_title'))}</h3>"),
        _row(author, msgs["author"]), _row(symbol, msgs["symbol"]),
        _row(doc_date, msgs["doc_date"]), dtype, _row(subject, msgs["subject"]),
        medium, urgency, secrecy, _row(w.VBox([upload, sha]), msgs["file"]), button, result,
    ])
    box.parts = {"author": author, "symbol": symbol, "doc_date": doc_date, "type": dtype,
                 "subject": subject, "medium": medium, "urgency": urgency, "secrecy": secrecy,
                 "upload": upload, "sha256": sha, "button": button, "result": result,
                 "messages": msgs}
    return box


# -- 3. routing -----------------------------------------------------------------------------
def _set_options(dropdown: w.Dropdown, options: list[tuple[str, int]]) -> None:
    """Replace the choices, keeping the selection if it is still there, else the first one."""
    keep = dropdown.value
    dropdown.options = options
    values = [v for _, v in options]
    dropdown.value = keep if keep in values else (values[0] if values else None)


def _doc_options(reg, org, states):
    return [(f"{d['arrival_number'] or '—'} · {d['symbol']} · {d['subject'][:50]}", d["id"])
            for d in reg.inbox(org, states)]


def routing_form(registry: Registry | None = None, org: str = "UBND", clerk: str = "Văn thư",
                 leader: str = "Lãnh đạo") -> w.VBox:
    """Trình lãnh đạo (Văn thư) and giao xử lý (Lãnh đạo): lead and co-ordinating units and a
    deadline in working days (Điều 23)."""
    reg = _registry(registry)
    to_submit = w.Dropdown(description=t("documents.ui.to_submit"), style=_LABEL, layout=_WIDE)
    submit_btn = w.Button(description=t("documents.ui.submit"))
    submit_msg = _msg()
    doc = w.Dropdown(description=t("documents.ui.to_assign"), style=_LABEL, layout=_WIDE)
    lead = w.Text(description=t("documents.ui.lead_unit"), style=_LABEL, layout=_WIDE)
    co = w.Text(description=t("documents.ui.co_units"), placeholder=t("documents.ui.co_hint"),
                style=_LABEL, layout=_WIDE)
    days = w.IntText(value=5, description=t("documents.ui.deadline_days"), style=_LABEL)
    instruction = w.Textarea(description=t("documents.ui.instruction"), style=_LABEL,
                             layout=_WIDE)
    assign_btn = w.Button(description=t("documents.ui.assign"), button_style="primary")
    msgs = {k: _msg() for k in ("doc", "lead", "co", "days")}
    result = _msg()

    def reload():
        _set_options(to_submit, _doc_options(reg, org, ("registered",)))
        _set_options(doc, _doc_options(reg, org, ("submitted",)))

    def on_submit(_):
        if to_submit.value is None:
            _show(submit_msg, t("documents.ui.choose_doc"))
            return
        try:
            reg.submit(to_submit.value, Actor(clerk, "van_thu"), leader)
        except KnsError as exc:
            _show_error(submit_msg, exc)
            return
        _show(submit_msg, t("documents.ui.submitted"), ok=True)
        reload()

    def on_assign(_):
        for m in (*msgs.values(), result):
            _show(m, "")
        ok = True
        if doc.value is None:
            _show(msgs["doc"], t("documents.ui.choose_doc"))
            ok = False
        if not lead.value.strip():
            _show(msgs["lead"], t("documents.route.need_lead"))
            ok = False
        units = [u.strip() for u in co.value.split(",") if u.strip()]
        if lead.value.strip() and lead.value.strip() in units:
            _show(msgs["co"], t("documents.route.lead_in_co", unit=lead.value.strip()))
            ok = False
        if days.value is None or days.value < 1:
            _show(msgs["days"], t("documents.route.bad_deadline"))
            ok = False
        if not ok:
            _show(result, t("documents.ui.fix_fields"))
            return
        try:
            entry = reg.assign(doc.value, Actor(leader, "lanh_dao"), lead_unit=lead.value,
                               co_units=units, deadline_days=days.value,
                               instruction=instruction.value)
        except KnsError as exc:
            _show_error(result, exc)
            return
        _show(result, t("documents.ui.assigned", unit=entry["lead_unit"],
                        due=_fmt(entry["due_date"])), ok=True)
        lead.value = co.value = instruction.value = ""
        reload()

    submit_btn.on_click(on_submit)
    assign_btn.on_click(on_assign)
    reload()
    box = w.VBox([
        w.HTML(f"<h3>{html.escape(t('documents.ui.routing_title'))}</h3>"),
        w.HBox([to_submit, submit_btn, submit_msg]),
        _row(doc, msgs["doc"]), _row(lead, msgs["lead"]), _row(co, msgs["co"]),
        _row(days, msgs["days"]), instruction, assign_btn, result,
    ])
    box.parts = {"to_submit": to_submit, "submit": submit_btn, "submit_message": submit_msg,
                 "doc": doc, "lead": lead, "co": co, "days": days, "instruction": instruction,
                 "assign": assign_btn, "result": result, "messages": msgs, "reload": reload}
    return box


# -- 4. outgoing numbering ---------------------------------------------------------------------
def outgoing_form(registry: Registry | None = None, org: str = "UBND", clerk: str = "Văn thư",
                  drafter: str = "Chuyên viên", leader: str = "Lãnh đạo") -> w.VBox:
    """Văn bản đi from draft to archive: the specialist drafts (Điều 10), the leader approves
    and signs (Điều 11, 13; simulated by buttons), Văn thư numbers, registers, issues and
    files it (Điều 15–19)."""
    reg = _registry(registry)
    rules = ruleset()
    # drafting
    dtype = w.Dropdown(options=[(r.name, r.key) for r in rules.types], value="cong_van",
                       description=t("documents.ui.type"), style=_LABEL)
    unit = w.Text(value="VP", description=t("documents.ui.drafting_unit"), style=_LABEL)
    subject = w.Text(description=t("documents.ui.subject"), style=_LABEL, layout=_WIDE)
    recipients = w.Text(description=t("documents.ui.recipients"),
                        placeholder=t("documents.ui.co_hint"), style=_LABEL, layout=_WIDE)
    others = [(o["name"], o["code"]) for o in reg.organisations() if o["code"] != org]
    to_orgs = w.SelectMultiple(options=others, description=t("documents.ui.to_orgs"),
                               style=_LABEL, layout=_WIDE)
    electronic = w.Checkbox(value=True, description=t("documents.ui.electronic"))
    draft_btn = w.Button(description=t("documents.ui.save_draft"), button_style="info")
    msgs = {k: _msg() for k in ("unit", "subject", "draft")}
    # steps
    doc = w.Dropdown(description=t("documents.ui.outgoing_doc"), style=_LABEL, layout=_WIDE)
    doc_msg = _msg()
    approve_btn = w.Button(description=t("documents.ui.approve"))
    sign_btn = w.Button(description=t("documents.ui.sign"))
    number_btn = w.Button(description=t("documents.ui.number"), button_style="primary")
    register_btn = w.Button(description=t("documents.ui.register_out"))
    issue_btn = w.Button(description=t("documents.ui.issue"))
    archive_btn = w.Button(description=t("documents.ui.archive"))
    result = _msg()
    book = w.HTML()
    deliveries = w.HTML()
    van_thu, lanh_dao = Actor(clerk, "van_thu"), Actor(leader, "lanh_dao")

    busy = []  # re-entrancy guard: changing the options fires the dropdown's observer

    def reload():
        if busy:
            return
        busy.append(True)
        try:
            rows = [d for d in reg.outbox(org) if d["state"] != "archived"]
            _set_options(doc, [(f"{d['state_label']} · {d['symbol'] or '—'} · "
                                f"{d['subject'][:50]}", d["id"]) for d in rows])
        finally:
            busy.clear()
        cols = [(c["field"], c["label"]) for c in register_columns("outgoing")]
        book.value = _table(reg.outgoing_register(org, reg.clock().year), cols)
        shown = reg.deliveries(doc.value) if doc.value is not None else []
        deliveries.value = _table(shown, [("name", t("documents.ui.col_recipient")),
                                          ("status_label", t("documents.ui.col_state"))]) \
            if shown else ""

    def on_draft(_):
        for m in msgs.values():
            _show(m, "")
        ok = True
        code = unit.value.strip()
        if not code or code != code.upper() or " " in code:
            _show(msgs["unit"], t("documents.outgoing.bad_unit", unit=code))
            ok = False
        if not subject.value.strip():
            _show(msgs["subject"], t("documents.outgoing.need_subject"))
            ok = False
        if not ok:
            _show(msgs["draft"], t("documents.ui.fix_fields"))
            return
        names = [x.strip() for x in recipients.value.split(",") if x.strip()]
        try:
            entry = reg.draft_outgoing(
                org, Actor(drafter, "chuyen_vien"), type_key=dtype.value, drafting_unit=code,
                subject=subject.value, recipients=names, recipient_orgs=list(to_orgs.value),
                electronic=electronic.value,
                content=subject.value.encode("utf-8") if electronic.value else None,
            )
        except KnsError as exc:
            _show_error(msgs["draft"], exc)
            return
        _show(msgs["draft"], t("documents.ui.draft_saved"), ok=True)
        subject.value = recipients.value = ""
        reload()
        doc.value = entry["id"]

    def step(action, actor):
        def handler(_):
            _show(doc_msg, "")
            _show(result, "")
            if doc.value is None:
                _show(doc_msg, t("documents.ui.choose_doc"))
                return
            chosen = doc.value
            try:
                entry = action(chosen, actor)
            except KnsError as exc:
                _show_error(doc_msg, exc)
                return
            _show(result, t("documents.ui.outgoing_done", symbol=entry["symbol"] or "",
                            state=entry["state_label"]), ok=True)
            reload()
            if chosen in [v for _, v in doc.options]:
                doc.value = chosen
        return handler

    draft_btn.on_click(on_draft)
    approve_btn.on_click(step(reg.approve, lanh_dao))
    sign_btn.on_click(step(reg.sign, lanh_dao))
    number_btn.on_click(step(reg.number, van_thu))
    register_btn.on_click(step(reg.register_outgoing, van_thu))
    issue_btn.on_click(step(reg.issue, van_thu))
    archive_btn.on_click(step(reg.archive, van_thu))
    doc.observe(lambda _: reload(), names="value")
    reload()
    box = w.VBox([
        w.HTML(f"<h3>{html.escape(t('documents.ui.outgoing_title'))}</h3>"),
        w.HTML(f"<b>{html.escape(t('documents.ui.draft_title'))}</b>"),
        dtype, _row(unit, msgs["unit"]), _row(subject, msgs["subject"]), recipients, to_orgs,
        electronic, draft_btn, msgs["draft"],
        w.HTML(f"<b>{html.escape(t('documents.ui.steps_title'))}</b>"),
        _row(doc, doc_msg), w.HBox([approve_btn, sign_btn]),
        w.HBox([number_btn, register_btn, issue_btn, archive_btn]), result, deliveries, book,
    ])
    box.parts = {"type": dtype, "unit": unit, "subject": subject, "recipients": recipients,
                 "to_orgs": to_orgs, "electronic": electronic, "draft": draft_btn,
                 "messages": msgs, "doc": doc, "message": doc_msg, "approve": approve_btn,
                 "sign": sign_btn, "number": number_btn, "register": register_btn,
                 "issue": issue_btn, "archive": archive_btn, "result": result, "book": book,
                 "deliveries": deliveries, "reload": reload}
    return box


# -- 5. docx upload and check --------------------------------------------------------------------
def docx_check_panel(expected_symbol: str = "") -> w.VBox:
    """Tải lên dự thảo .docx and see each layout finding with its rule."""
    upload = w.FileUpload(accept=".docx", multiple=False, description=t("documents.ui.upload_docx"))
    upload_msg = _msg()
    symbol = w.Text(value=expected_symbol, description=t("documents.ui.register_symbol"),
                    placeholder="4391/KH-UBND", style=_LABEL, layout=_WIDE)
    symbol_msg = _msg()
    button = w.Button(description=t("documents.ui.check"), button_style="primary")
    result = w.HTML()

    def click(_):
        _show(upload_msg, "")
        _show(symbol_msg, "")
        result.value = ""
        if not upload.value:
            _show(upload_msg, t("documents.ui.need_docx"))
            return
        expected = symbol.value.strip() or None
        if expected:
            try:
                expected = parse_symbol(expected).text
            except SymbolError as exc:
                _show(symbol_msg, " ".join(exc.problems))
                return
        item = upload.value[0]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(item["name"]).name
            path.write_bytes(bytes(item["content"]))
            try:
                findings = check_docx(path, expected_symbol=expected)
            except KnsError as exc:
                _show_error(upload_msg, exc)
                return
        if not findings:
            result.value = (f'<p style="color:#1b5e20">{html.escape(t("documents.docx.passed"))}'
                            "</p>")
            return
        items = "".join(f"<li>{html.escape(f.message)}</li>" for f in findings)
        result.value = (f'<p style="color:#b71c1c">'
                        f'{html.escape(t("documents.docx.summary", n=len(findings)))}</p>'
                        f"<ol>{items}</ol>")

    button.on_click(click)
    box = w.VBox([
        w.HTML(f"<h3>{html.escape(t('documents.ui.docx_title'))}</h3>"),
        _row(upload, upload_msg), _row(symbol, symbol_msg), button, result,
    ])
    box.parts = {"upload": upload, "upload_message": upload_msg, "symbol": symbol,
                 "symbol_message": symbol_msg, "button": button, "result": result}
    return box
