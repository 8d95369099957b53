"""The signs that give a phishing or unsafe message away, each found by a rule function that
reads the message itself: headers, HTML links, attachments' names, types and bytes.

`inspect(msg, ctx)` runs every rule and returns the signs found (empty for a legitimate
message). Each `Sign` explains itself in Vietnamese (email.sign.<key>.explain, filled with
the evidence found) and names its source (rules/signs.yaml). Pure functions; the only
outside input is the `Context`: the mail directory and, to check signed PDFs, the training
PKI whose root is the trust anchor.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlsplit

from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.email import message as m
from sandbox.email.rules import Directory, directory, sign_source, sign_table

# Letters of other alphabets that look like Latin ones (the common subset of Unicode's
# confusables.txt that phishing domains use), and ASCII look-alikes.
CONFUSABLES = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i",
    "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ӏ": "l",
    "α": "a", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "ρ": "p", "ε": "e",
    "0": "o", "1": "l", "!": "i", "|": "l",
}
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_URLISH = re.compile(r"(?:https?://)?(?:[\w-]+\.)+[a-z\u00c0-\u024f\u0400-\u04ff]{2,}(?:[/:?#]\S*)?",
                     re.IGNORECASE)


@dataclass
class Context:
    """What the rules may consult besides the message."""

    directory: Directory = field(default_factory=directory)
    pki: object | None = None  # sandbox.signing.pki.TrainingPKI: trust anchor for PDFs


@dataclass(frozen=True)
class Sign:
    key: str
    evidence: dict

    @property
    def name(self) -> str:
        return t(f"email.sign.{self.key}.name")

    @property
    def explanation(self) -> str:
        return t(f"email.sign.{self.key}.explain", **self.evidence)

    @property
    def source(self) -> str:
        return sign_source(self.key)

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "explanation": self.explanation,
                "source": self.source, "evidence": dict(self.evidence)}


# -- domains ---------------------------------------------------------------------------------
def unicode_domain(domain: str) -> str:
    """The domain as a person would see it: each xn-- label decoded (RFC 3492)."""
    labels = []
    for label in (domain or "").lower().rstrip(".").split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                pass  # an undecodable label stays as it is (and is itself suspicious)
        labels.append(label)
    return ".".join(labels)


def skeleton(text: str) -> str:
    """What a domain looks like: no accents, confusable letters mapped to Latin, rn as m,
    and without dots and hyphens (so hanoi-gov.vn and hanoi.gov.vn look the same)."""
    s = unicodedata.normalize("NFKD", text.casefold())
    s = "".join(CONFUSABLES.get(c, c) for c in s if not unicodedata.combining(c))
    s = s.replace("rn", "m").replace("vv", "w").replace("đ", "d")
    return re.sub(r"[.\-_]", "", s)


def foreign_letters(text: str) -> list[str]:
    """Letters of the domain that are not Latin (Cyrillic, Greek, ...), with their names."""
    out = []
    for c in text:
        if c.isalpha() and not unicodedata.name(c, "").startswith("LATIN"):
            out.append(f"«{c}» ({unicodedata.name(c, '?').title()})")
    return out


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def imitated_domain(domain: str, d: Directory) -> str | None:
    """The known domain that `domain` imitates without being it, or None."""
    world = unicode_domain(d.world(domain))
    known = d.known_domains()
    if world in known:
        return None
    for k in known:
        if skeleton(world) == skeleton(k):
            return k
        if len(k) >= 8 and _distance(world, k) <= 2:
            return k
    if not d.is_official(world):
        for suffix in d.official_suffixes:
            # an official suffix inside a domain that is not official (hanoi.gov.vn.xyz.com,
            # dichvucong-gov-vn.net): the name claims a state body it does not belong to
            flat = skeleton(suffix)
            if flat in skeleton(world):
                for k in known:
                    head = k.split(".")[0]
                    if d.is_official(k) and head in world:
                        return k
                return suffix
    return None


def _sender_domain(msg: EmailMessage) -> str:
    return m.sender_address(msg)[1].rpartition("@")[2]


# -- rules -----------------------------------------------------------------------------------
def homoglyph_domain(msg: EmailMessage, ctx: Context) -> list[Sign]:
    domain = _sender_domain(msg)
    shown = unicode_domain(ctx.directory.world(domain))
    letters = foreign_letters(shown)
    if not letters:
        return []
    looks = next((k for k in ctx.directory.known_domains() if skeleton(k) == skeleton(shown)),
                 t("email.sign.unknown_domain"))
    return [Sign("homoglyph_domain", {"domain": domain, "shown": shown, "imitates": looks,
                                      "letters": ", ".join(letters)})]


def lookalike_domain(msg: EmailMessage, ctx: Context) -> list[Sign]:
    domain = _sender_domain(msg)
    if not domain or foreign_letters(unicode_domain(domain)):
        return []  # the homoglyph rule explains those
    target = imitated_domain(domain, ctx.directory)
    if target is None:
        return []
    return [Sign("lookalike_domain", {"domain": ctx.directory.world(domain),
                                      "imitates": target})]


def display_name_spoof(msg: EmailMessage, ctx: Context) -> list[Sign]:
    name, address = m.sender_address(msg)
    if not name:
        return []
    folded = unicodedata.normalize("NFC", name).casefold()
    inner = parseaddr(name)[1]
    if "@" in inner and inner.lower() != address:
        return [Sign("display_name_spoof", {"name": name, "address": address,
                                            "claims": inner})]
    world = ctx.directory.world(address.rpartition("@")[2])
    for org in ctx.directory.orgs:
        if ctx.directory.world(org.domain) == world:
            continue
        for alias in org.aliases:
            if alias.casefold() in folded:
                return [Sign("display_name_spoof", {"name": name, "address": address,
                                                    "claims": org.name})]
    return []


_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_FAILING = {"fail", "softfail", "permerror"}


def auth_fail(msg: EmailMessage, ctx: Context) -> list[Sign]:
    failed = []
    for header in msg.get_all("Authentication-Results") or []:
        text = str(header)
        authserv = text.split(";", 1)[0].strip().split()[0].lower() if text.strip() else ""
        if authserv != ctx.directory.mail_server.lower():
            continue  # RFC 8601 §5: only our own server's results can be trusted
        for method, result in _RESULT.findall(text):
            if result.lower() in _FAILING:
                failed.append(f"{method.upper()}={result.lower()}")
    if not failed:
        return []
    return [Sign("auth_fail", {"results": ", ".join(dict.fromkeys(failed)),
                               "server": ctx.directory.mail_server})]


def _host(url: str) -> str:
    url = url.strip()
    if url.lower().startswith("mailto:"):
        return url[7:].partition("@")[2].partition("?")[0].lower()
    if "://" not in url:
        url = "http://" + url
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def link_mismatch(msg: EmailMessage, ctx: Context) -> list[Sign]:
    found = []
    for link in m.links(msg):
        shown = _URLISH.search(link.text)
        if not shown:
            continue  # "Bấm vào đây" says nowhere it goes: nothing to compare
        seen, real = _host(shown.group(0)), _host(link.href)
        if not real or ctx.directory.world(seen) == ctx.directory.world(real):
            continue
        found.append(Sign("link_mismatch", {"text": link.text, "href": link.href,
                                            "shown_host": ctx.directory.world(seen),
                                            "real_host": unicode_domain(real)}))
    return found


def _extensions(filename: str) -> list[str]:
    # Windows drops trailing dots and spaces; bidi controls only change how a name is shown
    name = filename.translate(BIDI_CONTROLS).strip().rstrip(". ").lower()
    return [p.strip() for p in name.split(".")[1:]]


def executable_attachment(msg: EmailMessage, ctx: Context) -> list[Sign]:
    table = sign_table()
    found = []
    for a in m.attachments(msg):
        exts = _extensions(a.filename)
        if not exts or exts[-1] not in table["executable_extensions"]:
            continue
        disguise = exts[-2] if len(exts) > 1 and exts[-2] in table["document_extensions"] \
            else None
        bidi = a.filename != a.filename.translate(BIDI_CONTROLS)
        how = t("email.sign.double_extension", ext=disguise) if disguise else (
            t("email.sign.bidi_name") if bidi else t("email.sign.plain_executable"))
        found.append(Sign("executable_attachment", {"filename": a.filename, "ext": exts[-1],
                                                    "how": how}))
    return found


def _has_vba(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(n.lower().endswith("vbaproject.bin") for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def macro_attachment(msg: EmailMessage, ctx: Context) -> list[Sign]:
    macro = sign_table()["macro_extensions"]
    found = []
    for a in m.attachments(msg):
        exts = _extensions(a.filename)
        if (exts and exts[-1] in macro) or _has_vba(a.data):
            found.append(Sign("macro_attachment", {"filename": a.filename}))
    return found


def magic_kind(data: bytes) -> str | None:
    """What the bytes are (pdf, executable, zip, ...) from their first bytes."""
    best = None
    for row in sign_table()["magic"]:
        sig = bytes.fromhex(row["hex"])
        if data.startswith(sig) and (best is None or len(sig) > len(best[1])):
            best = (row["kind"], sig)
    return best[0] if best else None


def type_mismatch(msg: EmailMessage, ctx: Context) -> list[Sign]:
    table = sign_table()
    found = []
    for a in m.attachments(msg):
        actual = magic_kind(a.data)
        if actual is None:
            continue
        exts = _extensions(a.filename)
        ext = exts[-1] if exts else ""
        by_name = {r["kind"] for r in table["magic"] if ext in r["extensions"]}
        declared = table["content_types"].get(a.content_type)
        if (by_name and actual not in by_name) or (declared and declared != actual):
            found.append(Sign("type_mismatch", {
                "filename": a.filename, "declared": a.content_type,
                "actual": t(f"email.kind.{actual}"),
            }))
    return found


def _text(msg: EmailMessage) -> str:
    return unicodedata.normalize("NFC", f"{msg.get('Subject', '')}\n{m.body_text(msg)}") \
        .casefold()


def _pattern_sign(msg: EmailMessage, key: str, table_key: str) -> list[Sign]:
    text = _text(msg)
    for pattern in sign_table()[table_key]:
        hit = re.search(pattern, text)
        if hit:
            return [Sign(key, {"quote": hit.group(0).strip()})]
    return []


def credential_request(msg: EmailMessage, ctx: Context) -> list[Sign]:
    return _pattern_sign(msg, "credential_request", "credential_patterns")


def payment_request(msg: EmailMessage, ctx: Context) -> list[Sign]:
    return _pattern_sign(msg, "payment_request", "payment_patterns")


def tampered_signature(msg: EmailMessage, ctx: Context) -> list[Sign]:
    if ctx.pki is None:
        return []  # no trust anchor: signatures are not judged here
    from sandbox.signing.verify import verify_pdf

    found = []
    for a in m.attachments(msg):
        if magic_kind(a.data) != "pdf":
            continue
        try:
            report = verify_pdf(a.data, ctx.pki, name=a.filename, profile="administrative")
        except KnsError as exc:
            found.append(Sign("tampered_signature", {"filename": a.filename,
                                                     "failed": exc.user_message}))
            continue
        if report.signatures and not report.ok:
            failed = [c.message for c in report.checks if not c.ok]
            found.append(Sign("tampered_signature", {"filename": a.filename,
                                                     "failed": " ".join(failed)}))
    return found


Rule = Callable[[EmailMessage, Context], list[Sign]]
RULES: dict[str, Rule] = {
    "homoglyph_domain": homoglyph_domain,
    "lookalike_domain": lookalike_domain,
    "display_name_spoof": display_name_spoof,
    "auth_fail": auth_fail,
    "link_mismatch": link_mismatch,
    "executable_attachment": executable_attachment,
    "macro_attachment": macro_attachment,
    "type_mismatch": type_mismatch,
    "credential_request": credential_request,
    "payment_request": payment_request,
    "tampered_signature": tampered_signature,
}


def inspect(msg: EmailMessage, ctx: Context | None = None) -> list[Sign]:
    """Every sign found in `msg`, in the order of the rules; [] for a legitimate message."""
    ctx = ctx or Context()
    return [s for rule in RULES.values() for s in rule(msg, ctx)]


def sign_keys(msg: EmailMessage, ctx: Context | None = None) -> set[str]:
    return {s.key for s in inspect(msg, ctx)}
