"""Lesson 01: the work mailbox. The learner reads the office's mail in the sandbox's mailbox
(`sandbox.email.widgets.mailbox_app`), replies and forwards with its buttons; the exercise
reads what they sent (the Sent folder) and judges it against the message the sandbox's own
`message.reply` / `message.forward` would make: the reply goes to the Reply-To (or the sender)
and keeps the thread (In-Reply-To, RFC 5322 §3.6.4); a forward keeps every attachment."""

from __future__ import annotations

from email.utils import parseaddr

from courses.c04 import COURSE, practice
from courses.common import para
from courses.exercises import Exercise, Feedback
from kynangso.i18n import t
from sandbox.email import message as m
from sandbox.email.rules import directory
from sandbox.email.storage import MailStore
from sandbox.email.widgets import mailbox_app

LESSON = "01-hop-thu-cong-vu"
REPLY_KINDS = ("citizen_question", "internal_meeting")
FORWARD_KINDS = ("colleague_draft", "portal_notice")
FORWARD_TO = ("chutich", "vanphong", "cntt")
SENT_KEPT = 10  # the learner's last sent messages are the answer


def me() -> str:
    """The văn thư's address with its display name, as the mailbox sends it."""
    address = practice.office_address("vanthu")
    box = directory().mailbox(address)
    return f"{box.name} <{address}>" if box else address


def mailbox():
    """The office's mailbox of lesson 01 (the văn thư's inbox, legitimate mail only)."""
    store, _sc = practice.office_mail()
    return mailbox_app(store, practice.office_address("vanthu"), judging=False, channels=False)


def original(ref: str):
    return next(sm.message for sm in practice.office_scenario().messages if sm.ref == ref)


def sent_messages(store: MailStore, address: str) -> list[dict]:
    """What the learner sent, newest last: the facts a reply or forward is judged on."""
    out = []
    for key in store.keys(address, "sent"):
        msg = store.get(address, key, "sent")
        out.append({"subject": str(msg.get("Subject", "")),
                    "to": [a.addr_spec.lower() for a in m.recipients(msg, ("To", "Cc"))],
                    "in_reply_to": str(msg.get("In-Reply-To", "")),
                    "attachments": [a.filename for a in m.attachments(msg)]})
    return out[-SENT_KEPT:]  # Maildir keys begin with the delivery time: oldest first


class ReplyForward(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "tra-loi-chuyen-tiep"
    title_key = "courses.c04.title_reply"

    def __init__(self):
        self.store, _sc = practice.office_mail()
        super().__init__()

    @classmethod
    def make_task(cls, rng):
        mode = rng.choice(["reply", "forward"])
        kinds = REPLY_KINDS if mode == "reply" else FORWARD_KINDS
        sm = rng.choice([sm for sm in practice.office_scenario().messages if sm.kind in kinds])
        task = {"mode": mode, "ref": sm.ref}
        if mode == "forward":
            task["to"] = practice.office_address(rng.choice(FORWARD_TO))
        return task

    def build_inputs(self):
        return []

    def prompt(self):
        msg = original(self.task["ref"])
        name, address = m.sender_address(msg)
        facts = {"subject": str(msg.get("Subject", "")), "sender": name or address}
        if self.task["mode"] == "reply":
            return para("courses.c04.reply_prompt", **facts)
        box = directory().mailbox(self.task["to"])
        return para("courses.c04.forward_prompt", to=self.task["to"],
                    to_name=box.name if box else self.task["to"], **facts)

    def answer_value(self):
        return sent_messages(self.store, practice.office_address("vanthu"))

    @classmethod
    def judge(cls, task, answer):
        if not answer:
            return Feedback(False, t("courses.c04.nothing_sent"))
        msg = original(task["ref"])
        if task["mode"] == "reply":
            return cls._judge_reply(msg, answer)
        return cls._judge_forward(msg, task["to"], answer)

    @staticmethod
    def _judge_reply(msg, answer) -> Feedback:
        expected = m.reply(msg, me(), "")
        want_to = {a.addr_spec.lower() for a in m.recipients(expected, ("To",))}
        parent = str(msg["Message-ID"])
        subject = str(msg.get("Subject", ""))
        threaded = [r for r in answer if r.get("in_reply_to") == parent]
        if not threaded:
            same = [r for r in answer if subject and subject in r.get("subject", "")]
            key = "courses.c04.reply_not_threaded" if same else "courses.c04.reply_missing"
            return Feedback(False, t(key, subject=subject))
        good = [r for r in threaded if want_to <= set(r.get("to", []))]
        if not good:
            return Feedback(False, t("courses.c04.reply_wrong_to", to=", ".join(sorted(want_to)),
                                     got=", ".join(threaded[-1].get("to", [])) or "—"))
        return Feedback(True, t("courses.c04.reply_ok", to=", ".join(sorted(want_to)),
                                subject=str(expected["Subject"])))

    @staticmethod
    def _judge_forward(msg, to: str, answer) -> Feedback:
        expected = m.forward(msg, me(), [to])
        subject = str(msg.get("Subject", ""))
        names = [a.filename for a in m.attachments(expected)]
        to = parseaddr(to)[1].lower()
        sent_to = [r for r in answer if to in r.get("to", [])]
        about = [r for r in sent_to if subject in r.get("subject", "")]
        if not about:
            return Feedback(False, t("courses.c04.forward_missing", subject=subject, to=to))
        good = [r for r in about if set(names) <= set(r.get("attachments", []))]
        if not good:
            return Feedback(False, t("courses.c04.forward_no_attachment",
                                     files=", ".join(names)))
        files = ", ".join(names) if names else t("courses.c04.no_files")
        return Feedback(True, t("courses.c04.forward_ok", to=to, files=files,
                                subject=str(expected["Subject"])))


def exercise_reply() -> ReplyForward:
    return ReplyForward()
