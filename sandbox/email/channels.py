"""What must not go by e-mail: the channel a piece of work must travel by, from the rule
table rules/channels.yaml (each rule with its legal sources and their status).

`decide(Situation)` is pure: every rule whose conditions match gives a reason; the channel
is the strictest among them and e-mail is allowed only if every matching rule allows it.
`situation_of(msg)` reads the facts off a message (a secrecy mark, a số/ký hiệu of an
administrative document, the sender's mailbox) for a widget that asks "may this go?".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from email.message import EmailMessage

from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.email import message as m
from sandbox.email.rules import channel_rules, directory

KINDS = ("official_document", "received_official_document", "working_exchange",
         "personal_data")
SECRECY = ("none", "mat", "toi_mat", "tuyet_mat")
MAILBOXES = ("work", "personal")


@dataclass(frozen=True)
class Situation:
    kind: str
    secrecy: str = "none"
    mailbox: str = "work"

    def __post_init__(self):
        for fact, value, allowed in (("kind", self.kind, KINDS),
                                     ("secrecy", self.secrecy, SECRECY),
                                     ("mailbox", self.mailbox, MAILBOXES)):
            if value not in allowed:
                raise KnsError("email.channel.bad_fact", fact=fact, value=value,
                               allowed=", ".join(allowed))


@dataclass(frozen=True)
class Source:
    text: str
    status: str  # V, V2, U, I (shared/domain/README.md §0)

    @property
    def status_label(self) -> str:
        return t(f"email.channel.status_{self.status}")


@dataclass(frozen=True)
class Reason:
    key: str
    channel: str
    email_allowed: bool
    sources: tuple[Source, ...]

    @property
    def text(self) -> str:
        return t(f"email.channel_rule.{self.key}")


@dataclass(frozen=True)
class Decision:
    channel: str
    email_allowed: bool
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def channel_label(self) -> str:
        return t(f"email.channel.{self.channel}")

    @property
    def summary(self) -> str:
        return t("email.cli.decision", channel=self.channel_label,
                 allowed=t("email.channel.allowed" if self.email_allowed
                           else "email.channel.not_allowed"))

    def as_dict(self) -> dict:
        return {
            "channel": self.channel, "channel_label": self.channel_label,
            "email_allowed": self.email_allowed, "summary": self.summary,
            "reasons": [{"key": r.key, "text": r.text, "channel": r.channel,
                         "email_allowed": r.email_allowed,
                         "sources": [{"text": s.text, "status": s.status,
                                      "status_label": s.status_label} for s in r.sources]}
                        for r in self.reasons],
        }


def _matches(when: dict, s: Situation) -> bool:
    facts = {"kind": s.kind, "secrecy": s.secrecy, "mailbox": s.mailbox}
    return all(facts[name] in values for name, values in when.items())


def decide(situation: Situation) -> Decision:
    table = channel_rules()
    order = table["channels"]
    reasons = tuple(
        Reason(r["key"], r["channel"], r["email_allowed"],
               tuple(Source(x["text"], x["status"]) for x in r["sources"]))
        for r in table["rules"] if _matches(r["when"], situation)
    )
    if not reasons:  # no rule speaks: the least strict channel, work mail
        return Decision(order[0], situation.mailbox == "work", ())
    channel = max((r.channel for r in reasons), key=order.index)
    return Decision(channel, all(r.email_allowed for r in reasons), reasons)


# -- reading the facts off a message ---------------------------------------------------------
_SECRECY_MARKS = (("tuyet_mat", "TUYỆT MẬT"), ("toi_mat", "TỐI MẬT"), ("mat", "MẬT"))
_SYMBOL = re.compile(r"\b\d{1,5}/[A-ZĐ][A-Za-zĐđ]*(?:-[A-ZĐ0-9][A-Za-zĐđ0-9]*)+\b")


def secrecy_mark(msg: EmailMessage) -> tuple[str, str] | None:
    """(key, mark) when the subject or an attachment's name carries a secrecy stamp word in
    capitals (PL I Mục III.2.a: TUYỆT MẬT, TỐI MẬT, MẬT), else None."""
    names = [a.filename for a in m.attachments(msg)]
    for text in [str(msg.get("Subject", "")), *names]:
        text = unicodedata.normalize("NFC", text.replace("-", " ").replace("_", " "))
        for key, mark in _SECRECY_MARKS:
            if re.search(rf"(?<![\w]){mark}(?![\w])", text):
                return key, mark
    return None


def official_symbol(msg: EmailMessage) -> str | None:
    """A số, ký hiệu of an administrative document named in the subject or text, if any
    (checked with the documents sandbox's parser)."""
    from sandbox.documents.symbol import SymbolError, parse_symbol

    for text in (str(msg.get("Subject", "")), m.body_text(msg)):
        for found in _SYMBOL.findall(unicodedata.normalize("NFC", text)):
            try:
                parse_symbol(found)
            except SymbolError:
                continue
            return found
    return None


def situation_of(msg: EmailMessage, *, received: bool = True) -> Situation:
    """The facts of a message: received (in an inbox) or about to be sent."""
    d = directory()
    secrecy = secrecy_mark(msg)
    _, address = m.sender_address(msg)
    personal = d.is_public_webmail(address.rpartition("@")[2])
    if official_symbol(msg) and m.attachments(msg):
        kind = "received_official_document" if received else "official_document"
    else:
        kind = "working_exchange"
    return Situation(kind, secrecy[0] if secrecy else "none",
                     "personal" if personal and not received else "work")
