"""The exam's first widget: title, learner, duration, closing time and late policy, how to work.

The closing time and late policy come from `exam-info.json`, which the exam desk writes into
the exam folder when the learner fetches the exam:

    {"exam": "van-ban", "title": "…", "opens_at": "2026-03-02T08:00:00+07:00",
     "closes_at": "2026-03-02T09:00:00+07:00", "late_policy": "refuse" | "accept_zero"}

Without that file (a practice copy, a notebook opened outside the hub) the header says the
times come from the exam desk instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from pathlib import Path
from typing import Any

import ipywidgets as w

from kynangso.i18n import t

log = logging.getLogger(__name__)

INFO_FILE = "exam-info.json"
LATE_POLICIES = ("refuse", "accept_zero")
VIETNAM = dt.timezone(dt.timedelta(hours=7))  # no daylight saving


def read_exam_info(folder: Path) -> dict[str, Any] | None:
    """The exam desk's information, with `closes_at` as an aware datetime; None if absent/unusable."""
    path = Path(folder) / INFO_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        closes = dt.datetime.fromisoformat(info["closes_at"])
        if closes.tzinfo is None or info.get("late_policy") not in LATE_POLICIES:
            raise ValueError("closes_at without a time zone or unknown late_policy")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("unusable %s: %r", path, exc)
        return None
    return {**info, "closes_at": closes}


def vietnam_time(moment: dt.datetime) -> dict[str, str]:
    local = moment.astimezone(VIETNAM)
    return {"time": local.strftime("%H:%M"), "date": local.strftime("%d/%m/%Y")}


def header_html(title: str, minutes: int, learner: str, folder: Path) -> str:
    lines = [t("questions.header.learner", learner=learner),
             t("questions.header.duration", minutes=minutes)]
    info = read_exam_info(folder)
    if info is None:
        lines.append(t("questions.header.no_info"))
    else:
        when = vietnam_time(info["closes_at"])
        lines.append(t("questions.header.closes", **when))
        lines.append(t(f"questions.header.late_{info['late_policy']}", **when))
    steps = [t("questions.header.how_saved"), t("questions.header.how_status"),
             t("questions.header.how_submit")]
    return (f"<h2>{html.escape(title)}</h2>"
            + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
            + f"<p><strong>{html.escape(t('questions.header.how_title'))}</strong></p><ul>"
            + "".join(f"<li>{html.escape(step)}</li>" for step in steps) + "</ul>")


def header_widget(title: str, minutes: int, learner: str, folder: Path) -> w.HTML:
    return w.HTML(header_html(title, minutes, learner, folder))
