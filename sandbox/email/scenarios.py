"""Seeded phishing and safe-use scenarios: a learner's inbox of legitimate and unsafe messages.

`generate(seed, learner)` is reproducible: the same (seed, learner) gives the same messages
(byte for byte, apart from signed PDFs, whose signatures are randomised). The *plan* (which
kinds of message, how many of each) depends on the seed only, so every learner of a course
or exam gets a different but equivalent inbox: the same mix, with other senders, domains,
file names, numbers and order.

Every unsafe kind plants signs that `signs.inspect` finds in the message itself; the
expected signs (`EXPECTED`) are the answer key for graders and tests, never what the
widget judges by. Legitimate kinds must show no sign at all. The two kinds with signed PDFs
(`signed_document`, `tampered_pdf`) need the training PKI that makes and checks them.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from functools import cache
from importlib import resources
from xml.sax.saxutils import escape

import yaml

from kynangso.i18n import nfc, t
from sandbox.email import message as m
from sandbox.email.rules import directory
from sandbox.email.signs import Context, inspect

LEGITIMATE = ("internal_meeting", "citizen_question", "portal_notice", "colleague_draft",
              "signed_document")
PHISHING = ("homoglyph_sender", "lookalike_sender", "display_name", "auth_fail",
            "link_mismatch", "executable", "macro", "type_mismatch", "credentials", "payment",
            "tampered_pdf")
NEEDS_PKI = frozenset({"signed_document", "tampered_pdf"})
EXPECTED: dict[str, tuple[str, ...]] = {
    **{k: () for k in LEGITIMATE},
    "homoglyph_sender": ("homoglyph_domain", "display_name_spoof"),
    "lookalike_sender": ("lookalike_domain",),
    "display_name": ("display_name_spoof",),
    "auth_fail": ("auth_fail",),
    "link_mismatch": ("link_mismatch",),
    "executable": ("executable_attachment",),
    "macro": ("macro_attachment",),
    "type_mismatch": ("type_mismatch",),
    "credentials": ("credential_request",),
    "payment": ("payment_request",),
    "tampered_pdf": ("tampered_signature",),
}
# One letter of a domain label replaced by its Cyrillic twin (homoglyph_sender).
CYRILLIC = {"a": "а", "o": "о", "e": "е", "c": "с", "p": "р", "i": "і"}
FAKE_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + \
    b"This program cannot be run in DOS mode. (tep mo phong, khong chay duoc)\r\n"
_PASS = "kich-ban-thu-dien-tu"  # throwaway scenario keys: one fixed passphrase suffices


@cache
def _texts() -> dict:
    raw = (resources.files("sandbox.email") / "data" / "messages.yaml").read_text("utf-8")
    return nfc(yaml.safe_load(raw))


@dataclass
class ScenarioMessage:
    ref: str
    kind: str
    message: EmailMessage

    @property
    def verdict(self) -> str:
        return "legitimate" if self.kind in LEGITIMATE else "phishing"

    @property
    def expected_signs(self) -> tuple[str, ...]:
        return EXPECTED[self.kind]

    @property
    def explanation_keys(self) -> list[str]:
        """Catalogue keys that explain the right judgement (the widget fills them in from
        `signs.inspect`, which has the evidence)."""
        if not self.expected_signs:
            return ["email.verdict.no_sign"]
        return [f"email.sign.{k}.explain" for k in self.expected_signs]

    def as_dict(self, with_answers: bool = False) -> dict:
        data = {"ref": self.ref, **m.summary(self.message)}
        if with_answers:
            data |= {"kind": self.kind, "verdict": self.verdict,
                     "expected_signs": list(self.expected_signs),
                     "explanation_keys": self.explanation_keys}
        return data


@dataclass
class Scenario:
    seed: int | str
    learner: str
    recipient: str
    messages: list[ScenarioMessage] = field(default_factory=list)

    def mix(self) -> Counter:
        """How many messages of each kind (equal for every learner of one seed)."""
        return Counter(sm.kind for sm in self.messages)

    def answer_key(self) -> list[dict]:
        return [sm.as_dict(with_answers=True) | {"message_id": str(sm.message["Message-ID"])}
                for sm in self.messages]


def plan(seed: int | str, n: int = 12, signed: bool = False) -> list[str]:
    """The kinds of a set, seed-only: half unsafe (every kind before any repeats), half
    legitimate. `signed` adds the kinds that need the PKI."""
    rng = random.Random(f"email-plan|{seed}")
    unsafe = [k for k in PHISHING if signed or k not in NEEDS_PKI]
    legit = [k for k in LEGITIMATE if signed or k not in NEEDS_PKI]
    rng.shuffle(unsafe)
    rng.shuffle(legit)
    n_unsafe = (n + 1) // 2
    kinds = [unsafe[i % len(unsafe)] for i in range(n_unsafe)]
    kinds += [legit[i % len(legit)] for i in range(n - n_unsafe)]
    return sorted(kinds)


# -- helpers ---------------------------------------------------------------------------------
class _Draw:
    """The learner's seeded draws and the facts every message of the set shares."""

    def __init__(self, rng: random.Random, start: dt.datetime, recipient: str):
        self.rng, self.start, self.recipient = rng, start, recipient
        self.d = directory()
        self.tx = _texts()

    def choice(self, seq):
        return self.rng.choice(list(seq))

    def when(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.rng.randrange(0, 14 * 24 * 60))

    def msgid(self, domain: str) -> str:
        return f"<{self.rng.getrandbits(64):016x}.{self.rng.getrandbits(32):08x}@{domain}>"

    def params(self) -> dict:
        day = self.start.date() + dt.timedelta(days=self.rng.randrange(1, 10))
        number = self.rng.randrange(12, 980)
        return {
            "day": day.strftime("%d/%m/%Y"), "week": day.isocalendar().week,
            "month": day.month, "hour": self.rng.choice([9, 10, 14, 15, 16]),
            "hours": self.rng.choice([12, 24, 48]), "number": number,
            "topic": self.choice(self.tx["topics"]),
            "procedure": self.choice(self.tx["procedures"]),
            "person_name": self.choice(self.tx["people"]),
            "code": f"H{self.rng.randrange(10**10, 10**11)}",
            "amount": self.rng.choice([15, 28, 35, 47, 60]),
            "account": "".join(str(self.rng.randrange(10)) for _ in range(12)),
            "bank": self.choice(self.tx["banks"]),
            "symbol": f"{number:02d}/SNV-CCVC",
        }

    def auth(self, domain: str, spf: str = "pass", dkim: str = "pass",
             dmarc: str = "pass") -> dict:
        return {"Authentication-Results":
                f"{self.d.mail_server}; spf={spf} smtp.mailfrom={domain}; "
                f"dkim={dkim} header.d={domain}; dmarc={dmarc} header.from={domain}"}

    def compose(self, kind: str, sender: str, p: dict, *, text: str | None = None,
                html: str | None = None, attachments=(), headers=None) -> EmailMessage:
        tx = self.tx[kind]
        subject = self.choice(tx["subject"]).format(**p)
        body = text if text is not None else tx["text"]
        domain = sender.rpartition("@")[2].rstrip(">")
        msg = m.compose(sender, self.recipient, subject, body.format(**p),
                        html.format(**p) if html else None, attachments=attachments,
                        date=self.when(), message_id=self.msgid(domain),
                        headers=headers or self.auth(domain))
        for part in msg.walk():  # seeded boundaries: the same seed gives the same bytes
            if part.is_multipart():
                part.set_boundary(f"==kns-{self.rng.getrandbits(64):016x}")
        return msg


def _addr(name: str, address: str) -> str:
    local, _, domain = address.partition("@")
    return str(Address(display_name=name, username=local, domain=domain))


def _zip(members: dict[str, bytes]) -> bytes:
    """A zip with fixed timestamps (the same seed gives the same bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def docx(paragraphs: list[str], macro: bool = False) -> bytes:
    """A minimal Word document (opens in Word and LibreOffice); `macro` adds a VBA part as
    a macro-enabled document carries."""
    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(p)}</w:t></w:r></w:p>"
                   for p in paragraphs)
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    main = ("application/vnd.ms-word.document.macroEnabled.main+xml" if macro else
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
            'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
        ).encode(),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
            b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (f'<?xml version="1.0" encoding="UTF-8"?><w:document '
                              f'xmlns:w="{ns}"><w:body>{body}</w:body></w:document>').encode(),
    }
    if macro:
        members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56
    return _zip(members)


def _org_mailbox(draw: _Draw, key: str, local: str) -> tuple[str, str]:
    org = draw.d.org(key)
    box = next(b for b in org.mailboxes if b.address.startswith(local + "@"))
    return box.name, box.address


# -- the kinds -------------------------------------------------------------------------------
def _internal_meeting(draw: _Draw, p: dict, pki) -> EmailMessage:
    name, addr = _org_mailbox(draw, "UBND", "vanphong")
    p["url"] = f"https://vanban.{draw.d.org('UBND').domain}/lich-hop/{p['number']}"
    return draw.compose("internal_meeting", _addr(name, addr), p,
                        html=draw.tx["internal_meeting"]["html"])


def _citizen_question(draw: _Draw, p: dict, pki) -> EmailMessage:
    box = draw.choice(draw.d.org("citizens").mailboxes)
    p["person_name"] = box.name
    return draw.compose("citizen_question", _addr(box.name, box.address), p)


def _portal_notice(draw: _Draw, p: dict, pki) -> EmailMessage:
    name, addr = _org_mailbox(draw, "portal", "thongbao")
    p["url"] = f"https://{draw.d.org('portal').domain}/tra-cuu?ma={p['code']}"
    return draw.compose("portal_notice", _addr(name, addr), p,
                        html=draw.tx["portal_notice"]["html"])


def _colleague_draft(draw: _Draw, p: dict, pki) -> EmailMessage:
    name, addr = _org_mailbox(draw, "SNV", "phongccvc")
    data = docx([f"DỰ THẢO: {p['topic']}", "Nội dung dự thảo để góp ý (tài liệu thực hành)."])
    ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return draw.compose("colleague_draft", _addr(name, addr), p,
                        attachments=[(f"Du-thao-{p['number']}.docx", data, ctype)])


def signed_pdf(pki, sender: str, symbol: str, subject: str, signer: tuple[str, str],
               tag: str, signed_at: dt.datetime) -> bytes:
    """A PDF signed by its competent person and then its organisation with the training PKI
    (the signing sandbox's own code), as an incoming văn bản điện tử would be."""
    import copy

    from sandbox.signing import sample, sign
    from sandbox.signing.pki import Subject

    def at(when):
        other = copy.copy(pki)  # same CA and registry, another clock (as signing.scenarios)
        other.clock = lambda: when
        return other

    province = "Thành phố Hà Nội"
    issued = signed_at - dt.timedelta(days=30)
    person = at(issued).issue(Subject(signer[0], sender, province, title=signer[1]), _PASS,
                              account=f"thu-{tag}-ca-nhan")
    office = at(issued).issue(Subject(sender, sender, province), _PASS,
                              account=f"thu-{tag}-co-quan", kind="organisation")
    pdf = sample.make_document(organisation=sender, number=symbol, subject=subject,
                               signer_title=signer[1], signer_name=signer[0])
    pdf = sign.sign_personal(pdf, sign.load_key(person.key_path, _PASS, at(signed_at)),
                             at(signed_at))
    later = signed_at + dt.timedelta(minutes=10)
    pdf = sign.sign_organisation(pdf, sign.load_key(office.key_path, _PASS, at(later)),
                                 at(later))
    pki.publish_crl()  # a CRL of today's, so the two new certificates' status can be checked
    return pdf


def _signed(draw: _Draw, p: dict, pki, kind: str) -> EmailMessage:
    from sandbox.signing import tamper

    name, addr = _org_mailbox(draw, "SNV", "vanthu")
    tag = f"{draw.rng.getrandbits(40):010x}"
    signer = (draw.choice(draw.tx["people"]), "Phó Giám đốc")
    signed_at = pki.clock() - dt.timedelta(days=2)
    pdf = signed_pdf(pki, draw.d.org("SNV").name, p["symbol"], p["topic"], signer, tag,
                     signed_at)
    if kind == "tampered_pdf":
        pdf = draw.choice([tamper.change_byte, tamper.add_page])(pdf)
    filename = f"{p['symbol'].replace('/', '-')}.pdf"
    return draw.compose(kind, _addr(name, addr), p,
                        attachments=[(filename, pdf, "application/pdf")])


def _homoglyph_sender(draw: _Draw, p: dict, pki) -> EmailMessage:
    org = draw.d.org(draw.choice(["UBND", "SNV", "portal"]))
    world = draw.d.world(org.domain)
    head, _, rest = world.partition(".")
    spots = [i for i, c in enumerate(head) if c in CYRILLIC]
    i = draw.choice(spots)
    fake = head[:i] + CYRILLIC[head[i]] + head[i + 1:]
    domain = f"xn--{fake.encode('punycode').decode('ascii')}.{rest}.{draw.d.suffix}"
    box = org.mailboxes[0]
    return draw.compose("homoglyph_sender", _addr(box.name, f"{box.address.split('@')[0]}@{domain}"),
                        p)


def _lookalike_sender(draw: _Draw, p: dict, pki) -> EmailMessage:
    org = draw.d.org(draw.choice(["UBND", "SNV", "treasury"]))
    world = draw.d.world(org.domain)
    head, _, rest = world.partition(".")
    i = draw.rng.randrange(1, len(head) - 1)
    variants = [
        f"{head[:i]}{head[i + 1]}{head[i]}{head[i + 2:]}.{rest}",  # two letters swapped
        world.replace(".", "-", world.count(".") - 1),             # dots turned into hyphens
        f"{world}.{draw.choice(['thongbao-mail.com', 'secure-login.net', 'vn-mail.org'])}",
    ]
    domain = f"{draw.choice(variants)}.{draw.d.suffix}"
    p["url"] = f"https://{domain}/tai-lieu/{p['number']}"
    return draw.compose("lookalike_sender", _addr(p["person_name"], f"tailieu@{domain}"), p,
                        html=draw.tx["lookalike_sender"]["html"])


def _display_name(draw: _Draw, p: dict, pki) -> EmailMessage:
    webmail = draw.choice(["gmail.com", "yahoo.com", "outlook.com"])
    local = f"{draw.choice(['chutich', 'lanhdao', 'vanphong'])}.{draw.rng.randrange(100, 999)}"
    addr = f"{local}@{webmail}.{draw.d.suffix}"
    if draw.rng.random() < 0.5:
        name = draw.choice(["Chủ tịch UBND phường Ba Đình", "Văn phòng HĐND và UBND phường Ba Đình"])
    else:
        name = draw.choice(draw.d.org("UBND").mailboxes).address  # an address as the name
    return draw.compose("display_name", _addr(name, addr), p)


def _auth_fail(draw: _Draw, p: dict, pki) -> EmailMessage:
    name, addr = _org_mailbox(draw, "SNV", "vanthu")
    domain = addr.partition("@")[2]
    msg = draw.compose("auth_fail", _addr(name, addr), p, headers=draw.auth(
        domain, spf=draw.choice(["fail", "softfail"]), dkim=draw.choice(["fail", "none"]),
        dmarc="fail"))
    if draw.rng.random() < 0.5:
        # a forged "pass" from a server that is not ours: RFC 8601 says to ignore it
        msg["Authentication-Results"] = f"mail.{domain}; spf=pass; dkim=pass; dmarc=pass"
    return msg


def _link_mismatch(draw: _Draw, p: dict, pki) -> EmailMessage:
    portal = draw.d.org("portal").domain
    p["shown"] = f"https://{portal}/dang-nhap"
    evil = draw.choice(["dichvucong-gov-vn.xacminh-taikhoan.net", "dvc-xacthuc.com",
                        "taikhoan-dichvucong.online"])
    p["href"] = f"http://{evil}.{draw.d.suffix}/dang-nhap?id={p['number']}"
    domain = f"{draw.choice(['thongbao-he-thong.net', 'canhbao-taikhoan.com'])}.{draw.d.suffix}"
    return draw.compose("link_mismatch", _addr("Thông báo hệ thống", f"no-reply@{domain}"), p,
                        html=draw.tx["link_mismatch"]["html"])


def _outside_sender(draw: _Draw, name: str) -> str:
    local = draw.choice(["hanhchinh", "tonghop", "ketoan", "bantochuc"])
    domain = draw.choice(["gmail.com", "yahoo.com", "hoinghi-taphuan.vn", "sukien-2026.com"])
    return _addr(name, f"{local}{draw.rng.randrange(10, 99)}@{domain}.{draw.d.suffix}")


def _executable(draw: _Draw, p: dict, pki) -> EmailMessage:
    filename = draw.choice(draw.tx["executable"]["files"]).format(**p)
    data = b"WScript.Echo('tep mo phong');\r\n" if filename.endswith(".js") else FAKE_EXE
    return draw.compose("executable", _outside_sender(draw, "Phòng Hành chính - Tổng hợp"), p,
                        attachments=[(filename, data, "application/octet-stream")])


def _macro(draw: _Draw, p: dict, pki) -> EmailMessage:
    filename = draw.choice(draw.tx["macro"]["files"]).format(**p)
    ctype = {"docm": "application/vnd.ms-word.document.macroEnabled.12",
             "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             }[filename.rsplit(".", 1)[1]]
    data = docx(["Kế hoạch tổ chức hội nghị (tài liệu thực hành)."], macro=True)
    return draw.compose("macro", _outside_sender(draw, "Ban tổ chức hội nghị"), p,
                        attachments=[(filename, data, ctype)])


def _type_mismatch(draw: _Draw, p: dict, pki) -> EmailMessage:
    filename = draw.choice(draw.tx["type_mismatch"]["files"]).format(**p)
    ctype = "application/pdf" if filename.endswith(".pdf") else "image/jpeg"
    return draw.compose("type_mismatch", _outside_sender(draw, "Bộ phận Văn thư"), p,
                        attachments=[(filename, FAKE_EXE, ctype)])


def _credentials(draw: _Draw, p: dict, pki) -> EmailMessage:
    domain = f"{draw.choice(['hopthu-quantri.com', 'mail-nangcap.net'])}.{draw.d.suffix}"
    return draw.compose("credentials", _addr("Bộ phận quản trị hộp thư", f"quantri@{domain}"),
                        p, text=draw.choice(draw.tx["credentials"]["text"]))


def _payment(draw: _Draw, p: dict, pki) -> EmailMessage:
    person = draw.choice(draw.tx["people"])
    addr = f"{draw.choice(['anh.lanhdao', 'ld.phuong', 'vanphong.ld'])}" \
           f"{draw.rng.randrange(10, 99)}@{draw.choice(['gmail.com', 'yahoo.com'])}.{draw.d.suffix}"
    return draw.compose("payment", _addr(person, addr), p,
                        text=draw.choice(draw.tx["payment"]["text"]))


MAKERS = {
    "internal_meeting": _internal_meeting, "citizen_question": _citizen_question,
    "portal_notice": _portal_notice, "colleague_draft": _colleague_draft,
    "signed_document": lambda d, p, pki: _signed(d, p, pki, "signed_document"),
    "homoglyph_sender": _homoglyph_sender, "lookalike_sender": _lookalike_sender,
    "display_name": _display_name, "auth_fail": _auth_fail, "link_mismatch": _link_mismatch,
    "executable": _executable, "macro": _macro, "type_mismatch": _type_mismatch,
    "credentials": _credentials, "payment": _payment,
    "tampered_pdf": lambda d, p, pki: _signed(d, p, pki, "tampered_pdf"),
}


def generate(seed: int | str, learner: str = "", *, n: int = 12, pki=None,
             recipient: str | None = None,
             start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=m.VN_TZ)) -> Scenario:
    """The inbox of `learner`: `n` messages to `recipient` (default: the home office's văn
    thư), received over two weeks from `start`. With `pki` (a TrainingPKI, run by the
    operator: it issues the senders' certificates) the signed-PDF kinds are included."""
    d = directory()
    recipient = recipient or next(b.address for b in d.org(d.home).mailboxes
                                  if b.role == "van_thu")
    kinds = plan(seed, n, signed=pki is not None)
    rng = random.Random(f"email|{seed}|{learner}")
    rng.shuffle(kinds)
    draw = _Draw(rng, start, recipient)
    made = [(kind, MAKERS[kind](draw, draw.params(), pki)) for kind in kinds]
    made.sort(key=lambda km: km[1]["Date"].datetime)
    messages = [ScenarioMessage(f"T{i:02d}", kind, msg) for i, (kind, msg) in enumerate(made, 1)]
    return Scenario(seed, learner, recipient, messages)


def deliver(store, scenario: Scenario) -> list[str]:
    """Put the scenario's messages into the recipient's inbox (creating the mailbox)."""
    store.create(scenario.recipient)
    return [store.deliver(scenario.recipient, sm.message) for sm in scenario.messages]


def judge(msg: EmailMessage, answer: str, ctx: Context | None = None) -> dict:
    """Feedback on a learner's judgement of one message, from the message itself: correct or
    not, and every sign found with its Vietnamese explanation and source."""
    if answer not in ("phishing", "legitimate"):
        from sandbox.email.message import MailError

        raise MailError("email.verdict.bad_answer", answer=answer)
    found = inspect(msg, ctx)
    truth = "phishing" if found else "legitimate"
    if answer == truth:
        headline = t("email.verdict.correct")
    else:
        headline = t(f"email.verdict.wrong_{truth}")
    return {
        "correct": answer == truth, "verdict": truth,
        "verdict_label": t(f"email.verdict.{truth}"), "headline": headline,
        "signs": [s.as_dict() for s in found],
        "explanation": [s.explanation for s in found] or [t("email.verdict.no_sign")],
    }
