"""Practice documents to sign: a short administrative document drawn with reportlab.

The layout is a simplified Mẫu 1.5 (công văn) of NĐ 30/2020 Phụ lục III: organisation and số on
the left, Quốc hiệu on the right, body, then the signature block (chức vụ, space for the
signature image, họ tên) on the right of the last page.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

_FONTS = {
    "KNSSerif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "KNSSerif-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "KNSSerif-Italic": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
}
MM = 72 / 25.4


def _register() -> None:
    for name, path in _FONTS.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, path))


def make_document(
    *,
    organisation: str,
    number: str,
    subject: str,
    signer_title: str,
    signer_name: str,
    pages: int = 1,
    place_date: str = "Hòa Bình, ngày 05 tháng 01 năm 2026",
    body: str | None = None,
) -> bytes:
    """A PDF of `pages` A4 pages whose last page ends with the signature block."""
    _register()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setTitle(subject)
    c.setAuthor(organisation)
    w, h = A4
    left, right = 30 * MM, w - 15 * MM
    body = body or (
        "Văn phòng HĐND và UBND đề nghị các đơn vị thực hiện nội dung sau đây "
        "đúng thời hạn và báo cáo kết quả (tài liệu thực hành, không có giá trị "
        "pháp lý)."
    )
    for page in range(pages):
        if page:
            c.setFont("KNSSerif", 13)
            c.drawCentredString(w / 2, h - 12 * MM, str(page + 1))
        y = h - 25 * MM
        if page == 0:
            c.setFont("KNSSerif-Bold", 12)
            c.drawCentredString(left + 40 * MM, y, organisation.upper())
            c.drawCentredString(right - 55 * MM, y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
            c.setFont("KNSSerif-Bold", 13)
            c.drawCentredString(right - 55 * MM, y - 16, "Độc lập - Tự do - Hạnh phúc")
            c.setFont("KNSSerif", 13)
            c.drawCentredString(left + 40 * MM, y - 20, f"Số: {number}")
            c.setFont("KNSSerif-Italic", 13)
            c.drawCentredString(right - 55 * MM, y - 40, place_date)
            c.setFont("KNSSerif", 12)
            c.drawCentredString(left + 40 * MM, y - 40, f"V/v {subject}")
            y -= 90
        c.setFont("KNSSerif", 13)
        for line in range(18 if page < pages - 1 else 8):
            c.drawString(left + (1 * MM if line == 0 else 0), y, f"{line + 1}. {body}"[:80])
            y -= 20
        if page == pages - 1:
            y -= 20
            c.setFont("KNSSerif-Bold", 12)
            c.drawString(left, y, "Nơi nhận:")
            c.setFont("KNSSerif", 11)
            c.drawString(left, y - 14, "- Như trên;")
            c.drawString(left, y - 28, "- Lưu: VT, VP.")
            cx = right - 40 * MM
            c.setFont("KNSSerif-Bold", 14)
            c.drawCentredString(cx, y, signer_title.upper())
            c.drawCentredString(cx, y - 28 * MM, signer_name)
        c.showPage()
    c.save()
    return out.getvalue()
