"""Signature and seal images, drawn here as PNGs with a transparent background.

NĐ 30/2020 Phụ lục I §II.7d: the personal signature image is blue, PNG, transparent background.
§II.8a: the seal image is red, at real size, PNG, transparent background. Pillow is already
installed with reportlab (requirements.lock), so no new dependency.
"""

from __future__ import annotations

import hashlib
import io
import math
import random

from PIL import Image, ImageDraw, ImageFont

BLUE = (20, 40, 170, 255)
RED = (215, 25, 32, 235)
DPI = 300
MM = DPI / 25.4

# [I] Real size of a commune-level People's Committee seal: about 35 mm across (design choice).
SEAL_MM = 35.0
SIGNATURE_MM = (50.0, 20.0)

_FONT_ITALIC = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf"
_FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"


def _font(path: str, size: int):
    try:
        return ImageFont.truetype(path, size)
    except OSError:  # fonts-liberation missing: fall back to Pillow's own font
        return ImageFont.load_default(size)


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


def signature_png(full_name: str) -> bytes:
    """A blue "handwritten" signature for `full_name`: the given name in italic and a flourish,
    the same for the same name (seeded by it)."""
    w, h = int(SIGNATURE_MM[0] * MM), int(SIGNATURE_MM[1] * MM)
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    rng = random.Random(hashlib.sha256(full_name.encode("utf-8")).digest())
    given = full_name.split()[-1] if full_name.split() else full_name
    font = _font(_FONT_ITALIC, int(h * 0.55))
    draw.text((w * 0.12, h * 0.1), given, font=font, fill=BLUE)
    # flourish: a wavy underline whose shape depends on the name
    amp, freq, phase = h * rng.uniform(0.05, 0.12), rng.uniform(1.5, 3.0), rng.uniform(0, 6.28)
    points = [
        (x, h * 0.78 + amp * math.sin(phase + freq * 6.28 * x / w))
        for x in range(int(w * 0.05), int(w * 0.95), 4)
    ]
    draw.line(points, fill=BLUE, width=max(3, int(h * 0.03)), joint="curve")
    return _png(img)


def seal_png(organisation: str, province: str = "") -> bytes:
    """A round red seal: double ring, the organisation name around it, a star in the centre."""
    size = int(SEAL_MM * MM)
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c, r = size / 2, size / 2 - 4
    ring = max(4, size // 80)
    draw.ellipse((c - r, c - r, c + r, c + r), outline=RED, width=ring)
    inner = r * 0.68
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), outline=RED, width=ring // 2 + 1)
    # a five-pointed star
    star = []
    for i in range(10):
        radius = inner * (0.55 if i % 2 == 0 else 0.22)
        angle = -math.pi / 2 + i * math.pi / 5
        star.append((c + radius * math.cos(angle), c + radius * math.sin(angle)))
    draw.polygon(star, fill=RED)
    # the text around the ring, one letter at a time
    text = (
        f"{organisation.upper()} * {province.upper()} *"
        if province
        else f"{organisation.upper()} *"
    )
    font = _font(_FONT_BOLD, int(size * 0.075))
    text_r = (r + inner) / 2
    step = 2 * math.pi / max(len(text), 1)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 + i * step
        glyph = Image.new("RGBA", (int(size * 0.12), int(size * 0.12)), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), ch, font=font, fill=RED, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.BICUBIC)
        x = c + text_r * math.cos(angle) - glyph.width / 2
        y = c + text_r * math.sin(angle) - glyph.height / 2
        img.alpha_composite(glyph, (int(x), int(y)))
    return _png(img)
