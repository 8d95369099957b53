"""The phishing judgement of the e-mail exam (thu-dien-tu): the messages are made by the desk
(or, in practice, by the kernel) as .eml files without any label, judged in the widget as a
learner would, kept in the sidecar, and scored from the seed with partial credit."""

from __future__ import annotations

import json

import pytest

from assessments.questions import Exam
from assessments.questions.identity import variant_secret
from assessments.questions.sidecar import Sidecar
from assessments.questions.tasks.mail import SIGNS, JudgePhishing
from kynangso.exams.variants import handed
from sandbox.email import message as m
from tests.assessments.grading.exam_cases import EXAMS_DIR
from tests.assessments.questions.keys import keyed, whole

EXAM, ITEM = "thu-dien-tu", "nhan-biet-lua-dao"
SECRET = b"0123456789abcdef" * 4
# What a message made by the generator may carry as headers: nothing that says its kind.
HEADERS = {"authentication-results", "from", "to", "subject", "date", "message-id",
           "mime-version", "content-type", "content-transfer-encoding"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "hv1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def judge(q, rel: str, verdict: str, sign: str | None = None) -> None:
    """As a learner: pick the message, click the verdict, choose the sign."""
    q.pick.value = rel
    q.verdict.value = verdict
    if sign is not None:
        q.sign.value = sign


def test_practice_makes_the_messages_once_and_keeps_every_judgement(env):
    """Without a desk, are the messages made once in the exam folder, shown in the reading
    pane with their real sender, is each judgement saved at once, restored on reopening,
    and scored per message (a phishing one half without its sign)?"""
    q = Exam(EXAM, env).task_judge_phishing(ITEM)
    files = [env / f for f in q.task["files"]]
    assert len(files) == 6 and all(f.exists() for f in files)
    assert "seed" not in q.task  # what makes the messages is the grader's, not the widget's
    stamp = [f.stat().st_mtime_ns for f in files]
    assert "@" in q.pane.value and "Thư 1:" in q.pick.options[0][0]
    assert q.sign.disabled  # no sign before the message is judged phishing

    key = whole(q)["key"]["messages"]
    phishing = [f for f, k in key.items() if k["verdict"] == "phishing"]
    safe = [f for f in key if f not in phishing]
    judge(q, phishing[0], "phishing", key[phishing[0]]["signs"][0])
    judge(q, phishing[1], "phishing")  # right, but no sign named
    judge(q, safe[0], "phishing", SIGNS[0])  # a safe message taken for phishing
    judge(q, safe[1], "legitimate")
    saved = Sidecar(EXAM, "hv1", env).answer(ITEM)
    assert saved[phishing[0]] == {"verdict": "phishing", "sign": key[phishing[0]]["signs"][0]}
    assert saved[phishing[1]] == {"verdict": "phishing", "sign": None}
    assert "4/6" in q.progress.value
    assert JudgePhishing.score(whole(q), saved, 6) == 1 + 0.5 + 0 + 1

    again = Exam(EXAM, env).task_judge_phishing(ITEM)
    assert [f.stat().st_mtime_ns for f in files] == stamp  # not made again
    assert again.get_value() == saved
    again.pick.value = phishing[0]
    assert again.verdict.value == "phishing" and again.sign.value == key[phishing[0]]["signs"][0]


def test_scores_from_the_seed(env):
    """Full points for every verdict and sign right, nothing for every verdict wrong or an
    answer of the wrong shape, and no message counted twice?"""
    task = keyed(JudgePhishing, JudgePhishing.variant(EXAM, ITEM, "hv1"))
    key = task["key"]["messages"]
    right = {f: {"verdict": k["verdict"], "sign": (k["signs"] or [None])[0]}
             for f, k in key.items()}
    assert JudgePhishing.score(task, right, 6) == 6.0
    flipped = {f: {"verdict": "legitimate" if a["verdict"] == "phishing" else "phishing",
                   "sign": SIGNS[0]} for f, a in right.items()}
    assert JudgePhishing.score(task, flipped, 6) == 0.0
    assert JudgePhishing.score(task, {"other/thu-01.eml": right[next(iter(right))]}, 6) == 0.0
    with pytest.raises(TypeError):
        JudgePhishing.score(task, ["phishing"], 6)


def test_grader_folder_makes_nothing(env):
    """Does the task in nbgrader's autograded folder leave the folder untouched?"""
    folder = env / "autograded" / "hv1" / EXAM
    folder.mkdir(parents=True)
    Exam(EXAM, folder).task_judge_phishing(ITEM)
    assert list(folder.iterdir()) == []


def test_the_desk_hands_over_unlabelled_messages_and_keeps_their_seed(env):
    """Does the desk hand over the variant's .eml files without the seed that made them, are
    they drawn from the course's secret (not the public seed), does no header name a kind or
    a verdict, and does the widget use them without making any itself?"""
    notebook = (EXAMS_DIR / "source" / EXAM / f"{EXAM}.ipynb").read_bytes()
    made = handed(EXAM, "hv1", [notebook], SECRET)
    shown = json.loads(made[f"{EXAM}.variant.json"])["items"][ITEM]
    assert "seed" not in shown and "key" not in shown
    emls = {rel: data for rel, data in made.items() if rel.endswith(".eml")}
    assert sorted(emls) == shown["files"]
    public = JudgePhishing.handed_files(JudgePhishing.variant(EXAM, ITEM, "hv1"), "hv1")
    assert emls != public
    kinds = ("legitimate", "phishing", "verdict", "kind", "x-kns")
    for rel, data in emls.items():
        msg = m.parse(data)
        assert {h.lower() for h in msg.keys()} <= HEADERS, rel
        head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace").lower()
        assert not any(k in head for k in kinds), rel
        (env / rel).parent.mkdir(parents=True, exist_ok=True)
        (env / rel).write_bytes(data)
    (env / f"{EXAM}.variant.json").write_bytes(made[f"{EXAM}.variant.json"])
    q = Exam(EXAM, env).task_judge_phishing(ITEM)
    assert q.task == shown
    assert [(env / f).read_bytes() for f in shown["files"]] == [emls[f] for f in shown["files"]]
    # The grader's key, from the secret's seed, is about these very messages.
    with variant_secret(SECRET):
        task = keyed(JudgePhishing, JudgePhishing.variant(EXAM, ITEM, "hv1"))
    assert sorted(task["key"]["messages"]) == shown["files"]

    # Deleted since the fetch: said so, and nothing made from the public seed.
    for rel in shown["files"]:
        (env / rel).unlink()
    q = Exam(EXAM, env).task_judge_phishing(ITEM)
    assert "báo giám thị" in q.report.value
    assert not any((env / rel).exists() for rel in shown["files"])
