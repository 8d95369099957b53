"""'Nghe bài': the lesson's text read aloud offline by espeak-ng's Vietnamese voice.

The office's own websites have no read-aloud, and many staff prefer to listen. The text is the
lesson's Markdown cells with the markup removed (headings, emphasis, links, images -> their alt
text, tables -> their cells); code cells are never read.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from kynangso.errors import KnsError

log = logging.getLogger(__name__)
VOICE = "vi"
SPEED = 140  # words per minute: a little slower than espeak-ng's default 175, for clarity

_RULES = [
    (re.compile(r"```.*?```", re.S), " "),                 # code blocks
    (re.compile(r"<[^>]+>"), " "),                         # HTML tags
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),        # images -> alt text
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),         # links -> their text
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.M), ""),          # heading marks
    (re.compile(r"^\s*>\s?", re.M), ""),                   # quotes
    (re.compile(r"^\s*[-*+]\s+", re.M), ""),               # bullets
    (re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.M), ""),       # table separator rows
    (re.compile(r"\s*\|\s*"), ", "),                       # table cells
    (re.compile(r"(\*\*|__|\*|_|`)"), ""),                 # emphasis, inline code
    (re.compile(r"[ \t]+"), " "),
]


def strip_markdown(md: str) -> str:
    text = md
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    lines = [line.strip(" ,") for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def lesson_text(notebook: Path) -> str:
    """The readable text of a lesson notebook (its Markdown cells, in order)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            parts.append(strip_markdown("".join(src) if isinstance(src, list) else src))
    return "\n\n".join(p for p in parts if p)


def engine() -> str | None:
    return shutil.which("espeak-ng")


def synthesize(text: str, out: Path, voice: str = VOICE, speed: int = SPEED) -> Path:
    """Write `text` spoken in Vietnamese to the WAV file `out` (atomically)."""
    exe = engine()
    if exe is None:
        raise KnsError("courses.readaloud.no_engine")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "bai.txt"
        src.write_text(text, encoding="utf-8")
        wav = Path(tmp) / "bai.wav"
        try:
            subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(wav), "-f", str(src)],
                           check=True, capture_output=True, timeout=300)
        except (subprocess.SubprocessError, OSError) as exc:
            log.warning("espeak-ng failed: %s", exc)
            raise KnsError("courses.readaloud.failed", log_detail=str(exc)) from exc
        shutil.move(str(wav), out.with_suffix(".tmp"))
    out.with_suffix(".tmp").replace(out)
    return out
