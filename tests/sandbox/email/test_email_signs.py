"""Phishing and safe-use scenarios: each sign is found by its rule in the message itself and
explained in Vietnamese; legitimate messages show none; seeds give equivalent sets."""

from __future__ import annotations

import re

import pytest

from kynangso.i18n import catalogue
from sandbox.email import message as m
from sandbox.email import scenarios, signs
from sandbox.email.rules import sign_keys
from sandbox.email.signs import Context

DIRECTORY_SENDER = '"Văn thư Sở Nội vụ" <vanthu@sonoivu.hanoi.gov.vn.example>'
MX = "mx.badinh.hanoi.gov.vn.example"


def reread(msg):
    """The message as the learner's mailbox holds it (bytes parsed again)."""
    return m.parse(m.to_bytes(msg))


@pytest.mark.parametrize("seed", range(12))
def test_each_message_shows_exactly_its_signs(seed):
    """Does every unsafe message show the signs planted, found by the rules from the message
    alone, and every legitimate one none?"""
    for learner in ("hocvien01", "hocvien07"):
        for sm in scenarios.generate(seed, learner, n=24).messages:
            found = signs.sign_keys(reread(sm.message))
            assert found == set(sm.expected_signs), (sm.kind, sm.message["From"], found)
            assert bool(found) == (sm.verdict == "phishing")


def test_every_kind_and_sign_is_exercised():
    """Does the scenario set cover every sign of the table (the PKI ones in test_email_signed)?"""
    kinds = set(scenarios.plan(0, 40))
    assert kinds == set(scenarios.PHISHING + scenarios.LEGITIMATE) - scenarios.NEEDS_PKI
    planted = {k for kind in scenarios.PHISHING for k in scenarios.EXPECTED[kind]}
    assert planted == set(sign_keys()) == set(signs.RULES)


def test_signs_are_explained_in_vietnamese_from_the_catalogue():
    """Is every sign found named and explained from the catalogue, with its evidence filled in
    and its source given?"""
    cat = catalogue()
    seen = set()
    for seed in range(6):
        for sm in scenarios.generate(seed, "hocvien03", n=24).messages:
            for s in signs.inspect(sm.message):
                seen.add(s.key)
                assert f"email.sign.{s.key}.explain" in cat and f"email.sign.{s.key}.name" in cat
                text = s.explanation
                assert text.strip() and not re.search(r"\{\w+\}", text)
                assert re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", text)
                assert s.source
                assert str(sm.expected_signs) and s.key in sm.expected_signs
    assert seen == set(signs.RULES) - {"tampered_signature"}


def test_same_seed_same_messages():
    """Does the same (seed, learner) give the same messages, byte for byte?"""
    one = scenarios.generate(5, "hocvien01")
    two = scenarios.generate(5, "hocvien01")
    assert [m.to_bytes(s.message) for s in one.messages] == \
        [m.to_bytes(s.message) for s in two.messages]


def test_other_learners_get_different_but_equivalent_sets():
    """Do two learners of one seed get the same mix of kinds but different messages, and
    another seed another mix?"""
    a, b = scenarios.generate(5, "hocvien01"), scenarios.generate(5, "hocvien02")
    assert a.mix() == b.mix()
    assert [str(s.message["Subject"]) + str(s.message["From"]) for s in a.messages] != \
        [str(s.message["Subject"]) + str(s.message["From"]) for s in b.messages]
    assert {str(s.message["Message-ID"]) for s in a.messages}.isdisjoint(
        {str(s.message["Message-ID"]) for s in b.messages})
    assert sum(1 for s in a.messages if s.verdict == "phishing") == 6
    mixes = {tuple(sorted(scenarios.generate(seed, "x").mix().items())) for seed in range(6)}
    assert len(mixes) > 1


def test_homoglyph_domain_is_decoded_and_named():
    """Is a punycode domain with a Cyrillic letter shown decoded, with the letter named?"""
    fake = "xn--" + "bаdinh".encode("punycode").decode() + ".hanoi.gov.vn.example"
    msg = m.compose(f"Nguyễn Văn A <vanthu@{fake}>", "x@y.example", "s", "t")
    [sign] = signs.homoglyph_domain(msg, Context())
    assert sign.evidence["shown"] == "bаdinh.hanoi.gov.vn"
    assert sign.evidence["imitates"] == "badinh.hanoi.gov.vn"
    assert "Cyrillic" in sign.evidence["letters"]
    assert not signs.lookalike_domain(msg, Context())  # one explanation, the precise one


@pytest.mark.parametrize("domain,imitates", [
    ("badinh-hanoi-gov.vn", "badinh.hanoi.gov.vn"),
    ("bdainh.hanoi.gov.vn", "badinh.hanoi.gov.vn"),
    ("sonoivu.hanoi.gov.vn.secure-login.net", "sonoivu.hanoi.gov.vn"),
    ("gmaii.com", "gmail.com"),
    ("dichvucong.gov.vn.xacminh.com", "dichvucong.gov.vn"),
])
def test_lookalike_domains(domain, imitates):
    """Is each look-alike of a known domain recognised, and the original named?"""
    msg = m.compose(f"A <x@{domain}.example>", "x@y.example", "s", "t")
    [sign] = signs.lookalike_domain(msg, Context())
    assert sign.evidence["imitates"] == imitates


@pytest.mark.parametrize("domain", ["badinh.hanoi.gov.vn", "cap.badinh.hanoi.gov.vn",
                                    "gmail.com", "saomai-software.vn", "baomoi-tintuc.com"])
def test_known_and_unrelated_domains_are_not_lookalikes(domain):
    """Are the real domains, and a domain that imitates nothing, left alone?"""
    msg = m.compose(f"A <x@{domain}.example>", "x@y.example", "s", "t")
    assert not signs.lookalike_domain(msg, Context())


def test_authentication_results_only_from_our_server():
    """Is a failing result counted only when our own server wrote it (RFC 8601 §5), so a
    forged 'pass' or a forged 'fail' from elsewhere changes nothing?"""
    msg = m.compose(DIRECTORY_SENDER, "x@y.example", "s", "t", headers={
        "Authentication-Results": "mail.attacker.example; spf=fail; dkim=fail"})
    assert not signs.auth_fail(msg, Context())
    msg["Authentication-Results"] = f"{MX}; spf=pass smtp.mailfrom=x; dkim=fail header.d=x"
    [sign] = signs.auth_fail(msg, Context())
    assert sign.evidence["results"] == "DKIM=fail"


def test_link_without_an_address_in_its_text_is_not_a_mismatch():
    """Is "Bấm vào đây" (no address shown) not called a mismatch, but a shown address that
    differs from the target is?"""
    ok = m.compose(DIRECTORY_SENDER, "x@y.example", "s", "t",
                   '<a href="https://evil.example/a">Bấm vào đây</a>'
                   '<a href="https://dichvucong.gov.vn.example/x">dichvucong.gov.vn</a>')
    assert not signs.link_mismatch(ok, Context())
    bad = m.compose(DIRECTORY_SENDER, "x@y.example", "s", "t",
                    '<a href="http://198.51.100.7/dang-nhap">https://dichvucong.gov.vn/dang-nhap</a>')
    [sign] = signs.link_mismatch(bad, Context())
    assert sign.evidence["real_host"] == "198.51.100.7"


@pytest.mark.parametrize("filename,how", [
    ("Quyet-dinh.pdf.exe", "đuôi kép"),
    ("Hoa-don-12\u202efdp.exe", "đảo chiều"),
    ("Cong-van.pdf      .exe", "đuôi kép"),
    ("cap-nhat.scr", "chương trình"),
])
def test_executable_attachments(filename, how):
    """Is an executable found through a double extension, a right-to-left mark, padding?"""
    msg = m.compose(DIRECTORY_SENDER, "x@y.example", "s", "t",
                    attachments=[(filename, scenarios.FAKE_EXE, "application/octet-stream")])
    [sign] = signs.executable_attachment(msg, Context())
    assert how in sign.explanation
    assert not signs.type_mismatch(msg, Context())


def test_macro_hidden_in_a_docx_is_found_from_its_content():
    """Is a .docx carrying a VBA project caught by its content, a clean one not?"""
    ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    bad = m.compose(DIRECTORY_SENDER, "x@y.example", "s", "t",
                    attachments=[("Ke-hoach.docx", scenarios.docx(["x"], macro=True), ctype)])
    good = m.compose(DIRECTORY_SENDER, "x@y.example", "s", "t",
                     attachments=[("Ke-hoach.docx", scenarios.docx(["x"]), ctype)])
    assert signs.sign_keys(bad) == {"macro_attachment"}
    assert signs.sign_keys(good) == set()


def test_pdf_that_is_an_executable():
    """Is a .pdf whose bytes are a program caught by its magic bytes?"""
    msg = m.compose(DIRECTORY_SENDER, "x@y.example", "s", "t",
                    attachments=[("Cong-van.pdf", scenarios.FAKE_EXE, "application/pdf")])
    [sign] = signs.type_mismatch(msg, Context())
    assert "chương trình" in sign.explanation


def test_judge_gives_feedback_both_ways():
    """Does judge() say right or wrong from the message itself, with the explanations?"""
    sc = scenarios.generate(2, "hocvien05", n=12)
    bad = next(s for s in sc.messages if s.verdict == "phishing")
    good = next(s for s in sc.messages if s.verdict == "legitimate")
    fb = scenarios.judge(bad.message, "legitimate")
    assert not fb["correct"] and fb["verdict"] == "phishing" and fb["explanation"]
    assert scenarios.judge(good.message, "legitimate")["correct"]
    fb = scenarios.judge(good.message, "phishing")
    assert not fb["correct"] and "hợp lệ" in fb["headline"]
    assert fb["explanation"] == [catalogue()["email.verdict.no_sign"]]


def test_answer_key_and_learner_view():
    """Does the learner's view of a message hide the answer the grader's key holds?"""
    sm = scenarios.generate(2, "hocvien05").messages[0]
    assert "verdict" not in sm.as_dict() and "kind" not in sm.as_dict()
    key = sm.as_dict(with_answers=True)
    assert key["verdict"] in ("phishing", "legitimate")
    assert all(k in catalogue() for k in key["explanation_keys"])
