"""The lesson generator (demo and benchmark): calendar, timetables, absence, patterns.

And the two commands built on it: ``seed_demo``'s attendance (steps 2–4 after the refresh)
and ``bench_attendance`` (PostgreSQL only; a tiny run).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from attendance import demo as attendance_demo
from attendance import generator as gen
from attendance.imports.lessons import ATTENDANCE_COLUMNS
from attendance.imports.reader import read_rows
from attendance.models import Alert, AlertRecipient, Lesson, MonthlyAbsence, Rule
from sst import demo
from sst.models import User

TODAY = datetime.date(2026, 11, 23)  # a Monday in HT26
HT26 = gen.school_days(datetime.date(2026, 8, 1), datetime.date(2026, 11, 20))
SEPTEMBER = gen.school_days(datetime.date(2026, 9, 1), datetime.date(2026, 9, 30))
SCHOOL = "99900011"


def _students(count: int, *, seed: int = 7) -> list[gen.GenStudent]:
    """``count`` students, every grade in turn, with the generator's profiles (cast first)."""
    numbers = [s.personnummer for s in demo.generate_students(count, today=TODAY)]
    grades = demo.GRADES
    return [
        gen.GenStudent(number, SCHOOL, grades[index % len(grades)], profile)
        for index, (number, profile) in enumerate(
            zip(numbers, gen.profiles(count, seed=seed), strict=True)
        )
    ]


def _by_student(rows):
    lessons = defaultdict(list)
    for row in rows:
        lessons[row[0]].append(row)
    return lessons


def _pct(rows) -> float:
    return 100 * sum(int(r[7]) for r in rows) / sum(int(r[6]) for r in rows)


# ---------------------------------------------------------------- the calendar


def test_easter_and_the_holidays_of_a_school_year():
    assert gen.easter_sunday(2025) == datetime.date(2025, 4, 20)
    assert gen.easter_sunday(2026) == datetime.date(2026, 4, 5)
    assert gen.easter_sunday(2027) == datetime.date(2027, 3, 28)
    days = gen.holidays(2026)
    for day in (
        datetime.date(2026, 4, 3),  # Good Friday
        datetime.date(2026, 4, 6),  # Easter Monday
        datetime.date(2026, 3, 30),  # påsklov
        datetime.date(2026, 5, 1),
        datetime.date(2026, 5, 14),  # Ascension Day
        datetime.date(2026, 5, 15),  # and the Friday after
        datetime.date(2026, 2, 23),  # sportlov, week 9
        datetime.date(2026, 10, 26),  # höstlov, week 44
        datetime.date(2026, 10, 30),
    ):
        assert day in days, day


def test_school_days_are_term_weekdays_without_breaks():
    assert gen.autumn_term(2026).start == datetime.date(2026, 8, 18)
    assert gen.autumn_term(2026).end == datetime.date(2026, 12, 18)  # the 19th is a Saturday
    assert gen.spring_term(2027).start == datetime.date(2027, 1, 8)
    assert HT26[0] == datetime.date(2026, 8, 18)
    assert all(day.weekday() < 5 for day in HT26)
    assert not any(day.isocalendar().week == 44 for day in HT26)
    assert len(HT26) == 64  # 69 weekdays 18 Aug – 20 Nov, minus höstlov
    assert not gen.is_school_day(datetime.date(2026, 7, 1))  # summer
    assert not gen.is_school_day(datetime.date(2026, 12, 28))  # Christmas break
    assert gen.term_of(datetime.date(2026, 7, 15)).name == "VT26"
    assert gen.term_of(datetime.date(2027, 1, 4)).name == "HT26"


def test_term_so_far_ends_yesterday_and_reaches_back_when_the_term_is_young():
    assert gen.term_so_far(TODAY) == HT26
    early = gen.term_so_far(datetime.date(2026, 8, 20), min_days=20)
    assert len(early) == 20
    assert early[-2:] == [datetime.date(2026, 8, 18), datetime.date(2026, 8, 19)]
    assert early[0].month == 5  # the end of VT26
    summer = gen.term_so_far(datetime.date(2026, 7, 20))
    assert summer[0] == datetime.date(2026, 1, 8)
    assert summer[-1] == datetime.date(2026, 6, 11)


# ---------------------------------------------------------------- timetables


@pytest.mark.parametrize(
    ("grade", "per_day", "lengths"),
    [
        ("F", [5, 5, 5, 5, 5], {40}),
        ("2", [5, 5, 5, 5, 5], {40}),
        ("5", [6, 6, 6, 6, 5], {50, 60}),
        ("8", [7, 7, 7, 7, 6], {50, 55, 60}),
    ],
)
def test_timetables_by_grade(grade, per_day, lengths):
    week = gen.timetable(SCHOOL, grade)
    assert [len(day) for day in week] == per_day
    assert {slot.minutes for day in week for slot in day} <= lengths
    assert sum(slot.subject == gen.PE for day in week for slot in day) == 2
    assert sum(any(slot.subject == gen.PE for slot in day) for day in week) == 2
    for day in week:
        ends = [slot.end for slot in day]
        starts = [slot.start for slot in day]
        assert all(re.fullmatch(r"\d\d:\d\d", t) for t in starts + ends)
        assert all(end <= start for end, start in zip(ends, starts[1:], strict=False))
        assert {slot.subject for slot in day} <= {
            name for band in gen._SUBJECTS.values() for name, _n in band
        } | {gen.PE}
    assert week == gen.timetable(SCHOOL, grade)
    assert week != gen.timetable("99900012", grade)  # another school, another timetable


# ---------------------------------------------------------------- rows


def test_rows_are_deterministic_and_the_csv_is_byte_for_byte_the_same():
    students = _students(30)
    first = list(gen.lesson_rows(students, SEPTEMBER, seed=1))
    assert first == list(gen.lesson_rows(_students(30), SEPTEMBER, seed=1))
    assert first != list(gen.lesson_rows(students, SEPTEMBER, seed=2))
    one, two = io.BytesIO(), io.BytesIO()
    assert gen.write_csv(first, one) == gen.write_csv(iter(first), two) == len(first)
    assert one.getvalue() == two.getvalue()
    assert gen.profiles(40, seed=3)[:25] == gen.profiles(25, seed=3)  # the same, any total


def test_rows_are_valid_for_the_importer():
    students = _students(40)
    rows = list(gen.lesson_rows(students, SEPTEMBER, seed=1))
    keys = set()
    for row in rows:
        assert len(row) == len(ATTENDANCE_COLUMNS)
        pnr, school, day, start, end, _subject, scheduled, absent, kind = row
        keys.add((pnr, day, start))
        assert school == SCHOOL
        assert datetime.date.fromisoformat(day) in SEPTEMBER
        assert re.fullmatch(r"\d\d:\d\d", start) and start < end
        assert 0 < int(scheduled) <= 60
        assert 0 <= int(absent) <= int(scheduled)
        assert kind in {"", "giltig", "ogiltig", "sen"}
        if kind == "":
            assert absent == "0"
        if kind == "sen":
            assert 0 < int(absent) < int(scheduled)
    assert len(keys) == len(rows)  # (student, date, start) is unique
    lessons_a_day = len(rows) / len(students) / len(SEPTEMBER)
    assert 5 <= lessons_a_day <= 7

    stream = io.BytesIO()
    gen.write_csv(rows, stream)
    stream.seek(0)
    parsed = [row for _n, row in read_rows(stream, ATTENDANCE_COLUMNS)]
    assert [tuple(row[c] for c in ATTENDANCE_COLUMNS) for row in parsed] == rows
    assert next(csv.reader(io.StringIO(stream.getvalue().decode()), delimiter=";")) == list(
        ATTENDANCE_COLUMNS
    )


def test_every_pattern_and_step_is_in_the_cast():
    students = _students(len(gen.CAST))
    lessons = _by_student(gen.lesson_rows(students, HT26, seed=1))
    story = {s.profile.name: lessons[s.personnummer] for s in reversed(students)}

    monday_student = next(s for s in students if s.profile.pattern == gen.MONDAY_MORNINGS)
    monday = gen.timetable(SCHOOL, monday_student.grade, 1)[0]
    before_lunch = {slot.start for slot in monday if slot.morning}
    mondays = [r for r in story[gen.MONDAY_MORNINGS] if _weekday(r) == 0]
    mornings = [r for r in mondays if r[3] in before_lunch]
    assert mornings and all(r[8] == "ogiltig" and r[6] == r[7] for r in mornings)
    assert any(r[8] == "" for r in mondays if r[3] not in before_lunch)

    pe = [r for r in story[gen.SKIPS_PE] if r[5] == gen.PE]
    assert pe and all(r[8] == "ogiltig" for r in pe)

    late = Counter(r[2][:7] for r in story[gen.LATE_ARRIVALS] if r[8] == "sen")
    assert all(late[month] >= 5 for month in ("2026-09", "2026-10"))  # the late-arrival rule

    assert _longest_invalid_run(story[gen.INVALID_RUN]) > 10  # more than two school weeks

    assert 10 <= _pct(story["step_2"]) < 15
    assert 15 <= _pct(story["step_3"]) < 20
    assert 20 < _pct(story["step_4"]) < 40
    assert _pct(story["very_high"]) > 40
    assert _pct(story["typical"]) < 6


def test_absence_is_spread_as_in_a_real_school():
    students = _students(2000)[len(gen.CAST) :]  # the random draws, without the cast
    lessons = _by_student(gen.lesson_rows(students, SEPTEMBER, seed=1))
    pcts = [_pct(rows) for rows in lessons.values()]
    share = {
        "below 6": sum(p < 6 for p in pcts) / len(pcts),
        "step 2": sum(10 <= p < 15 for p in pcts) / len(pcts),
        "step 3": sum(15 <= p <= 20 for p in pcts) / len(pcts),
        "step 4": sum(p > 20 for p in pcts) / len(pcts),
    }
    assert share["below 6"] > 0.6, share  # most students
    assert 0.04 < share["step 2"] < 0.2, share
    assert 0.01 < share["step 3"] < 0.1, share
    assert 0.01 < share["step 4"] < 0.08, share
    assert sum(p > 40 for p in pcts) >= 1
    kinds = Counter(r[8] for rows in lessons.values() for r in rows)
    assert kinds["giltig"] > kinds["ogiltig"] > kinds["sen"] > 0


def _weekday(row) -> int:
    return datetime.date.fromisoformat(row[2]).weekday()


def _longest_invalid_run(rows) -> int:
    days = defaultdict(list)
    for row in rows:
        days[row[2]].append(row[8] == "ogiltig")
    longest = current = 0
    for day in sorted(days):
        current = current + 1 if all(days[day]) else 0
        longest = max(longest, current)
    return longest


# ---------------------------------------------------------------- the demo


@pytest.mark.django_db
def test_a_seeded_demo_has_students_on_steps_2_3_and_4_and_is_idempotent():
    demo.seed(40, today=TODAY)
    result = attendance_demo.seed_attendance(40, today=TODAY)
    assert result.days == len(HT26)
    assert result.rows == result.created == Lesson.objects.count() > 40 * 64 * 5
    assert [f"{m:%Y-%m}" for m in result.months] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    steps = set(MonthlyAbsence.objects.values_list("step", flat=True))
    assert {0, 2, 3, 4} <= steps
    rules = set(Alert.objects.values_list("rule", flat=True))
    assert {
        Rule.STEP_2,
        Rule.STEP_3,
        Rule.STEP_4,
        Rule.SINGLE_MONTH,
        Rule.LATE,
        Rule.INVALID_STREAK,
    } <= rules
    # The first demo mentor's class has a student on step 2 or above, and alerts to act on.
    mentor = User.objects.get(username=f"mentor.{demo.SCHOOLS[0].key}")
    group = mentor.memberships.get().mentor_group
    assert MonthlyAbsence.objects.filter(student__mentor_group=group, step__gte=2).exists()
    assert AlertRecipient.objects.filter(user=mentor).exists()
    assert not AlertRecipient.objects.filter(notified_at__isnull=True).exists()

    counts = (Lesson.objects.count(), Alert.objects.count(), AlertRecipient.objects.count())
    again = attendance_demo.seed_attendance(40, today=TODAY)
    assert again.created == 0 and again.updated == result.rows
    assert (Lesson.objects.count(), Alert.objects.count(), AlertRecipient.objects.count()) == (
        counts
    )


def test_the_demo_period_is_cut_to_the_most_recent_days():
    days, before = attendance_demo.attendance_days(TODAY, max_days=40)
    assert days == HT26[-40:]
    assert before == len(HT26)
    assert attendance_demo.attendance_days(TODAY) == (HT26, 0)


def test_the_demo_mentors_groups_come_first_for_the_cast():
    groups = attendance_demo.featured_groups(800)
    first = groups[0]
    school, _grade, name = demo.all_groups()[first[0]]
    assert (school.key, name) == (demo.SCHOOLS[0].key, demo.MENTOR_GROUP)
    profiles = gen.profiles(800, seed=attendance_demo.ATTENDANCE_SEED, featured=groups)
    assert [profiles[i].name for i in first[:3]] == ["step_3", "step_2", "step_4"]


# ---------------------------------------------------------------- the benchmark


def test_bench_refuses_sqlite_and_production(settings, db):
    if connection.vendor == "sqlite":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("bench_attendance", students=20, days=1, stdout=io.StringIO())
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("bench_attendance", students=20, days=1, stdout=io.StringIO())


@pytest.mark.postgres
def test_bench_runs_at_a_tiny_size(on_postgres, db):
    out = io.StringIO()
    call_command(
        "bench_attendance", students=120, days=2, requests=2, stdout=out, stderr=io.StringIO()
    )
    text = out.getvalue()
    assert "import_attendance" in text and "rows/s" in text
    assert "bare COPY" in text and "rollup_month" in text and "evaluate_month" in text
    assert "school overview" in text and "p95" in text
    assert not Lesson.objects.exists()  # the bench cleans up after itself
