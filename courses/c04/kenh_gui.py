"""Lesson 03: which channel a piece of work must travel by. Judged with the sandbox's channel
rules (`sandbox.email.channels.decide`, rules/channels.yaml): the channel is the strictest of
the matching rules' channels and e-mail is allowed only if every matching rule allows it. The
feedback gives each rule's reason and sources, unconfirmed ones marked as the sandbox does.

Exercise 1 describes a situation (its facts are a `Situation`); exercise 2 shows a message and
the facts are read off it by `channels.situation_of` (secrecy mark, số/ký hiệu with an
attachment, the sender's mailbox)."""

from __future__ import annotations

import datetime as dt

from courses.c04 import COURSE, practice
from courses.common import para
from courses.exercises import Exercise, Feedback, choice
from kynangso.i18n import t
from sandbox.email import channels
from sandbox.email import message as m
from sandbox.email.rules import channel_rules, directory
from sandbox.email.widgets import channel_panel, reading_pane_html

LESSON = "03-kenh-gui"
# Situations described to the learner (text: courses.c04.case.<key>); only the facts are here,
# the answer comes from channels.decide.
CASES = {
    "plan_to_department": channels.Situation("official_document"),
    "report_secret": channels.Situation("official_document", "mat"),
    "forward_top_secret": channels.Situation("received_official_document", "toi_mat"),
    "draft_for_comments": channels.Situation("working_exchange"),
    "meeting_time": channels.Situation("working_exchange"),
    "draft_from_gmail": channels.Situation("working_exchange", mailbox="personal"),
    "citizen_dossier": channels.Situation("personal_data"),
    "citizen_dossier_gmail": channels.Situation("personal_data", mailbox="personal"),
    "dispatch_received": channels.Situation("received_official_document"),
}
# Messages shown in exercise 2 (what they look like; their facts are read off them).
MESSAGES = ("incoming_document", "incoming_secret", "incoming_draft", "outgoing_gmail",
            "outgoing_document")
FAKE_PDF = b"%PDF-1.4\n% tai lieu thuc hanh\n%%EOF\n"


def panel():
    return channel_panel()


def channel_options() -> list[tuple[str, str]]:
    return [(t(f"email.channel.{c}"), c) for c in channel_rules()["channels"]]


def decision_text(decision: channels.Decision) -> str:
    """The decision, then each rule's reason with its sources and their status."""
    lines = [decision.summary]
    for r in decision.reasons:
        lines.append("• " + r.text)
        for s in r.sources:
            mark = " ⚠ " + t("email.ui.ch_unconfirmed") if s.status == "U" else ""
            lines.append(f"   – {s.text} ({s.status_label}){mark}")
    return "\n".join(lines)


def judge_against(decision: channels.Decision, answer) -> Feedback:
    if not answer or answer.get("channel") is None or answer.get("allowed") is None:
        return Feedback(False, t("courses.ui.need_answer"))
    if answer["channel"] not in channel_rules()["channels"]:
        raise ValueError(f"not a channel: {answer!r}")
    problems = []
    if answer["channel"] != decision.channel:
        problems.append(t("courses.c04.channel_wrong", right=decision.channel_label))
    if bool(answer["allowed"]) != decision.email_allowed:
        problems.append(t("courses.c04.allowed_wrong"))
    return Feedback(not problems, "\n".join([*problems, decision_text(decision)]))


class _ChannelExercise(Exercise):
    def build_inputs(self):
        self.channel = choice(channel_options(), t("courses.c04.channel_pick"))
        self.allowed = choice([(t("courses.c04.allowed_yes"), True),
                               (t("courses.c04.allowed_no"), False)],
                              t("courses.c04.allowed_pick"))
        return [self.channel, self.allowed]

    def reset_inputs(self):
        self.channel.value = self.allowed.value = None

    def answer_value(self):
        if self.channel.value is None and self.allowed.value is None:
            return None
        return {"channel": self.channel.value, "allowed": self.allowed.value}


class ChooseChannel(_ChannelExercise):
    course, lesson, exercise_id = COURSE, LESSON, "chon-kenh"
    title_key = "courses.c04.title_channel"

    @classmethod
    def make_task(cls, rng):
        return {"case": rng.choice(sorted(CASES))}

    def prompt(self):
        return (para("courses.c04.channel_prompt")
                + f"<blockquote>{para('courses.c04.case.' + self.task['case'])}</blockquote>")

    @classmethod
    def judge(cls, task, answer):
        return judge_against(channels.decide(CASES[task["case"]]), answer)


def exercise_channel() -> ChooseChannel:
    return ChooseChannel()


def build_message(task: dict):
    """The message of a task, the same bytes each time (fixed date and Message-ID)."""
    d = directory()
    kind, number = task["kind"], task["number"]
    topic = t(f"courses.c04.topic.t{task['topic']}")
    when = dt.datetime(2026, 3, 2 + number % 10, 9, 30, tzinfo=m.VN_TZ)
    vanthu = practice.office_address("vanthu")
    snv = next(b for b in d.org("SNV").mailboxes if b.role == "van_thu")
    colleague = next(b for b in d.org("SNV").mailboxes if b.role == "chuyen_vien")
    sender, to, attachments = f"{snv.name} <{snv.address}>", vanthu, []
    if kind == "incoming_document":
        subject = t("courses.c04.msg.document_subject", number=number, symbol="SNV-CCVC",
                    topic=topic)
        attachments = [(f"{number}-SNV-CCVC.pdf", FAKE_PDF, "application/pdf")]
    elif kind == "incoming_secret":
        subject = t("courses.c04.msg.secret_subject", topic=topic)
        attachments = [(f"bao-cao-{number}.pdf", FAKE_PDF, "application/pdf")]
    elif kind == "incoming_draft":
        sender = f"{colleague.name} <{colleague.address}>"
        subject = t("courses.c04.msg.draft_subject", topic=topic)
    elif kind == "outgoing_gmail":
        person = t(f"courses.c04.person.p{task['person']}")
        sender = f"{person} <{task['gmail']}@gmail.com.{d.suffix}>"
        to = f"{colleague.name} <{colleague.address}>"
        subject = t("courses.c04.msg.draft_subject", topic=topic)
    else:  # outgoing_document
        sender, to = vanthu, f"{snv.name} <{snv.address}>"
        subject = t("courses.c04.msg.document_subject", number=number, symbol="UBND-VP",
                    topic=topic)
        attachments = [(f"{number}-UBND-VP.pdf", FAKE_PDF, "application/pdf")]
    text = t(f"courses.c04.msg.{kind}_text", topic=topic)
    domain = sender.rpartition("@")[2].rstrip(">")
    return m.compose(sender, to, subject, text, attachments=attachments, date=when,
                     message_id=f"<khoa-hoc-04.{kind}.{number}@{domain}>")


class MessageChannel(_ChannelExercise):
    course, lesson, exercise_id = COURSE, LESSON, "kenh-cua-thu"
    title_key = "courses.c04.title_message_channel"

    @classmethod
    def make_task(cls, rng):
        return {"kind": rng.choice(MESSAGES), "number": rng.randrange(12, 980),
                "topic": rng.randrange(1, 5), "person": rng.randrange(1, 3),
                "gmail": f"vanthu.phuong{rng.randrange(10, 99)}"}

    @staticmethod
    def received(task: dict) -> bool:
        return task["kind"].startswith("incoming")

    def prompt(self):
        where = "courses.c04.msg_where_in" if self.received(self.task) \
            else "courses.c04.msg_where_out"
        return (para("courses.c04.message_prompt") + para(where)
                + "<div style='border:1px solid #999;padding:6px;max-width:900px'>"
                + reading_pane_html(build_message(self.task)) + "</div>")

    @classmethod
    def judge(cls, task, answer):
        situation = channels.situation_of(build_message(task), received=cls.received(task))
        return judge_against(channels.decide(situation), answer)


def exercise_message_channel() -> MessageChannel:
    return MessageChannel()
