"""Messages are real MIME: they round-trip through the email parser and open in Maildir and
mbox; reply, forward, attach and save as .eml behave as mail programs expect."""

from __future__ import annotations

import datetime as dt
import mailbox
from email import message_from_bytes, policy

import pytest

from kynangso.errors import ValidationError
from sandbox.email import message as m
from sandbox.email import scenarios
from sandbox.email.message import MailError

SENDER = '"Văn thư UBND phường Ba Đình" <vanthu@badinh.hanoi.gov.vn.example>'
CHUTICH = "chutich@badinh.hanoi.gov.vn.example"
WHEN = dt.datetime(2026, 3, 2, 9, 30, tzinfo=m.VN_TZ)


def sample() -> m.EmailMessage:
    msg = m.compose(SENDER, [CHUTICH], "Giấy mời họp giao ban tuần 10", "Kính gửi đồng chí,\nMời họp.",
                    "<p>Mời họp. Lịch: <a href=\"https://vanban.badinh.hanoi.gov.vn.example/lich\">"
                    "https://vanban.badinh.hanoi.gov.vn.example/lich</a></p>",
                    cc=["ketoan@badinh.hanoi.gov.vn.example"], date=WHEN,
                    message_id="<goc.1@badinh.hanoi.gov.vn.example>")
    msg = m.attach(msg, "Giấy mời số 12 – họp giao ban.pdf", b"%PDF-1.4\n% thu\n")
    return m.attach(msg, "Danh sách.xlsx", b"PK\x03\x04 bang tinh")


def shape(msg) -> list[tuple]:
    """Headers and the tree of parts (type, filename, bytes) of a message; text parts with
    their line ends as LF (the wire form has CRLF, RFC 5322 §2.1)."""
    heads = [(k, str(v)) for k, v in msg.items()]
    parts = [(p.get_content_type(), p.get_filename(),
              p.get_payload(decode=True).replace(b"\r\n", b"\n")
              if p.get_content_maintype() == "text" else p.get_payload(decode=True))
             for p in msg.walk() if not p.is_multipart()]
    return [heads, parts]


def test_roundtrip_keeps_headers_and_parts():
    """Does a message read back from its bytes have the same headers, parts and bytes?"""
    msg = sample()
    back = message_from_bytes(m.to_bytes(msg), policy=policy.default)
    assert shape(back) == shape(msg)
    assert back.get_content_type() == "multipart/mixed"
    assert [a.filename for a in m.attachments(back)] == ["Giấy mời số 12 – họp giao ban.pdf",
                                                         "Danh sách.xlsx"]
    assert m.body_html(back) and "Mời họp" in m.body_text(back)
    assert m.sender_address(back) == ("Văn thư UBND phường Ba Đình",
                                      "vanthu@badinh.hanoi.gov.vn.example")


def test_wire_form_is_ascii_headers_with_crlf():
    """Are the headers 7-bit (RFC 2047 words for Vietnamese) and lines ended by CRLF?"""
    raw = m.to_bytes(sample())
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_every_scenario_message_roundtrips():
    """Does every generated message, from each kind, survive the round-trip unchanged?"""
    for sm in scenarios.generate(7, "hocvien02", n=24).messages:
        back = message_from_bytes(m.to_bytes(sm.message), policy=policy.default)
        assert shape(back) == shape(sm.message), sm.kind
        assert m.sender_address(back) == m.sender_address(sm.message), sm.kind


def test_opens_in_maildir_and_mbox(tmp_path):
    """Can Python's mailbox module store and read the message as Maildir and as mbox?"""
    msg = sample()
    md = mailbox.Maildir(tmp_path / "md", create=True)
    key = md.add(m.to_bytes(msg))
    again = message_from_bytes(md.get_bytes(key), policy=policy.default)
    assert shape(again) == shape(msg)
    box = mailbox.mbox(tmp_path / "box.mbox", create=True)
    box.add(m.to_bytes(msg))
    box.flush()
    box.close()
    reread = mailbox.mbox(tmp_path / "box.mbox", create=False)
    [only] = list(reread.keys())
    got = message_from_bytes(reread.get_bytes(only), policy=policy.default)
    assert str(got["Subject"]) == "Giấy mời họp giao ban tuần 10"
    assert [a.data for a in m.attachments(got)] == [a.data for a in m.attachments(msg)]


def test_reply_threads_and_quotes():
    """Does a reply go to the sender with "Re:", In-Reply-To and References, quoting the text?"""
    original = sample()
    original["References"] = "<truoc.0@badinh.hanoi.gov.vn.example>"
    r = m.reply(original, CHUTICH, "Đã nhận, sẽ dự họp.", date=WHEN)
    assert str(r["Subject"]) == "Re: Giấy mời họp giao ban tuần 10"
    assert str(r["In-Reply-To"]) == "<goc.1@badinh.hanoi.gov.vn.example>"
    assert str(r["References"]).split() == ["<truoc.0@badinh.hanoi.gov.vn.example>",
                                            "<goc.1@badinh.hanoi.gov.vn.example>"]
    assert r["To"].addresses[0].addr_spec == "vanthu@badinh.hanoi.gov.vn.example"
    assert "> Mời họp." in m.body_text(r)
    assert m.attachments(r) == []
    twice = m.reply(m.parse(m.to_bytes(r)), SENDER, "Cảm ơn.")
    assert str(twice["Subject"]) == "Re: Giấy mời họp giao ban tuần 10"  # no "Re: Re:"


def test_reply_all_copies_the_others_but_not_me():
    """Does reply-all copy the other recipients and leave the replier out?"""
    r = m.reply(sample(), CHUTICH, "Đã nhận.", reply_all=True)
    cc = [a.addr_spec for a in r["Cc"].addresses]
    assert cc == ["ketoan@badinh.hanoi.gov.vn.example"]


def test_forward_keeps_attachments():
    """Does a forward carry every attachment with its name, type and bytes, and say "Fwd:"?"""
    original = sample()
    f = m.forward(original, CHUTICH, "ketoan@badinh.hanoi.gov.vn.example", "Chuyển đồng chí.")
    assert str(f["Subject"]) == "Fwd: Giấy mời họp giao ban tuần 10"
    assert m.attachments(f) == m.attachments(original)
    assert "Thư chuyển tiếp" in m.body_text(f) and "Mời họp." in m.body_text(f)


def test_attach_does_not_change_the_original():
    """Does attach return a new message and leave the one given untouched?"""
    msg = sample()
    before = m.to_bytes(msg)
    new = m.attach(msg, "Phụ lục.docx", b"PK\x03\x04")
    assert m.to_bytes(msg) == before
    assert [a.filename for a in m.attachments(new)][-1] == "Phụ lục.docx"
    assert m.attachments(new)[-1].content_type.endswith("wordprocessingml.document")


def test_save_and_load_eml(tmp_path):
    """Does a saved .eml load back as the same message?"""
    msg = sample()
    path = m.save_eml(msg, tmp_path / "thu" / "giay-moi.eml")
    assert shape(m.load_eml(path)) == shape(msg)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".eml-")]


@pytest.mark.parametrize("data", [b"", b"%PDF-1.4 not a message", b"\x00\x01\x02binary",
                                  b"Subject: chi co tieu de\r\n\r\nthan thu"])
def test_malformed_eml_is_refused_in_vietnamese(tmp_path, data):
    """Is a file that is not a message refused with the reasons in Vietnamese, file intact?"""
    path = tmp_path / "hong.eml"
    path.write_bytes(data)
    with pytest.raises(ValidationError) as info:
        m.load_eml(path)
    assert "không phải là một thư điện tử hợp lệ" in info.value.user_message
    assert info.value.problems and all(p.strip() for p in info.value.problems)
    assert path.read_bytes() == data


def test_missing_eml_file(tmp_path):
    """Is a missing .eml reported with its path, in Vietnamese?"""
    with pytest.raises(MailError) as info:
        m.load_eml(tmp_path / "khong-co.eml")
    assert "Không tìm thấy tệp thư" in info.value.user_message


def test_unknown_attachment_names_the_existing_ones():
    """Is asking for an attachment that is not there answered with the names that are?"""
    with pytest.raises(MailError) as info:
        m.attachment(sample(), "khong-co.pdf")
    assert "Danh sách.xlsx" in info.value.user_message


def test_links_show_text_and_target():
    """Are the HTML part's links read with their visible text and real target?"""
    msg = m.compose(SENDER, CHUTICH, "s", "t", '<a href="http://x.example/a">Bấm <b>vào</b> đây</a>')
    assert m.links(msg) == [m.Link("Bấm vào đây", "http://x.example/a")]
