"""The answer keys of the simulation tasks: from a learner's whole variant to the expected answer.

This file is the grader's, never the learner's: it sits in the exam course's folder, which has
no `__init__.py` and is never installed (learners' kernels cannot import it), and the hub copies
it into the course folder that only the grader account reads. The grader computes each key
outside the learner's kernel (assessments.grading.keys.AnswerKeys, a trusted preprocessor of
`kns grade` and of the platform's `nbgrader autograde`) and writes it as data into the hidden
test; the task classes in assessments.questions.tasks only compare an answer with it.

`key(kind, task) -> dict` (JSON data) for each task kind that needs one; the signing task that
asks for a signed file is judged on the file itself and has none.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from kynangso.i18n import t
from kynangso.workdays import compute_due, default_calendar
from sandbox.documents import deadlines
from sandbox.documents.rules import ruleset
from sandbox.documents.storage import Actor, Registry
from sandbox.documents.symbol import SymbolError, parse_symbol

ORG = "UBND"
ORG_NAME = "Ủy ban nhân dân phường Hòa Bình (mô phỏng)"


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- documents ---------------------------------------------------------------------------------


# A throwaway register per key: in memory (tmpfs) where there is one, not on the disk.
_SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@lru_cache(maxsize=256)
def _registered(task_json: str) -> dict[str, Any]:
    """The register row the sandbox writes for this task's document (after the earlier rows)."""
    k = json.loads(task_json)
    at = dt.datetime.fromisoformat(k["received_at"])
    clerk = Actor("van-thu", "van_thu")
    with tempfile.TemporaryDirectory(dir=_SCRATCH) as tmp:
        reg = Registry(Path(tmp) / "so-den.sqlite", clock=lambda: at)
        try:
            reg.add_organisation(ORG, ORG_NAME)
            earlier = [(None, n) for n in range(k["previous"])]
            earlier += [("mat", n) for n in range(k["previous_secret"])]
            for secrecy, n in earlier:
                reg.register_incoming(
                    ORG, clerk, author="Sở Nội vụ thành phố Hà Nội",
                    symbol=f"{n + 1:02d}/SNV-VP", doc_date=at.date(), type_name="Công văn",
                    subject="Văn bản đã đăng ký trước", secrecy=secrecy, allow_duplicate=True)
            view = reg.register_incoming(
                ORG, clerk, author=k["author"], symbol=k["symbol"],
                doc_date=dt.date.fromisoformat(k["doc_date"]), type_name=k["type_name"],
                subject=k["subject"], urgency=k["urgency"], secrecy=k["secrecy"],
                received_at=at, allow_duplicate=True)
        finally:
            reg.close()
    return {"arrival_number": view["arrival_number"], "arrival_date": _iso(view["arrival_date"]),
            "author": view["author"], "symbol": view["symbol"],
            "doc_date": _iso(view["doc_date"]), "type_name": view["type_name"],
            "urgency": view["urgency"], "secrecy": view["secrecy"] or ""}


def registered(task: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in task.items() if k != "key"}
    return dict(_registered(json.dumps(body, sort_keys=True, ensure_ascii=False)))


def expected_type(type_name: str):
    """The DocType of the title printed on a document (Công văn has no abbreviation)."""
    rules = ruleset(dt.date(2026, 1, 1))
    return rules.type_by_name(type_name) or rules.type_by_key("cong_van")


def symbol_faults(symbol: str, type_name: str) -> list[str]:
    """What is wrong with `symbol` on a document titled `type_name` (empty: nothing)."""
    try:
        sym = parse_symbol(symbol, dt.date(2026, 1, 1))
    except SymbolError as exc:
        return list(exc.problems)
    dtype = expected_type(type_name)
    got = sym.doc_type.abbrev if sym.doc_type else None
    if got != dtype.abbrev:
        return [t("questions.tasks.sym_type_mismatch", name=dtype.name,
                  abbrev=dtype.abbrev or "—", got=got or "—")]
    return []


def handling_due(task) -> dt.date:
    return deadlines.due_date(dt.date.fromisoformat(task["start"]), task["days"])


# -- filing ------------------------------------------------------------------------------------


def dossier_deadline(task):
    from sandbox.filing.catalogue import default_catalogue

    proc = default_catalogue().get(task["procedure"])
    at = dt.datetime.fromisoformat(task["at"])
    return proc, compute_due(default_calendar(), at, proc.days, proc.convention)


def dossier_decision(task) -> tuple[str, list[str]]:
    """(action, names of missing documents) by the desk's rules."""
    from sandbox.filing import workflow
    from sandbox.filing.catalogue import default_catalogue

    proc = default_catalogue().get(task["procedure"])
    asked = next((p.code for p in default_catalogue()
                  if p.name.casefold() == task["request"].casefold()), None)
    if asked is not None and asked != proc.code:
        return "refuse", []
    required = {d.key: d.quantity for d in proc.documents if d.required}
    missing = workflow.missing_documents(required, task["given"])
    if missing:
        return "request_supplement", [proc.document(k).name for k in missing]
    return "receive", []


# -- signing -----------------------------------------------------------------------------------


def faulty_files(task) -> list[str]:
    """The files whose planned case is faulty (the generator's plan, from the seed)."""
    from sandbox.signing import scenarios

    plan = scenarios.plan_inbox(task["learner"], seed=task["seed"], count=task["count"])
    return [f for f, p in zip(task["files"], plan, strict=True)
            if p.case not in scenarios.VALID_CASES]


# -- e-mail ------------------------------------------------------------------------------------


def phishing_key(task) -> dict[str, dict[str, Any]]:
    """file -> {"verdict", "signs"} of each message, from the seed by the sandbox's generator:
    its planned kind (safe or phishing) and the signs it planted, with any other sign the
    sandbox's rules find in the message itself (a learner naming that one is right too)."""
    from sandbox.email import scenarios, signs

    made = scenarios.generate(task["seed"], task["learner"], n=task["count"]).messages
    return {f: {"verdict": sm.verdict,
                "signs": sorted(set(sm.expected_signs) | signs.sign_keys(sm.message))}
            for f, sm in zip(task["files"], made, strict=True)}


# -- the key of a task -------------------------------------------------------------------------


def key(kind: str, task: dict[str, Any]) -> dict[str, Any] | None:
    """The answer key of `task` (a whole variant) of kind `kind`, as JSON data; None when the
    kind is judged on the submitted file itself."""
    if kind == "task_register_incoming":
        return {"row": registered(task)}
    if kind == "task_read_symbol":
        return {"faulty": bool(symbol_faults(task["symbol"], task["type_name"])),
                "expected": task["expected"]}
    if kind == "task_handling_deadline":
        return {"due": handling_due(task).isoformat()}
    if kind == "task_dossier_due":
        _, due = dossier_deadline(task)
        return {"start": due.counted_from.isoformat(), "due": due.due_date.isoformat()}
    if kind == "task_process_dossier":
        action, missing = dossier_decision(task)
        return {"action": action, "missing": sorted(missing)}
    if kind == "task_find_invalid_signature":
        return {"faulty": sorted(faulty_files(task))}
    if kind == "task_judge_phishing":
        return {"messages": phishing_key(task)}
    return None


def keyed(kind: str, task: dict[str, Any]) -> dict[str, Any]:
    """`task` with its key (what the grader writes into the hidden test)."""
    k = key(kind, task)
    return {**task, "key": k} if k is not None else dict(task)
