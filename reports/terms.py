"""Terms as the reports count them: whole calendar months.

``HT2025`` is the autumn term of 2025, ``VT2026`` the spring term of 2026. A term's months are
the months its first to last day of teaching touch in the municipality's school calendar
(``attendance.calendar``): with the built-in calendar August–December and January–June; a
municipality that records its own term dates (the school calendar in the admin) moves them.
The monthly rollups are the unit every report figure is summed from, so a term is a set of
months, never a cut through one.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from attendance.calendar import SchoolCalendar, calendar_for
from attendance.models import Season, next_month

_CODE = re.compile(r"^(HT|VT)\s*(\d{2}|\d{4})$", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    season: str  # "HT" or "VT"
    year: int  # the calendar year the term falls in
    months: tuple[datetime.date, ...]  # first days of its months, in order

    @property
    def code(self) -> str:
        """ "HT2025": as the command line and the CSV files write it."""
        return f"{self.season}{self.year}"

    @property
    def short(self) -> str:
        """ "HT25": as schools write it (charts, table headings)."""
        return f"{self.season}{self.year % 100:02d}"

    @property
    def start(self) -> datetime.date:
        return self.months[0]

    @property
    def end(self) -> datetime.date:
        """The term's last day as the reports count it: the end of its last month."""
        return next_month(self.months[-1]) - datetime.timedelta(days=1)

    def __str__(self) -> str:
        return self.code


def _months(first: datetime.date, last: datetime.date) -> tuple[datetime.date, ...]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return tuple(months)


def _term(calendar: SchoolCalendar, season: str, year: int) -> Term:
    school_year = year if season == Season.AUTUMN else year - 1
    school_term = next(t for t in calendar.terms(school_year) if t.season == season)
    return Term(season, year, _months(school_term.start, school_term.end))


def calendar_of(municipality_id: int | None) -> SchoolCalendar:
    return calendar_for(municipality_id) if municipality_id else SchoolCalendar()


def parse_term(code: str, *, municipality_id: int | None = None) -> Term:
    """``HT2025`` or ``HT25`` (any case) → the term; a clear ``ValidationError`` otherwise."""
    match = _CODE.match((code or "").strip())
    if not match:
        raise ValidationError(
            _("%(code)s is not a term. Write it as HT2025 or VT2026.") % {"code": code[:20]}
        )
    season, digits = match.group(1).upper(), match.group(2)
    year = int(digits) + 2000 if len(digits) == 2 else int(digits)
    if not 2000 <= year <= 2100:
        raise ValidationError(_("%(code)s is not a term we can report on.") % {"code": code[:20]})
    return _term(calendar_of(municipality_id), season, year)


def term_containing(day: datetime.date, *, municipality_id: int | None = None) -> Term:
    """The term a day is in, or the last one before it (a summer day belongs to the spring)."""
    calendar = calendar_of(municipality_id)
    school_term = calendar.term_on_or_before(day)
    year = school_term.start.year
    return _term(calendar, school_term.season, year)


def like_terms(term: Term, *, count: int = 3, municipality_id: int | None = None) -> list[Term]:
    """The term and the ``count - 1`` like terms before it, oldest first (HT23, HT24, HT25)."""
    calendar = calendar_of(municipality_id)
    return [_term(calendar, term.season, term.year - back) for back in range(count - 1, -1, -1)]


def terms_offered(today: datetime.date, *, municipality_id: int | None = None) -> list[Term]:
    """The terms a manager can choose: this one and the five before it, newest first."""
    calendar = calendar_of(municipality_id)
    current = term_containing(today, municipality_id=municipality_id)
    terms = [current]
    while len(terms) < 6:
        before = terms[-1]
        if before.season == Season.AUTUMN:
            terms.append(_term(calendar, Season.SPRING, before.year))
        else:
            terms.append(_term(calendar, Season.AUTUMN, before.year - 1))
    return terms
