"""Monthly absence per student: one aggregate query per run, stored as an upsert.

This is the one code path for absence figures (ARCHITECTURE.md rule 4): pages, exports and
reports read ``MonthlyAbsence`` or call ``absence_between`` below, which uses the same
sums over lessons.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, When
from django.utils import timezone

from .locks import hold_student_register, lock_absence_writes
from .models import AbsencePercentages, AbsenceType, Lesson, PendingMonthRefresh, next_month

# The sums every absence figure is made of, as SQL over attendance_lesson.
_SUMS_SQL = """
    SUM(scheduled_min) AS scheduled,
    SUM(CASE WHEN absence_type = 'valid' THEN absent_min ELSE 0 END) AS valid,
    SUM(CASE WHEN absence_type IN ('invalid', 'late') THEN absent_min ELSE 0 END) AS invalid,
    SUM(CASE WHEN absence_type = 'late' THEN 1 ELSE 0 END) AS late,
    COUNT(*) AS lessons
"""

# Two steps, because PostgreSQL plans INSERT … SELECT serially but may run the aggregate of a
# CREATE TABLE … AS in parallel: the heavy part runs like a bare GROUP BY, and the upsert then
# touches one row per student — and only rows whose figures changed, so the nightly re-run of
# a month writes (and leaves dead rows) only where new lessons arrived.
_AGGREGATE_SQL = f"""
CREATE TEMPORARY TABLE attendance_rollup_month AS
SELECT student_id, {_SUMS_SQL}
FROM attendance_lesson
WHERE date >= %s AND date < %s
GROUP BY student_id
"""
# The register gives each row its school and grade; while the month is the current one (the
# first parameter) they follow the register, once it is over they stay as they were, so an
# earlier term is reported where its students were then.
_ROLLUP_SQL = """
INSERT INTO attendance_monthlyabsence
    (student_id, month, school_id, grade, scheduled_min, valid_min, invalid_min, late_count,
     lesson_count, step, computed_at)
SELECT r.student_id, %(month)s, s.school_id, s.grade, r.scheduled, r.valid, r.invalid, r.late,
       r.lessons, 0, %(now)s
FROM attendance_rollup_month r JOIN sst_student s ON s.id = r.student_id WHERE true
ON CONFLICT (student_id, month) DO UPDATE SET
    school_id = CASE WHEN %(current)s THEN EXCLUDED.school_id
                     ELSE attendance_monthlyabsence.school_id END,
    grade = CASE WHEN %(current)s THEN EXCLUDED.grade ELSE attendance_monthlyabsence.grade END,
    scheduled_min = EXCLUDED.scheduled_min,
    valid_min = EXCLUDED.valid_min,
    invalid_min = EXCLUDED.invalid_min,
    late_count = EXCLUDED.late_count,
    lesson_count = EXCLUDED.lesson_count,
    computed_at = EXCLUDED.computed_at
WHERE attendance_monthlyabsence.scheduled_min <> EXCLUDED.scheduled_min
   OR attendance_monthlyabsence.valid_min <> EXCLUDED.valid_min
   OR attendance_monthlyabsence.invalid_min <> EXCLUDED.invalid_min
   OR attendance_monthlyabsence.late_count <> EXCLUDED.late_count
   OR attendance_monthlyabsence.lesson_count <> EXCLUDED.lesson_count
   OR (%(current)s AND (attendance_monthlyabsence.school_id <> EXCLUDED.school_id
                        OR attendance_monthlyabsence.grade <> EXCLUDED.grade))
"""


def month_start(value: str | datetime.date) -> datetime.date:
    """'2026-10' or any date → the first day of that month."""
    if isinstance(value, str):
        year, month = value.split("-")
        return datetime.date(int(year), int(month), 1)
    return value.replace(day=1)


@transaction.atomic
def rollup_month(month: datetime.date) -> int:
    """Recompute every student's row for ``month``; returns the number of students with
    lessons that month (their rows are written where the figures changed, or in the current
    month where the register moved the student; ``computed_at`` says when a row last
    changed).

    Idempotent and safe to run concurrently: the upsert is keyed by (student, month).
    """
    start = month_start(month)
    lock_absence_writes()
    hold_student_register()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS attendance_rollup_month")
        cursor.execute(_AGGREGATE_SQL, [start, next_month(start)])
        cursor.execute("SELECT COUNT(*) FROM attendance_rollup_month")
        students = int(cursor.fetchone()[0])
        now = timezone.now()
        current = start >= month_start(timezone.localdate(now))
        cursor.execute(_ROLLUP_SQL, {"month": start, "now": now, "current": current})
        cursor.execute("DROP TABLE attendance_rollup_month")
        return students


def months_mark_pending(months: Iterable[datetime.date]) -> None:
    """Record, in the caller's transaction, that these months need a rollup and evaluation.

    Marking a month already on the list raises its generation, so a recomputation that
    started before this transaction committed does not take it off the list.
    """
    now = timezone.now()
    for month in sorted({month_start(month) for month in months}):
        marked = PendingMonthRefresh.objects.filter(month=month).update(
            generation=F("generation") + 1, marked_at=now
        )
        if not marked:
            # Two imports may add the same month at once; the second one waits for the first
            # one's row and then counts as a mark of its own.
            _, created = PendingMonthRefresh.objects.get_or_create(
                month=month, defaults={"marked_at": now}
            )
            if not created:
                PendingMonthRefresh.objects.filter(month=month).update(
                    generation=F("generation") + 1, marked_at=now
                )


def pending_generation(month: datetime.date) -> int | None:
    """The month's mark as the recomputation starts (None: not on the list)."""
    return (
        PendingMonthRefresh.objects.filter(month=month_start(month))
        .values_list("generation", flat=True)
        .first()
    )


def months_pending() -> list[datetime.date]:
    """The months on the list, oldest first (the staircase rules look back a month)."""
    return list(PendingMonthRefresh.objects.order_by("month").values_list("month", flat=True))


def month_done(month: datetime.date, generation: int | None) -> None:
    """Take the month off the list unless an import marked it again since ``generation``."""
    if generation is not None:
        PendingMonthRefresh.objects.filter(month=month_start(month), generation=generation).delete()


@dataclass(frozen=True)
class AbsenceFigures(AbsencePercentages):
    """Absence over a period, computed from lessons like the monthly rollup."""

    start: datetime.date
    end: datetime.date  # inclusive
    scheduled_min: int
    valid_min: int
    invalid_min: int
    late_count: int
    lesson_count: int


def lesson_sums() -> dict[str, Sum | Count]:
    """The ORM form of the rollup's sums, for grouping lessons by anything (patterns)."""
    invalid = Q(absence_type__in=[AbsenceType.INVALID, AbsenceType.LATE])
    return {
        "scheduled": Sum("scheduled_min"),
        "valid": Sum(
            Case(
                When(absence_type=AbsenceType.VALID, then="absent_min"),
                default=0,
                output_field=IntegerField(),
            )
        ),
        "invalid": Sum(
            Case(When(invalid, then="absent_min"), default=0, output_field=IntegerField())
        ),
        "late": Count("pk", filter=Q(absence_type=AbsenceType.LATE)),
        "lessons": Count("pk"),
    }


def absence_between(
    lessons: QuerySet[Lesson], start: datetime.date, end: datetime.date
) -> AbsenceFigures:
    """Absence over [start, end] (inclusive) for the given lessons, in one query."""
    row = lessons.filter(date__gte=start, date__lte=end).aggregate(**lesson_sums())
    return AbsenceFigures(
        start=start,
        end=end,
        scheduled_min=row["scheduled"] or 0,
        valid_min=row["valid"] or 0,
        invalid_min=row["invalid"] or 0,
        late_count=row["late"] or 0,
        lesson_count=row["lessons"] or 0,
    )


def term_of(day: datetime.date) -> tuple[str, datetime.date, datetime.date]:
    """The school term a day belongs to: HT (Aug–Dec) or VT (Jan–Jun); summer counts to VT."""
    if day.month >= 8:
        return f"HT{day:%y}", datetime.date(day.year, 8, 1), datetime.date(day.year, 12, 31)
    return f"VT{day:%y}", datetime.date(day.year, 1, 1), datetime.date(day.year, 6, 30)
