"""The course's practice state, under `~/.kynangso/khoa-hoc/thu-dien-tu/` (disposable):
one simulated mail office per lesson (the sandbox's MailStore), the learner's seeded
scenarios delivered once, a private practice CA for the signed attachments and a practice
documents register that checks signatures against it.

Scenarios come from `sandbox.email.scenarios.generate(seed, learner)`: the seed is the
lesson's, so every learner gets the same mix of messages with other senders, names and
numbers. The progress service rebuilds the same messages in its own folder
(`courses.common.acting_for`): Message-IDs and kinds depend on (seed, learner) only.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from functools import cache
from pathlib import Path

from courses.common import learner, practice_dir
from kynangso.asyncio_compat import off_loop
from sandbox.email import scenarios
from sandbox.email.rules import directory
from sandbox.email.storage import MailStore

# Lesson 01: the office's own mail (legitimate messages only) to read, reply and forward.
SEED_01 = "khoa-hoc-04-bai-01"
# Lesson 02: the learner's inbox to judge, half unsafe (no signed kinds: those are lesson 04's).
SEED_02 = "khoa-hoc-04-bai-02"
COUNT_02 = 10
# Lesson 04: a small inbox holding both signed kinds (a valid and a tampered official document).
COUNT_04 = 4
ORG = "UBND"  # the learner's office in the documents register (sandbox/email directory: home)


@cache
def seed_04() -> int:
    """The first seed whose plan (seed-only) has both signed-PDF kinds in COUNT_04 messages."""
    return next(s for s in itertools.count()
                if {"signed_document", "tampered_pdf"} <= set(scenarios.plan(s, COUNT_04,
                                                                              signed=True)))


def folder(lesson: str) -> Path:
    path = practice_dir() / "thu-dien-tu" / lesson
    path.mkdir(parents=True, exist_ok=True)
    return path


def office_address(local: str) -> str:
    """An address of the learner's office (mail directory), e.g. office_address("vanthu")."""
    d = directory()
    return next(b.address for b in d.org(d.home).mailboxes if b.address.startswith(local + "@"))


def _deliver_once(store: MailStore, scenario: scenarios.Scenario, keep) -> None:
    """Deliver the scenario's messages that `keep` accepts, the first time only (a reopened
    lesson shows the same mailbox with what the learner did in it)."""
    marker = store.root / f".{scenario.recipient}.da-giao"
    if marker.exists():
        return
    store.create(scenario.recipient)
    for sm in scenario.messages:
        if keep(sm):
            store.deliver(scenario.recipient, sm.message)
    marker.write_text(str(scenario.seed), encoding="utf-8")


# -- lesson 01 -----------------------------------------------------------------------------------
def office_scenario() -> scenarios.Scenario:
    return scenarios.generate(SEED_01, learner(), n=8)


def office_mail() -> tuple[MailStore, scenarios.Scenario]:
    """Lesson 01's mail office: the văn thư's inbox with the legitimate messages, and the
    mailboxes of colleagues a message can be forwarded to."""
    store = MailStore(folder("bai-01") / "mail")
    for local in ("vanphong", "chutich", "cntt", "ketoan"):
        store.create(office_address(local))
    sc = office_scenario()
    _deliver_once(store, sc, lambda sm: sm.verdict == "legitimate")
    return store, sc


# -- lesson 02 -----------------------------------------------------------------------------------
def judged_scenario() -> scenarios.Scenario:
    return scenarios.generate(SEED_02, learner(), n=COUNT_02)


def judged_mail() -> tuple[MailStore, scenarios.Scenario]:
    store = MailStore(folder("bai-02") / "mail")
    sc = judged_scenario()
    _deliver_once(store, sc, lambda sm: True)
    return store, sc


# -- lesson 04: practice CA, signed attachments, register ----------------------------------------
def pki():
    """The course's practice CA (training only, no legal value), dated three years back so
    that documents signed "two days ago" are valid; made on first use."""
    from sandbox.signing.pki import TrainingPKI, utcnow

    ca = folder("bai-04") / "pki"
    if not (ca / "ca" / "root.pem").exists():
        now = utcnow()
        TrainingPKI.create(ca, clock=lambda: now - dt.timedelta(days=3 * 365))
    return TrainingPKI(ca)


def signed_mail(ca=None) -> tuple[MailStore, list[dict]]:
    """Lesson 04's mailbox: a scenario with a valid and a tampered signed document, made once
    (signing takes seconds) and listed in `danh-sach.json` (ref, kind, Message-ID, key)."""
    ca = ca or pki()
    store = MailStore(folder("bai-04") / "mail")
    index = store.root.parent / "danh-sach.json"
    if index.exists():
        try:
            listed = json.loads(index.read_text(encoding="utf-8"))
            keys = set(store.keys(listed[0]["address"]))
            if all(i["key"] in keys for i in listed):
                return store, listed
        except (OSError, ValueError, KeyError, IndexError):
            pass  # damaged or stale: make it again
    sc = off_loop(scenarios.generate, seed_04(), learner(), n=COUNT_04, pki=ca)
    store.create(sc.recipient)
    listed = [{"ref": sm.ref, "kind": sm.kind, "message_id": str(sm.message["Message-ID"]),
               "address": sc.recipient, "key": store.deliver(sc.recipient, sm.message)}
              for sm in sc.messages]
    tmp = index.with_suffix(".tmp")
    tmp.write_text(json.dumps(listed, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, index)
    return store, listed


def signed_message(ref: str):
    """The message `ref` of lesson 04's mailbox (EmailMessage)."""
    store, listed = signed_mail()
    item = next(i for i in listed if i["ref"] == ref)
    return store.get(item["address"], item["key"])


def registry(round_: int = 0, ca=None):
    """The course's practice documents register (office UBND) for an exercise round, checking
    attached signatures with the practice CA (sandbox.documents.integrity.pdf_signature_verifier).
    A document is registered once a year (the register refuses a duplicate), so each round
    ("Bài khác") has a register of its own: a learner who registered wrongly starts afresh."""
    from sandbox.documents.integrity import DefaultIntegrityCheck, pdf_signature_verifier
    from sandbox.documents.storage import Registry

    check = DefaultIntegrityCheck(signature_verifier=pdf_signature_verifier(ca or pki()))
    name = "so-van-ban.sqlite" if not round_ else f"so-van-ban-{round_}.sqlite"
    reg = Registry(folder("bai-04") / name, integrity_check=check)
    if ORG not in {o["code"] for o in reg.organisations()}:
        reg.add_organisation(ORG, directory().org(ORG).name, "Ba Đình")
    return reg
