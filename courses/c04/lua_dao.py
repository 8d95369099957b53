"""Lesson 02: recognising phishing. The learner's own inbox (`mailbox_app` over a scenario of
`sandbox.email.scenarios` seeded by the lesson and the learner: every learner gets different
but equivalent messages) is judged message by message, the signs explained after each answer.
The two exercises draw a message from a fresh seeded scenario and judge with the sandbox's rule
code: `scenarios.judge` (safe or phishing) and `signs.inspect` (which sign gives it away);
the feedback names each sign with its explanation and source (rules/signs.yaml)."""

from __future__ import annotations

from courses.c04 import COURSE, practice
from courses.common import learner, para
from courses.exercises import Exercise, Feedback, choice, dropdown
from kynangso.i18n import t
from sandbox.email import scenarios, signs
from sandbox.email.rules import sign_keys
from sandbox.email.widgets import mailbox_app, reading_pane_html

LESSON = "02-nhan-biet-thu-lua-dao"
TASK_COUNT = 6  # messages of the scenario a task's message is drawn from
ANSWERS = ("legitimate", "phishing")


def mailbox():
    """The learner's inbox to judge (lesson 02's seeded scenario)."""
    store, sc = practice.judged_mail()
    return mailbox_app(store, scenario=sc)


def task_message(task: dict):
    sc = scenarios.generate(task["seed"], learner(), n=TASK_COUNT)
    return next(sm.message for sm in sc.messages if sm.ref == task["ref"])


def signs_text(found) -> str:
    """Each sign: its name, what was found, and its source."""
    return "\n".join(t("courses.c04.sign_line", name=s.name, explanation=s.explanation,
                       source=s.source) for s in found)


def pane(msg) -> str:
    return ("<div style='border:1px solid #999;padding:6px;max-width:900px'>"
            f"{reading_pane_html(msg)}</div>")


class _OneMessage(Exercise):
    """An exercise on one message drawn from a fresh seeded scenario, answered with one pick."""

    prompt_key = ""

    @classmethod
    def candidates(cls, messages):
        return messages

    @classmethod
    def make_task(cls, rng):
        seed = rng.randrange(10**6)
        sc = scenarios.generate(seed, learner(), n=TASK_COUNT)
        return {"seed": seed, "ref": rng.choice(cls.candidates(sc.messages)).ref}

    def reset_inputs(self):
        self.pick.value = None

    def prompt(self):
        return para(self.prompt_key) + pane(task_message(self.task))

    def answer_value(self):
        return self.pick.value


class JudgeMessage(_OneMessage):
    course, lesson, exercise_id = COURSE, LESSON, "danh-gia-thu"
    title_key = "courses.c04.title_judge"
    prompt_key = "courses.c04.judge_prompt"

    def build_inputs(self):
        self.pick = choice([(t("email.ui.judge_safe"), "legitimate"),
                            (t("email.ui.judge_phishing"), "phishing")],
                           t("courses.c04.judge_pick"))
        return [self.pick]

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        if answer not in ANSWERS:
            raise ValueError(f"not an answer: {answer!r}")
        msg = task_message(task)
        result = scenarios.judge(msg, answer)
        verdict = t("courses.c04.verdict", verdict=result["verdict_label"])
        found = signs.inspect(msg)
        why = signs_text(found) if found else result["explanation"][0]
        return Feedback(result["correct"], verdict + "\n" + why)


def exercise_judge() -> JudgeMessage:
    return JudgeMessage()


class WhichSign(_OneMessage):
    course, lesson, exercise_id = COURSE, LESSON, "dau-hieu-lua-dao"
    title_key = "courses.c04.title_sign"
    prompt_key = "courses.c04.sign_prompt"

    @classmethod
    def candidates(cls, messages):
        return [sm for sm in messages if signs.inspect(sm.message)]

    def build_inputs(self):
        self.pick = dropdown(t("courses.c04.sign_pick"),
                             [(t("courses.c04.sign_choose"), None)]
                             + [(t(f"email.sign.{k}.name"), k) for k in sign_keys()])
        self.pick.layout.width = "900px"
        return [self.pick]

    @classmethod
    def judge(cls, task, answer):
        if answer is None:
            return Feedback(False, t("courses.ui.need_answer"))
        if answer not in sign_keys():
            raise ValueError(f"not a sign: {answer!r}")
        found = signs.inspect(task_message(task))
        if answer in {s.key for s in found}:
            return Feedback(True, signs_text(found))
        wrong = t("courses.c04.sign_wrong", got=t(f"email.sign.{answer}.name"))
        return Feedback(False, wrong + "\n" + signs_text(found))


def exercise_sign() -> WhichSign:
    return WhichSign()


