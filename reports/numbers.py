"""Numbers as Vietnamese readers write them: decimal comma, a dot between thousands (7,5; 1.234).

Used wherever a number is shown as text (tables in the page and the PDF, chart labels,
sentences). Excel files keep real numbers: the spreadsheet formats them by its own locale.
"""

from __future__ import annotations

import math
import numbers as _numbers

import pandas as pd

MISSING = "–"


def number(value, decimals: int | None = None, max_decimals: int = 2) -> str:
    """`value` in Vietnamese format; missing values (None, NaN, NA) as a dash.

    With `decimals`, exactly that many digits after the comma; otherwise up to `max_decimals`,
    without trailing zeros (7.50 → "7,5", 3.0 → "3").
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, _numbers.Number):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if decimals is None:
        text = f"{v:,.{max_decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{v:,.{decimals}f}"
    if text in ("-0", "-0.0", "-0.00"):
        text = text[1:]
    # Python writes 1,234.5; Vietnamese 1.234,5.
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def frame_for_display(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose number columns are Vietnamese text (for HTML and PDF tables)."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[col] = s.map(number).astype(object)
        elif s.dtype == object:
            out[col] = s.map(lambda v: number(v) if _is_number(v) or _is_missing(v) else v)
    return out


def _is_number(v) -> bool:
    return isinstance(v, _numbers.Number) and not isinstance(v, bool)


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
