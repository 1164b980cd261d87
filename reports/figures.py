"""The absence figures of the reports: sums of the monthly rollups, in a few aggregate queries.

Every figure is summed from ``attendance_monthlyabsence`` — the rows every other absence
figure in the product is computed from — so minutes add up exactly: a grade's absence % is
the absent minutes of all its students over their scheduled minutes (minutes-weighted, not a
mean of student percentages), late arrivals count as invalid absence (the rollup already
adds them there), and a student's share of the term decides whether they are above 15 %
with integer arithmetic (``absent × 1000 > 150 × scheduled``: exactly 15.0 % is not above).

Students are counted where the student register has them (their school and grade) when the
report is made: a student who moved from school A to school B counts to B for earlier terms
too. Each query joins the rollup rows to the students of the scope's schools and groups in
the database; nothing loops over students in Python.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from attendance.models import AbsencePercentages
from sst.models import Grade, School

from .terms import Term

# Percent thresholds of the "share above" table, in tenths of a percent (150 = 15.0 %).
SHARE_THRESHOLDS: tuple[int, ...] = (150, 250, 400)
# The staircase steps as the rollup stores them (0: below step 2).
STEPS: tuple[int, ...] = (0, 2, 3, 4)


def _schools_sql(schools: QuerySet[School]) -> tuple[str, tuple[Any, ...]]:
    sql, params = schools.values("pk").query.sql_with_params()
    return sql, tuple(params)


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


# The SQL below is built from constants, ``%s`` placeholders and the ORM's own compiled
# subquery for the schools (its values stay parameters): nothing from a user is interpolated.
def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


@dataclass(frozen=True)
class Minutes(AbsencePercentages):
    """A group's minutes over a period, and how many students had scheduled time in it."""

    students: int
    scheduled_min: int
    valid_min: int
    invalid_min: int


@dataclass(frozen=True)
class GradeAbsence:
    grade: str
    minutes: Minutes


def absence_per_grade(schools: QuerySet[School], term: Term) -> list[GradeAbsence]:
    """Per grade (in the register's order) the students with scheduled time in the term and
    their minutes; grades without any are left out. One query."""
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT s.grade, COUNT(DISTINCT m.student_id), SUM(m.scheduled_min), SUM(m.valid_min),
               SUM(m.invalid_min)
        FROM attendance_monthlyabsence m
        JOIN sst_student s ON s.id = m.student_id
        WHERE m.month IN ({_placeholders(term.months)}) AND m.scheduled_min > 0
          AND s.school_id IN ({school_sql})
        GROUP BY s.grade
        """,  # noqa: S608
        (*term.months, *school_params),
    )
    by_grade = {
        grade: Minutes(int(students), int(scheduled), int(valid), int(invalid))
        for grade, students, scheduled, valid, invalid in rows
    }
    return [GradeAbsence(grade, by_grade[grade]) for grade in Grade.values if grade in by_grade]


def absence_total(per_grade: Sequence[GradeAbsence]) -> Minutes:
    """The scope's total: the grades' minutes added (a student has one grade)."""
    return Minutes(
        sum(g.minutes.students for g in per_grade),
        sum(g.minutes.scheduled_min for g in per_grade),
        sum(g.minutes.valid_min for g in per_grade),
        sum(g.minutes.invalid_min for g in per_grade),
    )


@dataclass(frozen=True)
class TermShares:
    term: Term
    students: int
    above: dict[int, int]  # threshold in tenths of a percent → students strictly above it


def shares_above(
    schools: QuerySet[School],
    terms: Sequence[Term],
    thresholds: Sequence[int] = SHARE_THRESHOLDS,
) -> list[TermShares]:
    """Per term, the students with scheduled time and how many of them were absent strictly
    more than each threshold over the term. One query for all the terms."""
    school_sql, school_params = _schools_sql(schools)
    which_term = " ".join(
        f"WHEN m.month IN ({_placeholders(t.months)}) THEN {i}" for i, t in enumerate(terms)
    )
    months = [month for term in terms for month in term.months]
    above = ", ".join(
        f"SUM(CASE WHEN absent * 1000 > {int(t)} * scheduled THEN 1 ELSE 0 END)" for t in thresholds
    )
    rows = _rows(
        f"""
        SELECT term, COUNT(*), {above}
        FROM (
            SELECT CASE {which_term} END AS term, m.student_id,
                   SUM(m.scheduled_min) AS scheduled,
                   SUM(m.valid_min + m.invalid_min) AS absent
            FROM attendance_monthlyabsence m
            JOIN sst_student s ON s.id = m.student_id
            WHERE m.month IN ({_placeholders(months)}) AND s.school_id IN ({school_sql})
            GROUP BY 1, m.student_id
        ) per_student
        WHERE scheduled > 0
        GROUP BY term
        """,  # noqa: S608
        (*months, *months, *school_params),
    )
    found = {int(row[0]): row for row in rows}
    result = []
    for i, term in enumerate(terms):
        row = found.get(i)
        students = int(row[1]) if row else 0
        counts = [int(v or 0) for v in row[2:]] if row else [0] * len(thresholds)
        result.append(TermShares(term, students, dict(zip(thresholds, counts, strict=True))))
    return result


@dataclass(frozen=True)
class MonthSteps:
    month: datetime.date
    students: int
    steps: dict[int, int]  # step → students at it that month


def steps_per_month(schools: QuerySet[School], months: Sequence[datetime.date]) -> list[MonthSteps]:
    """Students per staircase step per month (months without rollups are left out). One
    query."""
    if not months:
        return []
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT m.month, m.step, COUNT(*)
        FROM attendance_monthlyabsence m
        JOIN sst_student s ON s.id = m.student_id
        WHERE m.month IN ({_placeholders(months)}) AND m.scheduled_min > 0
          AND s.school_id IN ({school_sql})
        GROUP BY m.month, m.step
        """,  # noqa: S608
        (*months, *school_params),
    )
    per_month: dict[datetime.date, dict[int, int]] = {}
    for month, step, count in rows:
        month = _as_date(month)
        steps = per_month.setdefault(month, dict.fromkeys(STEPS, 0))
        steps[int(step) if int(step) in STEPS else 0] += int(count)
    return [
        MonthSteps(month, sum(per_month[month].values()), per_month[month])
        for month in months
        if month in per_month
    ]


@dataclass(frozen=True)
class MonthAbsence:
    month: datetime.date
    minutes: Minutes


def absence_per_month(
    schools: QuerySet[School], months: Sequence[datetime.date]
) -> list[MonthAbsence]:
    """The scope's absence month by month (the term's trend line). One query."""
    if not months:
        return []
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT m.month, COUNT(*), SUM(m.scheduled_min), SUM(m.valid_min), SUM(m.invalid_min)
        FROM attendance_monthlyabsence m
        JOIN sst_student s ON s.id = m.student_id
        WHERE m.month IN ({_placeholders(months)}) AND m.scheduled_min > 0
          AND s.school_id IN ({school_sql})
        GROUP BY m.month
        ORDER BY m.month
        """,  # noqa: S608
        (*months, *school_params),
    )
    return [
        MonthAbsence(_as_date(month), Minutes(int(n), int(sch), int(val), int(inv)))
        for month, n, sch, val, inv in rows
    ]


def data_until(schools: QuerySet[School], term: Term) -> datetime.date | None:
    """The last day the term's data runs to: the last lesson date imported for the scope in
    the term (the cover says it; a term still running is reported as far as it goes)."""
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT MAX(l.date) FROM attendance_lesson l
        WHERE l.date >= %s AND l.date <= %s AND l.school_id IN ({school_sql})
        """,  # noqa: S608
        (term.start, term.end, *school_params),
    )
    value = rows[0][0] if rows else None
    return _as_date(value) if value else None


def _as_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class PlaceFigures:
    place_id: int
    minutes: Minutes
    above_15: int  # students strictly above 15.0 % over the period
    step_4: int  # students at step 4 in the last month of the period


def figures_by_place(
    schools: QuerySet[School], months: Sequence[datetime.date], *, level: str
) -> dict[int, PlaceFigures]:
    """For drill-down: per district (``level="district"``) or school, the students, their
    minutes over ``months``, how many were above 15 % over them and how many were at step 4
    in the last of them. One query."""
    if not months:
        return {}
    place = "sc.district_id" if level == "district" else "s.school_id"
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT place, COUNT(*), SUM(scheduled), SUM(valid), SUM(invalid),
               SUM(CASE WHEN (valid + invalid) * 1000 > 150 * scheduled THEN 1 ELSE 0 END),
               SUM(last_step_4)
        FROM (
            SELECT {place} AS place, m.student_id,
                   SUM(m.scheduled_min) AS scheduled, SUM(m.valid_min) AS valid,
                   SUM(m.invalid_min) AS invalid,
                   MAX(CASE WHEN m.month = %s AND m.step >= 4 THEN 1 ELSE 0 END) AS last_step_4
            FROM attendance_monthlyabsence m
            JOIN sst_student s ON s.id = m.student_id
            JOIN sst_school sc ON sc.id = s.school_id
            WHERE m.month IN ({_placeholders(months)}) AND s.school_id IN ({school_sql})
            GROUP BY 1, m.student_id
        ) per_student
        WHERE scheduled > 0
        GROUP BY place
        """,  # noqa: S608
        (months[-1], *months, *school_params),
    )
    return {
        int(pid): PlaceFigures(
            int(pid), Minutes(int(n), int(sch), int(val), int(inv)), int(above), int(step4)
        )
        for pid, n, sch, val, inv, above, step4 in rows
    }
