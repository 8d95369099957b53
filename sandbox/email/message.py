"""Messages: real RFC 5322 / MIME messages (Python's `email`, policy=default).

Pure functions that return new messages and never change their input: compose, attach,
reply (In-Reply-To, References, "Re:"), forward (the original's attachments kept), parse
and save as .eml, and the readers a widget needs (parts, attachments, links, summary).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from email import errors as email_errors
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from kynangso.errors import KnsError, ValidationError
from kynangso.i18n import t

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
POLICY = policy.default


class MailError(KnsError):
    """A mail operation refused for a reason the person can fix; nothing was changed."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str   # as declared in the part's Content-Type
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Link:
    text: str   # what the reader sees
    href: str   # where it goes


def _address_list(values) -> str:
    if isinstance(values, str):
        values = [values]
    return ", ".join(values)


def compose(
    sender: str,
    to: list[str] | str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    cc: list[str] | str = (),
    attachments: list[tuple[str, bytes] | tuple[str, bytes, str]] = (),
    date: dt.datetime | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A new message: a plain part, an HTML alternative when given, then attachments.

    `sender`/`to` are addresses, with or without a display name ("Văn thư <vt@x.example>").
    `attachments` are (filename, data) or (filename, data, content_type).
    """
    msg = EmailMessage(policy=POLICY)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg["From"] = sender
    msg["To"] = _address_list(to)
    if cc:
        msg["Cc"] = _address_list(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime((date or dt.datetime.now(VN_TZ)).astimezone(VN_TZ))
    msg["Message-ID"] = message_id or make_msgid(domain=_domain(sender) or None)
    msg["MIME-Version"] = "1.0"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for item in attachments:
        msg = attach(msg, *item)
    return msg


def attach(msg: EmailMessage, filename: str, data: bytes,
           content_type: str | None = None) -> EmailMessage:
    """A copy of `msg` with one more attachment (type guessed from the name if not given)."""
    if not (filename or "").strip():
        raise MailError("email.attach.need_name")
    if not isinstance(data, bytes | bytearray):
        raise MailError("email.attach.need_bytes", filename=filename)
    ctype = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    maintype, _, subtype = ctype.partition("/")
    new = copy.deepcopy(msg)
    new.add_attachment(bytes(data), maintype=maintype, subtype=subtype or "octet-stream",
                       filename=filename)
    return new


def _domain(address: str) -> str:
    return parseaddr(address or "")[1].rpartition("@")[2].lower()


def recipients(msg: EmailMessage, fields=("To", "Cc", "Bcc")) -> list[Address]:
    """The addresses of the given header fields, in order (from the parsed header objects:
    email.utils.getaddresses gives up on the whole list when one field is empty)."""
    found = []
    for name in fields:
        header = msg.get(name)
        found += list(getattr(header, "addresses", ()) or ())
    return found


def sender_address(msg: EmailMessage) -> tuple[str, str]:
    """(display name, address) of From; ("", "") when there is none."""
    header = msg["From"]
    if header is None or not getattr(header, "addresses", None):
        return "", ""
    a: Address = header.addresses[0]
    return a.display_name or "", a.addr_spec.lower()


def _subject_with(prefix: str, subject: str) -> str:
    s = (subject or "").strip()
    return s if s.lower().startswith(prefix.lower()) else f"{prefix} {s}".strip()


def reply(original: EmailMessage, sender: str, text: str, html: str | None = None, *,
          reply_all: bool = False, date: dt.datetime | None = None,
          message_id: str | None = None) -> EmailMessage:
    """A reply: to Reply-To (or From), "Re:" subject, In-Reply-To and References (RFC 5322
    §3.6.4). `reply_all` adds the other recipients as Cc, never the replier."""
    target = str(original.get("Reply-To") or original.get("From") or "")
    if not target:
        raise MailError("email.reply.no_sender")
    me = parseaddr(sender)[1].lower()
    cc = []
    if reply_all:
        for a in recipients(original, ("To", "Cc")):
            addr = a.addr_spec.lower()
            if addr and addr != me and addr not in target.lower():
                cc.append(str(a))
    quoted = "\n".join("> " + line for line in body_text(original).splitlines())
    when = str(original.get("Date", ""))
    full = f"{text}\n\n{t('email.reply.quote_header', date=when, sender=original.get('From', ''))}\n{quoted}\n"
    msg = compose(sender, target, _subject_with("Re:", str(original.get("Subject", ""))), full,
                  html, cc=cc, date=date, message_id=message_id)
    parent = original.get("Message-ID")
    if parent:
        refs = str(original.get("References", "")).split()
        msg["In-Reply-To"] = str(parent)
        msg["References"] = " ".join([*refs, str(parent)])
    return msg


def forward(original: EmailMessage, sender: str, to: list[str] | str, text: str = "", *,
            date: dt.datetime | None = None, message_id: str | None = None) -> EmailMessage:
    """A forward: "Fwd:" subject, the original's headers and text quoted, every attachment
    kept with its name, type and bytes."""
    head = t("email.forward.header", sender=original.get("From", ""),
             date=original.get("Date", ""), subject=original.get("Subject", ""),
             to=original.get("To", ""))
    full = f"{text}\n\n{head}\n\n{body_text(original)}".lstrip("\n")
    msg = compose(sender, to, _subject_with("Fwd:", str(original.get("Subject", ""))), full,
                  date=date, message_id=message_id)
    for a in attachments(original):
        msg = attach(msg, a.filename, a.data, a.content_type)
    return msg


# CRLF line ends (RFC 5322 §2.1). Headers are folded only past 998 characters (the RFC's
# hard limit): CPython's parser reads a display name split into two encoded words back with
# a space inside a word ("Ba Đìn h"), which would change the sender's name.
WIRE = POLICY.clone(linesep="\r\n", max_line_length=998)


def to_bytes(msg: EmailMessage) -> bytes:
    """The message as it travels."""
    return msg.as_bytes(policy=WIRE)


def parse(data: bytes, name: str = "thư") -> EmailMessage:
    """Read a message; a file that is not a message raises ValidationError listing why."""
    if not isinstance(data, bytes | bytearray) or not data.strip():
        raise ValidationError("email.eml.malformed", problems=[t("email.eml.empty")], file=name)
    msg = message_from_bytes(bytes(data), policy=POLICY)
    problems = []
    if any(isinstance(d, email_errors.MissingHeaderBodySeparatorDefect | email_errors
                      .InvalidHeaderDefect) for d in msg.defects) or not msg.keys():
        problems.append(t("email.eml.no_headers"))
    for field in ("From", "Date"):
        try:
            value = msg[field]
        except Exception:  # a header the policy cannot parse at all
            value = None
        if value is None or not str(value).strip():
            problems.append(t("email.eml.missing_header", header=field))
        elif getattr(value, "defects", None):
            problems.append(t("email.eml.bad_header", header=field, value=str(value)[:60]))
    if problems:
        raise ValidationError("email.eml.malformed", problems=problems, file=name,
                              log_detail=f"{name}: not a message: {problems}")
    return msg


def save_eml(msg: EmailMessage, path: str | os.PathLike) -> Path:
    """Write `msg` as a .eml file, atomically (a crash leaves the old file or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".eml-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(to_bytes(msg))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_eml(path: str | os.PathLike) -> EmailMessage:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MailError("email.eml.missing", file=str(path)) from None
    except IsADirectoryError:
        raise MailError("email.eml.missing", file=str(path)) from None
    return parse(data, path.name)


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def body_html(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def attachments(msg: EmailMessage) -> list[Attachment]:
    """Every attachment, in order: name, declared type and bytes."""
    found = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True) or b""
        found.append(Attachment(part.get_filename() or "", part.get_content_type(), data))
    return found


def attachment(msg: EmailMessage, filename: str) -> Attachment:
    for a in attachments(msg):
        if a.filename == filename:
            return a
    raise MailError("email.attach.unknown", filename=filename,
                    names=", ".join(a.filename for a in attachments(msg)) or "—")


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append(Link(" ".join("".join(self._text).split()), self._href.strip()))
            self._href = None


def links(msg: EmailMessage) -> list[Link]:
    """The links of the HTML part, with the text a reader sees and their real target."""
    parser = _LinkParser()
    parser.feed(body_html(msg))
    parser.close()
    return parser.links


def summary(msg: EmailMessage) -> dict:
    """Plain data for a list or a reading pane."""
    name, addr = sender_address(msg)
    return {
        "from_name": name, "from_address": addr, "to": str(msg.get("To", "")),
        "cc": str(msg.get("Cc", "")), "subject": str(msg.get("Subject", "")),
        "date": str(msg.get("Date", "")), "message_id": str(msg.get("Message-ID", "")),
        "text": body_text(msg), "has_html": bool(body_html(msg)),
        "attachments": [{"filename": a.filename, "content_type": a.content_type,
                         "size": len(a.data)} for a in attachments(msg)],
    }
