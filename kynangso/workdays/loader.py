"""Load the calendar table (YAML) and merge it with the pinned `holidays` package.

The table is validated as a whole: every problem is listed (in Vietnamese) and nothing is
loaded if one row is wrong.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kynangso.errors import ValidationError
from kynangso.i18n import t
from kynangso.workdays.calendar import WorkCalendar
from kynangso.workdays.convention import Convention

log = logging.getLogger(__name__)

DATA_FILE = "calendar_vn.yaml"


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad date is reported, not a crash."""


_PlainLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(text: str):
    """Parse YAML with dates kept as text (validated by the caller)."""
    return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader subclass


def default_data_path() -> Path:
    return Path(str(resources.files("kynangso.workdays") / "data" / DATA_FILE))


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _as_time(value: Any) -> time | None:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        return None


def _package_holidays(years: list[int], pinned: str) -> dict[date, str]:
    import holidays

    if holidays.__version__ != pinned:
        # Not fatal: the data table still holds the official swaps; the tests catch a change.
        log.warning("holidays package is %s, calendar data was checked against %s",
                    holidays.__version__, pinned)
    if not years:
        return {}
    found = holidays.country_holidays("VN", years=years, language="vi")
    return {d: str(name) for d, name in found.items()}


def parse_calendar_data(data: Any, source: str) -> tuple[WorkCalendar, dict[str, Convention]]:
    """Build the calendar and the counting conventions from the parsed YAML `data`."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ValidationError("workdays.data_invalid", [t("workdays.problem.not_mapping")],
                              path=source)

    years: list[int] = []
    for i, row in enumerate(data.get("years") or [], start=1):
        year = row.get("year") if isinstance(row, dict) else None
        if not isinstance(year, int) or not 1990 <= year <= 2100:
            problems.append(t("workdays.problem.bad_year", section="years", row=i, value=year))
            continue
        if not str(row.get("source") or "").strip():
            problems.append(t("workdays.problem.no_source", section="years", row=i))
        years.append(year)

    def day_rows(section: str) -> dict[date, str]:
        out: dict[date, str] = {}
        for i, row in enumerate(data.get(section) or [], start=1):
            if not isinstance(row, dict):
                problems.append(t("workdays.problem.not_mapping_row", section=section, row=i))
                continue
            d = _as_date(row.get("date"))
            if d is None:
                problems.append(t("workdays.problem.bad_date", section=section, row=i,
                                  value=row.get("date")))
                continue
            if not str(row.get("source") or "").strip():
                problems.append(t("workdays.problem.no_source", section=section, row=i))
            if d.year not in years:
                problems.append(t("workdays.problem.year_not_listed", section=section, row=i,
                                  day=d.isoformat(), year=d.year))
            eff = row.get("effective_from")
            if eff is not None:
                eff_d = _as_date(eff)
                if eff_d is None:
                    problems.append(t("workdays.problem.bad_date", section=section, row=i,
                                      value=eff))
                elif d < eff_d:
                    continue  # the rule was not yet in force on that day
            out[d] = str(row.get("name") or "")
        return out

    days_off = day_rows("days_off")
    extra = day_rows("holidays")
    makeup = day_rows("working_days")
    weekend_rows = (data.get("weekend") or {}).get("weekdays", [5, 6])
    weekend = frozenset(int(w) for w in weekend_rows)
    for d in makeup:
        if d.weekday() not in weekend:
            problems.append(t("workdays.problem.makeup_not_weekend", day=d.isoformat()))
    for d in days_off:
        if d.weekday() in weekend:
            problems.append(t("workdays.problem.dayoff_on_weekend", day=d.isoformat()))
    clash = sorted(set(makeup) & (set(days_off) | set(extra)))
    for d in clash:
        problems.append(t("workdays.problem.both", day=d.isoformat()))

    conventions: dict[str, Convention] = {}
    for i, row in enumerate(data.get("conventions") or [], start=1):
        try:
            conv = Convention.from_row(row)
        except (TypeError, ValueError, KeyError) as exc:
            problems.append(t("workdays.problem.bad_convention", row=i, detail=exc))
            continue
        conventions[conv.name] = conv
    if "blds_147" not in conventions:
        problems.append(t("workdays.problem.no_default_convention"))

    if problems:
        raise ValidationError("workdays.data_invalid", problems, path=source)

    pinned = str((data.get("holidays_package") or {}).get("version", ""))
    holidays_map = {d: n for d, n in _package_holidays(years, pinned).items() if d.year in years}
    holidays_map.update(days_off)
    holidays_map.update(extra)
    working = {d: n for d, n in makeup.items()}
    cal = WorkCalendar(years=frozenset(years), holidays=holidays_map, working_days=working,
                       weekend=weekend)
    return cal, conventions


def load_calendar(path: str | Path | None = None) -> tuple[WorkCalendar, dict[str, Convention]]:
    """Read and validate a calendar file (default: the one shipped with the package)."""
    p = Path(path) if path is not None else default_data_path()
    try:
        data = read_yaml(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError("workdays.data_invalid", [t("workdays.problem.unreadable",
                                                           detail=exc)], path=str(p)) from exc
    except yaml.YAMLError as exc:
        raise ValidationError("workdays.data_invalid", [t("workdays.problem.yaml",
                                                           detail=exc)], path=str(p)) from exc
    return parse_calendar_data(data, str(p))


@cache
def _default() -> tuple[WorkCalendar, dict[str, Convention]]:
    return load_calendar()


def default_calendar() -> WorkCalendar:
    """The shipped calendar, loaded once per process."""
    return _default()[0]


def default_conventions() -> dict[str, Convention]:
    """The shipped counting conventions by name (`blds_147` is the default)."""
    return dict(_default()[1])
