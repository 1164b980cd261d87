"""The school calendar every date rule reads (a municipality's terms, breaks and public
holidays). PROVISIONAL: the built-in calendar of the lesson generator until the calendar
per municipality lands; the functions' signatures are the contract."""

from __future__ import annotations

import datetime

from . import generator


def is_school_day(municipality_id: int, day: datetime.date) -> bool:
    """A weekday inside a term that is neither a break nor a public holiday."""
    return generator.is_school_day(day)


def school_day_on_or_after(municipality_id: int, day: datetime.date) -> datetime.date:
    """The first school day on or after ``day`` (a date rule's landing day)."""
    while not is_school_day(municipality_id, day):
        day += datetime.timedelta(days=1)
    return day


def school_days_between(municipality_id: int, start: datetime.date, end: datetime.date) -> int:
    """School days in [start, end], both inclusive."""
    count, day = 0, start
    while day <= end:
        count += is_school_day(municipality_id, day)
        day += datetime.timedelta(days=1)
    return count
