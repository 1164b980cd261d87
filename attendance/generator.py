"""A deterministic lesson generator: fictitious attendance for the demo and the benchmark.

It yields rows in the attendance import's column order (``imports.lessons.ATTENDANCE_COLUMNS``)
and writes them as the semicolon-separated CSV an attendance system exports, so the demo
and the benchmark load lessons through the real import path, never a shortcut.

* **School days** are those of the built-in school calendar (``attendance.calendar``, the
  one a municipality has until it records its own): weekdays inside a term (HT from about
  18 August to about 19 December, VT from about 8 January to about 11 June), minus the
  Swedish public holidays and the default breaks: höstlov (ISO week 44), sportlov (week 9
  as in Stockholm), påsklov (the week of Good Friday) and the Friday after Ascension Day.
* **Timetables** are one per school and grade: grades F–3 have five 40-minute lessons a
  day, grades 4–6 six lessons of 50 minutes (five on Fridays), grades 7–9 seven lessons of
  50–60 minutes (six on Fridays); subjects follow the timetable's weighting (Svenska and
  Matematik most) and Idrott och hälsa comes twice a week.
* **Absence** follows a per-student ``Profile``: most students are absent about 1–6 % of
  their time (mostly whole valid sick days), some 6–10 %, 10–15 % (step 2), 15–20 %
  (step 3), above 20 % (step 4) and a very few above 40 %; and four patterns: Monday
  mornings missed, one subject (Idrott och hälsa) skipped, repeated late arrivals, and a
  run of invalid absence longer than two school weeks. Absence is drawn with jittered
  accumulators rather than coin flips, so a student's monthly figure stays close to the
  profile's rate and the steps come out as intended while the days still look irregular.

Everything is a function of the seed and the students' personal identity numbers
(``random.Random``): the same input gives byte-for-byte the same file.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from . import calendar
from .imports.lessons import ATTENDANCE_COLUMNS

Row = tuple[str, str, str, str, str, str, str, str, str]

VALID, INVALID, LATE = "giltig", "ogiltig", "sen"
PE = "Idrott och hälsa"
DEFAULT = calendar.DEFAULT_CALENDAR


# ---------------------------------------------------------------- the school calendar


# The rules live in ``attendance.calendar`` (the built-in calendar every municipality has
# where it recorded none); the generator draws lessons on its school days.
easter_sunday = calendar.easter_sunday
Term = calendar.Term


def holidays(year: int) -> frozenset[datetime.date]:
    """Weekdays without lessons in a calendar year: public holidays and school breaks."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    days = {day for day in calendar.public_holidays(year) if day.weekday() < 5}
    for school_year in (year - 1, year):
        for school_break in DEFAULT.breaks(school_year):
            day = max(first, school_break.start)
            while day <= min(last, school_break.end):
                if day.weekday() < 5:
                    days.add(day)
                day += datetime.timedelta(days=1)
    return frozenset(days)


def autumn_term(year: int) -> Term:
    return calendar.default_autumn_term(year)


def spring_term(year: int) -> Term:
    return calendar.default_spring_term(year)


def term_of(day: datetime.date) -> Term:
    """The term a day falls in, or the last term before it when the day is in a break."""
    return DEFAULT.term_on_or_before(day)


def is_school_day(day: datetime.date) -> bool:
    return DEFAULT.is_school_day(day)


def school_days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """School days from ``start`` to ``end``, both included."""
    return DEFAULT.school_days(start, end)


def school_days_from(start: datetime.date, count: int) -> list[datetime.date]:
    """The first ``count`` school days from ``start`` on."""
    return DEFAULT.school_days_from(start, count)


def term_so_far(today: datetime.date, *, min_days: int = 0) -> list[datetime.date]:
    """The school days of the current term before ``today`` (the last term's in a break).

    With ``min_days``, a young term is extended back into the previous one until there are
    that many days (after a break a newcomer still sees a month of absence).
    """
    yesterday = today - datetime.timedelta(days=1)
    term = term_of(yesterday)
    days = school_days(term.start, min(yesterday, term.end))
    if len(days) >= min_days:
        return days
    start = term.start
    while len(days) < min_days:
        previous = term_of(start - datetime.timedelta(days=1))
        days = school_days(previous.start, previous.end) + days
        start = previous.start
    return days[-min_days:]


# ---------------------------------------------------------------- timetables


@dataclass(frozen=True)
class Slot:
    """One lesson in a timetable, with the tail of its row pre-built for a present student."""

    index: int  # the lesson's position in its day, 0 = first
    start: str
    end: str
    subject: str
    minutes: int
    morning: bool  # before lunch
    present: tuple[str, str, str, str, str, str]


_LOWER, _MIDDLE, _UPPER = "F123", "456", "789"
_SUBJECTS = {
    # (subject, lessons a week); the remaining slots go to the first subjects in turn.
    _LOWER: [
        ("Svenska", 6),
        ("Matematik", 5),
        ("Engelska", 1),
        ("NO", 2),
        ("SO", 2),
        ("Bild", 2),
        ("Musik", 2),
        ("Slöjd", 1),
    ],
    _MIDDLE: [
        ("Svenska", 5),
        ("Matematik", 5),
        ("Engelska", 3),
        ("NO", 3),
        ("SO", 3),
        ("Bild", 1),
        ("Musik", 1),
        ("Slöjd", 2),
        ("Hem- och konsumentkunskap", 1),
    ],
    _UPPER: [
        ("Svenska", 4),
        ("Matematik", 4),
        ("Engelska", 3),
        ("Moderna språk", 2),
        ("Biologi", 1),
        ("Fysik", 1),
        ("Kemi", 1),
        ("Teknik", 1),
        ("Historia", 1),
        ("Geografi", 1),
        ("Religionskunskap", 1),
        ("Samhällskunskap", 1),
        ("Bild", 1),
        ("Musik", 1),
        ("Slöjd", 1),
        ("Hem- och konsumentkunskap", 1),
    ],
}


def _band(grade: str) -> str:
    return next(band for band in (_LOWER, _MIDDLE, _UPPER) if grade in band)


def _lessons_per_day(band: str) -> list[int]:
    if band == _LOWER:
        return [5, 5, 5, 5, 5]
    if band == _MIDDLE:
        return [6, 6, 6, 6, 5]
    return [7, 7, 7, 7, 6]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=4096)
def timetable(school_code: str, grade: str, seed: int = 0) -> tuple[tuple[Slot, ...], ...]:
    """A school's weekly timetable for one grade: five days (Monday first) of lessons."""
    rng = random.Random(f"timetable:{seed}:{school_code}:{grade}")  # noqa: S311 (not security)
    band = _band(grade)
    per_day = _lessons_per_day(band)
    pe_days = set(rng.sample(range(5), 2))
    others = sum(per_day) - 2
    subjects = [name for name, count in _SUBJECTS[band] for _ in range(count)]
    names = [name for name, _count in _SUBJECTS[band]]
    while len(subjects) < others:
        subjects.append(names[len(subjects) % 3])  # Svenska, Matematik, Engelska/NO first
    subjects = subjects[:others]
    rng.shuffle(subjects)
    week = []
    for weekday, count in enumerate(per_day):
        day_subjects = [subjects.pop() for _ in range(count - (weekday in pe_days))]
        if weekday in pe_days:
            day_subjects.insert(rng.randrange(count), PE)
        lunch_after = 2 if band == _LOWER else 3
        clock = 8 * 60 + (30 if band == _LOWER else 15)
        slots = []
        for index, subject in enumerate(day_subjects):
            if band == _LOWER:
                minutes = 40
            elif band == _MIDDLE:
                minutes = 60 if subject == PE else 50
            else:
                minutes = 60 if subject == PE else rng.choice((50, 55, 60))
            start, end = _hhmm(clock), _hhmm(clock + minutes)
            slots.append(
                Slot(
                    index,
                    start,
                    end,
                    subject,
                    minutes,
                    index < lunch_after,
                    (start, end, subject, str(minutes), "0", ""),
                )
            )
            clock += minutes + (40 if index + 1 == lunch_after else 10)
        week.append(tuple(slots))
    return tuple(week)


# ---------------------------------------------------------------- absence profiles


@dataclass(frozen=True)
class Profile:
    """How a student is absent.

    ``rate`` is the share of lessons missed for ordinary reasons, ``whole_days`` the part of
    it taken as whole (valid, sick) days, ``invalid`` the share of single missed lessons that
    are invalid; ``pattern`` adds a habit on top.
    """

    name: str
    rate: float
    whole_days: float = 0.5
    invalid: float = 0.3
    pattern: str = ""
    episode: int = 1  # the longest sick spell, in days


MONDAY_MORNINGS = "monday_mornings"
SKIPS_PE = "skips_pe"
LATE_ARRIVALS = "late_arrivals"
INVALID_RUN = "invalid_run"
PATTERNS = (MONDAY_MORNINGS, SKIPS_PE, LATE_ARRIVALS, INVALID_RUN)
INVALID_RUN_DAYS = 13  # longer than two school weeks (the policy's default is > 10)

# Tier name, weight, rate range, whole-day share, invalid share, longest sick spell.
_TIERS = (
    ("typical", 0.7905, (0.01, 0.05), 0.35, 0.2, 2),
    ("elevated", 0.07, (0.055, 0.085), 0.3, 0.3, 1),
    ("step_2", 0.06, (0.11, 0.14), 0.15, 0.4, 1),
    ("step_3", 0.035, (0.16, 0.19), 0.15, 0.5, 1),
    ("step_4", 0.025, (0.22, 0.35), 0.15, 0.55, 1),
    ("very_high", 0.0025, (0.42, 0.55), 0.2, 0.6, 1),
    (MONDAY_MORNINGS, 0.003, (0.02, 0.04), 0.3, 0.2, 1),
    (SKIPS_PE, 0.003, (0.03, 0.05), 0.3, 0.2, 1),
    (LATE_ARRIVALS, 0.01, (0.02, 0.04), 0.5, 0.2, 1),
    (INVALID_RUN, 0.001, (0.03, 0.05), 0.5, 0.2, 1),
)

# The cast: students with a known story, given first (to the demo mentors' groups).
CAST = (
    Profile("step_3", 0.175, 0.2, 0.5),
    Profile("step_2", 0.125, 0.2, 0.4),
    Profile("step_4", 0.27, 0.2, 0.55),
    Profile(INVALID_RUN, 0.03, 0.0, 0.2, INVALID_RUN),
    Profile(LATE_ARRIVALS, 0.03, 0.3, 0.2, LATE_ARRIVALS),
    Profile(MONDAY_MORNINGS, 0.035, 0.0, 0.2, MONDAY_MORNINGS),
    Profile(SKIPS_PE, 0.045, 0.0, 0.2, SKIPS_PE),
    Profile("very_high", 0.47, 0.2, 0.6),
    Profile("step_2", 0.12, 0.2, 0.5),
    Profile("typical", 0.03, 0.6, 0.2, "", 3),
)


def _tier_profile(rng: random.Random) -> Profile:
    roll, total = rng.random(), 0.0
    for tier in _TIERS:
        total += tier[1]
        if roll < total:
            break
    else:
        tier = _TIERS[0]
    name, _weight, (low, high), whole, invalid, episode = tier
    pattern = name if name in PATTERNS else ""
    return Profile(name, rng.uniform(low, high), whole, invalid, pattern, episode)


def profiles(
    count: int,
    *,
    seed: int,
    featured: Sequence[Sequence[int]] | None = None,
    per_group: int = 4,
) -> list[Profile]:
    """Absence profiles for ``count`` students; student *i* draws the same whatever the total.

    The cast goes first to ``featured``: groups of student positions (a mentor's class), the
    first ``per_group`` of each group taking the next profiles of the cast in turn. Cast
    profiles no featured student took go to the first other students, so any ``count`` of
    at least ``len(CAST)`` has every step and every pattern. Without ``featured`` the first
    students are the cast.
    """
    rng = random.Random(f"profiles:{seed}")  # noqa: S311 (demo data, not security)
    result = [_tier_profile(rng) for _ in range(count)]
    if featured is None:
        featured, per_group = [range(count)], len(CAST)
    taken: set[int] = set()
    given: set[int] = set()
    position = 0
    for members in featured:
        for index in [i for i in members if 0 <= i < count and i not in taken][:per_group]:
            result[index] = CAST[position % len(CAST)]
            taken.add(index)
            given.add(position % len(CAST))
            position += 1
    others = (i for i in range(count) if i not in taken)
    for cast_index, index in zip(
        [c for c in range(len(CAST)) if c not in given], others, strict=False
    ):
        result[index] = CAST[cast_index]
    return result


# ---------------------------------------------------------------- lessons


@dataclass(frozen=True)
class GenStudent:
    personnummer: str  # 12 digits, as the attendance system exports it
    school_code: str  # skolenhetskod
    grade: str  # F, 1 … 9
    profile: Profile


def _student_rows(
    student: GenStudent, days: Sequence[datetime.date], iso_days: Sequence[str], seed: int
) -> Iterator[Row]:
    profile = student.profile
    rng = random.Random(f"lessons:{seed}:{student.personnummer}")  # noqa: S311
    week = timetable(student.school_code, student.grade, seed)
    head = (student.personnummer, student.school_code)
    pattern = profile.pattern
    random_, randint = rng.random, rng.randint

    day_rate = profile.rate * profile.whole_days
    lesson_rate = profile.rate * (1 - profile.whole_days) / max(0.05, 1 - day_rate)
    day_threshold = rng.uniform(0.5, 1.5)
    day_debt = random_() * day_threshold
    lesson_threshold = rng.uniform(0.6, 1.4)
    lesson_debt = random_() * lesson_threshold
    sick_left = 0
    run: set[int] = set()
    if pattern == INVALID_RUN and days:
        length = min(INVALID_RUN_DAYS, len(days))
        end = len(days) - rng.randint(0, min(3, len(days) - length))
        run = set(range(end - length, end))

    for number, day in enumerate(days):
        slots = week[day.weekday()]
        row_head = (*head, iso_days[number])
        if number in run:
            for slot in slots:
                yield (*row_head, *slot.present[:4], slot.present[3], INVALID)  # type: ignore[misc]
            continue
        day_debt += day_rate
        if sick_left == 0 and day_debt >= day_threshold:
            sick_left = randint(1, profile.episode)
            day_debt -= sick_left
            day_threshold = rng.uniform(0.5, 1.5)
        if sick_left:
            sick_left -= 1
            for slot in slots:
                yield (*row_head, *slot.present[:4], slot.present[3], VALID)  # type: ignore[misc]
            continue
        monday = day.weekday() == 0
        for slot in slots:
            if (pattern == MONDAY_MORNINGS and monday and slot.morning) or (
                pattern == SKIPS_PE and slot.subject == PE
            ):
                yield (*row_head, *slot.present[:4], slot.present[3], INVALID)  # type: ignore[misc]
                continue
            lesson_debt += lesson_rate
            if lesson_debt >= lesson_threshold:
                lesson_threshold = rng.uniform(0.6, 1.4)
                if random_() < profile.invalid:
                    lesson_debt -= 1
                    yield (*row_head, *slot.present[:4], slot.present[3], INVALID)  # type: ignore[misc]
                elif random_() < 0.2:  # part of a lesson: the dentist, a pupil-health visit
                    absent = randint(10, slot.minutes - 5)
                    lesson_debt -= absent / slot.minutes
                    yield (*row_head, *slot.present[:4], str(absent), VALID)  # type: ignore[misc]
                else:
                    lesson_debt -= 1
                    yield (*row_head, *slot.present[:4], slot.present[3], VALID)  # type: ignore[misc]
                continue
            if slot.index == 0 and (
                (pattern == LATE_ARRIVALS and random_() < 0.45) or random_() < 0.004
            ):
                yield (*row_head, *slot.present[:4], str(randint(5, 20)), LATE)  # type: ignore[misc]
                continue
            yield (*row_head, *slot.present)  # type: ignore[misc]


def lesson_rows(
    students: Iterable[GenStudent], days: Sequence[datetime.date], *, seed: int
) -> Iterator[Row]:
    """Every lesson of every student on every day, student by student, day by day.

    Rows are tuples of strings in the import's column order; '' as the type is present.
    """
    iso_days = [day.isoformat() for day in days]
    for student in students:
        yield from _student_rows(student, days, iso_days, seed)


def write_csv(rows: Iterable[Sequence[str]], stream: IO[bytes]) -> int:
    """Write the header and ``rows`` to a binary stream as UTF-8 CSV; returns the row count."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=False)
    counter = _Counter(rows)
    writer = csv.writer(text, delimiter=";", lineterminator="\n")
    writer.writerow(ATTENDANCE_COLUMNS)
    writer.writerows(counter)
    text.flush()
    text.detach()  # leave the caller's stream open
    return counter.count


class _Counter:
    def __init__(self, rows: Iterable[Sequence[str]]) -> None:
        self.rows = iter(rows)
        self.count = 0

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> Sequence[str]:
        row = next(self.rows)
        self.count += 1
        return row
