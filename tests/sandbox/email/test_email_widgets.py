"""The mailbox and channel widgets, driven as a person would: choose, click, read what is
shown (a seeded inbox in a tmp MailStore; signed PDFs with the session's training PKI)."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re

import ipywidgets as w
import pytest

from sandbox.email import intake, scenarios, signs, widgets
from sandbox.email import message as m
from tests.browser.vietnamese import english_words
from tests.sandbox.email.conftest import VANTHU

SEED = 7


@pytest.fixture
def scenario(store):
    sc = scenarios.generate(SEED, "hocvien01")
    scenarios.deliver(store, sc)
    return sc


@pytest.fixture
def app(store, scenario, tmp_path):
    return widgets.mailbox_app(store, scenario=scenario, save_dir=tmp_path / "luu")


def pick(scenario, kind=None, verdict=None):
    return next(sm for sm in scenario.messages
                if (kind is None or sm.kind == kind) and (verdict is None or sm.verdict == verdict))


def select(app, msg, folder="inbox"):
    """Choose `msg` in the list, as a person clicks its line."""
    app.folder.value = folder
    wanted = str(msg["Message-ID"])
    for _, key in app.list.options:
        if str(app.store.get(app.address, key, folder)["Message-ID"]) == wanted:
            app.list.value = key
            return key
    raise AssertionError(f"{wanted} not listed")


def shown(widget: w.HTML) -> str:
    """The text a person reads in an HTML widget."""
    return html.unescape(re.sub(r"<[^>]+>", " ", widget.value))


def test_phishing_judged_safe_is_wrong_and_signs_are_explained(app, scenario):
    """Judging a phishing message «an toàn»: is it called wrong, with every sign named and
    explained, and were the signs hidden until then?"""
    sm = pick(scenario, verdict="phishing")
    select(app, sm.message)
    found = signs.inspect(sm.message)
    assert found and {s.key for s in found} == set(sm.expected_signs)
    for s in found:  # nothing given away before the learner judges
        assert s.name not in shown(app.pane) and s.name not in shown(app.judge_message)
    app.safe_button.click()
    text = shown(app.judge_message)
    assert "Chưa đúng" in text and "lừa đảo" in text
    for s in found:
        assert s.name in text and s.explanation in text
    assert "Đã đánh giá 1/12 thư, đúng 0 thư" in shown(app.score)


def test_legitimate_judged_safe_is_right_without_signs(app, scenario):
    """Is a legitimate message judged «an toàn» called right, with no sign listed?"""
    select(app, pick(scenario, verdict="legitimate").message)
    app.safe_button.click()
    text = shown(app.judge_message)
    assert "Đúng." in text and "Chưa đúng" not in text
    assert "Các dấu hiệu" not in text and "Không có dấu hiệu đáng ngờ" in text
    assert "đúng 1 thư" in shown(app.score)


def test_score_and_judgements_survive_reopening(app, store, scenario, tmp_path):
    """After reopening the lesson, are the score and each message's feedback still there, and
    is a message judged only once?"""
    bad, good = pick(scenario, verdict="phishing"), pick(scenario, verdict="legitimate")
    select(app, bad.message)
    app.safe_button.click()
    select(app, good.message)
    app.safe_button.click()
    saved = json.loads((store.root / f"{VANTHU}.danh-gia.json").read_text("utf-8"))
    assert {v["correct"] for v in saved["answers"].values()} == {True, False}
    assert not list(store.root.glob(".*.danh-gia.json.*"))  # no temp file left behind

    again = widgets.mailbox_app(store, scenario=scenario, save_dir=tmp_path / "luu")
    assert "Đã đánh giá 2/12 thư, đúng 1 thư" in shown(again.score)
    labels = " ".join(label for label, _ in again.list.options)
    assert "đã đánh giá đúng" in labels and "đã đánh giá chưa đúng" in labels
    select(again, bad.message)
    assert "Chưa đúng" in shown(again.judge_message)  # the feedback, shown again
    again.phishing_button.click()  # a second answer does not change the first
    assert "chỉ đánh giá một lần" in shown(again.judge_message)
    assert "Đã đánh giá 2/12 thư, đúng 1 thư" in shown(again.score)


def test_reading_pane_shows_real_address_and_decoded_domain(store, scenario, tmp_path):
    """Does the pane show the real address and the domain as a person sees it (punycode
    decoded), with the encoded form beside it?"""
    sm = pick(scenario, kind="homoglyph_sender")
    app = widgets.mailbox_app(store, scenario=scenario, save_dir=tmp_path)
    select(app, sm.message)
    name, address = m.sender_address(sm.message)
    domain = address.rpartition("@")[2]
    assert domain.startswith("xn--")
    text = shown(app.pane)
    assert address in text and name in text
    assert signs.unicode_domain(domain) in text and signs.unicode_domain(domain) != domain
    assert "SPF: đạt" in text  # the authentication results, summarised


def test_reading_pane_never_renders_the_message_html(store, scenario, tmp_path):
    """Is a message's HTML (a script, a link, a display name with tags) shown as text only,
    with each link as «chữ hiển thị» → địa chỉ thật?"""
    evil = m.compose('"<b>Chủ tịch</b>" <ct@badinh.hanoi.gov.vn.example>', VANTHU,
                     "Thông báo <script>", "Xin chào",
                     html='<p>Xin chào</p><script>alert("x")</script>'
                          '<a href="http://lay-mat-khau.example/">https://dichvucong.gov.vn</a>',
                     headers={"Reply-To": "khac@lua-dao.example"})
    store.deliver(VANTHU, evil)
    app = widgets.mailbox_app(store, scenario=scenario, save_dir=tmp_path)
    select(app, evil)
    raw = app.pane.value.lower()
    assert "<script" not in raw and "<a href" not in raw and "<b>chủ tịch" not in raw
    text = shown(app.pane)
    assert "«https://dichvucong.gov.vn» → http://lay-mat-khau.example/" in text
    assert "khac@lua-dao.example" in text  # a Reply-To that differs is shown


def test_reply_goes_to_sent_with_in_reply_to(app, store, scenario):
    """Does «Trả lời» send a message whose In-Reply-To is the original's Message-ID, kept in
    «Thư đã gửi»?"""
    original = pick(scenario, verdict="legitimate").message
    select(app, original)
    app.reply_button.click()
    assert app.to.value == m.sender_address(original)[1]
    assert app.subject.value.startswith("Re: ")
    app.body.value = "Đã nhận, xin cảm ơn."
    app.send_button.click()
    assert "Đã gửi thư tới" in shown(app.send_message)
    [key] = store.keys(VANTHU, "sent")
    sent = store.get(VANTHU, key, "sent")
    assert str(sent["In-Reply-To"]) == str(original["Message-ID"])
    assert "Đã nhận, xin cảm ơn." in m.body_text(sent)
    app.folder.value = "sent"
    assert len(app.list.options) == 1 and "Re: " in app.list.options[0][0]


def test_forward_keeps_attachments(app, store, scenario):
    """Does «Chuyển tiếp» to a colleague's mailbox deliver the attachments too?"""
    colleague = "chutich@badinh.hanoi.gov.vn.example"
    store.create(colleague)
    original = next(sm.message for sm in scenario.messages if m.attachments(sm.message))
    select(app, original)
    app.forward_button.click()
    app.to.value = colleague
    app.send_button.click()
    [key] = store.keys(colleague)
    got = store.get(colleague, key)
    assert [a.filename for a in m.attachments(got)] == [a.filename for a in m.attachments(original)]


@pytest.mark.parametrize("to", ["vanphong", "a@@b.example", "Văn thư <vt@x.example",
                                "ok@badinh.hanoi.gov.vn.example, sai dia chi"])
def test_bad_address_sends_nothing(app, store, scenario, to):
    """Is a bad address refused in Vietnamese, with nothing sent?"""
    select(app, pick(scenario, verdict="legitimate").message)
    app.reply_button.click()
    app.to.value = to
    app.send_button.click()
    assert "không hợp lệ" in shown(app.send_message) and "chưa gửi thư nào" in shown(app.send_message)
    assert store.keys(VANTHU, "sent") == []


def test_empty_recipient_or_subject_sends_nothing(app, store):
    """Are an empty recipient and an empty subject refused, nothing sent?"""
    app.new_button.click()
    app.subject.value = "Lịch họp"
    app.send_button.click()
    assert "địa chỉ người nhận" in shown(app.send_message)
    app.to.value, app.subject.value = "chutich@badinh.hanoi.gov.vn.example", " "
    app.send_button.click()
    assert "tiêu đề" in shown(app.send_message)
    assert store.keys(VANTHU, "sent") == []


def test_save_eml_writes_a_file_that_parses_back(app, scenario, tmp_path):
    """Does «Lưu thành tệp .eml» write a message file in the learner's folder and say where?"""
    sm = pick(scenario, verdict="phishing")
    select(app, sm.message)
    app.save_button.click()
    [path] = (tmp_path / "luu").glob("*.eml")
    assert path.name in shown(app.action_message) and str(path.parent) in shown(app.action_message)
    back = m.load_eml(path)
    assert str(back["Message-ID"]) == str(sm.message["Message-ID"])
    assert m.body_text(back) == m.body_text(sm.message)
    app.save_button.click()  # a second save does not overwrite the first
    assert len(list((tmp_path / "luu").glob("*.eml"))) == 2


@pytest.fixture
def signed_app(pki, signed_scenario, tmp_path, registry):
    from sandbox.email.storage import MailStore

    store = MailStore(tmp_path / "mail-ky")
    scenarios.deliver(store, signed_scenario)
    return widgets.mailbox_app(store, scenario=signed_scenario, pki=pki, registry=registry,
                               save_dir=tmp_path / "luu")


def test_signature_check_valid_and_tampered(signed_app, signed_scenario):
    """Does «Kiểm tra chữ ký số» say HỢP LỆ for the signed document and KHÔNG HỢP LỆ, with red
    lines, for the tampered one?"""
    select(signed_app, pick(signed_scenario, kind="signed_document").message)
    assert signed_app.attachment.value.endswith(".pdf")
    signed_app.verify_button.click()
    text = shown(signed_app.verify_output)
    assert "HỢP LỆ" in text and "KHÔNG HỢP LỆ" not in text and "✘" not in text
    select(signed_app, pick(signed_scenario, kind="tampered_pdf").message)
    assert signed_app.verify_output.value == ""  # the old verdict is not left beside it
    signed_app.verify_button.click()
    text = shown(signed_app.verify_output)
    assert "KHÔNG HỢP LỆ" in text and "✘" in text


def test_register_attachment_gives_a_number_and_refuses_secret(signed_app, signed_scenario,
                                                                registry):
    """Does «Vào sổ văn bản đến» give the signed document its số đến in the real register,
    refuse the tampered one and a MẬT one, registering nothing for them?"""
    good = pick(signed_scenario, kind="signed_document").message
    select(signed_app, good)
    assert signed_app.reg_symbol.value and signed_app.reg_date.value is not None
    signed_app.reg_date.value = dt.date(2026, 2, 27)  # the date read on the document
    signed_app.register_button.click()
    assert "số đến 1" in shown(signed_app.register_message)
    assert registry.inbox("UBND")[0]["signature_status"] == "valid"

    select(signed_app, pick(signed_scenario, kind="tampered_pdf").message)
    signed_app.reg_date.value = dt.date(2026, 2, 27)
    signed_app.register_button.click()
    assert "chữ ký số" in shown(signed_app.register_message).lower()

    att = m.attachments(good)[0]
    secret = m.compose(str(good["From"]), VANTHU, "MẬT - Kế hoạch bảo vệ", "x",
                       attachments=[(att.filename, att.data, "application/pdf")])
    signed_app.store.deliver(VANTHU, secret)
    signed_app.refresh()
    select(signed_app, secret)
    signed_app.reg_symbol.value = "99/SNV-CCVC"
    signed_app.register_button.click()
    assert "Tài liệu mật" in shown(signed_app.register_message)
    assert len(registry.inbox("UBND")) == 1


def test_channel_panel_decides_with_sources():
    """Does the panel refuse e-mail for a MẬT document, citing its sources and marking the
    unconfirmed ones, and allow a working exchange?"""
    panel = widgets.channel_panel()
    assert "Được gửi bằng thư điện tử công vụ" in shown(panel.output)
    panel.kind.value, panel.secrecy.value = "official_document", "mat"
    text = shown(panel.output)
    assert "Không được gửi bằng thư điện tử" in text and "29/2018/QH14" in text
    assert "28/2018/QĐ-TTg" in text and "⚠ chưa đối chiếu" in text


def test_channel_of_the_message_being_read(signed_app, signed_scenario):
    """Does «Xét thư đang đọc» set the panel from the message: a received official document
    goes to the văn thư, not by e-mail?"""
    select(signed_app, pick(signed_scenario, kind="signed_document").message)
    signed_app.channel_button.click()
    assert signed_app.channel.kind.value == "received_official_document"
    assert "Văn thư" in shown(signed_app.channel.output)


def test_missing_mailbox_is_said_not_raised(store, tmp_path, caplog):
    """Does a mailbox that does not exist give a Vietnamese message and a log line?"""
    with caplog.at_level(logging.WARNING, logger="sandbox.email.widgets"):
        app = widgets.mailbox_app(store, "khongco@badinh.hanoi.gov.vn.example", save_dir=tmp_path)
    assert "Chưa có hộp thư" in shown(app.message)
    assert app.list.options == () and any("refused" in r.message for r in caplog.records)
    app.safe_button.click()
    app.save_button.click()
    assert "Hãy chọn một thư" in shown(app.judge_message)


def test_broken_message_file_is_reported_and_the_rest_listed(store, scenario, tmp_path, caplog):
    """Is a damaged message file reported in Vietnamese while the others stay readable?"""
    (store.path(VANTHU) / "new" / "1700000000.hong.kns").write_bytes(b"\x00\x01 not a mail")
    with caplog.at_level(logging.WARNING):
        app = widgets.mailbox_app(store, scenario=scenario, save_dir=tmp_path)
    assert "1 thư trong thư mục này bị hỏng" in shown(app.message)
    assert len(app.list.options) == 12 and caplog.records


def test_verifier_errors_are_shown(signed_app, signed_scenario, monkeypatch, caplog):
    """Does a non-PDF attachment, or a verifier that fails outright, give a Vietnamese
    message (and the operator's log a line) instead of an exception?"""
    good = pick(signed_scenario, kind="signed_document").message
    word = m.compose(str(good["From"]), VANTHU, "Dự thảo", "x",
                     attachments=[("du-thao.docx", scenarios.docx(["Dự thảo"]))])
    signed_app.store.deliver(VANTHU, word)
    signed_app.refresh()
    select(signed_app, word)
    signed_app.verify_button.click()
    assert "không phải là tệp PDF" in shown(signed_app.verify_output)

    def broken(*_a, **_k):
        raise RuntimeError("verifier crashed")

    monkeypatch.setattr(intake, "verify_attachment", broken)
    with caplog.at_level(logging.ERROR, logger="sandbox.email.widgets"):
        signed_app.verify_button.click()
    assert "Có lỗi khi kiểm tra chữ ký số" in shown(signed_app.verify_output)
    assert any("verifier crashed" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def visible(widget) -> list[str]:
    """Labels, descriptions, options and HTML text a person sees on one widget."""
    texts = [getattr(widget, a, "") or "" for a in ("description", "tooltip", "placeholder")]
    texts += [label for label in getattr(widget, "_options_labels", ())]
    if isinstance(widget, w.HTML | w.Label):
        texts.append(html.unescape(re.sub(r"<[^>]+>", " ", widget.value)))
    return [x for x in texts if x.strip()]


def test_everything_shown_is_vietnamese(signed_app, signed_scenario):
    """Is every label, description, option and text of the app Vietnamese, with every input
    and button labelled (after reading, judging, checking and registering)?"""
    good = pick(signed_scenario, kind="signed_document").message
    select(signed_app, pick(signed_scenario, verdict="phishing").message)
    signed_app.phishing_button.click()
    select(signed_app, good)
    signed_app.safe_button.click()
    signed_app.verify_button.click()
    signed_app.register_button.click()
    signed_app.reply_button.click()
    signed_app.channel_button.click()
    seen = []
    for widget in walk(signed_app):
        if isinstance(widget, w.Button):
            assert widget.description.strip(), widget
        if isinstance(widget, w.Text | w.Textarea | w.Dropdown | w.Select | w.DatePicker):
            assert widget.description.strip(), widget
        seen += visible(widget)
    text = "\n".join(seen)
    assert "Hộp thư đến" in text and "Thư lừa đảo, không an toàn" in text
    # what is data, not the app's words: addresses and domains, and the words of the messages
    # and of the signing sandbox's report (people's names, certificate and signature names)
    text = re.sub(r"\S+@\S+|\b[\w-]+(?:\.[\w-]+)+\b", " ", text)
    data = [str(sm.message.get(h, "")) for sm in signed_scenario.messages
            for h in ("From", "Subject")]
    data += [m.body_text(sm.message) for sm in signed_scenario.messages]
    report = intake.verify_attachment(good, m.attachments(good)[0].filename, signed_app.pki)
    data += [c.message for c in report.checks]
    allowed = {x for d in data for x in re.findall(r"[A-Za-z]+", d)}
    assert not english_words(text, allowed), english_words(text, allowed)
    for key in ("inbox", "sent", "drafts", "archive", "junk", "trash"):  # no folder ids shown
        assert not re.search(rf"(?<![\w.@/-]){key}(?![\w.@/-])", text), key


def test_every_widget_has_its_model_for_the_page(signed_app):
    """Can a page draw the app? Each widget of the tree has an open comm (its model on the page).
    A method named like ipywidgets' own (`open`, `send`) once kept the app's model from ever
    being made: in-process clicks worked, and Voilà showed "Error displaying widget: model not
    found"."""
    missing = [type(x).__name__ for x in walk(signed_app) if x.comm is None]
    missing += [type(x).__name__ for x in walk(widgets.channel_panel()) if x.comm is None]
    assert not missing, missing


def test_a_mailbox_for_writing_mail_leaves_out_judging_and_channels(store, scenario, tmp_path):
    """Does a lesson on writing mail get the mailbox without the judgement buttons and the
    "kênh gửi" panel, while the default mailbox has both?"""
    plain = widgets.mailbox_app(store, scenario=scenario, save_dir=tmp_path, judging=False,
                                channels=False)
    shown_now = set(map(id, walk(plain)))
    for part in (plain.safe_button, plain.phishing_button, plain.channel, plain.channel_button):
        assert id(part) not in shown_now
    assert id(plain.reply_button) in shown_now and id(plain.send_button) in shown_now
    default = widgets.mailbox_app(store, scenario=scenario, save_dir=tmp_path)
    assert {id(default.safe_button), id(default.channel)} <= set(map(id, walk(default)))
