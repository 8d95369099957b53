"""What must not go by e-mail: each decision with its rules and their sources."""

from __future__ import annotations

import pytest

from kynangso.errors import KnsError
from kynangso.i18n import catalogue
from sandbox.email import channels
from sandbox.email import message as m
from sandbox.email.channels import Situation, decide
from sandbox.email.rules import channel_rules

SNV = '"Văn thư Sở Nội vụ" <vanthu@sonoivu.hanoi.gov.vn.example>'


@pytest.mark.parametrize("situation,channel,allowed,rules", [
    (Situation("official_document", "mat"), "secret_channel", False,
     {"secret_never_email", "official_document_via_system"}),
    (Situation("working_exchange", "toi_mat"), "secret_channel", False,
     {"secret_never_email", "working_exchange_by_email"}),
    (Situation("official_document"), "document_system", False,
     {"official_document_via_system"}),
    (Situation("received_official_document"), "document_system", False,
     {"received_document_to_van_thu"}),
    (Situation("working_exchange"), "official_email", True, {"working_exchange_by_email"}),
    (Situation("working_exchange", mailbox="personal"), "official_email", False,
     {"working_exchange_by_email", "personal_mailbox_for_work"}),
    (Situation("personal_data"), "official_email", True, {"personal_data_work_mailbox_only"}),
    (Situation("personal_data", mailbox="personal"), "official_email", False,
     {"personal_data_work_mailbox_only", "personal_mailbox_for_work"}),
])
def test_decisions(situation, channel, allowed, rules):
    """Is each situation sent to the expected channel, allowed or not, for the expected rules?"""
    d = decide(situation)
    assert (d.channel, d.email_allowed) == (channel, allowed)
    assert {r.key for r in d.reasons} == rules


def test_secret_never_by_email_cites_the_state_secrets_law():
    """Does the secret-document decision cite the state-secrets law and NĐ 30, with the
    status of each source?"""
    d = decide(Situation("official_document", "tuyet_mat")).as_dict()
    secret = next(r for r in d["reasons"] if r["key"] == "secret_never_email")
    texts = " ".join(s["text"] for s in secret["sources"])
    assert "29/2018/QH14" in texts and "Nghị định 30/2020/NĐ-CP" in texts
    assert {s["status"] for s in secret["sources"]} <= {"V", "V2", "U", "I"}
    assert "Internet" in secret["text"] and "không" in d["summary"].lower()


def test_every_rule_is_sourced_and_explained():
    """Has every rule a Vietnamese explanation, a known channel and sourced, tagged rows?"""
    table = channel_rules()
    for rule in table["rules"]:
        assert f"email.channel_rule.{rule['key']}" in catalogue()
        assert rule["channel"] in table["channels"]
        assert rule["sources"] and all(s["status"] in ("V", "V2", "U", "I") and s["text"]
                                       for s in rule["sources"])
        assert set(rule["when"]) <= {"kind", "secrecy", "mailbox"}
    for channel in table["channels"]:
        assert f"email.channel.{channel}" in catalogue()


def test_bad_fact_is_refused_in_vietnamese():
    """Is an unknown kind refused with the allowed values?"""
    with pytest.raises(KnsError) as info:
        Situation("thu_ca_nhan")
    assert "official_document" in info.value.user_message and "không hợp lệ" in info.value.user_message


def test_facts_read_off_a_message():
    """Are a secrecy mark, an official document's số/ký hiệu and a personal mailbox read
    from the message?"""
    doc = m.compose(SNV, "vanthu@badinh.hanoi.gov.vn.example", "Công văn số 125/SNV-CCVC về việc tập huấn",
                    "Gửi kèm công văn.", attachments=[("125-SNV-CCVC.pdf", b"%PDF-1.4")])
    assert channels.situation_of(doc) == Situation("received_official_document")
    assert channels.situation_of(doc, received=False).kind == "official_document"
    secret = m.compose(SNV, "x@y.example", "TỐI MẬT: phương án", "x")
    assert channels.situation_of(secret).secrecy == "toi_mat"
    plain = m.compose(SNV, "x@y.example", "Mật khẩu wifi phòng họp đã đổi", "x")
    assert channels.situation_of(plain).secrecy == "none"  # "Mật khẩu" is not a secrecy mark
    mine = m.compose("Tôi <toi.canbo@gmail.com.example>", "x@y.example", "Góp ý dự thảo", "x")
    assert channels.situation_of(mine, received=False) == Situation("working_exchange",
                                                                    mailbox="personal")
