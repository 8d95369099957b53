"""Simulated learners: the answers a learner of a given quality would give, written exactly
where the widgets write them (the sidecar `<exam>.answers.json` in the exam folder) plus the
artefacts a learner makes (the signed PDF of the signing task).

    simulate_submission("chu-ky-so", "hv01", folder, "correct")

Qualities: "correct" (every item right), "partial" (some points on the exam, not all: a
neighbouring swap, one right choice of several, a task half done), "wrong" (every item
answered and worth 0), "blank" (nothing saved). Answers come from the same variant and rule
code the grader uses (the task classes of assessments.questions.tasks); nothing here touches
the gradebook. Used by the exam tests, the equivalence tests, the benchmark and demo data.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import answer_keys as keys  # noqa: E402
from exam_items import EXAMS, Item  # noqa: E402

from assessments.questions.identity import variant_secret  # noqa: E402
from assessments.questions.sidecar import Sidecar  # noqa: E402
from assessments.questions.tasks import task_class  # noqa: E402

QUALITIES = ("correct", "partial", "wrong", "blank")
# The passphrase of the simulated learners' training keys (demo and test data only).
SIM_PASSPHRASE = "hoc-vien-mo-phong"
WRITTEN = {
    "correct": "Tôi không cung cấp mật khẩu và thiết bị lưu khóa cho người khác, vì khóa bí mật "
               "phải do chính người ký quản lý (Nghị định 30/2020, Điều 32.3). Tôi đề nghị lãnh "
               "đạo phân công người có thẩm quyền ký thay theo quy định.",
    "partial": "Tôi không đưa mật khẩu cho đồng nghiệp.",
    "wrong": "Tôi đưa mật khẩu để đồng nghiệp ký giúp.",
}


def _shift(iso: str | None, days: int) -> str | None:
    return (dt.date.fromisoformat(iso) + dt.timedelta(days=days)).isoformat() if iso else None


def _generic(item: Item, quality: str, index: int) -> Any:
    """Answer of a choice, number, text or ordering item at `quality`."""
    keys = [k for k, _ in item.options]
    right = quality == "correct" or (quality == "partial" and index % 2 == 0)
    if item.kind == "single":
        return item.answer if right else next(k for k in keys if k != item.answer)
    if item.kind == "multiple":
        if quality == "correct":
            return sorted(item.answer)
        if quality == "partial":
            return sorted(item.answer)[:1]
        return sorted(k for k in keys if k not in item.answer)
    if item.kind == "number":
        return item.answer if right else item.answer + 7
    if item.kind == "text":
        return item.answer[0] if right else "không biết"
    if item.kind == "ordering":
        order = list(item.answer)
        if quality == "partial":
            order[-2], order[-1] = order[-1], order[-2]
        elif quality == "wrong":
            order.reverse()
        return order
    raise ValueError(item.kind)


def _task(exam_id: str, item: Item, learner: str, folder: Path, quality: str,
          pki=None, secret: bytes | None = None) -> Any:
    cls = task_class(item.method)
    with variant_secret(secret):
        task = cls.variant(exam_id, item.item_id, learner)
    name = cls.__name__
    if name == "RegisterIncoming":
        r = keys.registered(task)
        value = {k: r[k] for k in cls.FIELDS}
        if quality == "partial":
            value["arrival_number"] += 1
            value["secrecy"] = "" if r["secrecy"] else "mat"
        elif quality == "wrong":
            value = {"arrival_number": r["arrival_number"] + 40,
                     "arrival_date": _shift(r["arrival_date"], 3),
                     "doc_date": _shift(r["doc_date"], 5), "type_name": "Tờ trình"
                     if r["type_name"] != "Tờ trình" else "Báo cáo",
                     "symbol": "1/X", "author": "Không rõ", "urgency": "hoa_toc"
                     if r["urgency"] != "hoa_toc" else "khan",
                     "secrecy": "" if r["secrecy"] else "mat"}
        return value
    if name == "ReadSymbol":
        faulty = bool(keys.symbol_faults(task["symbol"], task["type_name"]))
        if quality == "wrong":
            return {"verdict": "ok" if faulty else "bad", "fixed": ""}
        if faulty:
            fixed = task["expected"] if quality == "correct" else task["symbol"]
            return {"verdict": "bad", "fixed": fixed}
        return {"verdict": "ok", "fixed": ""}
    if name == "HandlingDeadline":
        due = keys.handling_due(task).isoformat()
        return due if quality != "wrong" else _shift(due, 1)
    if name == "DossierDue":
        _, due = keys.dossier_deadline(task)
        start, end = due.counted_from.isoformat(), due.due_date.isoformat()
        if quality == "partial":
            return {"start": start, "due": _shift(end, 1)}
        if quality == "wrong":
            return {"start": _shift(start, -1), "due": _shift(end, 2)}
        return {"start": start, "due": end}
    if name == "ProcessDossier":
        from sandbox.filing.catalogue import default_catalogue

        action, missing = keys.dossier_decision(task)
        names = [d.name for d in default_catalogue().get(task["procedure"]).documents
                 if d.required]
        if quality == "wrong":
            return {"action": "receive" if action != "receive" else "refuse", "missing": []}
        if quality == "partial":
            return {"action": action, "missing": [] if missing else names[:1]}
        return {"action": action, "missing": sorted(missing)}
    if name == "FindInvalidSignature":
        faulty = keys.faulty_files(task)
        if quality == "correct":
            return sorted(faulty)
        if quality == "partial":
            return sorted(faulty)[:1]
        return sorted(f for f in task["files"] if f not in faulty)
    if name == "JudgePhishing":
        return _judgements(task, quality)
    if name == "SignFile":
        return _sign(cls, task, learner, folder, quality, pki)
    raise ValueError(name)


def _judgements(task: dict, quality: str) -> dict:
    """Each message judged: right with its first sign (correct), right verdicts without a
    sign (partial: the safe ones earn their share, the phishing ones half), every verdict
    turned round (wrong)."""
    from assessments.questions.tasks.mail import SIGNS

    given = {}
    for rel, truth in keys.phishing_key(task).items():
        verdict = truth["verdict"]
        if quality == "wrong":
            verdict = "legitimate" if verdict == "phishing" else "phishing"
        sign = None
        if verdict == "phishing":
            sign = (truth["signs"][0] if quality == "correct" else
                    SIGNS[0] if quality == "wrong" else None)
        given[rel] = {"verdict": verdict, "sign": sign}
    return given


def learner_key(learner: str, pki=None, passphrase: str = SIM_PASSPHRASE):
    """The simulated learner's personal training key; issued by the training CA when the
    learner has none that opens with `passphrase` (operator, demo and tests only)."""
    from kynangso.errors import KnsError
    from sandbox.signing import sign
    from sandbox.signing.pki import Subject, TrainingPKI

    pki = pki or TrainingPKI()
    now = pki.clock()
    for cert in reversed(pki.own_certificates(learner)):
        if cert.kind == "personal" and cert.status_at(now) == "valid":
            try:
                return sign.load_key(cert.key_path, passphrase, pki)
            except KnsError:
                continue
    info = pki.issue(Subject(f"Học viên {learner}", "UBND phường Hòa Bình (mô phỏng)",
                             "Thành phố Hà Thành (mô phỏng)", title="Chuyên viên"),
                     passphrase, account=learner)
    return sign.load_key(info.key_path, passphrase, pki)


def _sign(cls, task: dict, learner: str, folder: Path, quality: str, pki) -> dict:
    from sandbox.signing import sign, tamper
    from sandbox.signing.pki import TrainingPKI, write_atomic

    pki = pki or TrainingPKI()
    key = learner_key(learner, pki)
    source = folder / task["file"]
    if not source.exists():
        write_atomic(source, cls.make_document(task, key.common_name), 0o644)
    pdf = source.read_bytes()
    serial = format(key.cert.serial_number, "x")
    if quality == "wrong":  # the unsigned file handed in under the signed name
        write_atomic(folder / task["signed_file"], pdf, 0o644)
        return {"file": task["signed_file"], "serial": serial}
    signed = sign.sign_personal(pdf, key, pki, name=task["file"])
    if quality == "partial":  # a page added after signing: the signature no longer covers it
        signed = tamper.add_page(signed)
    write_atomic(folder / task["signed_file"], signed, 0o644)
    return {"file": task["signed_file"], "serial": serial}


def simulate_submission(exam_id: str, learner: str, folder: Path | str, quality: str,
                        pki=None, secret: bytes | None = None) -> dict[str, Any]:
    """Write `learner`'s answers to `exam_id` at `quality` into `folder`; returns them.

    `pki` is the training CA that signs (default: the platform's, `TrainingPKI()`); `secret`
    the course's variant secret when the variants are drawn from one (a hub's exam course)."""
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {QUALITIES}, not {quality!r}")
    exam = EXAMS[exam_id]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if quality == "blank":
        return {}
    sidecar = Sidecar(exam_id, learner, folder)
    given: dict[str, Any] = {}
    for index, item in enumerate(exam.items):
        if item.kind == "written":
            value = WRITTEN[quality]
        elif item.kind == "task":
            value = _task(exam_id, item, learner, folder, quality, pki, secret)
        else:
            value = _generic(item, quality, index)
        sidecar.save(item.item_id, value)
        given[item.item_id] = value
    return given


__all__ = ["QUALITIES", "SIM_PASSPHRASE", "learner_key", "simulate_submission"]
