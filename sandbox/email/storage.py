"""Mailboxes of the simulated office, kept as Maildirs in the learner's home.

Why Maildir (Python's `mailbox`), not the documents sandbox's SQLite file: mail needs no
numbering counter or audit chain, and a Maildir delivers each message as its own file
written in `tmp/` and renamed into `new/`, so a kernel killed mid-delivery leaves no torn
message and no lock to clear; any mail program (and `mailbox.Maildir`) can open the folders,
and a message is a plain .eml a learner can download. Folders are Maildir++ sub-folders
(".Sent", ...) of one Maildir per address under `~/.kynangso/mail/<address>/`.
"""

from __future__ import annotations

import logging
import mailbox
import os
from email.message import EmailMessage
from pathlib import Path

from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.email import message as m
from sandbox.email.message import MailError

log = logging.getLogger(__name__)

INBOX = "inbox"
FOLDERS = (INBOX, "sent", "drafts", "archive", "junk", "trash")  # labels: email.folder.<key>


def default_root() -> Path:
    return Path.home() / ".kynangso" / "mail"


def folder_label(folder: str) -> str:
    return t(f"email.folder.{folder}")


class MailStore:
    """The mailboxes of one learner's simulated office: one Maildir per address."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()

    # -- mailboxes and folders --------------------------------------------------------------
    def path(self, address: str) -> Path:
        addr = (address or "").strip().lower()
        if "@" not in addr or "/" in addr or addr.startswith("."):
            raise MailError("email.store.bad_address", address=address)
        return self.root / addr

    def create(self, address: str) -> Path:
        """Make the mailbox of `address` with its standard folders (idempotent)."""
        path = self.path(address)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # mail is private
        md = mailbox.Maildir(path, create=True)
        for folder in FOLDERS[1:]:
            if folder not in md.list_folders():
                md.add_folder(folder)
        return path

    def addresses(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "cur").is_dir())

    def _maildir(self, address: str, folder: str = INBOX) -> mailbox.Maildir:
        path = self.path(address)
        if not (path / "cur").is_dir():
            raise MailError("email.store.no_mailbox", address=address)
        md = mailbox.Maildir(path, factory=None, create=False)
        if folder == INBOX:
            return md
        if folder not in md.list_folders():
            raise MailError("email.store.no_folder", folder=folder, address=address,
                            folders=", ".join([INBOX, *sorted(md.list_folders())]))
        return md.get_folder(folder)

    def folders(self, address: str) -> list[str]:
        return [INBOX, *sorted(self._maildir(address).list_folders())]

    # -- messages ---------------------------------------------------------------------------
    def deliver(self, address: str, msg: EmailMessage | bytes, folder: str = INBOX) -> str:
        """Put a message into a folder; returns its key. Bytes are checked first."""
        data = msg if isinstance(msg, bytes) else m.to_bytes(msg)
        if isinstance(msg, bytes):
            m.parse(data)  # refuse a broken message before anything is written
        return self._maildir(address, folder).add(data)

    def send(self, msg: EmailMessage) -> dict:
        """Simulated sending: a copy in the sender's Sent folder and one in the inbox of each
        recipient who has a mailbox here; others are outside the simulated office."""
        _, sender = m.sender_address(msg)
        if not sender:
            raise MailError("email.send.no_sender")
        rcpts = [a.addr_spec.lower() for a in m.recipients(msg) if a.addr_spec]
        if not rcpts:
            raise MailError("email.send.no_recipient")
        known = set(self.addresses())
        data = m.to_bytes(msg)
        delivered = {r: self.deliver(r, data) for r in dict.fromkeys(rcpts) if r in known}
        sent = self.deliver(sender, data, "sent") if sender in known else None
        return {"sent_key": sent, "delivered": delivered,
                "outside": [r for r in dict.fromkeys(rcpts) if r not in known]}

    def keys(self, address: str, folder: str = INBOX) -> list[str]:
        return sorted(self._maildir(address, folder).keys())

    def get_bytes(self, address: str, key: str, folder: str = INBOX) -> bytes:
        try:
            return self._maildir(address, folder).get_bytes(key)
        except KeyError:
            raise MailError("email.store.no_message", key=key,
                            folder=folder_label(folder)) from None

    def get(self, address: str, key: str, folder: str = INBOX) -> EmailMessage:
        return m.parse(self.get_bytes(address, key, folder), key)

    def list(self, address: str, folder: str = INBOX) -> list[dict]:
        """A summary of each message of a folder, oldest first (by Date header)."""
        rows = []
        md = self._maildir(address, folder)
        for key in md.keys():
            try:
                msg = m.parse(md.get_bytes(key), key)
            except KnsError as exc:  # one bad file must not hide the others
                log.warning("mailbox %s/%s: unreadable message %s: %s", address, folder, key,
                            exc.log_detail)
                continue
            rows.append({"key": key, **m.summary(msg)})
        return rows

    def move(self, address: str, key: str, src: str, dst: str) -> str:
        """Move a message between folders; checks both exist before touching anything."""
        source = self._maildir(address, src)
        target = self._maildir(address, dst)
        data = self.get_bytes(address, key, src)
        new_key = target.add(data)  # written first, so a failure cannot lose the message
        source.remove(key)
        return new_key

    def import_eml(self, address: str, path: str | os.PathLike, folder: str = INBOX) -> str:
        """Add a .eml file (checked first: a malformed file adds nothing, the file stays)."""
        msg = m.load_eml(path)
        self._maildir(address, folder)
        return self.deliver(address, msg, folder)

    def export_eml(self, address: str, key: str, path: str | os.PathLike,
                   folder: str = INBOX) -> Path:
        return m.save_eml(self.get(address, key, folder), path)

    def export_mbox(self, address: str, path: str | os.PathLike, folder: str = INBOX) -> Path:
        """Write a folder as one mbox file (for other mail programs)."""
        path = Path(path)
        box = mailbox.mbox(path, create=True)
        box.lock()
        try:
            for key in self.keys(address, folder):
                box.add(self.get_bytes(address, key, folder))
            box.flush()
        finally:
            box.unlock()
            box.close()
        return path
