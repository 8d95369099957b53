"""The mail store: one Maildir per address; bad input loses nothing."""

from __future__ import annotations

import mailbox

import pytest

from kynangso.errors import ValidationError
from sandbox.email import message as m
from sandbox.email.message import MailError
from sandbox.email.storage import INBOX
from tests.sandbox.email.conftest import VANTHU

CHUTICH = "chutich@badinh.hanoi.gov.vn.example"


def a_message(subject="Báo cáo tuần", to=VANTHU):
    return m.compose(f"Chủ tịch <{CHUTICH}>", to, subject, "Nội dung.",
                     attachments=[("Báo cáo.pdf", b"%PDF-1.4 x")])


def test_mailbox_has_standard_folders(store):
    """Does a new mailbox have the inbox and the usual folders, readable by mailbox.Maildir?"""
    assert store.folders(VANTHU) == [INBOX, "archive", "drafts", "junk", "sent", "trash"]
    assert sorted(mailbox.Maildir(store.path(VANTHU)).list_folders()) == \
        ["archive", "drafts", "junk", "sent", "trash"]


def test_send_delivers_inside_the_office(store):
    """Does sending put a copy in Sent and one in each known recipient's inbox, and name the
    recipients outside the simulated office?"""
    store.create(CHUTICH)
    msg = m.compose(f"Chủ tịch <{CHUTICH}>", [VANTHU, "ai.do@gmail.com.example"], "Giao việc",
                    "Đề nghị xử lý.")
    result = store.send(msg)
    assert list(result["delivered"]) == [VANTHU]
    assert result["outside"] == ["ai.do@gmail.com.example"]
    assert [r["subject"] for r in store.list(CHUTICH, "sent")] == ["Giao việc"]
    [row] = store.list(VANTHU)
    assert row["subject"] == "Giao việc" and row["from_address"] == CHUTICH


def test_move_between_folders(store):
    """Does moving keep the message's bytes and take it out of the source folder?"""
    key = store.deliver(VANTHU, a_message())
    before = store.get_bytes(VANTHU, key)
    new = store.move(VANTHU, key, INBOX, "archive")
    assert store.keys(VANTHU) == []
    assert store.get_bytes(VANTHU, new, "archive") == before


def test_missing_folder_loses_nothing(store):
    """Is a move to a folder that does not exist refused in Vietnamese, the message kept?"""
    key = store.deliver(VANTHU, a_message())
    with pytest.raises(MailError) as info:
        store.move(VANTHU, key, INBOX, "Lưu trữ 2025")
    assert "không có thư mục «Lưu trữ 2025»" in info.value.user_message
    assert "archive" in info.value.user_message
    assert store.keys(VANTHU) == [key]


def test_missing_mailbox(store):
    """Is a mailbox that was never made reported, not created behind the person's back?"""
    with pytest.raises(MailError) as info:
        store.list("khongco@badinh.hanoi.gov.vn.example")
    assert "Chưa có hộp thư" in info.value.user_message
    assert not store.path("khongco@badinh.hanoi.gov.vn.example").exists()


def test_bad_address_is_refused(store):
    """Can an address not escape the mail folder ('../', no @)?"""
    for bad in ("../../etc", "khong-phai-dia-chi", ".hidden@x"):
        with pytest.raises(MailError):
            store.path(bad)


def test_import_malformed_eml_adds_nothing(store, tmp_path):
    """Does importing a broken .eml add nothing and leave the file as it was?"""
    bad = tmp_path / "hong.eml"
    bad.write_bytes(b"day khong phai thu\r\n")
    with pytest.raises(ValidationError):
        store.import_eml(VANTHU, bad)
    assert store.keys(VANTHU) == [] and bad.read_bytes() == b"day khong phai thu\r\n"


def test_import_and_export_eml(store, tmp_path):
    """Does a .eml imported and exported again come out as the same message?"""
    path = m.save_eml(a_message(), tmp_path / "vao.eml")
    key = store.import_eml(VANTHU, path)
    out = store.export_eml(VANTHU, key, tmp_path / "ra.eml")
    assert m.to_bytes(m.load_eml(out)) == m.to_bytes(m.load_eml(path))


def test_one_unreadable_file_does_not_hide_the_others(store):
    """Does the folder list skip a damaged file (logged) and show the good messages?"""
    store.deliver(VANTHU, a_message("Thư tốt"))
    md = mailbox.Maildir(store.path(VANTHU), create=False)
    md.add(b"rac khong co tieu de")
    assert [r["subject"] for r in store.list(VANTHU)] == ["Thư tốt"]


def test_deliver_bytes_checks_them_first(store):
    """Are bytes that are not a message refused before anything is written?"""
    with pytest.raises(ValidationError):
        store.deliver(VANTHU, b"\x00\x01")
    assert store.keys(VANTHU) == []


def test_export_mbox(store, tmp_path):
    """Can a folder be written as an mbox that the mailbox module reads back?"""
    store.deliver(VANTHU, a_message("Một"))
    store.deliver(VANTHU, a_message("Hai"))
    path = store.export_mbox(VANTHU, tmp_path / "hop-thu.mbox")
    subjects = sorted(m.parse(mailbox.mbox(path).get_bytes(k))["Subject"]
                      for k in mailbox.mbox(path).keys())
    assert subjects == ["Hai", "Một"]
