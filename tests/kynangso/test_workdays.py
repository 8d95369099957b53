"""The shared working-day calendar: holidays, swaps, counting conventions, missing years."""

from datetime import date, datetime, time

import pytest

from kynangso.errors import KnsError, ValidationError
from kynangso.workdays import (
    CalendarYearMissing,
    Convention,
    compute_due,
    default_calendar,
    default_conventions,
    load_calendar,
)


@pytest.fixture(scope="module")
def cal():
    return default_calendar()


def test_default_calendar_is_cached():
    """Is the shipped calendar loaded once and shared?"""
    assert default_calendar() is default_calendar()


@pytest.mark.parametrize("day", [date(2026, 2, d) for d in range(16, 21)])
def test_tet_2026_days_off(cal, day):
    """Are the five Tết Bính Ngọ days of TB 9441/TB-BNV (16–20/02/2026) non-working?"""
    assert not cal.is_working_day(day)


def test_tet_2026_back_to_work(cal):
    """Do civil servants work on Fri 13/02 and again on Mon 23/02/2026?"""
    assert cal.is_working_day(date(2026, 2, 13))
    assert cal.is_working_day(date(2026, 2, 23))
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_gio_to_2026_compensation_monday(cal):
    """Is Mon 27/04/2026 off because Giỗ Tổ fell on Sunday 26/04 (nghỉ bù)?"""
    assert not cal.is_working_day(date(2026, 4, 27))
    assert cal.is_working_day(date(2026, 4, 28))
    assert cal.add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)


def test_makeup_saturday_2026(cal):
    """Is Sat 22/08/2026 a working day and Mon 31/08/2026 a day off (the swap of TB 9441)?"""
    assert cal.is_working_day(date(2026, 8, 22))
    assert not cal.is_working_day(date(2026, 8, 29))  # an ordinary Saturday
    assert not cal.is_working_day(date(2026, 8, 31))
    assert cal.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)


def test_makeup_saturdays_earlier_years(cal):
    """Are 04/05/2024 and 26/04/2025 working Saturdays, and their bridge days off?"""
    assert cal.is_working_day(date(2024, 5, 4)) and not cal.is_working_day(date(2024, 4, 29))
    assert cal.is_working_day(date(2025, 4, 26)) and not cal.is_working_day(date(2025, 5, 2))


def test_quoc_khanh_2026_period(cal):
    """Does a count from Fri 28/08/2026 skip 31/8, 1/9 and 2/9 (the Quốc khánh break)?"""
    for d in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)):
        assert not cal.is_working_day(d)
    assert cal.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)
    assert cal.add_working_days(date(2026, 8, 28), 3) == date(2026, 9, 7)


def test_culture_day_2026(cal):
    """Is Tue 24/11/2026 (Ngày Văn hóa Việt Nam) a day off, and 24/11/2025 a working day?"""
    assert not cal.is_working_day(date(2026, 11, 24))
    assert cal.is_working_day(date(2025, 11, 24))
    assert cal.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)


def test_working_days_between(cal):
    """Are working days counted in (a, b], across Tết, and negative when reversed?"""
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert cal.working_days_between(date(2026, 2, 23), date(2026, 2, 13)) == -1
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert cal.working_days_between(date(2026, 8, 21), date(2026, 8, 24)) == 2


def test_add_zero_and_negative(cal):
    """Does n=0 return the start, and a negative n count back over holidays?"""
    assert cal.add_working_days(date(2026, 2, 14), 0) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 23), -1) == date(2026, 2, 13)


def test_across_year_boundary(cal):
    """Does a count from late December 2025 continue into January 2026 (skipping 01/01)?"""
    assert cal.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 2)


def test_year_without_data_is_refused(cal):
    """Is a 2027 question refused with a Vietnamese message naming the year and the remedy?"""
    with pytest.raises(CalendarYearMissing) as info:
        cal.is_working_day(date(2027, 3, 1))
    assert isinstance(info.value, KnsError)
    assert "2027" in info.value.user_message
    assert "Bộ Nội vụ" in info.value.user_message


def test_count_running_into_missing_year(cal):
    """Is a count that would run past 31/12/2026 refused instead of guessed?"""
    with pytest.raises(CalendarYearMissing) as info:
        cal.add_working_days(date(2026, 12, 29), 5)
    assert info.value.year == 2027
    with pytest.raises(CalendarYearMissing):
        cal.working_days_between(date(2026, 12, 1), date(2027, 1, 5))


# -- due dates (the counting convention) ------------------------------------------------------

def test_due_received_after_cutoff_before_tet(cal):
    """Received Fri 13/02/2026 16:10 for 3 days: counted from Mon 23/02, due Thu 26/02 17:00?"""
    d = compute_due(cal, datetime(2026, 2, 13, 16, 10), 3)
    assert d.counted_from == date(2026, 2, 23)
    assert d.due_at == datetime(2026, 2, 26, 17, 0)
    text = "\n".join(d.steps)
    assert "sau 15:00" in text and "26/02/2026" in text


def test_due_received_before_cutoff_before_tet(cal):
    """Received Fri 13/02/2026 10:00 for 3 days: day 1 is Mon 23/02, due Wed 25/02?"""
    d = compute_due(cal, datetime(2026, 2, 13, 10, 0), 3)
    assert d.due_date == date(2026, 2, 25)
    assert any("Tết" in s or "Giao thừa" in s for s in d.steps)


def test_cutoff_exactly_at_15(cal):
    """Is a dossier received at exactly 15:00 still counted as received that day?"""
    assert compute_due(cal, datetime(2026, 3, 2, 15, 0), 1).due_date == date(2026, 3, 3)
    assert compute_due(cal, datetime(2026, 3, 2, 15, 1), 1).due_date == date(2026, 3, 4)


def test_due_received_on_weekend(cal):
    """Received Sat 07/03/2026: counted as received Mon 09/03, so 2 days end Wed 11/03?"""
    d = compute_due(cal, datetime(2026, 3, 7, 9, 0), 2)
    assert d.counted_from == date(2026, 3, 9)
    assert d.due_date == date(2026, 3, 11)
    assert "ngày nghỉ hằng tuần" in d.steps[1]


def test_due_received_on_makeup_saturday(cal):
    """Is a dossier received on the make-up Saturday 22/08/2026 counted from that day?"""
    d = compute_due(cal, datetime(2026, 8, 22, 9, 0), 1)
    assert d.counted_from == date(2026, 8, 22)
    assert d.due_date == date(2026, 8, 24)


def test_due_across_gio_to(cal):
    """Received Fri 24/04/2026 09:00 for 2 days: 27/4 skipped, 30/4–1/5 not reached: due 29/04?"""
    assert compute_due(cal, datetime(2026, 4, 24, 9, 0), 2).due_date == date(2026, 4, 29)


def test_due_count_receipt_day_convention(cal):
    """Does the 'count the receipt day' convention make a 1-day procedure due the same day?"""
    conv = default_conventions()["count_receipt_day"]
    assert compute_due(cal, datetime(2026, 3, 2, 9, 0), 1, conv).due_date == date(2026, 3, 2)
    assert compute_due(cal, datetime(2026, 3, 2, 16, 0), 1, conv).due_date == date(2026, 3, 3)


def test_calendar_days_roll_forward(cal):
    """Does a calendar-day period ending on Sunday move to Monday (BLDS Art. 148.5)?"""
    conv = Convention(unit="calendar")
    d = compute_due(cal, datetime(2026, 3, 2, 9, 0), 6, conv)  # Mon + 6 = Sun 08/03
    assert d.due_date == date(2026, 3, 9)
    assert any("148" in s for s in d.steps)


def test_convention_override_per_procedure(cal):
    """Can a procedure move the cut-off and the closing time without touching the default?"""
    conv = default_conventions()["blds_147"].replace(cutoff=time(11, 0), office_close=time(16, 30))
    d = compute_due(cal, datetime(2026, 3, 2, 12, 0), 1, conv)
    assert d.due_at == datetime(2026, 3, 4, 16, 30)
    assert default_conventions()["blds_147"].cutoff == time(15, 0)


def test_negative_days_refused(cal):
    """Is a negative number of days refused with a Vietnamese message?"""
    with pytest.raises(KnsError) as info:
        compute_due(cal, datetime(2026, 3, 2, 9, 0), -1)
    assert "không âm" in info.value.user_message


def test_due_in_missing_year(cal):
    """Is a receipt in 2027 refused because the 2027 schedule is not loaded?"""
    with pytest.raises(CalendarYearMissing):
        compute_due(cal, datetime(2027, 1, 4, 9, 0), 3)


# -- the data table ---------------------------------------------------------------------------

def test_package_matches_official_2026_schedule(cal):
    """Does the pinned holidays package plus the table give exactly the 2026 weekday days off?"""
    off = {d for d in cal.holidays if d.year == 2026 and d.weekday() < 5}
    assert off == {
        date(2026, 1, 1), *(date(2026, 2, d) for d in range(16, 21)), date(2026, 4, 27),
        date(2026, 4, 30), date(2026, 5, 1), date(2026, 8, 31), date(2026, 9, 1),
        date(2026, 9, 2), date(2026, 11, 24),
    }


def test_bad_table_lists_every_problem(tmp_path):
    """Is a table with a bad date, a missing source and a weekday 'make-up' day refused whole?"""
    p = tmp_path / "cal.yaml"
    p.write_text(
        "years: [{year: 2026, source: x}]\n"
        "working_days:\n"
        "  - {date: 2026-08-21, name: a, source: s}\n"
        "  - {date: 2026-13-01, name: b, source: s}\n"
        "days_off:\n"
        "  - {date: 2026-08-31, name: c}\n"
        "conventions: [{name: blds_147}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as info:
        load_calendar(p)
    text = "\n".join(info.value.problems)
    assert "2026-13-01" in text
    assert "thiếu nguồn" in text
    assert "2026-08-21" in text
    assert len(info.value.problems) == 3


def test_table_year_can_be_added(tmp_path):
    """Does an operator's table with only 2026 answer 2026 and refuse 2025?"""
    p = tmp_path / "cal.yaml"
    p.write_text("years: [{year: 2026, source: x}]\nconventions: [{name: blds_147}]\n",
                 encoding="utf-8")
    cal, _ = load_calendar(p)
    assert not cal.is_working_day(date(2026, 2, 17))
    with pytest.raises(CalendarYearMissing):
        cal.is_working_day(date(2025, 6, 2))


def test_datetime_accepted_as_date(cal):
    """Does a datetime on the make-up Saturday count as a working day, like the date itself?"""
    assert cal.is_working_day(datetime(2026, 8, 22, 9, 30))
    assert cal.add_working_days(datetime(2026, 8, 21, 16, 0), 1) == date(2026, 8, 22)
    assert cal.working_days_between(datetime(2026, 2, 13, 9, 0), date(2026, 2, 23)) == 1
