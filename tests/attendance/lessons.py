"""Lesson rows made directly, for hand-computed attendance fixtures.

Kept apart from any shared factories: these tests want every minute spelled out.
"""

from __future__ import annotations

import datetime

from attendance.models import AbsenceType, Lesson

PRESENT, VALID, INVALID, LATE = (
    AbsenceType.PRESENT,
    AbsenceType.VALID,
    AbsenceType.INVALID,
    AbsenceType.LATE,
)


def as_date(day: datetime.date | str) -> datetime.date:
    return datetime.date.fromisoformat(day) if isinstance(day, str) else day


def lesson(
    student,
    day: datetime.date | str,
    start: str = "08:00",
    *,
    minutes: int = 60,
    absent: int | None = None,
    kind: str = PRESENT,
    school=None,
    subject: str = "Matematik",
) -> Lesson:
    """One lesson. ``absent`` defaults to the whole lesson when ``kind`` is an absence."""
    day = as_date(day)
    hours, mins = (int(part) for part in start.split(":"))
    begins = datetime.time(hours, mins)
    ends = (datetime.datetime.combine(day, begins) + datetime.timedelta(minutes=minutes)).time()
    if absent is None:
        absent = minutes if kind else 0
    return Lesson.objects.create(
        student=student,
        school=school or student.school,
        date=day,
        start_time=begins,
        end_time=ends,
        subject=subject,
        scheduled_min=minutes,
        absent_min=absent,
        absence_type=kind,
    )


def school_day(
    student,
    day: datetime.date | str,
    *,
    lessons: int = 2,
    minutes: int = 60,
    kind: str = PRESENT,
    absent_lessons: int | None = None,
    school=None,
) -> list[Lesson]:
    """A day of ``lessons`` lessons; the first ``absent_lessons`` (default all) of ``kind``."""
    absent_lessons = lessons if absent_lessons is None else absent_lessons
    return [
        lesson(
            student,
            day,
            f"{8 + index * 2:02d}:00",
            minutes=minutes,
            kind=kind if index < absent_lessons else PRESENT,
            school=school,
        )
        for index in range(lessons)
    ]


def weekdays(month: datetime.date | str) -> list[datetime.date]:
    """Monday to Friday of the month of ``month``."""
    first = as_date(month).replace(day=1)
    day, days = first, []
    while day.month == first.month:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def month_absence(
    student,
    month: datetime.date | str,
    *,
    scheduled: int = 1000,
    absent: int = 0,
    kind: str = INVALID,
    lesson_min: int = 100,
    late: int = 0,
) -> list[Lesson]:
    """Lessons in ``month`` with exactly ``scheduled`` and ``absent`` minutes.

    Lessons of ``lesson_min`` minutes, two per weekday from the first; the absent minutes
    fill whole lessons first, the rest goes to one partly absent lesson. ``late`` more
    lessons (already counted in ``scheduled``) are 1-minute late arrivals; they add to the
    absent minutes, so pass ``absent`` without them.
    """
    assert scheduled % lesson_min == 0, "scheduled must be whole lessons"
    count = scheduled // lesson_min
    slots = [(day, start) for day in weekdays(month) for start in ("08:00", "10:00")]
    assert count <= len(slots), "too many lessons for one month"
    made, left, lates = [], absent, late
    for day, start in slots[:count]:
        if left:
            minutes = min(left, lesson_min)
            made.append(lesson(student, day, start, minutes=lesson_min, absent=minutes, kind=kind))
            left -= minutes
        elif lates:
            made.append(lesson(student, day, start, minutes=lesson_min, absent=1, kind=LATE))
            lates -= 1
        else:
            made.append(lesson(student, day, start, minutes=lesson_min))
    assert not left and not lates, "more absence than lessons"
    return made
