"""Working-day deadlines for handling incoming documents, through kynangso.workdays only.

The leader sets a thời hạn giải quyết (NĐ 30/2020 Điều 23.2) in working days; the day of
assignment is not counted (the calendar's convention, BLDS 2015 Điều 147.1).
"""

from __future__ import annotations

from datetime import date

REMIND_WITHIN = 2  # working days before the deadline at which a reminder is shown


def default_calendar():
    # Imported late so the rest of the sandbox works while the calendar is being built.
    from kynangso.workdays import default_calendar as _default

    return _default()


def due_date(start: date, working_days: int, calendar=None) -> date:
    """The deadline `working_days` working days after `start`."""
    cal = calendar or default_calendar()
    return cal.add_working_days(start, working_days)


def status(due: date | None, today: date, done: bool, calendar=None) -> str:
    """"none", "done", "overdue", "due_soon" or "on_track" for a document on `today`."""
    if done:
        return "done"
    if due is None:
        return "none"
    if today > due:
        return "overdue"
    cal = calendar or default_calendar()
    if cal.working_days_between(today, due) <= REMIND_WITHIN:
        return "due_soon"
    return "on_track"
