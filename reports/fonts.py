"""A TTF with Vietnamese glyphs for the PDFs and charts (Debian's fonts-dejavu-core)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from kynangso.errors import KnsError

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


@cache
def register_fonts() -> None:
    for name, file in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        path = next((d / file for d in FONT_DIRS if (d / file).exists()), None)
        if path is None:
            raise KnsError("reports.no_font", log_detail=f"{file} not found in {FONT_DIRS}")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)
