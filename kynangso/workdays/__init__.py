"""The shared working-day calendar of the platform (state agencies, Việt Nam).

    from kynangso.workdays import default_calendar
    cal = default_calendar()
    cal.is_working_day(d); cal.add_working_days(start, n); cal.working_days_between(a, b)

Rules and sources: `data/calendar_vn.yaml`; domain README §3.4–3.5.
"""

from kynangso.workdays.calendar import CalendarYearMissing, WorkCalendar
from kynangso.workdays.convention import (
    Convention,
    Deadline,
    compute_due,
    effective_receipt_day,
    fmt_day,
    fmt_moment,
)
from kynangso.workdays.loader import (
    default_calendar,
    default_conventions,
    load_calendar,
    parse_calendar_data,
)

__all__ = [
    "CalendarYearMissing",
    "Convention",
    "Deadline",
    "WorkCalendar",
    "compute_due",
    "default_calendar",
    "default_conventions",
    "effective_receipt_day",
    "fmt_day",
    "fmt_moment",
    "load_calendar",
    "parse_calendar_data",
]
