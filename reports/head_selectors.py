"""The head of schools' monthly report: the principals' step-4 students of a month, identified.

The law has the principal report repeated absence to the *huvudman* (Skollagen 7 kap. 19 a §);
in the staircase (DOMAIN.md §3, Trosa) the principal does it monthly, for the students at step 4
(more than the policy's step-4 share of the month's scheduled minutes, ``MonthlyAbsence.step``).
This is the one identified list of the reports app, and it is read only by the holders of
``READ_STEP4_MONTHLY_REPORT`` (the head of schools, at a district or the municipality), for the
schools under them. Every other report is aggregated.

A handful of queries whatever the number of students: the schools, the month's step-4 rows,
the months before them, the principals' escalations and the open cases.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import Count, F, QuerySet

from attendance.models import MonthlyAbsence, next_month
from attendance.rollup import month_start
from attendance.selectors import previous_month
from cases.models import ENDED_STATES, Case, Escalation
from sst import access
from sst.access import Capability
from sst.models import School, Student

CAPABILITY = Capability.READ_STEP4_MONTHLY_REPORT
STEP = 4
# How far back "months in a row at step 4" looks (one query over at most this many months).
RUN_LOOKBACK = 12
# The month chooser offers this many months, the current one first.
MONTHS_TO_CHOOSE = 13
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
EARLIEST_YEAR = 2000


# ---------------------------------------------------------------- the month


def last_full_month(today: datetime.date) -> datetime.date:
    return previous_month(month_start(today))


def parse_month(text: str, today: datetime.date) -> datetime.date | None:
    """``YYYY-MM`` of a month that has begun (from 2000 on); anything else is ``None``."""
    match = _MONTH.match(text.strip())
    if not match:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    if not 1 <= number <= 12 or year < EARLIEST_YEAR:
        return None
    month = datetime.date(year, number, 1)
    if month > month_start(today):
        return None
    return month


def month_choices(today: datetime.date, chosen: datetime.date) -> list[datetime.date]:
    """The months offered, newest first: the current month and the twelve before it, and the
    chosen month if it is older."""
    months = [month_start(today)]
    while len(months) < MONTHS_TO_CHOOSE:
        months.append(previous_month(months[-1]))
    if chosen not in months:
        months.append(chosen)
    return months


# ---------------------------------------------------------------- the report


def schools_of(user: access.AnyUser) -> QuerySet[School]:
    """The schools whose step-4 students the user may read (none for everyone but the head
    of schools)."""
    return (
        access.schools_where(user, CAPABILITY)
        .select_related("district")
        .order_by("district__name", "name", "pk")
    )


@dataclass
class HeadRow:
    student: Student
    absence: MonthlyAbsence
    months_in_row: int = 1
    escalations: list[Escalation] = field(default_factory=list)
    case_open: bool = False


@dataclass
class HeadSchool:
    school: School
    rows: list[HeadRow]


@dataclass
class HeadReport:
    month: datetime.date
    end: datetime.date  # the month's last day, or today in the current month
    schools: list[HeadSchool]

    @property
    def rows(self) -> list[HeadRow]:
        return [row for entry in self.schools for row in entry.rows]

    @property
    def count(self) -> int:
        return sum(len(entry.rows) for entry in self.schools)

    @property
    def student_ids(self) -> list[str]:
        """The students' public ids, for the audit trail."""
        return [str(row.student.public_id) for row in self.rows]

    @property
    def unit_codes(self) -> list[str]:
        return [entry.school.unit_code for entry in self.schools]


def _step4_absences(schools: list[School], month: datetime.date) -> QuerySet[MonthlyAbsence]:
    return MonthlyAbsence.objects.filter(
        month=month,
        step__gte=STEP,
        scheduled_min__gt=0,
        student__school__in=[school.pk for school in schools],
    ).at_current_school()


def _runs(ids: list[int], month: datetime.date) -> dict[int, int]:
    """Consecutive calendar months up to ``month`` at step 4 or above, per student (a month
    without lessons, as in the summer, ends a run); one query over ``RUN_LOOKBACK`` months."""
    first = month
    for _i in range(RUN_LOOKBACK - 1):
        first = previous_month(first)
    at_step: dict[int, set[datetime.date]] = {}
    for student_id, at in MonthlyAbsence.objects.filter(
        student_id__in=ids,
        month__gte=first,
        month__lte=month,
        step__gte=STEP,
        scheduled_min__gt=0,
    ).values_list("student_id", "month"):
        at_step.setdefault(student_id, set()).add(at)
    runs = {}
    for student_id, months in at_step.items():
        count, current = 0, month
        while current in months:
            count += 1
            current = previous_month(current)
        runs[student_id] = count
    return runs


def monthly_report(
    user: access.AnyUser, *, month: datetime.date, today: datetime.date
) -> HeadReport:
    """The month's step-4 students of every school the user holds the report for, grouped by
    school, with what the principal recorded since the month began and whether a case is
    open: five queries."""
    month = month_start(month)
    schools = list(schools_of(user))
    month_end = next_month(month) - datetime.timedelta(days=1)
    report = HeadReport(
        month=month,
        end=min(month_end, today),
        schools=[HeadSchool(school=school, rows=[]) for school in schools],
    )
    if not schools:
        return report
    absences = list(
        _step4_absences(schools, month)
        .select_related("student__mentor_group", "student__school")
        .order_by("student__last_name", "student__first_name", "student_id")
    )
    if not absences:
        return report
    ids = [absence.student_id for absence in absences]
    runs = _runs(ids, month)
    escalations: dict[int, list[Escalation]] = {}
    for escalation in (
        Escalation.objects.filter(
            case__student_id__in=ids,
            case__school_id=F("case__student__school_id"),
            decided_on__gte=month,
        )
        .select_related("case")
        .order_by("decided_on", "pk")
    ):
        escalations.setdefault(escalation.case.student_id, []).append(escalation)
    open_cases = set(
        Case.objects.filter(student_id__in=ids, school_id=F("student__school_id"))
        .exclude(state__in=ENDED_STATES)
        .values_list("student_id", flat=True)
    )
    by_school = {entry.school.pk: entry for entry in report.schools}
    for absence in absences:
        by_school[absence.student.school_id].rows.append(
            HeadRow(
                student=absence.student,
                absence=absence,
                months_in_row=runs.get(absence.student_id, 1),
                escalations=escalations.get(absence.student_id, []),
                case_open=absence.student_id in open_cases,
            )
        )
    return report


# ---------------------------------------------------------------- the desk panel


@dataclass(frozen=True)
class SchoolCount:
    school: School
    count: int


def step4_counts(user: access.AnyUser, *, month: datetime.date) -> list[SchoolCount] | None:
    """Per school of the user's report, the number of step-4 students in ``month``; ``None``
    for anyone who does not hold the report. Two queries."""
    schools = list(schools_of(user))
    if not schools:
        return None
    counts = dict(
        _step4_absences(schools, month_start(month))
        .values("student__school_id")
        .annotate(n=Count("pk"))
        .values_list("student__school_id", "n")
        .order_by()
    )
    return [SchoolCount(school, counts.get(school.pk, 0)) for school in schools]
