"""The seeded scenario generator."""

from datetime import date

from sandbox.documents import scenarios
from sandbox.documents.integrity import sha256_hex
from sandbox.documents.storage import Actor
from sandbox.documents.symbol import SymbolError, parse_symbol

VT = Actor("Lê Thị Thư", "van_thu")


def test_reproducible():
    """Does the same seed and learner give exactly the same set?"""
    a = [d.as_dict(True) for d in scenarios.generate(7, "hv01")]
    b = [d.as_dict(True) for d in scenarios.generate(7, "hv01")]
    assert a == b


def test_equivalent_but_different_per_learner():
    """Do two learners get different documents with the same mix of mistakes?"""
    a = scenarios.generate(7, "hv01", n=12)
    b = scenarios.generate(7, "hv02", n=12)
    assert [d.symbol for d in a] != [d.symbol for d in b]
    assert scenarios.mistake_mix(a) == scenarios.mistake_mix(b)
    assert len(a) == len(b) == 12
    assert set(scenarios.mistake_mix(a)) == set(scenarios.MISTAKES)


def test_other_seed_other_set():
    """Does another seed give another set?"""
    assert [d.symbol for d in scenarios.generate(1, "hv")] != [
        d.symbol for d in scenarios.generate(2, "hv")]


def test_answer_key_is_right():
    """Does each planted mistake match its answer (symbol, urgency, deadline, integrity)?"""
    for seed in range(5):
        for d in scenarios.generate(seed, "hv", n=10):
            kind = d.mistakes[0] if d.mistakes else "ok"
            if kind == "wrong_symbol":
                try:
                    parsed = parse_symbol(d.symbol)
                    assert parsed.text != d.expected["symbol"]  # valid form, wrong type
                except SymbolError as exc:
                    assert exc.kind == "format"
                parse_symbol(d.expected["symbol"])
            elif kind == "not_administrative":
                try:
                    parse_symbol(d.symbol)
                    raise AssertionError(d.symbol)
                except SymbolError as exc:
                    assert exc.kind == d.expected["symbol_kind"]
            else:
                assert parse_symbol(d.symbol).text == d.symbol
            if kind == "missing_urgency":
                assert d.urgency == "thuong" != d.expected["urgency"]
            else:
                assert d.urgency == d.expected["urgency"]
            assert (d.proposed_due != d.expected["due"]) == (kind == "wrong_deadline")
            assert (sha256_hex(d.content) == d.declared_sha256) == (kind != "tampered")
            assert d.doc_date <= d.received_at.date()


def test_deadline_over_holidays():
    """Is the expected due date a working-day count (never a weekend or holiday)?"""
    from kynangso.workdays import default_calendar
    cal = default_calendar()
    for d in scenarios.generate(3, "hv", n=20, start=date(2026, 4, 20)):
        assert cal.is_working_day(d.expected["due"])
        assert cal.working_days_between(d.received_at.date(), d.expected["due"]) == (
            d.proposed_deadline_days)


def test_deliver_to_queue(registry):
    """Do the electronic documents arrive in the queue; tampered ones cannot be received?"""
    docs = scenarios.generate(11, "hv", n=10)
    ids = scenarios.deliver(registry, "UBND", docs)
    electronic = [d for d in docs if d.medium == "electronic"]
    assert len(ids) == len(electronic) == len(registry.inbox("UBND", ("pending",)))
    received = returned = 0
    for doc_id, d in zip(ids, electronic, strict=True):
        if d.expected["integrity_ok"]:
            registry.receive(doc_id, VT)
            received += 1
        else:
            registry.return_invalid(doc_id, VT, "Tệp không toàn vẹn")
            returned += 1
    assert returned >= 1
    assert len(registry.incoming_register("UBND", 2026)) == received
