"""Rule tables of the e-mail sandbox as data: the mail directory, the signs of phishing and
the channel rules (what may go by e-mail). Loaded once, NFC-normalised."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from kynangso.i18n import nfc


@cache
def load(name: str) -> dict:
    text = (resources.files("sandbox.email") / "rules" / name).read_text(encoding="utf-8")
    return nfc(yaml.safe_load(text))


@dataclass(frozen=True)
class Mailbox:
    address: str
    name: str
    org: str          # organisation code (UBND, SNV...) or outside key (portal, citizens...)
    role: str | None


@dataclass(frozen=True)
class Org:
    key: str          # code for the register's organisations, key for outside senders
    name: str
    domain: str
    aliases: tuple[str, ...]
    mailboxes: tuple[Mailbox, ...]
    registered: bool  # also an organisation of the documents sandbox's register


@dataclass(frozen=True)
class Directory:
    suffix: str
    home: str
    mail_server: str
    official_suffixes: tuple[str, ...]
    public_webmail: tuple[str, ...]
    orgs: tuple[Org, ...]

    def world(self, domain: str) -> str:
        """The domain without the sandbox's reserved suffix (badinh.hanoi.gov.vn.example ->
        badinh.hanoi.gov.vn); rules judge this form."""
        d = (domain or "").strip().rstrip(".").lower()
        tail = "." + self.suffix
        return d[: -len(tail)] if d.endswith(tail) else d

    def org(self, key: str) -> Org:
        for o in self.orgs:
            if o.key == key:
                return o
        raise KeyError(key)

    def org_of_domain(self, domain: str) -> Org | None:
        d = self.world(domain)
        for o in self.orgs:
            if self.world(o.domain) == d:
                return o
        return None

    def mailbox(self, address: str) -> Mailbox | None:
        wanted = (address or "").lower()
        for o in self.orgs:
            for m in o.mailboxes:
                if m.address == wanted:
                    return m
        return None

    def all_mailboxes(self) -> list[Mailbox]:
        return [m for o in self.orgs for m in o.mailboxes]

    def is_official(self, domain: str) -> bool:
        d = self.world(domain)
        return any(d == s or d.endswith("." + s) for s in self.official_suffixes)

    def is_public_webmail(self, domain: str) -> bool:
        return self.world(domain) in self.public_webmail

    def known_domains(self) -> list[str]:
        """World domains a look-alike would imitate: the directory's and the webmail ones."""
        return sorted({self.world(o.domain) for o in self.orgs} | set(self.public_webmail))


@cache
def directory() -> Directory:
    data = load("directory.yaml")
    orgs = []
    for section, registered in (("organisations", True), ("outside", False)):
        for row in data[section]:
            key = row["code"] if registered else row["key"]
            boxes = tuple(
                Mailbox(f"{m['local']}@{row['domain']}".lower(), m["name"], key, m.get("role"))
                for m in row["mailboxes"]
            )
            orgs.append(Org(key, row["name"], row["domain"].lower(), tuple(row["aliases"]),
                            boxes, registered))
    return Directory(
        suffix=data["sandbox_suffix"], home=data["home"], mail_server=data["mail_server"],
        official_suffixes=tuple(data["official_suffixes"]),
        public_webmail=tuple(data["public_webmail"]), orgs=tuple(orgs),
    )


def sign_table() -> dict:
    """signs.yaml: sign keys with sources, extension lists, magic bytes, text patterns."""
    return load("signs.yaml")


def sign_source(key: str) -> str:
    for row in load("signs.yaml")["signs"]:
        if row["key"] == key:
            return row["source"]
    raise KeyError(key)


def sign_keys() -> list[str]:
    return [row["key"] for row in load("signs.yaml")["signs"]]


def channel_rules() -> dict:
    """channels.yaml: the channel order and the rules with their sources."""
    return load("channels.yaml")
