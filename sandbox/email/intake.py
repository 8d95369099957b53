"""From the mailbox to the văn thư: an official document that arrived attached to an e-mail
is registered as văn bản đến in the documents sandbox's register (NĐ 30/2020 Điều 22.1:
an unregistered document binds nobody), and a signed PDF is checked with the signing
sandbox's verifier (Điều 21.2.a: authenticity and integrity first).

Both use the other sandboxes' public API only: `Registry.register_incoming` and
`sandbox.signing.verify.verify_pdf`.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from kynangso.i18n import t
from sandbox.email import message as m
from sandbox.email.channels import secrecy_mark
from sandbox.email.message import MailError
from sandbox.email.rules import directory


def verify_attachment(msg: EmailMessage, filename: str, pki, profile: str = "administrative"):
    """The signing sandbox's verification report of one attached PDF (KnsError when the
    file is not a readable PDF)."""
    from sandbox.signing.verify import verify_pdf

    return verify_pdf(m.attachment(msg, filename).data, pki, name=filename, profile=profile)


def suggested_author(msg: EmailMessage) -> str:
    """The issuing organisation as the directory knows the sender's domain, else the
    sender's display name or address (the clerk checks it against the document)."""
    name, address = m.sender_address(msg)
    org = directory().org_of_domain(address.rpartition("@")[2])
    return org.name if org else (name or address)


def register_attachment(
    registry, org: str, actor, msg: EmailMessage, filename: str, *, symbol: str,
    doc_date: dt.date, type_name: str, subject: str, author: str | None = None,
    urgency: str = "thuong", recipient: str = "",
) -> dict:
    """Register the attached document as văn bản đến of `org` and return the register entry.

    The register's own checks apply (fields, duplicates, and the signature hook the registry
    was built with, e.g. `pdf_signature_verifier`); when it refuses, nothing is stored and
    the mailbox is untouched. A document marked secret is refused before anything: it must
    never have come by e-mail (channels.yaml, secret_never_email).
    """
    mark = secrecy_mark(msg)
    if mark:
        raise MailError("email.intake.secret", mark=mark[1])
    part = m.attachment(msg, filename)
    _, address = m.sender_address(msg)
    note = t("email.intake.note", sender=address, subject=str(msg.get("Subject", "")),
               date=str(msg.get("Date", "")), filename=filename)
    # An e-mail declares no hash of its attachment (liên thông does): the hash of the bytes
    # received is recorded, and the signature is what proves integrity.
    return registry.register_incoming(
        org, actor, author=author or suggested_author(msg), symbol=symbol, doc_date=doc_date,
        type_name=type_name, subject=subject, medium="electronic", urgency=urgency,
        content=part.data, declared_sha256=part.sha256, recipient=recipient, note=note,
    )
