"""Lessons for tests: one lesson, or a month of them with chosen absence, then the refresh.

``month_of_lessons`` gives a student four 60-minute lessons on each of the first ``days``
weekdays of a month (default 10 days = 40 lessons = 2 400 minutes, so one absent lesson is
2,5 %). The absent lessons are taken in order: first ``valid`` lessons, then ``invalid``,
then ``late`` (15 minutes late each).
"""

from __future__ import annotations

import datetime

import factory

from attendance import services
from attendance.models import AbsenceType, Lesson, next_month

SLOTS = (
    (datetime.time(8, 10), "Matematik"),
    (datetime.time(9, 20), "Svenska"),
    (datetime.time(10, 30), "Engelska"),
    (datetime.time(13, 0), "Idrott och hälsa"),
)
LESSON_MIN = 60
LATE_MIN = 15


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    student = None
    school = factory.LazyAttribute(lambda o: o.student.school)
    date = datetime.date(2026, 10, 5)
    start_time = datetime.time(8, 10)
    end_time = factory.LazyAttribute(
        lambda o: (
            datetime.datetime.combine(o.date, o.start_time)
            + datetime.timedelta(minutes=o.scheduled_min)
        ).time()
    )
    subject = "Matematik"
    scheduled_min = LESSON_MIN
    absent_min = 0
    absence_type = AbsenceType.PRESENT


def weekdays(month: datetime.date, count: int | None = None) -> list[datetime.date]:
    """The first ``count`` Monday–Friday dates of the month (all of them by default)."""
    day, days = month.replace(day=1), []
    while day < next_month(month) and (count is None or len(days) < count):
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def month_of_lessons(
    student,
    month: datetime.date,
    *,
    days: int = 10,
    valid: int = 0,
    invalid: int = 0,
    late: int = 0,
) -> list[Lesson]:
    kinds = (
        [(AbsenceType.VALID, LESSON_MIN)] * valid
        + [(AbsenceType.INVALID, LESSON_MIN)] * invalid
        + [(AbsenceType.LATE, LATE_MIN)] * late
    )
    lessons = []
    for day in weekdays(month, days):
        for start, subject in SLOTS:
            kind, absent = kinds.pop(0) if kinds else (AbsenceType.PRESENT, 0)
            lessons.append(
                LessonFactory.build(
                    student=student,
                    date=day,
                    start_time=start,
                    subject=subject,
                    absent_min=absent,
                    absence_type=kind,
                )
            )
    assert not kinds, "more absent lessons than lessons"
    return Lesson.objects.bulk_create(lessons)


def refresh(*months: datetime.date) -> None:
    """Roll up and evaluate the staircase for each month, oldest first (as the monthly job)."""
    for month in sorted(months):
        services.absence_month_refresh(month=month)
