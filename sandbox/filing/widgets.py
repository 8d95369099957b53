"""The two front ends of the filing sandbox, as ipywidgets (one call builds each).

- `citizen_portal(db)`: find a procedure, fill in the form, upload files, submit, pay, follow.
- `officer_desk(db)`: the queue with colours by urgency, the completeness checklist, the action
  buttons that issue the right form, hand-over, and printing of BM.01–BM.06.

No rule lives here: every action calls FilingDesk, and its Vietnamese error is shown next to the
button. The simulation clock is a field ("Thời điểm thao tác") because scenarios are dated.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import ipywidgets as w

from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import t
from kynangso.workdays import fmt_moment
from sandbox.filing import workflow
from sandbox.filing.desk import FilingDesk, Upload
from sandbox.filing.forms import NEW_SET_FROM, available_forms, render_form, render_register

OK, ERR = "ok", "err"
COLOURS = {"qua_han": "#c62828", "sap_het_han": "#ef6c00", "con_han": "#2e7d32", "": "#555"}


def _l(key: str, **params) -> str:
    return t(f"filing.ui.{key}", **params)


def _show(out: w.HTML, text: str, kind: str = OK, problems: list[str] | None = None) -> None:
    colour = "#2e7d32" if kind == OK else "#c62828"
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems or [])
    out.value = (f'<div style="color:{colour}">{html.escape(text)}'
                 f'{"<ul>" + items + "</ul>" if items else ""}</div>')


def _run(out: w.HTML, fn, success: str | None = None):
    """Call `fn`; show its success message or the Vietnamese error next to the control."""
    try:
        result = fn()
    except ValidationError as exc:
        _show(out, exc.user_message, ERR, exc.problems)
        return None
    except KnsError as exc:
        _show(out, exc.user_message, ERR)
        return None
    if success is not None:
        _show(out, success.format(result=result))
    return result


def _clock(value: datetime | None) -> w.Text:
    return w.Text(value=(value or datetime.now()).strftime("%Y-%m-%d %H:%M"),
                  description=_l("clock"), style={"description_width": "initial"})


def _parse_clock(field: w.Text) -> datetime:
    from sandbox.filing.cli import parse_datetime

    return parse_datetime(field.value)


def _parse_clock_or_none(field: w.Text) -> datetime | None:
    try:
        return _parse_clock(field)
    except KnsError:
        return None


def urgency(desk: FilingDesk, due_at: datetime | None, now: datetime) -> str:
    """qua_han / sap_het_han (due within one working day) / con_han, for the colour."""
    if due_at is None:
        return ""
    if now > due_at:
        return "qua_han"
    if desk.calendar.working_days_between(now.date(), due_at.date()) <= 1:
        return "sap_het_han"
    return "con_han"


class CitizenPortal(w.VBox):
    """Cổng dịch vụ công (mô phỏng): the citizen's side."""

    def __init__(self, desk: FilingDesk, now: datetime | None = None):
        self.desk = desk
        self.clock = _clock(now)
        self.search = w.Text(description=_l("search"), placeholder=_l("search_hint"))
        self.search_button = w.Button(description=_l("search_button"), icon="search")
        self.procedure = w.Dropdown(description=_l("procedure"), options=[],
                                    style={"description_width": "initial"},
                                    layout=w.Layout(width="100%"))
        self.info = w.HTML()
        self.uploads: dict[str, w.FileUpload] = {}
        self.upload_box = w.VBox()
        self.name = w.Text(description=_l("name"))
        self.id_number = w.Text(description=_l("id_number"))
        self.address = w.Text(description=_l("address"))
        self.phone = w.Text(description=_l("phone"))
        self.email = w.Text(description=_l("email"))
        self.submit_button = w.Button(description=_l("submit"), button_style="primary")
        self.submit_msg = w.HTML()
        self.dossier_id = w.IntText(description=_l("dossier_id"))
        self.pay_button = w.Button(description=_l("pay"), icon="credit-card")
        self.pay_msg = w.HTML()
        self.lookup = w.Text(description=_l("lookup"), placeholder=_l("lookup_hint"))
        self.lookup_button = w.Button(description=_l("lookup_button"))
        self.status = w.HTML()
        self.search_button.on_click(lambda _: self._search())
        self.procedure.observe(lambda _: self._describe(), names="value")
        self.submit_button.on_click(lambda _: self._submit())
        self.pay_button.on_click(lambda _: self._pay())
        self.lookup_button.on_click(lambda _: self._lookup())
        self._search()
        super().__init__([
            w.HTML(f"<h3>{_l('portal_title')}</h3>"), self.clock,
            w.HBox([self.search, self.search_button]), self.procedure, self.info,
            self.upload_box, self.name, self.id_number, self.address, self.phone, self.email,
            self.submit_button, self.submit_msg,
            w.HTML(f"<h4>{_l('pay_title')}</h4>"), w.HBox([self.dossier_id, self.pay_button]),
            self.pay_msg,
            w.HTML(f"<h4>{_l('status_title')}</h4>"), w.HBox([self.lookup, self.lookup_button]),
            self.status,
        ])

    def _search(self) -> None:
        found = self.desk.catalogue.search(self.search.value)
        self.procedure.options = [(f"{p.code} — {p.name}", p.code) for p in found]
        if not found:
            _show(self.info, _l("nothing_found", text=self.search.value), ERR)
        self._describe()

    def _describe(self) -> None:
        if not self.procedure.value:
            self.upload_box.children = ()
            return
        p = self.desk.catalogue.get(self.procedure.value)
        # Scenarios dated before NĐ 118/2025 show the old levels (mức 1–4, NĐ 43/2011).
        now = _parse_clock_or_none(self.clock)
        level = (t("filing.ui.legacy_level", n=p.legacy_level)
                 if now is not None and now.date() < NEW_SET_FROM
                 else t(f"filing.service_level.{p.service_level}"))
        self.info.value = _l("procedure_info", days=p.days, fee=f"{int(p.fee):,}".replace(",", "."),
                             unit=html.escape(p.fee_unit), body=html.escape(p.resolving_body),
                             level=level)
        self.uploads = {}
        rows = []
        for d in p.documents:
            up = w.FileUpload(accept=".pdf,.jpg,.png,.docx", multiple=False,
                              description=_l("upload"))
            self.uploads[d.key] = up
            mark = _l("required") if d.required else _l("optional")
            rows.append(w.HBox([w.HTML(f"{html.escape(d.name)} ({d.form_label}, "
                                       f"{d.quantity} {_l('copies')}) — {mark}"), up]))
        self.upload_box.children = tuple(rows)

    def _submit(self) -> None:
        def go():
            docs = {}
            for key, up in self.uploads.items():
                files = [Upload(f["name"], bytes(f["content"])) for f in up.value]
                if files:
                    docs[key] = files
            if not self.procedure.value:
                raise KnsError("filing.ui.no_procedure")
            return self.desk.submit(
                self.procedure.value,
                {"name": self.name.value, "id_number": self.id_number.value,
                 "address": self.address.value, "phone": self.phone.value,
                 "email": self.email.value},
                channel="truc_tuyen", documents=docs, at=_parse_clock(self.clock))

        i = _run(self.submit_msg, go, _l("submitted"))
        if i is not None:
            self.dossier_id.value = i

    def _pay(self) -> None:
        def go():
            at = _parse_clock(self.clock)
            ref = self.desk.start_payment(self.dossier_id.value, at)
            amount = self.desk.get(self.dossier_id.value).payments[-1].amount_due
            # The bank's confirmation is simulated at once (the sandbox has no bank).
            receipt = self.desk.confirm_payment(ref, amount, at, f"SIM-{ref}")
            return _l("paid", ref=ref, receipt=receipt, amount=f"{int(amount):,}".replace(",", "."))

        _run(self.pay_msg, go, "{result}")

    def _lookup(self) -> None:
        def go():
            text = self.lookup.value.strip()
            v = self.desk.get(int(text)) if text.isdigit() else self.desk.find(text)
            due = fmt_moment(v.due_at) if v.due_at else "—"
            return _l("status_line", code=v.code or _l("no_code"), state=v.state_label, due=due)

        _run(self.status, go, "{result}")


class OfficerDesk(w.VBox):
    """Bộ phận Một cửa (mô phỏng): the officer's side."""

    def __init__(self, desk: FilingDesk, now: datetime | None = None, officer: str = "",
                 forms_dir: str | Path | None = None):
        self.desk = desk
        self.forms_dir = Path(forms_dir or Path.home() / "KyNangSo" / "bieu-mau")
        self.clock = _clock(now)
        self.officer = w.Text(value=officer, description=_l("officer"))
        self.queue_table = w.HTML()
        self.refresh_button = w.Button(description=_l("refresh"), icon="refresh")
        self.pick = w.Dropdown(description=_l("dossier"), options=[],
                               layout=w.Layout(width="100%"))
        self.detail = w.HTML()
        self.checklist = w.VBox()
        self.check_button = w.Button(description=_l("check"))
        self.check_msg = w.HTML()
        self.reason = w.Textarea(description=_l("reason"), placeholder=_l("reason_hint"))
        self.to_unit = w.Text(description=_l("to_unit"))
        self.receiver = w.Text(description=_l("receiver"))
        self.new_date = w.DatePicker(description=_l("new_date"))
        self.method = w.Dropdown(description=_l("method"), options=[
            (t(f"filing.return.{m}"), m) for m in workflow.RETURN_METHODS])
        self.buttons = {name: w.Button(description=_l(f"do.{name}"))
                        for name in ("receive", "request_supplement", "refuse", "hand_over",
                                     "request_supplement_processing", "supplement_received",
                                     "apologise", "result_ready", "return_result", "stop",
                                     "pay_at_desk")}
        self.action_msg = w.HTML()
        self.form_pick = w.Dropdown(description=_l("form"), options=[])
        self.print_button = w.Button(description=_l("print"), icon="print")
        self.print_msg = w.HTML()
        self.refresh_button.on_click(lambda _: self.refresh())
        self.pick.observe(lambda _: self._select(), names="value")
        self.check_button.on_click(lambda _: self._check())
        for name, b in self.buttons.items():
            b.on_click(lambda _, n=name: self._act(n))
        self.print_button.on_click(lambda _: self._print())
        self.refresh()
        super().__init__([
            w.HTML(f"<h3>{_l('desk_title')}</h3>"), w.HBox([self.clock, self.officer]),
            w.HBox([self.refresh_button]), self.queue_table, self.pick, self.detail,
            w.HTML(f"<b>{_l('checklist')}</b>"), self.checklist, self.check_button,
            self.check_msg, self.reason, w.HBox([self.to_unit, self.receiver]),
            self.new_date, self.method,
            w.HBox(list(self.buttons.values())[:4]), w.HBox(list(self.buttons.values())[4:8]),
            w.HBox(list(self.buttons.values())[8:]), self.action_msg,
            w.HBox([self.form_pick, self.print_button]), self.print_msg,
        ])

    # -- queue -------------------------------------------------------------------------------
    def refresh(self) -> None:
        now = self._now_or_none() or datetime.now()
        views = self.desk.queue()
        rows = []
        for v in views:
            u = urgency(self.desk, v.due_at, now)
            due = fmt_moment(v.due_at) if v.due_at else "—"
            rows.append(
                f'<tr style="color:{COLOURS[u]}"><td>{v.id}</td><td>{v.code or ""}</td>'
                f"<td>{html.escape(v.applicant_name)}</td><td>{html.escape(v.procedure.name)}"
                f"</td><td>{v.state_label}</td><td>{due}</td>"
                f"<td>{_l('urgency.' + u) if u else ''}</td></tr>")
        head = "".join(f"<th>{_l('col.' + c)}</th>" for c in
                       ("id", "code", "name", "procedure", "state", "due", "urgency"))
        self.queue_table.value = (f"<table><tr>{head}</tr>{''.join(rows)}</table>" if rows
                                  else _l("queue_empty"))
        current = self.pick.value
        self.pick.options = [(f"{v.id} — {v.applicant_name} — {v.procedure.name}", v.id)
                             for v in views]
        if current in [v.id for v in views]:
            self.pick.value = current
        self._select()

    def _now_or_none(self) -> datetime | None:
        return _parse_clock_or_none(self.clock)

    def _select(self) -> None:
        if self.pick.value is None:
            self.detail.value, self.checklist.children = "", ()
            self.form_pick.options = []
            return
        v = self.desk.get(self.pick.value)
        provided = {d.key for d in v.documents}
        self.checklist.children = tuple(
            w.Checkbox(value=False, description=f"{d.name} ({d.quantity} {_l('copies')})"
                       + ("" if d.key in provided else f" — {_l('not_provided')}"),
                       layout=w.Layout(width="100%"), indent=False)
            for d in v.procedure.documents if d.required)
        allowed = ", ".join(t(f"filing.action.{a}") for a in
                            workflow.allowed_actions(v.state, v.done_actions))
        self.detail.value = _l("detail", state=v.state_label,
                               request=html.escape(v.request_text),
                               allowed=html.escape(allowed or "—"))
        self.form_pick.options = [(t(f"filing.form.{f}.title_new"), f)
                                  for f in available_forms(v)] + [
            (t("filing.form.bm06.title_new"), "bm06")]

    def _check(self) -> None:
        if self.pick.value is None:
            _show(self.check_msg, _l("pick_first"), ERR)
            return
        missing = self.desk.missing(self.pick.value)
        unticked = [c.description for c in self.checklist.children if not c.value]
        if missing:
            _show(self.check_msg, _l("incomplete"), ERR, missing)
        elif unticked:
            _show(self.check_msg, _l("tick_all"), ERR, unticked)
        else:
            _show(self.check_msg, _l("complete"))

    # -- actions -----------------------------------------------------------------------------
    def _act(self, name: str) -> None:
        if self.pick.value is None:
            _show(self.action_msg, _l("pick_first"), ERR)
            return
        i, d = self.pick.value, self.desk

        def go():
            at, who = _parse_clock(self.clock), self.officer.value.strip()
            if not who:
                raise KnsError("filing.required_text", field=_l("officer"))
            reason = self.reason.value
            if name == "receive":
                return _l("done.receive", code=d.receive(i, at, who))
            if name == "request_supplement":
                d.request_supplement(i, [], reason, at, who)
            elif name == "refuse":
                d.refuse(i, reason, at, who)
            elif name == "hand_over":
                rating = d.hand_over(i, self.to_unit.value, at, who, self.receiver.value)
                return _l("done.hand_over", rating=t(f"filing.rating.{rating}"))
            elif name == "request_supplement_processing":
                items = [x.strip() for x in reason.splitlines()[1:] if x.strip()] or \
                    [reason.strip()]
                d.request_supplement_processing(i, items, reason.splitlines()[0] if reason
                                                else "", at, who)
            elif name == "supplement_received":
                d.supplement_received(i, at, who)
            elif name == "apologise":
                if self.new_date.value is None:
                    raise KnsError("filing.required_text", field=_l("new_date"))
                d.apologise(i, self.new_date.value, reason, at, who)
            elif name == "result_ready":
                d.result_ready(i, at, who)
            elif name == "return_result":
                rating = d.return_result(i, self.method.value, at, who)
                return _l("done.return_result", rating=t(f"filing.rating.{rating}"))
            elif name == "stop":
                d.stop(i, reason, at, who)
            elif name == "pay_at_desk":
                return _l("done.pay_at_desk", receipt=d.pay_at_desk(i, at, who))
            return _l("done.generic", state=d.get(i).state_label)

        if _run(self.action_msg, go, "{result}") is not None:
            self.refresh()

    def _print(self) -> None:
        def go():
            form = self.form_pick.value
            if form is None:
                raise KnsError("filing.ui.no_form")
            if form == "bm06":
                path = render_register(self.desk.all_dossiers(), self.forms_dir / "so-theo-doi.docx",
                                       period=self.clock.value[:7], unit=self.desk.unit)
            else:
                v = self.desk.get(self.pick.value)
                name = f"{form}-{(v.code or str(v.id)).replace('.', '_')}.docx"
                path = render_form(form, v, self.forms_dir / name, unit=self.desk.unit)
            return _l("printed", path=str(path))

        _run(self.print_msg, go, "{result}")


def citizen_portal(db_path: str | Path | None = None, now: datetime | None = None
                   ) -> CitizenPortal:
    """The citizen portal for the practice database `db_path` (default ~/.kynangso/filing.sqlite)."""
    return CitizenPortal(FilingDesk(db_path), now)


def officer_desk(db_path: str | Path | None = None, now: datetime | None = None,
                 officer: str = "", forms_dir: str | Path | None = None) -> OfficerDesk:
    """The officer desk for the practice database `db_path`."""
    return OfficerDesk(FilingDesk(db_path), now, officer, forms_dir)
