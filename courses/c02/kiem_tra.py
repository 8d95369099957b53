"""Lesson 03: verifying. Each task is a document from the sandbox's seeded scenario inbox (made
for this learner in their practice CA); the learner reads the verifier's report and says what is
wrong. The answer is judged from the verifier's own failed checks, not from an answer list."""

from __future__ import annotations

import json
import os
from pathlib import Path

import ipywidgets as w

from courses.c02 import COURSE, practice
from courses.common import esc, learner, practice_dir
from courses.exercises import Exercise, Feedback, choice
from kynangso.asyncio_compat import off_loop
from kynangso.i18n import t
from sandbox.signing import scenarios
from sandbox.signing.verify import verify_pdf
from sandbox.signing.widgets import VerifyDocument, upload_value

LESSON = "03-kiem-tra-chu-ky"
# The verifier's check ids (sandbox/signing/verify.py) mapped to the answer a learner gives; the
# first match wins, so an untrusted chain (which also fails revocation) reads as "untrusted".
VERDICTS = [
    ("untrusted", ("chain",)),
    ("modified", ("integrity", "modifications")),
    ("expired", ("validity",)),
    ("revoked", ("revocation",)),
    ("missing_org", ("doc.organisation",)),
    ("wrong_order", ("doc.order",)),
]
ANSWERS = ["valid", "modified", "expired", "revoked", "untrusted", "missing_org", "wrong_order"]


def verdict(report) -> str:
    """What is wrong with a document, from the verifier's failed checks."""
    failed = {c.id for c in report.checks if not c.ok}
    for answer, suffixes in VERDICTS:
        if any(f == s or f.endswith("." + s) for f in failed for s in suffixes):
            return answer
    return "valid"


def inbox(p: practice.Practice, seed: int, count: int = 5) -> list[dict]:
    """The learner's scenario inbox for `seed`, made once and reused when the lesson reopens."""
    folder = practice_dir() / "hop-thu" / str(seed)
    index = folder / "danh-sach.json"
    if index.exists():
        listed = json.loads(index.read_text(encoding="utf-8"))
        if all(Path(i["file"]).exists() for i in listed):
            return listed
    items = off_loop(scenarios.generate_inbox, p.pki, learner(), folder, seed=seed, count=count)
    listed = [{"file": str(i.file), "case": i.case} for i in items]
    tmp = index.with_suffix(".tmp")
    tmp.write_text(json.dumps(listed, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, index)
    return listed


class Viewer(VerifyDocument):
    """The sandbox's verifier panel, with its check run where pyHanko can run (off_loop)."""

    def verify(self) -> None:
        off_loop(super().verify)


class CheckIncoming(Exercise):
    course, lesson, exercise_id = COURSE, LESSON, "kiem-tra-van-ban-den"
    title_key = "courses.c02.title_verify"

    def __init__(self):
        self.practice = practice.practice()
        super().__init__()

    @classmethod
    def make_task(cls, rng):
        seed = rng.randrange(10**6)
        items = inbox(practice.practice(), seed)
        faulty = [i for i in items if i["case"] not in scenarios.VALID_CASES]
        # the generator's case is kept for the record (tests compare it with the verdict);
        # the learner is never shown it, and the judgement comes from the verifier
        return dict(rng.choice(faulty if rng.random() < 0.7 else items))

    def build_inputs(self):
        self.viewer = Viewer(self.practice.pki)
        self.pick = choice([(t(f"courses.c02.verdict.{a}"), a) for a in ANSWERS],
                           t("courses.c02.verdict_pick"))
        return [self.viewer, self.pick]

    def _render_prompt(self):
        path = Path(self.task["file"])
        self.viewer.upload.value = upload_value(path.name, path.read_bytes())
        self.viewer.output.value = self.viewer.message.value = ""
        self.pick.value = None
        super()._render_prompt()

    def prompt(self):
        return f"<p>{esc(t('courses.c02.verify_prompt', file=Path(self.task['file']).name))}</p>"

    def answer_value(self):
        return self.pick.value

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        path = Path(task["file"])
        report = off_loop(verify_pdf, path.read_bytes(), practice.practice().pki, name=path.name,
                          profile="administrative")
        right = verdict(report)
        failed = [c.message for c in report.checks if not c.ok]
        why = "\n".join(failed) if failed else t("courses.c02.all_checks_ok")
        if answer == right:
            return Feedback(True, t(f"courses.c02.explain.{right}") + "\n" + why)
        if answer not in ANSWERS:
            raise ValueError(f"not an answer: {answer!r}")
        wrong = t("courses.c02.verdict_wrong", got=t(f"courses.c02.verdict.{answer}"),
                  right=t(f"courses.c02.verdict.{right}"))
        return Feedback(False, wrong + "\n" + why)


def exercise_verify() -> CheckIncoming:
    return CheckIncoming()


def example_viewer() -> w.Widget:
    """The worked example: the verifier on a valid document of the learner's inbox."""
    p = practice.practice()
    first = Path(inbox(p, seed=0, count=2)[0]["file"])
    viewer = Viewer(p.pki)
    viewer.upload.value = upload_value(first.name, first.read_bytes())
    viewer.verify()
    return viewer
