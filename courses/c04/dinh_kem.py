"""Lesson 04: an attached official document. The learner checks the signature of a PDF that
came by e-mail (`sandbox.email.intake.verify_attachment`, the signing sandbox's verifier, with
the course's practice CA) and moves a valid one into the practice documents register
(`intake.register_attachment`, whose register checks the signature again and refuses a
tampered one). The exercises are judged with the verifier's report and the documents
sandbox's symbol parser (the type of document a số, ký hiệu names), not with an answer list."""

from __future__ import annotations

import unicodedata

from courses.c04 import COURSE, practice
from courses.common import para
from courses.exercises import Exercise, Feedback, choice
from kynangso.asyncio_compat import off_loop
from kynangso.i18n import t
from sandbox.email import channels, intake
from sandbox.email import message as m
from sandbox.email.widgets import MailboxApp

LESSON = "04-tep-dinh-kem"
SIGNED_KINDS = ("signed_document", "tampered_pdf")


class CourseMailbox(MailboxApp):
    """The sandbox's mailbox, with pyHanko's work (verify, register) run where it can run in a
    kernel whose event loop is running (kynangso.asyncio_compat.off_loop)."""

    def verify(self):
        return off_loop(super().verify)

    def register(self):
        return off_loop(super().register)


# The lesson's mailbox (one per kernel): the register exercise points its «Vào sổ văn bản
# đến» at the register of the exercise's round.
_shown: list[CourseMailbox] = []


def mailbox() -> CourseMailbox:
    """Lesson 04's mailbox: signed attachments, the signature check and the register."""
    ca = practice.pki()
    store, listed = practice.signed_mail(ca)
    app = CourseMailbox(store, listed[0]["address"], pki=ca, registry=practice.registry(0, ca),
                        org=practice.ORG, clerk=t("courses.c04.clerk"))
    _shown[:] = [app]
    return app


def pdf_of(msg) -> str:
    return next(a.filename for a in m.attachments(msg) if a.filename.lower().endswith(".pdf"))


def described(msg) -> dict:
    name, address = m.sender_address(msg)
    return {"subject": str(msg.get("Subject", "")), "sender": name or address,
            "file": pdf_of(msg)}


def _signed_refs(rng, kinds=SIGNED_KINDS) -> str:
    _store, listed = practice.signed_mail()
    return rng.choice([i["ref"] for i in listed if i["kind"] in kinds])


class CheckAttachment(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "kiem-tra-tep-ky-so"
    title_key = "courses.c04.title_verify"

    @classmethod
    def make_task(cls, rng):
        return {"ref": _signed_refs(rng)}

    def build_inputs(self):
        self.pick = choice([(t("courses.c04.verify_accept"), "accept"),
                            (t("courses.c04.verify_refuse"), "refuse")],
                           t("courses.c04.verify_pick"))
        return [self.pick]

    def reset_inputs(self):
        self.pick.value = None

    def prompt(self):
        return para("courses.c04.verify_prompt",
                    **described(practice.signed_message(self.task["ref"])))

    def answer_value(self):
        return self.pick.value

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        if answer not in ("accept", "refuse"):
            raise ValueError(f"not an answer: {answer!r}")
        msg = practice.signed_message(task["ref"])
        name = pdf_of(msg)
        report = off_loop(intake.verify_attachment, msg, name, practice.pki())
        right = "accept" if report.ok else "refuse"
        failed = [c.message for c in report.checks if not c.ok]
        why = t(f"courses.c04.verify_{right}_why", file=name)
        if failed:
            why += "\n" + "\n".join(failed)
        if answer == right:
            return Feedback(True, why)
        return Feedback(False, t("courses.c04.verify_wrong",
                                 right=t(f"courses.c04.verify_{right}")) + "\n" + why)


def exercise_verify() -> CheckAttachment:
    return CheckAttachment()


def expected_entry(msg) -> dict:
    """What the register should hold for the message's attachment: its số, ký hiệu (read off
    the message as the mailbox reads it), the issuing organisation (the sender's, from the mail
    directory) and the type of document the symbol names (documents sandbox's parser)."""
    from sandbox.documents.symbol import parse_symbol

    name = pdf_of(msg)
    symbol = channels.official_symbol(msg) or name.rpartition(".")[0].replace("-", "/", 1)
    parsed = parse_symbol(symbol)
    type_name = parsed.doc_type.name if parsed.doc_type else t("courses.c04.cong_van")
    return {"symbol": symbol, "author": intake.suggested_author(msg), "type_name": type_name,
            "file": name}


def _same(a: str, b: str) -> bool:
    def norm(x):
        return " ".join(unicodedata.normalize("NFC", str(x or "")).split()).casefold()
    return norm(a) == norm(b)


class RegisterAttachment(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "vao-so-tep-dinh-kem"
    title_key = "courses.c04.title_register"
    local_wording = True  # the arrival number is the learner's own register's

    def __init__(self):
        self.registry = practice.registry(0)
        super().__init__()

    def next_task(self) -> None:
        """A new round, with a register of its own, used by the lesson's mailbox too."""
        self.registry = practice.registry(self.round + 1)
        for app in _shown:
            app.registry = self.registry
        super().next_task()

    @classmethod
    def make_task(cls, rng):
        return {"ref": _signed_refs(rng, ("signed_document",))}

    def build_inputs(self):
        return []

    def prompt(self):
        return para("courses.c04.register_prompt",
                    **described(practice.signed_message(self.task["ref"])))

    def answer_value(self):
        """The learner's registration of the attachment in the practice register (the last one
        whose note names the file), or {} when it is not registered: what they did is the
        answer."""
        name = pdf_of(practice.signed_message(self.task["ref"]))
        rows = [r for r in self.registry.inbox(practice.ORG) if name in (r.get("note") or "")]
        if not rows:
            return {}
        r = rows[-1]
        return {"symbol": r["symbol"], "author": r["author"], "type_name": r["type_name"],
                "medium": r.get("medium"), "arrival_number": r["arrival_number"]}

    @classmethod
    def judge(cls, task, answer):
        want = expected_entry(practice.signed_message(task["ref"]))
        if not answer or not answer.get("arrival_number"):
            return Feedback(False, t("courses.c04.not_registered", file=want["file"]))
        problems = []
        if not _same(answer.get("symbol"), want["symbol"]):
            problems.append(t("courses.c04.reg_symbol_wrong", got=answer.get("symbol"),
                              right=want["symbol"]))
        if not _same(answer.get("author"), want["author"]):
            problems.append(t("courses.c04.reg_author_wrong", got=answer.get("author"),
                              right=want["author"]))
        if not _same(str(answer.get("type_name", "")).replace(" (cá biệt)", ""),
                     want["type_name"]):
            problems.append(t("courses.c04.reg_type_wrong", got=answer.get("type_name"),
                              right=want["type_name"]))
        if problems:
            return Feedback(False, "\n".join(problems))
        return Feedback(True, t("courses.c04.registered", number=answer["arrival_number"],
                                symbol=want["symbol"]))


def exercise_register() -> RegisterAttachment:
    return RegisterAttachment()
