"""Small helpers shared by the simulation tasks: HTML, inputs, dates, where the kernel runs."""

from __future__ import annotations

import datetime as dt
import html
import unicodedata
from pathlib import Path

import ipywidgets as w

from assessments.questions.identity import GRADER_FOLDERS
from kynangso.i18n import t

STYLE = {"description_width": "14em"}
# A plain dict: each widget gets its own Layout, and importing this module makes no widget.
WIDE = {"width": "36em"}


def esc(text: object) -> str:
    return html.escape(str(text))


def para(key: str, **params: object) -> str:
    return f"<p>{esc(t(key, **params))}</p>"


def listing(rows: list[tuple[str, object]]) -> str:
    """A definition-like list: label: value, one per line."""
    items = "".join(f"<li>{esc(label)}: <b>{esc(value)}</b></li>" for label, value in rows)
    return f"<ul>{items}</ul>"


def label(key: str) -> str:
    return t(f"questions.tasks.{key}")


def text_field(key: str, placeholder: str = "") -> w.Text:
    return w.Text(description=label(key), placeholder=placeholder, style=STYLE, layout=WIDE)


def date_field(key: str) -> w.DatePicker:
    return w.DatePicker(description=label(key), style=STYLE)


def choice_field(key: str, options: list[tuple[str, object]]) -> w.Dropdown:
    return w.Dropdown(options=[(t("questions.tasks.choose"), None), *options], value=None,
                      description=label(key), style=STYLE, layout=WIDE)


def norm(text: object) -> str:
    """Text compared as a clerk would: NFC, spaces collapsed, case ignored."""
    return " ".join(unicodedata.normalize("NFC", str(text or "")).split()).casefold()


def iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def from_iso(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def vn_date(value: dt.date | str) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def in_grader(folder: Path | str) -> bool:
    """True when the notebook runs in nbgrader's submitted/ or autograded/ folder."""
    return Path(folder).resolve().parent.parent.name in GRADER_FOLDERS


def share(parts: list[tuple[float, bool]], points: float) -> float:
    """Points for weighted criteria (weight, met), rounded to hundredths."""
    total = sum(weight for weight, _ in parts)
    got = sum(weight for weight, ok in parts if ok)
    return round(points * got / total, 2) if total else 0.0
