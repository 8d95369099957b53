"""The working-day calendar: which days a state agency works, and counting in working days.

Pure logic over the rows of `data/calendar_vn.yaml` plus the statutory holidays of the pinned
`holidays` package. A year not listed in the data is refused (`CalendarYearMissing`) rather than
guessed, because Tết and Quốc khánh days are announced yearly (domain README §3.5).
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from kynangso.errors import KnsError

log = logging.getLogger(__name__)


def _day(d: date) -> date:
    """Accept a datetime where a date is meant (a datetime never equals a date in a dict)."""
    return d.date() if isinstance(d, datetime) else d


class CalendarYearMissing(KnsError):
    """A date falls in a year whose official schedule is not loaded."""

    def __init__(self, year: int, loaded: Iterable[int], day: date | None = None):
        self.year = year
        loaded_text = ", ".join(str(y) for y in sorted(loaded)) or "không có"
        super().__init__(
            "workdays.year_missing",
            log_detail=f"calendar year {year} not loaded (loaded: {loaded_text}, day {day})",
            year=year,
            loaded=loaded_text,
        )


@dataclass(frozen=True)
class DayRule:
    """One row of the data table: a day off, a working day or a holiday, with its source."""

    day: date
    name: str
    source: str


@dataclass
class WorkCalendar:
    """Working days of state agencies for a set of loaded years.

    `holidays` are days off (statutory holidays, nghỉ bù, bridge days); `working_days` are
    make-up Saturdays, which override the weekend. Days are answered only for `years`.
    """

    years: frozenset[int]
    holidays: dict[date, str] = field(default_factory=dict)
    working_days: dict[date, str] = field(default_factory=dict)
    weekend: frozenset[int] = frozenset({5, 6})

    def __post_init__(self) -> None:
        # Sorted ordinals of every working day in the loaded years: counting becomes a bisect,
        # which is what makes 100,000 due-date computations cheap.
        ords = []
        for year in sorted(self.years):
            d = date(year, 1, 1)
            while d.year == year:
                if self._works(d):
                    ords.append(d.toordinal())
                d += timedelta(days=1)
        self._ords = ords

    # -- single days -------------------------------------------------------------------------
    def require_year(self, year: int, day: date | None = None) -> None:
        if year not in self.years:
            raise CalendarYearMissing(year, self.years, day)

    def _works(self, d: date) -> bool:
        if d in self.working_days:
            return True
        return d.weekday() not in self.weekend and d not in self.holidays

    def is_working_day(self, d: date) -> bool:
        """True when state agencies work on `d` (make-up Saturdays included)."""
        d = _day(d)
        self.require_year(d.year, d)
        return self._works(d)

    def reason_off(self, d: date) -> str | None:
        """Why `d` is not a working day: the holiday's name, "weekend", or None if it is one."""
        d = _day(d)
        self.require_year(d.year, d)
        if self._works(d):
            return None
        return self.holidays.get(d, "weekend")

    # -- counting ----------------------------------------------------------------------------
    def _index_or_missing(self, j: int, start: date) -> date:
        if j < 0:
            raise CalendarYearMissing(min(self.years) - 1, self.years, start)
        if j >= len(self._ords):
            raise CalendarYearMissing(max(self.years) + 1, self.years, start)
        result = date.fromordinal(self._ords[j])
        # A gap in the loaded years (e.g. 2024 and 2026 but not 2025) must not be skipped over.
        for year in range(min(start.year, result.year), max(start.year, result.year) + 1):
            self.require_year(year, start)
        return result

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (BLDS 2015 Art. 147.1: `start` is not counted).

        n == 0 returns `start`; a negative n counts backwards (the n-th working day before).
        """
        start = _day(start)
        self.require_year(start.year, start)
        if n == 0:
            return start
        o = start.toordinal()
        if n > 0:
            return self._index_or_missing(bisect_right(self._ords, o) + n - 1, start)
        return self._index_or_missing(bisect_left(self._ords, o) + n, start)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative when b is before a."""
        a, b = _day(a), _day(b)
        self.require_year(a.year, a)
        self.require_year(b.year, b)
        if b < a:
            return -self.working_days_between(b, a)
        for year in range(a.year, b.year + 1):
            self.require_year(year, a)
        return bisect_right(self._ords, b.toordinal()) - bisect_right(self._ords, a.toordinal())

    def next_working_day(self, d: date) -> date:
        """`d` itself if it is a working day, else the next one (BLDS 2015 Art. 148.5)."""
        return d if self.is_working_day(d) else self.add_working_days(d, 1)
