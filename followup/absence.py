"""Absence for the team's records — follow-up, intake, closure, after-care — computed by the
rollup's own code (``attendance.rollup.absence_between``: the sums the monthly rollup
stores), so a figure here equals the rollups' over the same days. Every figure carries its
period; records keep the period and the minutes, never a typed percentage.
"""

from __future__ import annotations

import datetime
from typing import Any

from attendance.models import Lesson
from attendance.rollup import AbsenceFigures, absence_between, month_start
from sst.models import Student


def full_months_before(day: datetime.date, months: int) -> tuple[datetime.date, datetime.date]:
    """The ``months`` full calendar months before the month of ``day``: (first day, last day).

    Intake is the two full months before the referral was submitted, closure the two before
    the case closed (``FollowUpPolicy.closure_period_months``)."""
    end = month_start(day) - datetime.timedelta(days=1)
    start = month_start(end)
    for _ in range(months - 1):
        start = month_start(start - datetime.timedelta(days=1))
    return start, end


def measure(student: Student | int, start: datetime.date, end: datetime.date) -> AbsenceFigures:
    """The student's absence over [start, end] (inclusive), from the lessons recorded at their
    current school, in one query."""
    student_id = student if isinstance(student, int) else student.pk
    lessons = Lesson.objects.filter(student_id=student_id).at_current_school()
    return absence_between(lessons, start, end)


def snapshot_fields(figures: AbsenceFigures) -> dict[str, Any]:
    """The fields of an ``AbsenceSnapshot`` row for ``figures``."""
    return {
        "period_start": figures.start,
        "period_end": figures.end,
        "scheduled_min": figures.scheduled_min,
        "valid_min": figures.valid_min,
        "invalid_min": figures.invalid_min,
    }
