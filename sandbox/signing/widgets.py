"""Widgets for learners: my certificate, sign a document, verify a document.

Each is built by one call (`my_certificate()`, `sign_document()`, `verify_document()`) and needs
no code editing; every action is checked and its message shown next to the button. Issuing and
renewing need the CA's key. On the hub ($KNS_SIGNING_URL set) the widgets go through the
`signing` service (sandbox.signing.client): the learner asks for their own personal certificate,
the subject comes from the staff directory and the key lands in their home. Elsewhere (a learner
outside the hub, the tests) they use the PKI folder directly, as an operator would.
"""

from __future__ import annotations

import datetime as dt
import getpass
import html
from pathlib import Path

import ipywidgets as widgets

from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import t
from sandbox.signing import client, sign
from sandbox.signing.pki import Subject, TrainingPKI
from sandbox.signing.verify import verify_pdf

_WIDE = widgets.Layout(width="460px")
_STYLE = {"description_width": "170px"}
_OK, _BAD = "#1b7f3b", "#b3261e"


def _say(target: widgets.HTML, text: str, ok: bool) -> None:
    colour = _OK if ok else _BAD
    target.value = (
        f'<span style="color:{colour}">{html.escape(text).replace(chr(10), "<br>")}</span>'
    )


def _error_text(exc: KnsError) -> str:
    if isinstance(exc, ValidationError) and exc.problems:
        return exc.user_message + "\n" + "\n".join(f"- {p}" for p in exc.problems)
    return exc.user_message


def _text(key: str, **kw) -> widgets.Text:
    return widgets.Text(description=t(f"signing.w_{key}"), layout=_WIDE, style=_STYLE, **kw)


def _password(key: str) -> widgets.Password:
    return widgets.Password(description=t(f"signing.w_{key}"), layout=_WIDE, style=_STYLE)


def _uploaded(upload: widgets.FileUpload) -> tuple[str, bytes] | None:
    if not upload.value:
        return None
    item = upload.value[0]
    return item["name"], bytes(item["content"])


STATUS_LABEL = {
    "valid": "w_status_valid",
    "expired": "w_status_expired",
    "revoked": "w_status_revoked",
    "not_yet_valid": "w_status_not_yet_valid",
}


class MyCertificate(widgets.VBox):
    """'Chứng thư số của tôi': the table of my certificates, a request form, renewal.

    With a `desk` (on the hub: the module sandbox.signing.client; anything with
    `request(passphrase)` and `renew(passphrase)` returning the certificate's details)
    the form asks only for a passphrase: the front desk fills the subject, title included, from
    the staff directory and renews the current certificate.
    """

    def __init__(
        self, pki: TrainingPKI, account: str, owner_uid: int | None = None, desk=None
    ):
        self.pki, self.account, self.owner_uid, self.desk = pki, account, owner_uid, desk
        self.table = widgets.HTML()
        self.name, self.title = _text("name"), _text("title")
        self.organisation, self.unit = _text("organisation"), _text("unit")
        self.province = _text("province")
        self.kind = widgets.Dropdown(
            options=[
                (t("signing.kind_personal"), "personal"),
                (t("signing.kind_organisation"), "organisation"),
            ],
            description=t("signing.w_kind"),
            layout=_WIDE,
            style=_STYLE,
        )
        self.passphrase, self.passphrase2 = _password("passphrase"), _password("passphrase2")
        self.request_button = widgets.Button(
            description=t("signing.w_request"),
            button_style="primary",
            layout=widgets.Layout(width="260px"),
        )
        self.request_message = widgets.HTML()
        self.renew_choice = widgets.Dropdown(
            description=t("signing.w_renew_which"), layout=_WIDE, style=_STYLE
        )
        self.renew_passphrase = _password("passphrase")
        self.renew_passphrase2 = _password("passphrase2")
        self.renew_button = widgets.Button(
            description=t("signing.w_renew"), layout=widgets.Layout(width="260px")
        )
        self.renew_message = widgets.HTML()
        self.request_button.on_click(lambda _b: self.request())
        self.renew_button.on_click(lambda _b: self.renew())
        self.note = widgets.HTML()
        if desk is not None:
            # the front desk decides the subject and which certificate is renewed
            for field in (self.kind, self.name, self.title, self.organisation, self.unit,
                          self.province):
                field.layout = widgets.Layout(display="none")
            self.renew_choice.layout = widgets.Layout(display="none")
            self.note.value = f"<i>{html.escape(t('signing.w_service_note'))}</i>"
        super().__init__(
            [
                widgets.HTML(f"<h3>{html.escape(t('signing.w_my_title'))}</h3>"),
                self.table,
                widgets.HTML(f"<h4>{html.escape(t('signing.w_request_title'))}</h4>"),
                self.note,
                self.kind,
                self.name,
                self.title,
                self.organisation,
                self.unit,
                self.province,
                self.passphrase,
                self.passphrase2,
                widgets.HBox([self.request_button, self.request_message]),
                widgets.HTML(f"<h4>{html.escape(t('signing.w_renew_title'))}</h4>"),
                self.renew_choice,
                self.renew_passphrase,
                self.renew_passphrase2,
                widgets.HBox([self.renew_button, self.renew_message]),
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        try:
            certs = self.pki.own_certificates(self.account)
        except KnsError as exc:
            _say(self.table, exc.user_message, False)
            return
        now = self.pki.clock()
        head = "".join(
            f"<th style='padding:2px 8px'>{html.escape(t(f'signing.w_col_{c}'))}</th>"
            for c in ("serial", "kind", "name", "title", "org", "from", "to", "status")
        )
        rows = []
        for c in certs:
            status = c.status_at(now)
            colour = _OK if status == "valid" else _BAD
            cells = [
                c.serial[:16],
                t(f"signing.kind_{c.kind}"),
                c.common_name,
                c.title or "—",
                c.organisation,
                sign.vn_time(c.not_before)[:10],
                sign.vn_time(c.not_after)[:10],
            ]
            tds = "".join(f"<td style='padding:2px 8px'>{html.escape(v)}</td>" for v in cells)
            tds += (
                f"<td style='padding:2px 8px;color:{colour}'>"
                f"{html.escape(t('signing.' + STATUS_LABEL[status]))}</td>"
            )
            rows.append(f"<tr>{tds}</tr>")
        body = "".join(rows) or (
            f"<tr><td colspan=8>{html.escape(t('signing.w_no_cert'))}</td></tr>"
        )
        self.table.value = f"<table><tr>{head}</tr>{body}</table>"
        options = [
            (f"{c.serial[:16]} — {c.common_name}", c.serial)
            for c in certs
            if c.status_at(now) != "revoked"
        ]
        self.renew_choice.options = options
        self.renew_choice.value = options[-1][1] if options else None  # the newest

    def request(self) -> None:
        if self.passphrase.value != self.passphrase2.value:
            _say(self.request_message, t("signing.w_passphrase_mismatch"), False)
            return
        if self.desk is not None:
            self._through_desk(
                self.request_message,
                lambda: self.desk.request(self.passphrase.value),
                (self.passphrase, self.passphrase2),
            )
            return
        subject = Subject(
            self.name.value.strip(),
            self.organisation.value.strip(),
            self.province.value.strip(),
            self.title.value.strip() or None,
            self.unit.value.strip() or None,
        )
        try:
            info = self.pki.issue(
                subject,
                self.passphrase.value,
                account=self.account,
                kind=self.kind.value,
                owner_uid=self.owner_uid,
            )
        except KnsError as exc:
            _say(self.request_message, _error_text(exc), False)
            return
        self.passphrase.value = self.passphrase2.value = ""
        _say(
            self.request_message,
            t("signing.w_issued", serial=info.serial[:16], until=sign.vn_time(info.not_after)[:10]),
            True,
        )
        self.refresh()

    def renew(self) -> None:
        if self.desk is not None:
            if self.renew_passphrase.value != self.renew_passphrase2.value:
                _say(self.renew_message, t("signing.w_passphrase_mismatch"), False)
                return
            self._through_desk(
                self.renew_message,
                lambda: self.desk.renew(self.renew_passphrase.value),
                (self.renew_passphrase, self.renew_passphrase2),
            )
            return
        if not self.renew_choice.value:
            _say(self.renew_message, t("signing.w_renew_none"), False)
            return
        if self.renew_passphrase.value != self.renew_passphrase2.value:
            _say(self.renew_message, t("signing.w_passphrase_mismatch"), False)
            return
        try:
            info = self.pki.renew(
                self.renew_choice.value, self.renew_passphrase.value, owner_uid=self.owner_uid
            )
        except KnsError as exc:
            _say(self.renew_message, _error_text(exc), False)
            return
        self.renew_passphrase.value = self.renew_passphrase2.value = ""
        _say(
            self.renew_message,
            t("signing.w_issued", serial=info.serial[:16], until=sign.vn_time(info.not_after)[:10]),
            True,
        )
        self.refresh()

    def _through_desk(self, message: widgets.HTML, action, passphrases) -> None:
        """Run a front-desk request; show its answer (the refusal as the desk worded it)."""
        try:
            info = action()
        except KnsError as exc:
            _say(message, _error_text(exc), False)
            return
        finally:
            for field in passphrases:  # never left on screen
                field.value = ""
        until = sign.vn_time(dt.datetime.fromisoformat(info["not_after"]))[:10]
        _say(message, t("signing.w_issued", serial=info["serial"][:16], until=until), True)
        self.refresh()


class SignDocument(widgets.VBox):
    """'Ký số văn bản': choose a PDF, a certificate, how to sign and where; enter the passphrase."""

    def __init__(self, pki: TrainingPKI, account: str, out_dir: Path):
        self.pki, self.account, self.out_dir = pki, account, Path(out_dir)
        self.result: bytes | None = None
        self.upload = widgets.FileUpload(
            accept=".pdf",
            multiple=False,
            description=t("signing.w_choose_pdf"),
            layout=widgets.Layout(width="260px"),
        )
        self.certificate = widgets.Dropdown(
            description=t("signing.w_certificate"), layout=_WIDE, style=_STYLE
        )
        self.mode = widgets.Dropdown(
            options=[
                (t(f"signing.w_mode_{m}"), m)
                for m in ("personal", "organisation", "copy", "attachment")
            ],
            description=t("signing.w_mode"),
            layout=_WIDE,
            style=_STYLE,
        )
        self.doc_number = _text("doc_number", placeholder="Số: 12/QĐ-UBND")
        self.placement = widgets.Dropdown(
            options=[(t("signing.w_place_auto"), "auto"), (t("signing.w_place_manual"), "manual")],
            description=t("signing.w_place"),
            layout=_WIDE,
            style=_STYLE,
        )
        self.page = widgets.BoundedIntText(
            value=1, min=1, max=999, description=t("signing.w_page"), style=_STYLE
        )
        self.x_mm = widgets.BoundedFloatText(
            value=110, min=0, max=400, description=t("signing.w_x_mm"), style=_STYLE
        )
        self.y_mm = widgets.BoundedFloatText(
            value=60, min=0, max=400, description=t("signing.w_y_mm"), style=_STYLE
        )
        self.passphrase = _password("passphrase")
        self.button = widgets.Button(
            description=t("signing.w_sign"),
            button_style="primary",
            layout=widgets.Layout(width="260px"),
        )
        self.message = widgets.HTML()
        self.button.on_click(lambda _b: self.sign())
        super().__init__(
            [
                widgets.HTML(f"<h3>{html.escape(t('signing.w_sign_title'))}</h3>"),
                self.upload,
                self.certificate,
                self.mode,
                self.doc_number,
                self.placement,
                self.page,
                self.x_mm,
                self.y_mm,
                self.passphrase,
                widgets.HBox([self.button, self.message]),
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        try:
            certs = self.pki.own_certificates(self.account)
        except KnsError as exc:
            _say(self.message, exc.user_message, False)
            return
        now = self.pki.clock()
        # every certificate is listed with its status: choosing an expired or revoked one
        # gives the refusal message, which teaches more than hiding it
        options = [
            (
                f"{c.common_name} — {t('signing.kind_' + c.kind)} — "
                f"{t('signing.' + STATUS_LABEL[c.status_at(now)])} — {c.serial[:12]}",
                str(c.key_path),
            )
            for c in reversed(certs)
        ]
        self.certificate.options = options
        valid = [
            v
            for (label, v), c in zip(options, reversed(certs), strict=True)
            if c.status_at(now) == "valid"
        ]
        self.certificate.value = valid[0] if valid else (options[0][1] if options else None)

    def sign(self) -> None:
        self.result = None
        upload = _uploaded(self.upload)
        if upload is None:
            _say(self.message, t("signing.w_need_file"), False)
            return
        if not self.certificate.value:
            _say(self.message, t("signing.w_need_cert"), False)
            return
        name, data = upload
        try:
            key = sign.load_key(self.certificate.value, self.passphrase.value, self.pki)
            box = None
            if self.placement.value == "manual" and self.mode.value == "personal":
                mm = sign.MM
                w, h = 50 * mm, 20 * mm
                x, y = self.x_mm.value * mm, self.y_mm.value * mm
                box = sign.Box(self.page.value - 1, x, y, x + w, y + h)
            if self.mode.value == "personal":
                signed = sign.sign_personal(data, key, self.pki, box=box, name=name)
            elif self.mode.value == "organisation":
                signed = sign.sign_organisation(data, key, self.pki, name=name)
            elif self.mode.value == "copy":
                signed = sign.sign_copy(data, key, self.pki, name=name)
            else:
                if not self.doc_number.value.strip():
                    _say(self.message, t("signing.cli_need_doc_number"), False)
                    return
                signed = sign.sign_attachment(
                    data, key, self.pki, doc_number=self.doc_number.value.strip(), name=name
                )
        except KnsError as exc:
            _say(self.message, exc.user_message, False)
            return
        finally:
            self.passphrase.value = ""
        from sandbox.signing.pki import write_atomic

        target = self.out_dir / (Path(name).stem + ".da-ky.pdf")
        write_atomic(target, signed, 0o600)
        self.result = signed
        _say(self.message, t("signing.w_signed", file=target.name), True)


class VerifyDocument(widgets.VBox):
    """'Kiểm tra chữ ký số': upload a PDF, see the report with green and red lines."""

    def __init__(self, pki: TrainingPKI):
        self.pki = pki
        self.report = None
        self.upload = widgets.FileUpload(
            accept=".pdf",
            multiple=False,
            description=t("signing.w_choose_pdf"),
            layout=widgets.Layout(width="260px"),
        )
        self.profile = widgets.Dropdown(
            options=[
                (t(f"signing.w_profile_{p}"), p)
                for p in ("administrative", "copy", "attachment", "any")
            ],
            description=t("signing.w_profile"),
            layout=_WIDE,
            style=_STYLE,
        )
        self.button = widgets.Button(
            description=t("signing.w_verify"),
            button_style="primary",
            layout=widgets.Layout(width="260px"),
        )
        self.message = widgets.HTML()
        self.output = widgets.HTML()
        self.button.on_click(lambda _b: self.verify())
        super().__init__(
            [
                widgets.HTML(f"<h3>{html.escape(t('signing.w_verify_title'))}</h3>"),
                self.upload,
                self.profile,
                widgets.HBox([self.button, self.message]),
                self.output,
            ]
        )

    def lines(self) -> list[tuple[bool, str]]:
        """What the person sees: (green?, text) for each line of the last report."""
        return [(c.ok, c.message) for c in self.report.checks] if self.report else []

    def verify(self) -> None:
        self.report = None
        self.output.value = ""
        upload = _uploaded(self.upload)
        if upload is None:
            _say(self.message, t("signing.w_need_file"), False)
            return
        name, data = upload
        try:
            self.report = verify_pdf(data, self.pki, name=name, profile=self.profile.value)
        except KnsError as exc:
            _say(self.message, exc.user_message, False)
            return
        verdict = t(
            "signing.v_verdict_ok" if self.report.ok else "signing.v_verdict_bad", file=name
        )
        _say(self.message, verdict, self.report.ok)
        items = "".join(
            f"<li style='color:{_OK if ok else _BAD}'>{'✔' if ok else '✘'} {html.escape(text)}</li>"
            for ok, text in self.lines()
        )
        self.output.value = f"<ul style='list-style:none;padding-left:0'>{items}</ul>"


def _on_hub(pki: TrainingPKI | None) -> bool:
    """No PKI given and a signing service to ask: the learner's kernel on the hub."""
    return pki is None and client.enabled()


def _default_pki(pki: TrainingPKI | None) -> TrainingPKI:
    if pki is not None:
        return pki
    # on the hub the CA's folder is not readable: use the learner's own copy of its public part
    return client.local_pki() if client.enabled() else TrainingPKI()


def _default_account(pki: TrainingPKI | None, account: str | None) -> str:
    return account or (client.account() if _on_hub(pki) else getpass.getuser())


def my_certificate(
    pki: TrainingPKI | None = None, account: str | None = None, owner_uid: int | None = None
) -> MyCertificate:
    """The 'my certificate' panel for the current learner (through the signing service on
    the hub)."""
    desk = client if _on_hub(pki) else None
    return MyCertificate(_default_pki(pki), _default_account(pki, account), owner_uid, desk)


def sign_document(
    pki: TrainingPKI | None = None, account: str | None = None, out_dir: str | Path = "."
) -> SignDocument:
    """The 'sign a document' panel; signed files are saved in `out_dir`."""
    return SignDocument(_default_pki(pki), _default_account(pki, account), Path(out_dir))


def verify_document(pki: TrainingPKI | None = None) -> VerifyDocument:
    """The 'verify a document' panel."""
    return VerifyDocument(_default_pki(pki))


def upload_value(name: str, data: bytes) -> tuple[dict, ...]:
    """The value a FileUpload holds after a person picks `name` (used by tests and demos)."""
    return (
        {
            "name": name,
            "type": "application/pdf",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": dt.datetime.now(dt.UTC),
        },
    )


__all__ = ["my_certificate", "sign_document", "verify_document", "upload_value"]
