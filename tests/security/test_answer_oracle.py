"""Issue 14, part 3: the installed package must not answer a learner's exam.

The attacker is a learner who keeps JupyterLab (the "advanced" group) on a real hub as root.
They fetch four real exams through the exam desk (assessments/exams `van-ban`, `dich-vu-cong`,
`chu-ky-so` and `thu-dien-tu`: every simulation task). Their server then runs in exam mode, where no code of
theirs runs (tests/security/test_exam_mode.py); this test supposes a way around it, and runs
the oracle as a process of their account: it builds the exam's widgets as the notebook does
and plays the answer oracle with whatever it can import:

- the task they were handed (`question.task`), and the variant recomputed by the task class
  itself (`Class.variant(exam, item, learner)`), which before this change were the grader's
  own variant, hidden fields included (the corrected số, ký hiệu); a recomputed variant whose
  inputs are not those on the learner's screen is not used (its answer would be a guess);
- the task classes' and modules' answer functions the issue names (`due`, `deadline`,
  `expected`, `registered`, `symbol_faults`, `faulty`) on either of those;
- for the signed documents to check, the sandbox's own generator (`scenarios.plan_inbox`) fed
  with the seed that made them, which the learner's own process held when it made the documents
  itself; likewise for the messages to judge (`sandbox.email.scenarios.generate`, whose plan
  says which are phishing and by which sign), and the grader's `phishing_key`.

The sandbox's sign rules (`sandbox.email.signs`) are installed too, as the signature verifier
is: they are the course's teaching tools, and judge a message only for code the learner runs,
which exam mode does not (tests/security/test_exam_mode.py). The oracle does not use them.

Each answer found is saved through the widget, as a learner's click would, and the exams are
submitted, collected and graded by the grader account with `kns grade`, as the desk's worker
does. No simulation task may score full points from what the oracle computed. Nothing is
mocked: real accounts, real desk, real kernels, real nbgrader.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from nbgrader.api import Gradebook

from kynangso.hub.harness import (
    IS_ROOT,
    api_token,
    cookie,
    log_in,
    open_lab,
    run_as_learner,
    start_exam,
)

pytestmark = [pytest.mark.hub, pytest.mark.root,
              pytest.mark.skipif(not IS_ROOT, reason="exam windows need an isolated (root) hub")]

COURSE = "kiem-tra-nang-luc"
EXAMS = ("van-ban", "dich-vu-cong", "chu-ky-so", "thu-dien-tu")
LEARNER = "hocvien01"

# Run as the learner's account: build the widgets from the fetched notebook, then compute each
# task's answer with anything importable and save it through the widget.
ORACLE = r'''
import importlib, json, os
os.chdir(os.path.expanduser("~/{exam}"))
ns = {{}}
for cell in json.load(open("{exam}.ipynb"))["cells"]:
    if cell["cell_type"] == "code":
        exec("".join(cell["source"]), ns)
bai = ns["bai"]

def modules():
    found = []
    for name in ("documents", "filing", "signing", "mail"):
        try:
            found.append(importlib.import_module("assessments.questions.tasks." + name))
        except Exception:
            pass
    return found

def fn(cls, name):
    """An answer function on the class, or in any task module."""
    if hasattr(cls, name):
        return getattr(cls, name)
    for mod in modules():
        if hasattr(mod, name):
            return getattr(mod, name)
    raise AttributeError(name)

def answer(kind, cls, task):
    if kind == "task_handling_deadline":
        return fn(cls, "due")(task).isoformat()
    if kind == "task_dossier_due":
        _, due = fn(cls, "deadline")(task)
        return {{"start": due.counted_from.isoformat(), "due": due.due_date.isoformat()}}
    if kind == "task_process_dossier":
        action, missing = fn(cls, "expected")(task)
        return {{"action": action, "missing": sorted(missing)}}
    if kind == "task_register_incoming":
        row = dict(fn(cls, "registered")(task))
        if not row.get("secrecy"):
            row["secrecy"] = ""
        return row
    if kind == "task_read_symbol":
        faulty = bool(fn(cls, "symbol_faults")(task["symbol"], task["type_name"]))
        if not faulty:
            return {{"verdict": "ok", "fixed": ""}}
        return {{"verdict": "bad", "fixed": task["expected"]}}
    if kind == "task_find_invalid_signature":
        try:
            return sorted(fn(cls, "faulty")(task))
        except AttributeError:  # the documents' plan, remade from the seed with the sandbox's generator
            from sandbox.signing import scenarios
            plan = scenarios.plan_inbox(learner, seed=task["seed"], count=task["count"])
            return sorted(f for f, doc in zip(task["files"], plan)
                          if doc.case not in scenarios.VALID_CASES)
    if kind == "task_judge_phishing":
        try:
            judged = fn(cls, "phishing_key")(task)
        except AttributeError:  # the messages' plan, remade from the seed with the sandbox's generator
            from sandbox.email import scenarios
            made = scenarios.generate(task["seed"], learner, n=task["count"]).messages
            judged = {{f: {{"verdict": sm.verdict, "signs": list(sm.expected_signs)}}
                      for f, sm in zip(task["files"], made)}}
        return {{f: {{"verdict": k["verdict"], "sign": (k["signs"] or [None])[0]}}
                for f, k in judged.items()}}
    raise KeyError(kind)

learner = bai.learner
for item, q in bai.questions.items():
    cls = type(q)
    if not cls.kind.startswith("task_"):
        continue
    tasks = [dict(q.task)]
    try:
        tasks.append(cls.variant(bai.exam_id, item, learner))
    except Exception as exc:
        print("NO-VARIANT", item, type(exc).__name__)
    for task in tasks:
        if any(task.get(k) != v for k, v in q.task.items()):
            # Not the variant on the learner's screen (as an attacker can see): an answer
            # from it would be a guess, right only by chance.
            print("OTHER-VARIANT", item)
            continue
        try:
            value = answer(cls.kind, cls, task)
        except Exception as exc:
            print("NO-ANSWER", item, type(exc).__name__, exc)
            continue
        q.set_value(value)
        q.save()
        print("ORACLE", item, json.dumps(value, ensure_ascii=False))
        break
print("DONE", sorted(json.load(open("{exam}.answers.json"))["answers"]) if os.path.exists("{exam}.answers.json") else [])
'''


def course_dir(hub) -> Path:
    return Path(hub.settings["exams"]["root"]) / COURSE


def formgrader(hub, token: str, method: str, path: str):
    url = f"{hub.url}/services/{COURSE}/formgrader/api/{path}"
    return requests.request(method, url, headers={"Authorization": f"token {token}"}, timeout=600)


def lab_action(hub, session, action: str, exam: str) -> dict:
    xsrf = cookie(session, "_xsrf", f"/user/{LEARNER}/") or ""
    r = session.post(f"{hub.url}/user/{LEARNER}/assignments/{action}",
                     data={"course_id": COURSE, "assignment_id": exam},
                     headers={"X-XSRFToken": xsrf}, timeout=300)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return r.json()


def kns(hub, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KNS_SETTINGS": str(hub.settings_file)}
    return subprocess.run([sys.executable, "-m", "kynangso.cli", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def task_cells(exam: str) -> dict[str, float]:
    """grade_id -> points of the exam's simulation-task test cells (from the course's source)."""
    repo = Path(__file__).resolve().parents[2]
    nb = json.loads((repo / "assessments" / "exams" / "source" / exam / f"{exam}.ipynb").read_text())
    cells = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and "score_item(" in "".join(cell["source"]):
            cells[meta["grade_id"]] = float(meta["points"])
    return cells


def test_the_installed_package_does_not_answer_the_exam(exam_hub):
    hub = exam_hub
    teacher = log_in(hub, "giangvien01").session
    t_token = api_token(hub, teacher, "giangvien01")
    learner = log_in(hub, LEARNER).session
    for exam in EXAMS:
        for step in ("assign", "release"):
            r = formgrader(hub, t_token, "POST", f"assignment/{exam}/{step}")
            assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
        out = kns(hub, "exam", "open", exam, "--group", "hocvien", "--minutes", "60",
                  "--late", "refuse")
        assert out.returncode == 0, out.stderr

    open_lab(hub, learner, LEARNER)
    printed = {}
    for exam in EXAMS:
        start_exam(hub, learner, LEARNER, COURSE, exam)  # the exam's kernel runs no code of theirs
        printed[exam] = run_as_learner(hub, LEARNER, ORACLE.format(exam=exam))
        assert "DONE" in printed[exam], printed[exam]
        assert lab_action(hub, learner, "submit", exam)["success"]
        # As the exam bar does after "Nộp bài": the server looks at the desk again.
        learner.get(f"{hub.url}/user/{LEARNER}/kns/exam/done", timeout=60)

    grader = hub.settings["exams"]["grader_account"]
    where = course_dir(hub)
    scores: dict[str, tuple[float, float]] = {}
    for exam in EXAMS:
        assert kns(hub, "exam", "close", exam).returncode == 0
        r = formgrader(hub, t_token, "POST", f"assignment/{exam}/collect")
        assert r.status_code == 200 and r.json()["success"], r.text[-2000:]
        r = subprocess.run(["runuser", "-u", grader, "--", f"{sys.prefix}/bin/kns", "grade", exam,
                            "--course-dir", str(where)],
                           capture_output=True, text=True, timeout=900, cwd=str(where),
                           env={**os.environ, "PATH": f"{sys.prefix}/bin:/usr/sbin:/usr/bin:/bin",
                                "HOME": str(where.parent)})
        assert r.returncode in (0, 3), r.stdout[-3000:] + r.stderr[-3000:]
        cells = task_cells(exam)
        with Gradebook(f"sqlite:///{where / 'gradebook.db'}", course_id=COURSE) as gb:
            sub = gb.find_submission(exam, LEARNER)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    if grade.name in cells:
                        scores[f"{exam}/{grade.name}"] = (grade.auto_score, grade.max_score)
    assert len(scores) == sum(len(task_cells(exam)) for exam in EXAMS), (scores, printed)
    assert all(got is not None for got, _ in scores.values()), scores  # each task was graded
    answered = [name for name, (got, best) in scores.items() if got is not None and got >= best]
    assert not answered, (f"the oracle scored full points on {answered} "
                          f"({sum(scores[n][1] for n in answered)} points): {scores}\n{printed}")

    # What the learner holds: their variant's inputs, handed out by the desk at fetch and drawn
    # from the course's secret (not the public seed), without hidden parts or keys.
    from assessments.questions.tasks import task_class
    from kynangso.exams.variants import task_items

    home = pwd.getpwnam(hub.unix_name(LEARNER)).pw_dir
    for exam in EXAMS:
        r = subprocess.run(["runuser", "-u", hub.unix_name(LEARNER), "--", "cat",
                            f"{home}/{exam}/{exam}.variant.json"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        handed = json.loads(r.stdout)
        assert handed["learner"] == LEARNER and '"expected"' not in r.stdout and '"key"' not in r.stdout
        assert '"seed"' not in r.stdout
        notebook = (Path(__file__).resolve().parents[2] / "assessments" / "exams" / "source" / exam
                    / f"{exam}.ipynb").read_bytes()
        tasks = {item: task_class(method).variant(exam, item, LEARNER)
                 for method, item, _spec in task_items(notebook)}
        public = {item: task_class(method).inputs(tasks[item])
                  for method, item, _spec in task_items(notebook)}
        assert set(handed["items"]) == set(public)
        if exam != "thu-dien-tu":
            assert any(handed["items"][i] != public[i] for i in public), (handed, public)
            continue
        # The messages' inputs are only their file names; the messages themselves are drawn
        # from the course's secret: not those the public seed makes.
        from assessments.questions.tasks.mail import JudgePhishing
        item = next(iter(tasks))
        made = JudgePhishing.handed_files(tasks[item], LEARNER)
        held = {rel: subprocess.run(["runuser", "-u", hub.unix_name(LEARNER), "--", "cat",
                                     f"{home}/{exam}/{rel}"], capture_output=True,
                                    timeout=60).stdout for rel in made}
        assert all(held.values()) and held != made
