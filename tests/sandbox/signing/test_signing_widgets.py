"""The learner's widgets, driven as a person would: set values, click, read the messages."""

from __future__ import annotations

import datetime as dt

from sandbox.signing import tamper
from sandbox.signing.pki import TrainingPKI
from sandbox.signing.widgets import my_certificate, sign_document, upload_value, verify_document
from tests.sandbox.signing.conftest import PASS, T0, Clock


def _fill(panel, **values):
    for name, value in values.items():
        getattr(panel, name).value = value


def test_request_and_renew_certificate(tmp_path):
    """Can a learner request a certificate, see it listed, and renew it, with errors shown?"""
    clock = Clock(T0)
    pki = TrainingPKI.create(tmp_path / "pki", clock=clock)
    panel = my_certificate(pki, account="kns-binh")
    assert "chưa có chứng thư" in panel.table.value
    _fill(
        panel,
        name="Võ Thị Bình",
        title="",
        organisation="UBND phường Hòa Bình",
        province="Hà Thành",
        passphrase="mat-khau-123",
        passphrase2="mat-khau-124",
    )
    panel.request_button.click()
    assert "không giống nhau" in panel.request_message.value
    panel.passphrase2.value = "mat-khau-123"
    panel.request_button.click()
    assert "chức danh" in panel.request_message.value  # personal needs a title
    assert pki.certificates() == []
    panel.title.value = "Chuyên viên"
    panel.passphrase.value = panel.passphrase2.value = "mat-khau-123"
    panel.request_button.click()
    assert "Đã cấp chứng thư số" in panel.request_message.value
    assert "Võ Thị Bình" in panel.table.value and "Còn hiệu lực" in panel.table.value
    clock.now = T0 + dt.timedelta(days=365 * 6)  # five years later it has expired
    panel.refresh()
    assert "Hết hạn" in panel.table.value
    _fill(panel, renew_passphrase="mat-khau-456", renew_passphrase2="mat-khau-456")
    panel.renew_button.click()
    assert "Đã cấp chứng thư số" in panel.renew_message.value
    assert panel.table.value.count("<tr>") == 3  # header + old + renewed


def test_sign_then_verify_with_widgets(keys, document, tmp_path):
    """Can a learner sign with the widget, then see a green report, and a red one when tampered?"""
    pki = keys.pki(T0)
    signer = sign_document(pki, account="kns-an", out_dir=tmp_path)
    signer.button.click()
    assert "Hãy chọn tệp PDF" in signer.message.value
    signer.upload.value = upload_value("cong-van.pdf", document)
    signer.passphrase.value = "sai-mat-khau"
    signer.button.click()
    assert "Mật khẩu bảo vệ khóa không đúng" in signer.message.value
    assert signer.passphrase.value == ""  # never left on screen
    signer.passphrase.value = PASS
    signer.button.click()
    assert "Đã ký số" in signer.message.value
    assert (tmp_path / "cong-van.da-ky.pdf").read_bytes() == signer.result

    checker = verify_document(pki)
    checker.upload.value = upload_value("cong-van.da-ky.pdf", signer.result)
    checker.profile.value = "any"
    checker.button.click()
    assert "HỢP LỆ" in checker.message.value
    assert checker.lines() and all(ok for ok, _ in checker.lines())
    assert "✔" in checker.output.value and "✘" not in checker.output.value

    checker.upload.value = upload_value("sua.pdf", tamper.add_page(signer.result))
    checker.button.click()
    assert "KHÔNG HỢP LỆ" in checker.message.value
    red = [text for ok, text in checker.lines() if not ok]
    assert red and "thêm 1 trang" in red[0]
    assert "✘" in checker.output.value


def test_verify_widget_rejects_non_pdf(keys):
    """Does the verify widget say plainly that a Word file is not a PDF?"""
    checker = verify_document(keys.pki(T0))
    checker.upload.value = upload_value("van-ban.docx", b"PK\x03\x04 docx")
    checker.button.click()
    assert "không phải là tệp PDF" in checker.message.value
    assert checker.output.value == ""
