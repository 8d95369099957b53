"""E-mail tasks (sandbox.email): judge each message of one's own inbox, safe or phishing, and
name the sign that gives a phishing one away.

The messages are made by the sandbox's scenario generator (`scenarios.generate`) from the
variant's seed, and whoever makes them knows which are phishing. So, as for the signed
documents of kiem-tra-chu-ky (tasks/signing.py), on the platform the exam desk makes them at
fetch and hands over only the .eml files (`handed_files`): the seed stays out of what the
learner's kernel holds (HIDDEN), and the files carry no label (the generator writes none: the
kind of a message is in its plan, never in its headers). The grader recomputes each message's
verdict and signs from the seed (answer_keys.py, `phishing_key`), never from the files.
Without a desk (practice, no variant secret: the seed is public) the kernel makes the same
files when they are missing, never in nbgrader's `submitted/` or `autograded/` folders.

Without a training CA the generator leaves out the two kinds with signed PDFs, so the task
needs no pyHanko, and the grading kernel parses nothing: it only compares the saved verdicts
with the key.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

import ipywidgets as w

from assessments.questions.base import Question, status_html
from assessments.questions.tasks.common import STYLE, WIDE, in_grader, label, para
from kynangso.errors import KnsError
from kynangso.i18n import t
from sandbox.email import scenarios

log = logging.getLogger(__name__)

INBOX_COUNT = 6  # half of them unsafe (scenarios.plan)
VERDICTS = ("legitimate", "phishing")
# The signs a learner may name: those of every unsafe kind made without a CA, in the
# sandbox's order (a public list, the same for everyone; not an answer).
SIGNS = tuple(dict.fromkeys(
    sign for kind in scenarios.PHISHING if kind not in scenarios.NEEDS_PKI
    for sign in scenarios.EXPECTED[kind]))


def inbox_messages(task) -> list:
    """The variant's messages in file order (the generator's, from the whole task's seed)."""
    scenario = scenarios.generate(task["seed"], task["learner"], n=task["count"])
    return scenario.messages


class JudgePhishing(Question):
    """Messages arrived in the clerk's inbox: which are phishing, and by which sign?"""

    kind = "task_judge_phishing"
    NEEDS_KEY = True
    HIDDEN = ("seed",)  # it makes the messages, hence their verdicts: the desk makes them

    @classmethod
    def variant(cls, exam_id, item_id, learner, count: int = INBOX_COUNT, **spec):
        rng = cls.rng(exam_id, item_id, learner)
        return {"seed": rng.randrange(10**6), "count": count, "learner": learner,
                "files": [f"{item_id}/thu-{n:02d}.eml" for n in range(1, count + 1)]}

    @classmethod
    def handed_files(cls, task, learner) -> dict[str, bytes]:
        """The variant's messages as .eml files, by path relative to the exam folder (made
        by the desk at fetch, kynangso.exams.variants)."""
        from sandbox.email import message as m

        return {f: m.to_bytes(sm.message)
                for f, sm in zip(task["files"], inbox_messages(task), strict=True)}

    def __init__(self, exam, item_id, title="", **spec):
        self.folder = Path(exam.folder)
        self._answers: dict[str, dict] = {}
        self._showing = False
        super().__init__(exam, item_id, title, **spec)
        if not in_grader(self.folder):
            self._ensure_files()
            self._fill_messages()

    def _ensure_files(self) -> None:
        paths = [self.folder / f for f in self.task["files"]]
        if all(p.exists() for p in paths):
            return
        if self.exam.handed(self.item_id) is not None:  # the desk made them at fetch: gone since
            log.error("exam messages missing in %s", paths[0].parent)
            self.report.value = status_html(t("questions.tasks.mail_files_missing"), False)
            return
        from sandbox.signing.pki import write_atomic

        try:
            # Practice: the variant's seed is the public one, so the kernel may make them.
            task = self.variant(self.exam.exam_id, self.item_id, self.exam.learner, **self.spec)
            for rel, data in self.handed_files(task, self.exam.learner).items():
                write_atomic(self.folder / rel, data, 0o644)
        except (KnsError, OSError) as exc:
            log.error("exam messages not made in %s: %r", self.folder, exc)
            self.report.value = status_html(t("questions.tasks.mail_no_files"), False)

    # -- what the learner sees ---------------------------------------------------------------
    def prompt_html(self):
        return para("questions.tasks.mail_prompt", n=self.task["count"])

    def build_inputs(self):
        numbered = [(t("questions.tasks.mail_option", n=n, subject="…"), f)
                    for n, f in enumerate(self.task["files"], 1)]
        self.pick = w.Dropdown(options=numbered, value=self.task["files"][0],
                               description=label("mail_message"), style=STYLE, layout=WIDE)
        self.pane = w.HTML()
        self.verdict = w.RadioButtons(
            options=[(t(f"email.verdict.{v}"), v) for v in VERDICTS], value=None,
            description=label("mail_verdict"), style=STYLE, layout=WIDE)
        self.sign = w.Dropdown(
            options=[(t("questions.tasks.choose"), None)]
            + [(t(f"email.sign.{k}.name"), k) for k in SIGNS],
            value=None, description=label("mail_sign"), style=STYLE, layout=WIDE,
            disabled=True)
        self.report = w.HTML()
        self.progress = w.HTML()
        self.pick.observe(lambda _c: self._show(), names="value")
        self.verdict.observe(lambda _c: self._judged(), names="value")
        self.sign.observe(lambda _c: self._judged(), names="value")
        return [self.pick, self.pane, self.verdict, self.sign, self.progress, self.report]

    def watched(self):
        return []  # the answer is the dict of every message's judgement, saved in _judged

    def _fill_messages(self) -> None:
        """The list with each message's subject, and the first message in the reading pane."""
        from sandbox.email import message as m

        options = []
        for n, rel in enumerate(self.task["files"], 1):
            try:
                subject = str(m.load_eml(self.folder / rel).get("Subject", "")) or "—"
            except (KnsError, OSError):
                subject = "—"
            options.append((t("questions.tasks.mail_option", n=n, subject=subject), rel))
        self._showing = True
        try:
            self.pick.options = options
            self.pick.value = self.task["files"][0]
        finally:
            self._showing = False
        self._show()

    def _show(self) -> None:
        """The chosen message in the reading pane, and what the learner said of it."""
        rel = self.pick.value
        if not in_grader(self.folder):
            from sandbox.email import message as m
            from sandbox.email.widgets import reading_pane_html

            try:
                self.pane.value = reading_pane_html(m.load_eml(self.folder / rel))
            except (KnsError, OSError) as exc:
                log.warning("exam message %s not shown: %r", rel, exc)
                self.pane.value = status_html(t("questions.tasks.mail_unreadable",
                                                file=PurePosixPath(rel).name), False)
        given = self._answers.get(rel, {})
        self._showing = True
        try:
            self.verdict.value = given.get("verdict")
            self.sign.value = given.get("sign") if given.get("sign") in SIGNS else None
            self.sign.disabled = self.verdict.value != "phishing"
        finally:
            self._showing = False

    def _judged(self) -> None:
        if self._showing or self._restoring:
            return
        self.sign.disabled = self.verdict.value != "phishing"
        if self.verdict.value is None:
            return
        sign = self.sign.value if self.verdict.value == "phishing" else None
        self._answers[self.pick.value] = {"verdict": self.verdict.value, "sign": sign}
        self._count()
        self.save()

    def _count(self) -> None:
        self.progress.value = status_html(t("questions.tasks.mail_progress",
                                            done=len(self._answers), n=self.task["count"]), None)

    def get_value(self):
        return {f: dict(a) for f, a in sorted(self._answers.items())} or None

    def set_value(self, value):
        self._answers = {f: {"verdict": a.get("verdict"), "sign": a.get("sign")}
                         for f, a in value.items()
                         if f in self.task["files"] and a.get("verdict") in VERDICTS}
        self._count()
        self._show()

    # -- grading -----------------------------------------------------------------------------
    @classmethod
    def score(cls, task, value, points):
        """Per message, an equal share: a safe message judged safe earns it all; a phishing
        one judged phishing earns half, and the other half when the sign named is one of
        its signs. A wrong or missing verdict earns nothing."""
        if not isinstance(value, dict):
            raise TypeError("answer is not a mapping")
        key = task["key"]["messages"]
        share = points / len(key) if key else 0.0
        got = 0.0
        for rel, truth in key.items():
            given = value.get(rel)
            if not isinstance(given, dict) or given.get("verdict") != truth["verdict"]:
                continue
            if truth["verdict"] == "legitimate":
                got += share
            else:
                got += share / 2 + (share / 2 if given.get("sign") in truth["signs"] else 0)
        return round(got, 2)


__all__ = ["SIGNS", "JudgePhishing", "inbox_messages"]
