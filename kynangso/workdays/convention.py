"""How a period of "N ngày làm việc" is counted, written in one place.

Default (`blds_147`): the receipt day is not counted (BLDS 2015 Art. 147.1); a dossier received
after the 15:00 cut-off or on a non-working day counts as received on the next working day
(domain README §3.4); the result is due by the end of working hours of the last day. A period in
calendar days that ends on a non-working day moves to the next working day (Art. 148.5).
A procedure picks a convention by name and may override any field (`Convention.replace`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from kynangso.errors import KnsError
from kynangso.i18n import t
from kynangso.workdays.calendar import WorkCalendar

UNITS = ("working", "calendar")


def _time_or_none(value: Any) -> time | None:
    if value is None or value == "":
        return None
    if isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


@dataclass(frozen=True)
class Convention:
    """One counting convention (a row of the `conventions` table)."""

    name: str = "blds_147"
    count_receipt_day: bool = False
    cutoff: time | None = time(15, 0)
    office_open: time = time(7, 30)
    office_close: time = time(17, 0)
    unit: str = "working"
    source: str = ""

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, not {self.unit!r}")
        if self.office_open >= self.office_close:
            raise ValueError("office_open must be before office_close")

    @classmethod
    def from_row(cls, row: dict) -> Convention:
        if not isinstance(row, dict) or not row.get("name"):
            raise ValueError("a convention needs a name")
        return cls(
            name=str(row["name"]),
            count_receipt_day=bool(row.get("count_receipt_day", False)),
            cutoff=_time_or_none(row.get("cutoff", "15:00")),
            office_open=_time_or_none(row.get("office_open", "07:30")) or time(7, 30),
            office_close=_time_or_none(row.get("office_close", "17:00")) or time(17, 0),
            unit=str(row.get("unit", "working")),
            source=str(row.get("source") or ""),
        )

    def replace(self, **changes: Any) -> Convention:
        """This convention with some fields overridden (per procedure)."""
        return dataclasses.replace(self, **changes)


def fmt_day(d: date) -> str:
    """'Thứ Hai, 23/02/2026' (Vietnamese weekday from the catalogue)."""
    return t("workdays.day_format", weekday=t(f"workdays.weekday.{d.weekday()}"),
             date=d.strftime("%d/%m/%Y"))


def fmt_moment(dt: datetime) -> str:
    """'16 giờ 10 phút, ngày 13/02/2026', the way the forms write times."""
    return t("workdays.moment_format", hour=f"{dt.hour:02d}", minute=f"{dt.minute:02d}",
             date=dt.strftime("%d/%m/%Y"))


@dataclass(frozen=True)
class Deadline:
    """A computed due date and the steps of how it was counted (Vietnamese, for people)."""

    received_at: datetime
    days: int
    counted_from: date
    due_date: date
    due_at: datetime
    convention: Convention
    steps: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "received_at": self.received_at.isoformat(timespec="minutes"),
            "days": self.days,
            "unit": self.convention.unit,
            "convention": self.convention.name,
            "counted_from": self.counted_from.isoformat(),
            "due_date": self.due_date.isoformat(),
            "due_at": self.due_at.isoformat(timespec="minutes"),
            "steps": list(self.steps),
        }


MAX_LISTED_DAYS_OFF = 12


def effective_receipt_day(cal: WorkCalendar, received_at: datetime, conv: Convention,
                          steps: list[str] | None = None) -> tuple[date, bool]:
    """The day a dossier counts as received, and whether it arrived within working time.

    A receipt on a non-working day, or after the cut-off, counts as received on the next
    working day (domain README §3.4, the "15 giờ" rule).
    """
    d = received_at.date()
    reason = cal.reason_off(d)
    if reason is not None:
        eff = cal.add_working_days(d, 1)
        if steps is not None:
            label = t("workdays.weekend") if reason == "weekend" else reason
            steps.append(t("workdays.step.non_working", day=fmt_day(d), reason=label,
                           effective=fmt_day(eff)))
        return eff, False
    if conv.cutoff is not None and received_at.time() > conv.cutoff:
        eff = cal.add_working_days(d, 1)
        if steps is not None:
            steps.append(t("workdays.step.after_cutoff", cutoff=conv.cutoff.strftime("%H:%M"),
                           effective=fmt_day(eff)))
        return eff, False
    return d, True


def compute_due(cal: WorkCalendar, received_at: datetime, days: int,
                conv: Convention | None = None, explain: bool = True) -> Deadline:
    """Due date and time for a period of `days` starting at the receipt `received_at`."""
    conv = conv or Convention()
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise KnsError("workdays.bad_days", log_detail=f"days={days!r}", value=days)
    steps: list[str] | None = [] if explain else None
    if steps is not None:
        steps.append(t("workdays.step.received", moment=fmt_moment(received_at),
                       day=fmt_day(received_at.date())))
    eff, _ = effective_receipt_day(cal, received_at, conv, steps)

    if conv.unit == "working":
        counted = days - 1 if conv.count_receipt_day and days > 0 else days
        due = cal.add_working_days(eff, counted)
        if steps is not None:
            key = "workdays.step.count_from_receipt" if conv.count_receipt_day \
                else "workdays.step.count_after_receipt"
            steps.append(t(key, days=days, start=fmt_day(eff)))
            _list_days_off(cal, received_at.date(), due, steps)
    else:
        raw = eff + timedelta(days=days)
        due = cal.next_working_day(raw)
        if steps is not None:
            steps.append(t("workdays.step.calendar_days", days=days, start=fmt_day(eff),
                           raw=fmt_day(raw)))
            if due != raw:
                steps.append(t("workdays.step.roll_forward", raw=fmt_day(raw), due=fmt_day(due)))
    due_at = datetime.combine(due, conv.office_close)
    if steps is not None:
        steps.append(t("workdays.step.due", moment=fmt_moment(due_at), day=fmt_day(due),
                       convention=conv.name))
    return Deadline(received_at=received_at, days=days, counted_from=eff, due_date=due,
                    due_at=due_at, convention=conv, steps=tuple(steps or ()))


def _list_days_off(cal: WorkCalendar, start: date, end: date, steps: list[str]) -> None:
    """Name the non-working days skipped in (start, end], so a person can check the count."""
    skipped = []
    d = start + timedelta(days=1)
    while d <= end and len(skipped) <= MAX_LISTED_DAYS_OFF:
        reason = cal.reason_off(d)
        if reason is not None and reason != "weekend":
            skipped.append(t("workdays.skipped_item", day=d.strftime("%d/%m/%Y"), reason=reason))
        d += timedelta(days=1)
    made_up = [d for d in cal.working_days if start < d <= end]
    if skipped:
        steps.append(t("workdays.step.skipped", items="; ".join(skipped[:MAX_LISTED_DAYS_OFF])))
    for d in sorted(made_up):
        steps.append(t("workdays.step.makeup", day=fmt_day(d), reason=cal.working_days[d]))
