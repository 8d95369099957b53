"""Widgets for learners: the office mailbox (read, judge, reply, forward, save, check a
signature, register an attached document) and the "kênh gửi" panel.

Each is built by one call (`mailbox_app()`, `channel_panel()`) and needs no code editing. As
in the signing sandbox, each panel is a class whose parts are attributes, so tests set values
and click buttons as a person would. No rule lives here: reading a message's signs is
`signs`/`scenarios.judge`, sending is `MailStore.send`, the register and the verifier are
`intake`, the channel rules are `channels.decide`.

What the reading pane shows is what a careful reader looks at: the display name beside the
real address, the domain as a person sees it (punycode decoded), a Reply-To that differs, the
receiving servers' authentication results, the plain text (HTML is never rendered: the
links are listed as "chữ hiển thị → địa chỉ thật"), and each attachment's real type. The signs
themselves are shown only after the learner has judged: spotting them is the exercise.

Judgements are kept in the learner's home beside the mailbox (`<address>.danh-gia.json`,
written atomically), so reopening the lesson shows the score and the feedback again.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
import unicodedata
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

import ipywidgets as widgets

from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import catalogue, t
from sandbox.email import channels, intake, scenarios, signs
from sandbox.email import message as m
from sandbox.email.message import MailError
from sandbox.email.rules import directory
from sandbox.email.storage import FOLDERS, INBOX, MailStore, folder_label
from sandbox.signing.pki import write_atomic

log = logging.getLogger(__name__)

_WIDE = widgets.Layout(width="560px")
_STYLE = {"description_width": "170px"}
_OK, _BAD = "#1b7f3b", "#b3261e"
ANSWERS = ("legitimate", "phishing")  # scenarios.judge's answers, in button order


def _l(key: str, **params) -> str:
    return t(f"email.ui.{key}", **params)


def _status(text: str, ok: bool | None = None) -> str:
    """A message in a live region (screen readers read it out when it changes)."""
    if not text:
        return ""
    colour = "#333" if ok is None else (_OK if ok else _BAD)
    body = "<br>".join(html.escape(line) for line in text.split("\n"))
    return f'<div role="status" aria-live="polite" style="color:{colour}">{body}</div>'


def _say(target: widgets.HTML, text: str, ok: bool | None) -> None:
    target.value = _status(text, ok)


def _error_text(exc: KnsError) -> str:
    if isinstance(exc, ValidationError) and exc.problems:
        return exc.user_message + "\n" + "\n".join(f"- {p}" for p in exc.problems)
    return exc.user_message


def _guarded(target: widgets.HTML, action: str, fn):
    """Run `fn`; on a refusal show its Vietnamese message in `target` and log it, on any other
    failure (a broken file, a verifier error) say so in Vietnamese and log the traceback.
    Returns fn's result, or None when it failed."""
    try:
        return fn()
    except KnsError as exc:
        log.warning("email widget: %s refused: %s", action, exc.log_detail)
        _say(target, _error_text(exc), False)
    except Exception:  # the widget must survive any bad input; the operator gets the detail
        log.exception("email widget: %s failed", action)
        _say(target, _l("unexpected", action=_l(f"action_{action}")), False)
    return None


def _h(level: int, text: str) -> widgets.HTML:
    return widgets.HTML(f"<h{level}>{html.escape(text)}</h{level}>")


def _button(key: str, style: str = "", width: str = "230px") -> widgets.Button:
    return widgets.Button(description=_l(key), button_style=style,
                          layout=widgets.Layout(width=width))


def write_json_atomic(path: Path, data) -> None:
    """JSON through the signing sandbox's atomic write (a crash leaves the old file), 0600 as
    the mailbox's own files."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"), mode=0o600)


def vn_date(value: str) -> str:
    """A Date header as dd/mm/yyyy HH:MM in Vietnam's time, or as written if unreadable."""
    try:
        return parsedate_to_datetime(value).astimezone(m.VN_TZ).strftime("%d/%m/%Y %H:%M")
    except (TypeError, ValueError, IndexError):
        return value


def _sort_time(value: str) -> float:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return 0.0


# -- what the reading pane shows ---------------------------------------------------------------
class _Text(HTMLParser):
    """The words of an HTML part (for a message without a plain part); scripts and styles
    dropped. The result is escaped before it is shown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def readable_text(msg: EmailMessage) -> str:
    text = m.body_text(msg)
    if text.strip() or not m.body_html(msg):
        return text
    parser = _Text()
    parser.feed(m.body_html(msg))
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()


def auth_lines(msg: EmailMessage) -> list[str]:
    """Each Authentication-Results header as "máy chủ X: SPF: đạt; DKIM: ..." (RFC 8601)."""
    lines = []
    for header in msg.get_all("Authentication-Results") or []:
        server, _, rest = str(header).partition(";")
        results = []
        for method in ("spf", "dkim", "dmarc"):
            found = re.search(rf"\b{method}=([a-z]+)", rest, re.IGNORECASE)
            if found:
                value = found.group(1).lower()
                key = f"email.ui.auth_result.{value}"
                label = t(key) if key in catalogue() else value
                results.append(f"{method.upper()}: {label}")
        lines.append(_l("auth_line", server=server.strip(), results="; ".join(results) or "—"))
    return lines


def real_kind(attachment: m.Attachment) -> str:
    kind = signs.magic_kind(attachment.data)
    if kind:
        return t(f"email.kind.{kind}")
    ext = attachment.filename.rpartition(".")[2] if "." in attachment.filename else "—"
    return _l("kind_unknown", ext=ext)


def _row(label: str, value: str) -> str:
    return (f"<tr><th style='text-align:left;padding:2px 8px;vertical-align:top'>"
            f"{html.escape(label)}</th><td style='padding:2px 8px'>{html.escape(value)}</td></tr>")


def reading_pane_html(msg: EmailMessage) -> str:
    """Everything a careful reader should look at, every piece of the message escaped."""
    name, address = m.sender_address(msg)
    raw_domain = address.rpartition("@")[2]
    shown = signs.unicode_domain(raw_domain)
    domain = shown if shown == raw_domain else _l("domain_encoded", shown=shown, raw=raw_domain)
    rows = [
        _row(_l("subject"), str(msg.get("Subject", "")) or _l("no_subject")),
        _row(_l("date"), vn_date(str(msg.get("Date", "")))),
        _row(_l("from_name"), name or _l("no_name")),
        _row(_l("from_address"), address or "—"),
        _row(_l("domain"), domain or "—"),
    ]
    reply_to = [a.addr_spec.lower() for a in m.recipients(msg, ("Reply-To",))]
    if reply_to and reply_to != [address]:
        rows.append(_row(_l("reply_to"), ", ".join(reply_to)))
    rows.append(_row(_l("to"), ", ".join(a.addr_spec for a in m.recipients(msg, ("To", "Cc")))))
    auth = auth_lines(msg)
    rows.append(_row(_l("auth"), "\n".join(auth) if auth else _l("auth_none")))
    parts = [f"<table>{''.join(rows)}</table>".replace("\n", "<br>")]
    parts.append(f"<h4>{html.escape(_l('body'))}</h4>")
    if m.body_html(msg):
        parts.append(f"<p><i>{html.escape(_l('html_note'))}</i></p>")
    # Wrap at spaces (the page's own styles split words in a <pre>), a long link anywhere.
    parts.append("<pre style='white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere;font-family:inherit'>"
                 f"{html.escape(readable_text(msg))}</pre>")
    found = m.links(msg)
    if found:
        items = "".join(f"<li>«{html.escape(k.text)}» → {html.escape(k.href)}</li>" for k in found)
        parts.append(f"<h4>{html.escape(_l('links'))}</h4><ul>{items}</ul>")
    parts.append(f"<h4>{html.escape(_l('attachments'))}</h4>")
    files = m.attachments(msg)
    if files:
        head = "".join(f"<th style='padding:2px 8px'>{html.escape(_l(c))}</th>"
                       for c in ("col_name", "col_declared", "col_real"))
        body = "".join(
            "<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(v)}</td>"
                             for v in (a.filename, a.content_type, real_kind(a))) + "</tr>"
            for a in files)
        parts.append(f"<table border='1'><tr>{head}</tr>{body}</table>")
    else:
        parts.append(f"<p>{html.escape(_l('no_attachments'))}</p>")
    return "".join(parts)


def feedback_html(result: dict, answer: str) -> str:
    """scenarios.judge's feedback: right or wrong, the verdict, each sign with its
    explanation and source (or why the message is clean)."""
    colour = _OK if result["correct"] else _BAD
    chosen = _l("judge_safe") if answer == "legitimate" else _l("judge_phishing")
    lines = [f"<p style='color:{colour}'><b>{html.escape(result['headline'])}</b> "
             f"{html.escape(_l('your_answer', answer=chosen))} "
             f"{html.escape(_l('verdict_is', verdict=result['verdict_label']))}</p>"]
    if result["signs"]:
        items = "".join(
            f"<li><b>{html.escape(s['name'])}</b><br>{html.escape(s['explanation'])}"
            f"<br><small>{html.escape(_l('source', source=s['source']))}</small></li>"
            for s in result["signs"])
        lines.append(f"<p>{html.escape(_l('signs_found'))}</p><ol>{items}</ol>")
    else:
        lines.append(f"<p>{html.escape(result['explanation'][0])}</p>")
    return f'<div role="status" aria-live="polite">{"".join(lines)}</div>'


# -- judgements kept in the learner's home ------------------------------------------------------
class Judgements:
    """The learner's answers, by Message-ID, in `<store root>/<address>.danh-gia.json`."""

    def __init__(self, store: MailStore, address: str):
        self.path = store.root / f"{address.strip().lower()}.danh-gia.json"
        self.answers: dict[str, dict] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.answers = {k: v for k, v in data.get("answers", {}).items()
                            if isinstance(v, dict) and v.get("answer") in ANSWERS}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:  # a damaged file: start afresh
            log.warning("email widget: judgements %s unreadable: %s", self.path, exc)

    def get(self, message_id: str) -> dict | None:
        return self.answers.get(message_id)

    def record(self, message_id: str, answer: str, correct: bool) -> None:
        self.answers[message_id] = {"answer": answer, "correct": correct,
                                    "at": dt.datetime.now(m.VN_TZ).isoformat(timespec="seconds")}
        write_json_atomic(self.path, {"answers": self.answers})

    def score(self, ids: set[str] | None = None) -> tuple[int, int]:
        """(judged, right), over `ids` when given."""
        chosen = [v for k, v in self.answers.items() if ids is None or k in ids]
        return len(chosen), sum(1 for v in chosen if v["correct"])


# -- addresses typed by the learner -------------------------------------------------------------
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")


def typed_addresses(text: str) -> list[str]:
    """The addresses of a "Người nhận" field; MailError naming the first bad one."""
    items = [x.strip() for x in (text or "").split(",") if x.strip()]
    if not items:
        raise MailError("email.ui.need_to")
    out = []
    for item in items:
        name, addr = parseaddr(item)
        if not _ADDRESS.match(addr or "") or ("<" in item and not item.rstrip().endswith(">")):
            raise MailError("email.ui.bad_address", address=item)
        try:
            local, _, domain = addr.partition("@")
            out.append(str(Address(display_name=name, username=local, domain=domain)))
        except (ValueError, IndexError):
            raise MailError("email.ui.bad_address", address=item) from None
    return out


def _own_address(address: str) -> str:
    box = directory().mailbox(address)
    if box is None:
        return address
    local, _, domain = address.partition("@")
    return str(Address(display_name=box.name, username=local, domain=domain))


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()[:50] or "thu"


def _where(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


# -- the "kênh gửi" panel -------------------------------------------------------------------------
class ChannelPanel(widgets.VBox):
    """Pick the kind of work, its secrecy and the mailbox; see channels.decide's answer with its
    reasons and their sources (unconfirmed ones marked)."""

    def __init__(self):
        def choice(fact, values):
            return widgets.Dropdown(
                options=[(_l(f"ch_{fact}_{v}"), v) for v in values],
                description=_l(f"ch_{fact}"), layout=_WIDE, style=_STYLE)

        self.kind = choice("kind", channels.KINDS)
        self.secrecy = choice("secrecy", channels.SECRECY)
        self.mailbox = choice("mailbox", channels.MAILBOXES)
        self.kind.value = "working_exchange"
        self.output = widgets.HTML()
        for field in (self.kind, self.secrecy, self.mailbox):
            field.observe(lambda _c: self.show(), names="value")
        super().__init__([_h(3, _l("channel_title")), self.kind, self.secrecy, self.mailbox,
                          self.output])
        self.show()

    def set_situation(self, situation: channels.Situation) -> None:
        self.kind.value, self.secrecy.value = situation.kind, situation.secrecy
        self.mailbox.value = situation.mailbox
        self.show()

    def show(self) -> None:
        decision = channels.decide(channels.Situation(self.kind.value, self.secrecy.value,
                                                      self.mailbox.value))
        colour = _OK if decision.email_allowed else _BAD
        reasons = []
        for r in decision.reasons:
            sources = "".join(
                f"<li>{html.escape(s.text)} <i>({html.escape(s.status_label)})</i>"
                + (f" <b style='color:{_BAD}'>⚠ {html.escape(_l('ch_unconfirmed'))}</b>"
                   if s.status == "U" else "") + "</li>"
                for s in r.sources)
            reasons.append(f"<li>{html.escape(r.text)}<ul>{sources}</ul></li>")
        body = (f"<ol>{''.join(reasons)}</ol>" if reasons
                else f"<p>{html.escape(_l('ch_no_rule'))}</p>")
        self.output.value = (
            f'<div role="status" aria-live="polite"><p style="color:{colour}"><b>'
            f"{html.escape(decision.summary)}</b></p>"
            f"<h4>{html.escape(_l('ch_reasons'))}</h4>{body}</div>")


# -- the mailbox ------------------------------------------------------------------------------------
class MailboxApp(widgets.VBox):
    """'Hộp thư công vụ': folders, the message list, the reading pane, the judgement buttons,
    reply / forward / new message, save as .eml, and for attachments the signature check (with
    `pki`) and registration as văn bản đến (with `registry`). `judging` and `channels` show the
    judgement buttons and the "kênh gửi" panel (a lesson on writing mail leaves them out)."""

    def __init__(self, store: MailStore, address: str, *, scenario=None, pki=None,
                 registry=None, org: str = "UBND", clerk: str = "Văn thư",
                 save_dir: Path | None = None, judging: bool = True, channels: bool = True):
        self.judging, self.channels = judging, channels
        self.store, self.address = store, address.strip().lower()
        self.scenario, self.pki, self.registry = scenario, pki, registry
        self.org, self.clerk = org, clerk
        self.save_dir = Path(save_dir) if save_dir is not None else Path.home() / "thu-da-luu"
        self.judgements = Judgements(store, self.address)
        self.current: EmailMessage | None = None
        self.mode, self.original = "new", None
        self._busy = False
        self._build()
        self.refresh()

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.message = widgets.HTML()  # the app's own feedback (mailbox, folder, list)
        self.folder = widgets.Dropdown(description=_l("folder"), layout=_WIDE, style=_STYLE)
        self.refresh_button = _button("refresh", width="120px")
        self.list = widgets.Select(description=_l("list"), rows=10,
                                   layout=widgets.Layout(width="900px"), style=_STYLE)
        self.pane = widgets.HTML()
        self.safe_button = _button("judge_safe", "success")
        self.phishing_button = _button("judge_phishing", "danger")
        self.judge_message = widgets.HTML()
        self.score = widgets.HTML()
        self.reply_button = _button("reply", width="150px")
        self.forward_button = _button("forward", width="150px")
        self.new_button = _button("new", width="150px")
        self.save_button = _button("save_eml", width="200px")
        self.action_message = widgets.HTML()
        self.compose_mode = widgets.HTML()
        self.to = widgets.Text(description=_l("compose_to"), placeholder=_l("compose_to_hint"),
                               layout=_WIDE, style=_STYLE)
        self.subject = widgets.Text(description=_l("compose_subject"), layout=_WIDE,
                                    style=_STYLE)
        self.body = widgets.Textarea(description=_l("compose_body"), rows=6, layout=_WIDE,
                                     style=_STYLE)
        self.send_button = _button("send", "primary")
        self.send_message = widgets.HTML()
        self.attachment = widgets.Dropdown(description=_l("attachment"), layout=_WIDE,
                                           style=_STYLE)
        self.verify_button = _button("verify")
        self.verify_output = widgets.HTML()
        self.reg_symbol = widgets.Text(description=_l("reg_symbol"), layout=_WIDE, style=_STYLE)
        self.reg_date = widgets.DatePicker(description=_l("reg_date"), style=_STYLE)
        self.reg_type = widgets.Dropdown(options=self._type_names(), value=None,
                                         description=_l("reg_type"), layout=_WIDE, style=_STYLE)
        self.reg_subject = widgets.Text(description=_l("reg_subject"), layout=_WIDE,
                                        style=_STYLE)
        self.register_button = _button("register", "primary")
        self.register_message = widgets.HTML()
        self.channel = ChannelPanel()
        self.channel_button = _button("channel_from_message")

        self.folder.observe(lambda _c: self.refresh_list(), names="value")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.list.observe(lambda _c: self.show_message(), names="value")
        self.safe_button.on_click(lambda _b: self.judge("legitimate"))
        self.phishing_button.on_click(lambda _b: self.judge("phishing"))
        self.reply_button.on_click(lambda _b: self.start("reply"))
        self.forward_button.on_click(lambda _b: self.start("forward"))
        self.new_button.on_click(lambda _b: self.start("new"))
        self.send_button.on_click(lambda _b: self.send_mail())
        self.save_button.on_click(lambda _b: self.save_eml())
        self.verify_button.on_click(lambda _b: self.verify())
        self.register_button.on_click(lambda _b: self.register())
        self.channel_button.on_click(lambda _b: self.channel_of_message())

        parts = [
            _h(3, _l("app_title")), widgets.HTML(html.escape(_l("mailbox", address=self.address))),
            widgets.HBox([self.folder, self.refresh_button]), self.message, self.list,
            self.score, _h(4, _l("pane_title")), self.pane,
        ]
        if self.judging:
            parts += [_h(4, _l("judge_title")), widgets.HTML(f"<p>{html.escape(_l('judge_hint'))}</p>"),
                      widgets.HBox([self.safe_button, self.phishing_button]), self.judge_message]
        parts += [
            _h(4, _l("actions_title")),
            widgets.HBox([self.reply_button, self.forward_button, self.new_button,
                          self.save_button]), self.action_message,
            _h(4, _l("compose_title")), self.compose_mode, self.to, self.subject, self.body,
            widgets.HBox([self.send_button, self.send_message]),
        ]
        if self.pki is not None or self.registry is not None:
            parts += [_h(4, _l("attachments")), self.attachment]
        if self.pki is not None:
            parts += [self.verify_button, self.verify_output]
        if self.registry is not None:
            parts += [_h(4, _l("register_title")), self.reg_symbol, self.reg_date,
                      self.reg_type, self.reg_subject,
                      widgets.HBox([self.register_button, self.register_message])]
        if self.channels:
            parts += [self.channel, self.channel_button]
        super().__init__(parts)

    @staticmethod
    def _type_names() -> list[str]:
        from sandbox.documents.rules import ruleset

        return [r.name for r in ruleset().types]

    # -- folders and list -----------------------------------------------------------------------
    def refresh(self) -> None:
        _say(self.message, "", None)
        folders = _guarded(self.message, "list", lambda: self.store.folders(self.address))
        keep = self.folder.value
        self._busy = True
        try:
            order = sorted(folders or [], key=lambda f: FOLDERS.index(f) if f in FOLDERS else 99)
            options = [(folder_label(f), f) for f in order]
            self.folder.options = options
            values = [v for _, v in options]
            self.folder.value = keep if keep in values else (values[0] if values else None)
        finally:
            self._busy = False
        self.refresh_list()

    def _exercise_ids(self) -> set[str] | None:
        if self.scenario is None:
            return None
        return {str(sm.message["Message-ID"]) for sm in self.scenario.messages}

    def refresh_list(self) -> None:
        if self._busy:
            return
        rows: list[dict] = []
        if self.folder.value is not None:
            _say(self.message, "", None)
            rows = _guarded(self.message, "list", self._rows) or []
        keep = self.list.value
        options = [(self._label(r), r["key"]) for r in rows]
        self._busy = True
        try:
            self.list.options = options
            self.list.value = keep if keep in [v for _, v in options] else None
        finally:
            self._busy = False
        if rows == [] and self.folder.value is not None and not self.message.value:
            _say(self.message, _l("list_empty"), None)
        self.show_message()
        self.show_score()

    def _rows(self) -> list[dict]:
        folder = self.folder.value
        rows = self.store.list(self.address, folder)
        broken = len(self.store.keys(self.address, folder)) - len(rows)
        if broken:
            _say(self.message, _l("unreadable", n=broken), False)
        return sorted(rows, key=lambda r: _sort_time(r["date"]), reverse=True)

    def _label(self, row: dict) -> str:
        name = row["from_name"] or _l("no_name")
        bits = [f"{name} <{row['from_address']}>", row["subject"] or _l("no_subject"),
                vn_date(row["date"])]
        if row["attachments"]:
            bits.append(_l("attachment_mark", n=len(row["attachments"])))
        done = self.judgements.get(row["message_id"]) if self.folder.value == INBOX else None
        if done is not None:
            bits.append(_l("judged_right" if done["correct"] else "judged_wrong"))
        return " — ".join(bits)

    def show_score(self) -> None:
        ids = self._exercise_ids()
        if ids is None:
            ids = set()
            if INBOX in [v for _, v in self.folder.options]:
                rows = _guarded(self.message, "list",
                                lambda: self.store.list(self.address, INBOX)) or []
                ids = {r["message_id"] for r in rows}
        judged, right = self.judgements.score(ids)
        _say(self.score, _l("score", judged=judged, total=len(ids), right=right), None)

    # -- reading ------------------------------------------------------------------------------
    def show_message(self) -> None:
        """Show the selected message (and its feedback if it was judged before)."""
        if self._busy:
            return
        self.current = None
        self.pane.value = ""
        for out in (self.judge_message, self.verify_output, self.register_message,
                    self.action_message):
            _say(out, "", None)
        self.attachment.options = []
        if self.list.value is None:
            _say(self.judge_message, _l("choose_message"), None)
            return
        msg = _guarded(self.judge_message, "open",
                       lambda: self.store.get(self.address, self.list.value, self.folder.value))
        if msg is None:
            return
        pane = _guarded(self.judge_message, "open", lambda: reading_pane_html(msg))
        if pane is None:
            return
        self.current = msg
        self.pane.value = pane
        names = [a.filename for a in m.attachments(msg)]
        self.attachment.options = names
        self.attachment.value = names[0] if names else None
        self._prefill_register(msg)
        done = self.judgements.get(str(msg.get("Message-ID", "")))
        if done is not None and self.folder.value == INBOX:
            self._show_feedback(msg, done["answer"])

    def _prefill_register(self, msg: EmailMessage) -> None:
        symbol = channels.official_symbol(msg)
        if symbol is None and self.attachment.value:
            stem = self.attachment.value.rpartition(".")[0]
            symbol = stem.replace("-", "/", 1) if re.match(r"^\d+-", stem) else ""
        self.reg_symbol.value = symbol or ""
        try:
            self.reg_date.value = msg["Date"].datetime.astimezone(m.VN_TZ).date()
        except (AttributeError, TypeError, ValueError):
            self.reg_date.value = None
        self.reg_subject.value = str(msg.get("Subject", ""))
        if "Công văn" in self.reg_type.options:
            self.reg_type.value = "Công văn"

    def _context(self) -> signs.Context:
        return signs.Context(pki=self.pki)

    # -- judging -------------------------------------------------------------------------------
    def judge(self, answer: str) -> dict | None:
        msg = self.current
        _say(self.judge_message, "", None)
        if msg is None:
            _say(self.judge_message, _l("choose_message"), False)
            return None
        mid = str(msg.get("Message-ID", ""))
        ids = self._exercise_ids()
        if self.folder.value != INBOX or (ids is not None and mid not in ids):
            _say(self.judge_message, _l("judge_not_here"), False)
            return None
        if self.judgements.get(mid) is not None:
            self._show_feedback(msg, self.judgements.get(mid)["answer"])
            self.judge_message.value += _status(_l("judged_already"))
            return None
        result = _guarded(self.judge_message, "judge",
                          lambda: scenarios.judge(msg, answer, self._context()))
        if result is None:
            return None
        if _guarded(self.judge_message, "judge",
                    lambda: self.judgements.record(mid, answer, result["correct"]) or True):
            self.judge_message.value = feedback_html(result, answer)
        self.refresh_list()
        return result

    def _show_feedback(self, msg: EmailMessage, answer: str) -> None:
        result = _guarded(self.judge_message, "judge",
                          lambda: scenarios.judge(msg, answer, self._context()))
        if result is not None:
            self.judge_message.value = feedback_html(result, answer)

    # -- writing -------------------------------------------------------------------------------
    def start(self, mode: str) -> None:
        """Fill the compose form for a reply, a forward or a new message."""
        _say(self.send_message, "", None)
        _say(self.action_message, "", None)
        if mode != "new" and self.current is None:
            _say(self.action_message, _l("choose_message"), False)
            return
        self.mode, self.original = mode, self.current if mode != "new" else None
        subject = str(self.current.get("Subject", "")) if self.original is not None else ""
        if mode == "reply":
            target = self.current.get("Reply-To") or self.current.get("From") or ""
            self.to.value = ", ".join(a.addr_spec for a in getattr(target, "addresses", ()))
            self.subject.value = subject if subject.lower().startswith("re:") else f"Re: {subject}"
            self.compose_mode.value = html.escape(_l("mode_reply", subject=subject))
        elif mode == "forward":
            self.to.value = ""
            self.subject.value = subject if subject.lower().startswith("fwd:") \
                else f"Fwd: {subject}"
            self.compose_mode.value = html.escape(_l(
                "mode_forward", subject=subject, n=len(m.attachments(self.current))))
        else:
            self.to.value = self.subject.value = ""
            self.compose_mode.value = html.escape(_l("mode_new"))
        self.body.value = ""

    def send_mail(self) -> dict | None:
        _say(self.send_message, "", None)
        if not self.subject.value.strip():
            _say(self.send_message, _l("need_subject"), False)
            return None
        to = _guarded(self.send_message, "send", lambda: typed_addresses(self.to.value))
        if to is None:
            return None
        result = _guarded(self.send_message, "send", lambda: self.store.send(self._compose(to)))
        if result is None:
            return None
        text = _l("sent", to=", ".join(parseaddr(a)[1] for a in to),
                  folder=folder_label("sent"))
        if result["outside"]:
            text += "\n" + _l("sent_outside", addresses=", ".join(result["outside"]))
        _say(self.send_message, text, True)
        self.body.value = ""
        self.refresh_list()
        return result

    def _compose(self, to: list[str]) -> EmailMessage:
        me = _own_address(self.address)
        if self.mode == "reply" and self.original is not None:
            msg = m.reply(self.original, me, self.body.value)
            msg.replace_header("To", ", ".join(to))
        elif self.mode == "forward" and self.original is not None:
            msg = m.forward(self.original, me, to, self.body.value)
        else:
            return m.compose(me, to, self.subject.value.strip(), self.body.value)
        msg.replace_header("Subject", self.subject.value.strip())
        return msg

    def save_eml(self) -> Path | None:
        _say(self.action_message, "", None)
        msg = self.current
        if msg is None:
            _say(self.action_message, _l("choose_message"), False)
            return None

        def write():
            when = vn_date(str(msg.get("Date", ""))).replace("/", "-").replace(":", "")
            stem = f"{_slug(when)}-{_slug(str(msg.get('Subject', '')))}"
            path, n = self.save_dir / f"{stem}.eml", 1
            while path.exists():
                n += 1
                path = self.save_dir / f"{stem}-{n}.eml"
            return m.save_eml(msg, path)

        path = _guarded(self.action_message, "save", write)
        if path is not None:
            _say(self.action_message, _l("saved", file=path.name, folder=_where(path.parent)),
                 True)
        return path

    # -- attachments: signature and register ---------------------------------------------------
    def _chosen_attachment(self, target: widgets.HTML) -> str | None:
        if self.current is None:
            _say(target, _l("choose_message"), False)
            return None
        if not self.attachment.value:
            _say(target, _l("need_attachment"), False)
            return None
        return self.attachment.value

    def verify(self):
        """The signing sandbox's verdict on the chosen PDF attachment, line by line."""
        self.verify_output.value = ""
        if self.pki is None:
            _say(self.verify_output, _l("no_verifier"), False)
            return None
        name = self._chosen_attachment(self.verify_output)
        if name is None:
            return None
        msg = self.current
        report = _guarded(self.verify_output, "verify",
                          lambda: intake.verify_attachment(msg, name, self.pki))
        if report is None:
            return None
        verdict = t("signing.v_verdict_ok" if report.ok else "signing.v_verdict_bad", file=name)
        items = "".join(
            f"<li style='color:{_OK if c.ok else _BAD}'>{'✔' if c.ok else '✘'} "
            f"{html.escape(c.message)}</li>" for c in report.checks)
        self.verify_output.value = (
            _status(verdict, report.ok)
            + f"<ul style='list-style:none;padding-left:0'>{items}</ul>")
        return report

    def register(self) -> dict | None:
        """Register the chosen attachment as văn bản đến (intake.register_attachment)."""
        from sandbox.documents.storage import Actor

        _say(self.register_message, "", None)
        name = self._chosen_attachment(self.register_message)
        if name is None:
            return None
        if not (self.reg_symbol.value.strip() and self.reg_subject.value.strip()
                and self.reg_date.value is not None and self.reg_type.value):
            _say(self.register_message, _l("reg_need"), False)
            return None
        msg = self.current
        entry = _guarded(self.register_message, "register", lambda: intake.register_attachment(
            self.registry, self.org, Actor(self.clerk, "van_thu"), msg, name,
            symbol=self.reg_symbol.value.strip(), doc_date=self.reg_date.value,
            type_name=self.reg_type.value, subject=self.reg_subject.value.strip()))
        if entry is not None:
            _say(self.register_message, t("documents.cli.registered",
                                          number=entry["arrival_number"], year=entry["year"],
                                          symbol=entry["symbol"]), True)
        return entry

    def channel_of_message(self) -> None:
        """Set the channel panel to the facts read off the message being read."""
        if self.current is None:
            _say(self.action_message, _l("choose_message"), False)
            return
        received = self.folder.value != "sent"
        situation = _guarded(self.action_message, "open",
                             lambda: channels.situation_of(self.current, received=received))
        if situation is not None:
            self.channel.set_situation(situation)


def _home_address() -> str:
    d = directory()
    return next(b.address for b in d.org(d.home).mailboxes if b.role == "van_thu")


def mailbox_app(store: MailStore | None = None, address: str | None = None, *, scenario=None,
                pki=None, registry=None, org: str = "UBND", clerk: str = "Văn thư",
                save_dir: str | Path | None = None, judging: bool = True,
                channels: bool = True) -> MailboxApp:
    """The learner's mailbox (default: the scenario's recipient, else the office's văn thư),
    in their home (`~/.kynangso/mail`). `pki` enables the signature check, `registry` (a
    documents-sandbox Registry) the «Vào sổ văn bản đến» button; `judging` and `channels`
    the judgement buttons and the "kênh gửi" panel."""
    address = address or (scenario.recipient if scenario is not None else _home_address())
    return MailboxApp(store or MailStore(), address, scenario=scenario, pki=pki,
                      registry=registry, org=org, clerk=clerk, save_dir=save_dir,
                      judging=judging, channels=channels)


def channel_panel() -> ChannelPanel:
    """The "kênh gửi" panel alone."""
    return ChannelPanel()


__all__ = ["mailbox_app", "channel_panel", "MailboxApp", "ChannelPanel"]
