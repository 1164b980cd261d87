"""Reads for the attendance pages. Everything starts from the access policy's querysets.

Each function runs a fixed number of queries whatever the number of students, and every
figure is built from ``MonthlyAbsence`` rows or from ``rollup.lesson_sums`` (the one code
path for absence figures).
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    F,
    FilteredRelation,
    FloatField,
    Q,
    QuerySet,
)
from django.db.models.functions import Cast, ExtractIsoWeekDay, NullIf

from sst import access, audit
from sst.models import School, Student

from .models import Alert, AlertRecipient, Lesson, MonthlyAbsence, StaircasePolicy, next_month
from .rollup import AbsenceFigures, absence_between, lesson_sums, month_start, term_of

# ---------------------------------------------------------------- periods


def previous_month(month: datetime.date) -> datetime.date:
    return month_start(month_start(month) - datetime.timedelta(days=1))


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """First days of the months from ``first`` to ``last``, both included."""
    months, month = [], month_start(first)
    while month <= month_start(last):
        months.append(month)
        month = next_month(month)
    return months


def term_months(month: datetime.date, today: datetime.date) -> tuple[str, list[datetime.date]]:
    """The term's name and its months up to ``month`` (never past today's month)."""
    name, start, _end = term_of(month)
    last = min(month_start(month), month_start(today))
    return name, months_between(start, last) if last >= start else []


def policy_of(school: School) -> StaircasePolicy:
    """The municipality's thresholds; the defaults if none was saved yet (no write on a read)."""
    policy = StaircasePolicy.objects.filter(municipality__districts__schools=school.pk).first()
    return policy or StaircasePolicy()


def figures(row: dict[str, Any], start: datetime.date, end: datetime.date) -> AbsenceFigures:
    """A grouped ``lesson_sums()`` row as the same figures ``absence_between`` gives."""
    return AbsenceFigures(
        start=start,
        end=end,
        scheduled_min=row["scheduled"] or 0,
        valid_min=row["valid"] or 0,
        invalid_min=row["invalid"] or 0,
        late_count=row["late"] or 0,
        lesson_count=row["lessons"] or 0,
    )


# ---------------------------------------------------------------- the mentor's groups


@dataclass
class MentorRow:
    student: Student
    this_month: MonthlyAbsence | None
    last_month: MonthlyAbsence | None
    trend: list[tuple[datetime.date, MonthlyAbsence | None]]
    alert_count: int


@dataclass
class MentorGroupTable:
    group: Any
    rows: list[MentorRow] = field(default_factory=list)


@dataclass
class MentorDesk:
    this_month: datetime.date
    last_month: datetime.date
    term_name: str
    term_months: list[datetime.date]
    groups: list[MentorGroupTable]

    @property
    def student_count(self) -> int:
        return sum(len(table.rows) for table in self.groups)


def mentor_desk(user: access.AnyUser, today: datetime.date) -> MentorDesk | None:
    """The students of the user's own mentor groups with their absence: two queries."""
    this_month = month_start(today)
    last_month = previous_month(this_month)
    term_name, months = term_months(this_month, today)
    term_start = term_of(this_month)[1]
    students = list(
        access.students_visible_to(user)
        .filter(mentor_group__in=access.mentor_groups_of(user).values("pk"))
        .select_related("mentor_group__school")
        .annotate(alert_count=Count("alerts", filter=Q(alerts__period_end__gte=term_start)))
        .order_by("mentor_group__school__name", "mentor_group__name", "last_name", "first_name")
    )
    if not students:
        return None
    first = min([last_month, *months])
    monthly: dict[tuple[int, datetime.date], MonthlyAbsence] = {
        (row.student_id, row.month): row
        for row in MonthlyAbsence.objects.filter(
            student__in=[s.pk for s in students], month__gte=first, month__lte=this_month
        )
    }
    tables: dict[int, MentorGroupTable] = {}
    for student in students:
        table = tables.setdefault(
            student.mentor_group_id,  # type: ignore[arg-type]
            MentorGroupTable(group=student.mentor_group),
        )
        table.rows.append(
            MentorRow(
                student=student,
                this_month=monthly.get((student.pk, this_month)),
                last_month=monthly.get((student.pk, last_month)),
                trend=[(m, monthly.get((student.pk, m))) for m in months],
                alert_count=student.alert_count,
            )
        )
    return MentorDesk(this_month, last_month, term_name, months, list(tables.values()))


# ---------------------------------------------------------------- alerts


def _visible_alerts_of(user: access.AnyUser) -> QuerySet[AlertRecipient]:
    return AlertRecipient.objects.filter(  # type: ignore[misc]
        user_id=user.pk, alert__student__in=access.students_visible_to(user)
    ).select_related("alert__student")


def alert_recipient_for_user(user: access.AnyUser, alert_id: uuid.UUID | str) -> AlertRecipient:
    """The user's own recipient row of an alert about a student they can see; else 404."""
    recipient = _visible_alerts_of(user).filter(alert__public_id=alert_id).first()
    if recipient is None:
        raise access.refuse(user, audit.AuditObjectType.ABSENCE_ALERT, alert_id)
    return recipient


def student_alerts(student: Student) -> list[Alert]:
    alerts = student.alerts.all()
    if student.enrolled_on is not None:  # not a previous school's alerts
        alerts = alerts.filter(period_start__gte=student.enrolled_on)
    return list(alerts.order_by("-period_end", "-created_at"))


# ---------------------------------------------------------------- schools


def school_students(user: access.AnyUser, school: School) -> QuerySet[Student]:
    return access.students_visible_to(user).filter(school=school)


SORTS = {
    "absence": (F("m_ratio").desc(nulls_last=True), "last_name", "first_name", "pk"),
    "name": ("last_name", "first_name", "pk"),
    "class": ("mentor_group__name", "last_name", "first_name", "pk"),
}
NO_DATA = "none"


def with_month(students: QuerySet[Student], month: datetime.date) -> QuerySet[Student]:
    """Students annotated with their row of ``month`` (``m_*``; NULL when they had no lessons)."""
    return students.annotate(
        # A month that began before the student came to this school is not shown to it.
        m=FilteredRelation(
            "monthly_absence",
            condition=Q(monthly_absence__month=month)
            & (Q(enrolled_on__isnull=True) | Q(enrolled_on__lte=month)),
        ),
        m_scheduled=F("m__scheduled_min"),
        m_valid=F("m__valid_min"),
        m_invalid=F("m__invalid_min"),
        m_late=F("m__late_count"),
        m_step=F("m__step"),
        m_ratio=Cast(F("m__valid_min") + F("m__invalid_min"), FloatField())
        / NullIf(F("m__scheduled_min"), 0),
    )


def filter_step(students: QuerySet[Student], step: str) -> QuerySet[Student]:
    if step == NO_DATA:
        return students.filter(Q(m_scheduled__isnull=True) | Q(m_scheduled=0))
    if step:
        return students.filter(m_step=int(step), m_scheduled__gt=0)  # type: ignore[misc]
    return students


def month_row(student: Student, month: datetime.date) -> MonthlyAbsence | None:
    """The annotated ``m_*`` values as an (unsaved) ``MonthlyAbsence`` for its percentages."""
    if not getattr(student, "m_scheduled", None):
        return None
    return MonthlyAbsence(
        student_id=student.pk,
        month=month,
        scheduled_min=student.m_scheduled,  # type: ignore[attr-defined]
        valid_min=student.m_valid,  # type: ignore[attr-defined]
        invalid_min=student.m_invalid,  # type: ignore[attr-defined]
        late_count=student.m_late,  # type: ignore[attr-defined]
        step=student.m_step,  # type: ignore[attr-defined]
    )


STEPS = (4, 3, 2, 0)


@dataclass
class StepCounts:
    """Students per step per month: ``counts[month][step]``; ``students`` = with lessons."""

    months: list[datetime.date]
    counts: dict[datetime.date, dict[int, int]]

    def row(self, step: int) -> list[int]:
        return [self.counts[m].get(step, 0) for m in self.months]

    def with_lessons(self) -> list[int]:
        return [sum(self.counts[m].values()) for m in self.months]

    def rows(self) -> list[tuple[int, list[int]]]:
        return [(step, self.row(step)) for step in STEPS]


def step_counts(students: QuerySet[Student], months: list[datetime.date]) -> StepCounts:
    """One GROUP BY query: how many of ``students`` were at each step in each month."""
    counts: dict[datetime.date, dict[int, int]] = defaultdict(dict)
    if months:
        for month, step, n in (
            MonthlyAbsence.objects.filter(
                student__in=students.values("pk"),
                month__gte=months[0],
                month__lte=months[-1],
                scheduled_min__gt=0,
            )
            .values("month", "step")
            .annotate(n=Count("pk"))
            .values_list("month", "step", "n")
            .order_by()
        ):
            counts[month][step] = n
    return StepCounts(months, {m: counts.get(m, {}) for m in months})


@dataclass
class SchoolSummary:
    school: School
    counts: dict[int, int]

    @property
    def with_lessons(self) -> int:
        return sum(self.counts.values())


def school_summaries(user: access.AnyUser, month: datetime.date) -> list[SchoolSummary]:
    """The user's schools with students per step in ``month``: two queries."""
    schools = list(access.schools_with_students_visible_to(user).order_by("name"))
    if not schools:
        return []
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for school_id, step, n in (
        MonthlyAbsence.objects.filter(
            month=month,
            scheduled_min__gt=0,
            student__in=access.students_visible_to(user)
            .filter(school__in=[s.pk for s in schools])
            .values("pk"),
        )
        .values("student__school_id", "step")
        .annotate(n=Count("pk"))
        .values_list("student__school_id", "step", "n")
        .order_by()
    ):
        counts[school_id][step] = n
    return [SchoolSummary(school, counts.get(school.pk, {})) for school in schools]


# ---------------------------------------------------------------- one student


def monthly_history(student: Student) -> list[MonthlyAbsence]:
    """Every month with lessons, oldest first."""
    return list(
        MonthlyAbsence.objects.filter(student=student, scheduled_min__gt=0)
        .at_current_school()
        .order_by("month")
    )


@dataclass
class Patterns:
    total: AbsenceFigures
    weekdays: list[tuple[int, AbsenceFigures]]
    slots: list[tuple[datetime.time, AbsenceFigures]]
    subjects: list[tuple[str, AbsenceFigures]]


def absence_patterns(student: Student, start: datetime.date, end: datetime.date) -> Patterns:
    """Absence by weekday, lesson slot and subject over [start, end]: four queries."""
    lessons = Lesson.objects.filter(student=student).at_current_school()
    period = lessons.filter(date__gte=start, date__lte=end).order_by()

    def grouped(key: str, expression: Any = None) -> list[tuple[Any, AbsenceFigures]]:
        rows = (
            (period.annotate(**{key: expression}) if expression is not None else period)
            .values(key)
            .annotate(**lesson_sums())
            .order_by(key)
        )
        return [(row[key], figures(row, start, end)) for row in rows]

    return Patterns(
        total=absence_between(lessons, start, end),
        weekdays=grouped("weekday", ExtractIsoWeekDay("date")),
        slots=grouped("start_time"),
        subjects=grouped("subject"),
    )
