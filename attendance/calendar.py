"""The school calendar every date rule reads: a municipality's terms and breaks, and the
Swedish public holidays.

* **Public holidays** come from the ``holidays`` package (Sweden, public holidays and the
  days the law treats as such: midsommarafton, julafton, nyårsafton; never plain Sundays).
* **Terms and breaks** are what the municipality's administrator recorded
  (``SchoolTerm``, ``SchoolBreak``, edited on the administration site). Where nothing is
  recorded the built-in defaults below hold, per school year (1 July to 30 June):
  the autumn term from about 18 August to about 19 December, the spring term from about
  8 January to about 11 June, höstlov in ISO week 44, sportlov in week 9 (as in Stockholm),
  påsklov in the week of Good Friday and the Friday after Ascension Day off. A recorded
  term replaces the default term of its season and school year; a recorded höstlov,
  sportlov, påsklov or day off after Ascension Day replaces the default of its kind in its
  school year; jullov, study days and other days off add to the calendar. Jullov is also
  every day between the autumn and the spring term, and sommarlov every day between the
  spring term and the next autumn term.
* **A school day** is a weekday inside a term that is in no break and no public holiday.

``calendar_for(municipality_id)`` loads a municipality's calendar in one query; loops over
days use it, not the three module functions (each loads the calendar anew). The lesson
generator (demo, benchmark) uses ``DEFAULT_CALENDAR``, the built-in rules alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import holidays as holiday_tables
from django.db.models import CharField, Value
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import BreakKind, SchoolBreak, SchoolTerm, Season, school_year_of

ONE_DAY = datetime.timedelta(days=1)
SUMMER = "sommarlov"  # the days between a spring term and the next autumn term
_TERM = "term"  # the row kind of a term in calendar_for's one query
# A date rule looks this far ahead for a school day before giving up (a longer gap is a
# broken calendar, not a long summer).
_SEARCH_LIMIT = 400

KIND_LABELS: dict[str, object] = {
    **{kind.value: kind.label for kind in BreakKind},
    SUMMER: _("Summer break"),
}
# The breaks the built-in calendar has; a recorded break of one of these kinds replaces it.
DEFAULT_KINDS = frozenset(
    {BreakKind.AUTUMN, BreakKind.SPORTS, BreakKind.EASTER, BreakKind.ASCENSION}
)


@dataclass(frozen=True)
class Term:
    name: str  # "HT26", "VT27"
    season: str
    start: datetime.date
    end: datetime.date  # the last day of teaching
    recorded: bool = False  # the municipality's own, not the built-in default

    def __contains__(self, day: object) -> bool:
        return isinstance(day, datetime.date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Break:
    kind: str  # a BreakKind value, or SUMMER
    start: datetime.date
    end: datetime.date
    title: str = ""  # the municipality's own name for it, if any
    recorded: bool = False

    @property
    def name(self) -> str:
        """What a page calls it: the municipality's name, or the kind ("Höstlov")."""
        return self.title or str(KIND_LABELS.get(self.kind, self.kind))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, datetime.date) and self.start <= day <= self.end


# ---------------------------------------------------------------- the built-in rules


def easter_sunday(year: int) -> datetime.date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def _weekday_on_or_after(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day += ONE_DAY
    return day


def _weekday_on_or_before(day: datetime.date) -> datetime.date:
    while day.weekday() >= 5:
        day -= ONE_DAY
    return day


def _term_name(season: str, start: datetime.date) -> str:
    return f"{season}{start:%y}"


def default_autumn_term(year: int) -> Term:
    start = _weekday_on_or_after(datetime.date(year, 8, 18))
    end = _weekday_on_or_before(datetime.date(year, 12, 19))
    return Term(_term_name(Season.AUTUMN, start), Season.AUTUMN, start, end)


def default_spring_term(year: int) -> Term:
    start = _weekday_on_or_after(datetime.date(year, 1, 8))
    end = _weekday_on_or_before(datetime.date(year, 6, 11))
    return Term(_term_name(Season.SPRING, start), Season.SPRING, start, end)


def _school_week(year: int, week: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date.fromisocalendar(year, week, 1), datetime.date.fromisocalendar(
        year, week, 5
    )


def default_breaks(school_year: int) -> dict[str, Break]:
    """The built-in breaks of the school year that starts in ``school_year``, by kind."""
    spring = school_year + 1
    good_friday = easter_sunday(spring) - datetime.timedelta(days=2)
    ascension = easter_sunday(spring) + datetime.timedelta(days=39)
    return {
        BreakKind.AUTUMN: Break(BreakKind.AUTUMN, *_school_week(school_year, 44)),
        BreakKind.SPORTS: Break(BreakKind.SPORTS, *_school_week(spring, 9)),
        BreakKind.EASTER: Break(
            BreakKind.EASTER, good_friday - datetime.timedelta(days=4), good_friday
        ),
        BreakKind.ASCENSION: Break(BreakKind.ASCENSION, ascension + ONE_DAY, ascension + ONE_DAY),
    }


def _holiday_language() -> str:
    return "sv" if (get_language() or "sv").startswith("sv") else "en_US"


@lru_cache(maxsize=128)
def _public_holidays(year: int, language: str) -> dict[datetime.date, str]:
    table = holiday_tables.country_holidays(
        "SE",
        years=year,
        # Sweden's table can list every Sunday as a holiday; a school calendar wants only
        # the named days (weekends are never school days anyway).
        include_sundays=False,
        categories=(holiday_tables.PUBLIC, holiday_tables.DE_FACTO),
        language=language,
    )
    return dict(table.items())


def public_holidays(year: int) -> dict[datetime.date, str]:
    """Sweden's public holidays in a calendar year, with their names ("Långfredagen")."""
    return _public_holidays(year, _holiday_language())


# ---------------------------------------------------------------- a municipality's calendar


@dataclass(frozen=True)
class _SchoolYear:
    terms: tuple[Term, ...]  # in order
    breaks: tuple[Break, ...]  # recorded and default breaks, in order (not the gaps)
    off: dict[datetime.date, Break]  # each day of a break → its (first) break


class SchoolCalendar:
    """One municipality's school calendar (or the built-in one), loaded once.

    Every method answers from memory: a loop over days queries nothing.
    """

    def __init__(
        self,
        municipality_id: int | None = None,
        terms: Iterable[Term] = (),
        breaks: Iterable[Break] = (),
    ) -> None:
        self.municipality_id = municipality_id
        self._terms: dict[int, list[Term]] = {}
        self._breaks: dict[int, list[Break]] = {}
        for term in terms:
            self._terms.setdefault(school_year_of(term.start), []).append(term)
        for break_ in breaks:
            self._breaks.setdefault(school_year_of(break_.start), []).append(break_)
        self._years: dict[int, _SchoolYear] = {}

    # ------------------------------------------------------------ per school year

    def _year(self, school_year: int) -> _SchoolYear:
        cached = self._years.get(school_year)
        if cached is not None:
            return cached
        recorded_terms = self._terms.get(school_year, [])
        seasons = {term.season for term in recorded_terms}
        terms = list(recorded_terms)
        if Season.AUTUMN not in seasons:
            terms.append(default_autumn_term(school_year))
        if Season.SPRING not in seasons:
            terms.append(default_spring_term(school_year + 1))
        recorded_breaks = self._breaks.get(school_year, [])
        replaced = {b.kind for b in recorded_breaks}
        breaks = list(recorded_breaks) + [
            default for kind, default in default_breaks(school_year).items() if kind not in replaced
        ]
        terms.sort(key=lambda t: (t.start, t.end))
        breaks.sort(key=lambda b: (b.start, b.end))
        off: dict[datetime.date, Break] = {}
        for break_ in breaks:
            for day in _days(break_.start, break_.end):
                off.setdefault(day, break_)
        year = _SchoolYear(tuple(terms), tuple(breaks), off)
        self._years[school_year] = year
        return year

    def terms(self, school_year: int) -> tuple[Term, ...]:
        """The school year's terms (recorded, or the default of their season), in order."""
        return self._year(school_year).terms

    def breaks(self, school_year: int) -> tuple[Break, ...]:
        """The school year's breaks and days off (recorded and default), in order; jullov
        and sommarlov between the terms are not listed unless recorded (``breaks_between``
        lists them)."""
        return self._year(school_year).breaks

    # ------------------------------------------------------------ a day

    def term_of(self, day: datetime.date) -> Term | None:
        """The term the day is in, or None (a day between terms)."""
        return next((t for t in self._year(school_year_of(day)).terms if day in t), None)

    def term_on_or_before(self, day: datetime.date) -> Term:
        """The term the day is in, or the last one before it (for a day in a break)."""
        for school_year in (school_year_of(day), school_year_of(day) - 1):
            earlier = [t for t in self._year(school_year).terms if t.start <= day]
            if earlier:
                return max(earlier, key=lambda t: t.start)
        raise ValueError(f"no term before {day}")  # pragma: no cover: a school year has terms

    def break_of(self, day: datetime.date) -> Break | None:
        """The break the day is in, the gaps between terms included (jullov, sommarlov);
        None on a day inside a term that no break covers. A public holiday is no break
        (``holiday_name``)."""
        year = self._year(school_year_of(day))
        if day in year.off:
            return year.off[day]
        if self.term_of(day) is not None:
            return None
        return self._gap_around(day)

    def _gap_around(self, day: datetime.date) -> Break:
        """The stretch between two terms that ``day`` lies in."""
        before = self.term_on_or_before(day)
        after = self._next_term_after(day)
        kind = BreakKind.CHRISTMAS if before.season == Season.AUTUMN else SUMMER
        return Break(kind, before.end + ONE_DAY, after.start - ONE_DAY)

    def _next_term_after(self, day: datetime.date) -> Term:
        for school_year in (school_year_of(day), school_year_of(day) + 1):
            later = [t for t in self._year(school_year).terms if t.start > day]
            if later:
                return min(later, key=lambda t: t.start)
        raise ValueError(f"no term after {day}")  # pragma: no cover: a school year has terms

    def holiday_name(self, day: datetime.date) -> str | None:
        """The public holiday's name ("Kristi himmelsfärdsdag"), or None."""
        return public_holidays(day.year).get(day)

    def is_school_day(self, day: datetime.date) -> bool:
        """A weekday inside a term that is neither a break nor a public holiday."""
        if day.weekday() >= 5 or day in public_holidays(day.year):
            return False
        year = self._year(school_year_of(day))
        return day not in year.off and any(day in term for term in year.terms)

    def why_no_school(self, day: datetime.date) -> str:
        """Why the day is no school day, in words for a page ("Höstlov", "Långfredagen",
        "Weekend"); "" on a school day."""
        if self.is_school_day(day):
            return ""
        holiday = self.holiday_name(day)
        if holiday:
            return holiday
        break_ = self.break_of(day)
        if break_ is not None:
            return break_.name
        return str(_("Weekend"))

    # ------------------------------------------------------------ periods

    def school_day_on_or_after(self, day: datetime.date) -> datetime.date:
        """The first school day on or after ``day`` (a date rule's landing day)."""
        for _step in range(_SEARCH_LIMIT):
            if self.is_school_day(day):
                return day
            day += ONE_DAY
        raise ValueError(f"no school day within {_SEARCH_LIMIT} days of {day}")

    def school_days(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        """The school days in [start, end], both included."""
        return [day for day in _days(start, end) if self.is_school_day(day)]

    def school_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """How many school days lie in [start, end], both included."""
        return len(self.school_days(start, end))

    def school_days_from(self, start: datetime.date, count: int) -> list[datetime.date]:
        """The first ``count`` school days from ``start`` on."""
        days: list[datetime.date] = []
        day = start
        while len(days) < count:
            if self.is_school_day(day):
                days.append(day)
            day += ONE_DAY
        return days

    def non_school_days(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        """Every day in [start, end] that is no school day (weekends included)."""
        return [day for day in _days(start, end) if not self.is_school_day(day)]

    def breaks_between(self, start: datetime.date, end: datetime.date) -> list[Break]:
        """The breaks that touch [start, end], in order, with jullov and sommarlov between
        the terms (each once)."""
        found: dict[tuple[str, datetime.date], Break] = {}
        for school_year in range(school_year_of(start), school_year_of(end) + 1):
            for break_ in self._year(school_year).breaks:
                if break_.start <= end and break_.end >= start:
                    found[(break_.kind, break_.start)] = break_
        for day in _days(start, end):
            if self.term_of(day) is None and day not in self._year(school_year_of(day)).off:
                gap = self._gap_around(day)
                found.setdefault((gap.kind, gap.start), gap)
        return sorted(found.values(), key=lambda b: (b.start, b.end))


def _days(start: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    day = start
    while day <= end:
        yield day
        day += ONE_DAY


DEFAULT_CALENDAR = SchoolCalendar()


def calendar_for(municipality_id: int) -> SchoolCalendar:
    """The municipality's school calendar: its recorded terms and breaks in one query, the
    built-in rules where it recorded none."""
    terms = (
        SchoolTerm.objects.filter(municipality_id=municipality_id)
        .annotate(row_kind=Value(_TERM, output_field=CharField()), title=Value(""))
        .values_list("row_kind", "title", "starts_on", "ends_on")
        .order_by()
    )
    breaks = (
        SchoolBreak.objects.filter(municipality_id=municipality_id)
        .values_list("kind", "name", "starts_on", "ends_on")
        .order_by()
    )
    rows = list(terms.union(breaks, all=True))
    return SchoolCalendar(
        municipality_id,
        terms=[
            recorded_term(_as_date(start), _as_date(end))
            for kind, _title, start, end in rows
            if kind == _TERM
        ],
        breaks=[
            Break(kind, _as_date(start), _as_date(end), title, recorded=True)
            for kind, title, start, end in rows
            if kind != _TERM
        ],
    )


def recorded_term(start: datetime.date, end: datetime.date) -> Term:
    season = Season.AUTUMN if start.month >= 7 else Season.SPRING
    return Term(_term_name(season, start), season, start, end, recorded=True)


def _as_date(value: object) -> datetime.date:
    """A date from a union query (SQLite may hand back the ISO string)."""
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


# ---------------------------------------------------------------- the contract


def is_school_day(municipality_id: int, day: datetime.date) -> bool:
    """A weekday inside a term that is neither a break nor a public holiday."""
    return calendar_for(municipality_id).is_school_day(day)


def school_day_on_or_after(municipality_id: int, day: datetime.date) -> datetime.date:
    """The first school day on or after ``day`` (a date rule's landing day)."""
    return calendar_for(municipality_id).school_day_on_or_after(day)


def school_days_between(municipality_id: int, start: datetime.date, end: datetime.date) -> int:
    """School days in [start, end], both inclusive."""
    return calendar_for(municipality_id).school_days_between(start, end)
