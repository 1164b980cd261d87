"""The absence figures of the reports: sums of the monthly rollups, in a few aggregate queries.

Every figure is summed from ``attendance_monthlyabsence`` — the rows every other absence
figure in the product is computed from — so minutes add up exactly: a grade's absence % is
the absent minutes of all its students over their scheduled minutes (minutes-weighted, not a
mean of student percentages), late arrivals count as invalid absence (the rollup already
adds them there), and a student's share of the term decides whether they are above 15 %
with integer arithmetic (``absent × 1000 > 150 × scheduled``: exactly 15.0 % is not above).

Students are counted where the register had them in each month (the school and grade the
rollup keeps on the monthly row): a report of an earlier term counts its students in that
term's grades, and a student who moved from school A to school B counts to A for the months
there and to B for the months after — within a term at each school, with the months there.
Each query filters the rollup rows on the scope's schools and groups in the database;
nothing loops over students in Python.
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


# Counts per school (school id → count), for the rule that a scope's figure must not give a
# small figure of a place below it away (``suppression.hidden_below``).
PerSchool = dict[int, int]


@dataclass(frozen=True)
class GradeAbsence:
    grade: str
    minutes: Minutes
    students_by_school: PerSchool


def students_by_school(per_grade: Sequence[GradeAbsence]) -> PerSchool:
    """All grades' students per school (a student has one grade)."""
    result: PerSchool = {}
    for grade in per_grade:
        for school_id, n in grade.students_by_school.items():
            result[school_id] = result.get(school_id, 0) + n
    return result


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
    students_by_school: PerSchool
    above_by_school: dict[int, PerSchool]  # threshold → students above it per school


@dataclass(frozen=True)
class TermFigures:
    grades: list[GradeAbsence]  # of the last term asked for
    shares: list[TermShares]  # of every term asked for, in order


def term_figures(
    schools: QuerySet[School],
    terms: Sequence[Term],
    thresholds: Sequence[int] = SHARE_THRESHOLDS,
) -> TermFigures:
    """One query for the term report's absence tables: each student's minutes summed per
    term, then grouped by term, school and grade — so the last term's absence per grade
    and every term's shares above the thresholds come out of the same pass over the rows.

    Per term the students with scheduled time and how many of them were absent strictly
    more than each threshold; for the last term, per grade, the students and their minutes.
    Both also per school, for suppression rule 4."""
    school_sql, school_params = _schools_sql(schools)
    which_term = " ".join(
        f"WHEN m.month IN ({_placeholders(t.months)}) THEN {i}" for i, t in enumerate(terms)
    )
    months = [month for term in terms for month in term.months]
    above = ", ".join(
        f"SUM(CASE WHEN (p.valid + p.invalid) * 1000 > {int(t)} * p.scheduled THEN 1 ELSE 0 END)"
        for t in thresholds
    )
    # Each student's sums per term and school first, then grouped by school and grade. A
    # student's grade within a term is one (the register moves grades over the summer); a
    # correction during the term leaves the months with two, and the higher one counts
    # (preschool class F lowest), so the student is not counted twice.
    rows = _rows(
        f"""
        SELECT p.term, p.school_id, p.grade, COUNT(*), SUM(p.scheduled), SUM(p.valid),
               SUM(p.invalid), {above}
        FROM (
            SELECT CASE {which_term} END AS term, m.student_id, m.school_id,
                   MAX(CASE WHEN m.grade = 'F' THEN 0 ELSE CAST(m.grade AS INTEGER) END)
                       AS grade,
                   SUM(m.scheduled_min) AS scheduled,
                   SUM(m.valid_min) AS valid, SUM(m.invalid_min) AS invalid
            FROM attendance_monthlyabsence m
            WHERE m.month IN ({_placeholders(months)}) AND m.school_id IN ({school_sql})
            GROUP BY 1, m.student_id, m.school_id
        ) p
        WHERE p.scheduled > 0
        GROUP BY p.term, p.school_id, p.grade
        """,  # noqa: S608
        (*months, *months, *school_params),
    )
    last = len(terms) - 1
    students: dict[int, PerSchool] = {}
    above_by: dict[int, dict[int, PerSchool]] = {}
    grade_sums: dict[str, list[int]] = {}
    grade_schools: dict[str, PerSchool] = {}
    for row in rows:
        i, school_id, n = int(row[0]), int(row[1]), int(row[3])
        grade = Grade.F.value if int(row[2]) == 0 else str(int(row[2]))
        per_school = students.setdefault(i, {})
        per_school[school_id] = per_school.get(school_id, 0) + n
        for limit, value in zip(thresholds, row[7:], strict=True):
            counts = above_by.setdefault(i, {}).setdefault(limit, {})
            counts[school_id] = counts.get(school_id, 0) + int(value or 0)
        if i == last:
            sums = grade_sums.setdefault(grade, [0, 0, 0, 0])
            for j, value in enumerate((n, row[4], row[5], row[6])):
                sums[j] += int(value)
            grade_schools.setdefault(grade, {})[school_id] = n
    shares = []
    for i, term in enumerate(terms):
        per_school = students.get(i, {})
        per_limit = {limit: above_by.get(i, {}).get(limit, {}) for limit in thresholds}
        shares.append(
            TermShares(
                term,
                sum(per_school.values()),
                {limit: sum(per_limit[limit].values()) for limit in thresholds},
                per_school,
                per_limit,
            )
        )
    grades = [
        GradeAbsence(grade, Minutes(*grade_sums[grade]), grade_schools[grade])
        for grade in Grade.values
        if grade in grade_sums
    ]
    return TermFigures(grades, shares)


def absence_per_grade(schools: QuerySet[School], term: Term) -> list[GradeAbsence]:
    """Per grade (in the register's order) the students with scheduled time in the term and
    their minutes, and the students per school; grades without any are left out."""
    return term_figures(schools, [term]).grades


def shares_above(
    schools: QuerySet[School],
    terms: Sequence[Term],
    thresholds: Sequence[int] = SHARE_THRESHOLDS,
) -> list[TermShares]:
    """Per term, the students with scheduled time and how many of them were absent strictly
    more than each threshold over the term (and both per school)."""
    return term_figures(schools, terms, thresholds).shares


@dataclass(frozen=True)
class MonthSteps:
    month: datetime.date
    students: int
    steps: dict[int, int]  # step → students at it that month
    students_by_school: PerSchool
    steps_by_school: dict[int, PerSchool]  # step → students at it per school


def steps_per_month(schools: QuerySet[School], months: Sequence[datetime.date]) -> list[MonthSteps]:
    """Students per staircase step per month, in all and per school (months without rollups
    are left out). One query."""
    if not months:
        return []
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT m.month, m.step, m.school_id, COUNT(*)
        FROM attendance_monthlyabsence m
        WHERE m.month IN ({_placeholders(months)}) AND m.scheduled_min > 0
          AND m.school_id IN ({school_sql})
        GROUP BY m.month, m.step, m.school_id
        """,  # noqa: S608
        (*months, *school_params),
    )
    per_month: dict[datetime.date, dict[int, PerSchool]] = {}
    for month, step, school_id, count in rows:
        steps = per_month.setdefault(_as_date(month), {step: {} for step in STEPS})
        at = int(step) if int(step) in STEPS else 0
        steps[at][int(school_id)] = steps[at].get(int(school_id), 0) + int(count)
    result = []
    for month in months:
        if month not in per_month:
            continue
        steps = per_month[month]
        students: PerSchool = {}
        for per_school in steps.values():
            for school_id, n in per_school.items():
                students[school_id] = students.get(school_id, 0) + n
        result.append(
            MonthSteps(
                month,
                sum(students.values()),
                {step: sum(per_school.values()) for step, per_school in steps.items()},
                students,
                steps,
            )
        )
    return result


@dataclass(frozen=True)
class MonthAbsence:
    month: datetime.date
    minutes: Minutes
    students_by_school: PerSchool


def absence_per_month(
    schools: QuerySet[School], months: Sequence[datetime.date]
) -> list[MonthAbsence]:
    """The scope's absence month by month (the term's trend line). One query."""
    if not months:
        return []
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT m.month, m.school_id, COUNT(*), SUM(m.scheduled_min), SUM(m.valid_min),
               SUM(m.invalid_min)
        FROM attendance_monthlyabsence m
        WHERE m.month IN ({_placeholders(months)}) AND m.scheduled_min > 0
          AND m.school_id IN ({school_sql})
        GROUP BY m.month, m.school_id
        """,  # noqa: S608
        (*months, *school_params),
    )
    sums: dict[datetime.date, list[int]] = {}
    by_school: dict[datetime.date, PerSchool] = {}
    for month, school_id, n, scheduled, valid, invalid in rows:
        day = _as_date(month)
        total = sums.setdefault(day, [0, 0, 0, 0])
        for i, value in enumerate((n, scheduled, valid, invalid)):
            total[i] += int(value)
        by_school.setdefault(day, {})[int(school_id)] = int(n)
    return [MonthAbsence(month, Minutes(*sums[month]), by_school[month]) for month in sorted(sums)]


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


def figures_by_school(
    schools: QuerySet[School], months: Sequence[datetime.date]
) -> dict[int, PlaceFigures]:
    """For drill-down: per school, the students, their minutes over ``months``, how many
    were above 15 % over them and how many were at step 4 in the last of them (a district's
    figures are its schools' added). One query."""
    if not months:
        return {}
    school_sql, school_params = _schools_sql(schools)
    rows = _rows(
        f"""
        SELECT school_id, COUNT(*), SUM(scheduled), SUM(valid), SUM(invalid),
               SUM(CASE WHEN (valid + invalid) * 1000 > 150 * scheduled THEN 1 ELSE 0 END),
               SUM(last_step_4)
        FROM (
            SELECT m.school_id, m.student_id,
                   SUM(m.scheduled_min) AS scheduled, SUM(m.valid_min) AS valid,
                   SUM(m.invalid_min) AS invalid,
                   MAX(CASE WHEN m.month = %s AND m.step >= 4 THEN 1 ELSE 0 END) AS last_step_4
            FROM attendance_monthlyabsence m
            WHERE m.month IN ({_placeholders(months)}) AND m.school_id IN ({school_sql})
            GROUP BY m.school_id, m.student_id
        ) per_student
        WHERE scheduled > 0
        GROUP BY school_id
        """,  # noqa: S608
        (months[-1], *months, *school_params),
    )
    return {
        int(pid): PlaceFigures(
            int(pid), Minutes(int(n), int(sch), int(val), int(inv)), int(above), int(step4)
        )
        for pid, n, sch, val, inv, above, step4 in rows
    }


def added(figures: Sequence[PlaceFigures], place_id: int) -> PlaceFigures:
    """Places' figures added up (a district's from its schools')."""
    return PlaceFigures(
        place_id,
        Minutes(
            sum(f.minutes.students for f in figures),
            sum(f.minutes.scheduled_min for f in figures),
            sum(f.minutes.valid_min for f in figures),
            sum(f.minutes.invalid_min for f in figures),
        ),
        sum(f.above_15 for f in figures),
        sum(f.step_4 for f in figures),
    )
