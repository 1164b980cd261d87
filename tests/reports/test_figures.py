"""The term report's absence figures against hand-computed fixtures (tests/reports/report_setup)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from reports import figures
from reports.scope import Scope
from reports.suppression import percent2
from reports.terms import like_terms, parse_term, term_containing

from ..factories import MentorGroupFactory, StudentFactory
from .report_setup import OCT25, SEP25, build_world, month_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_terms_are_whole_months_and_like_terms_go_back_a_year_each():
    ht25 = parse_term("HT2025")
    assert ht25.code == "HT2025" and ht25.short == "HT25"
    assert ht25.months[0] == datetime.date(2025, 8, 1)
    assert ht25.months[-1] == datetime.date(2025, 12, 1)
    assert ht25.end == datetime.date(2025, 12, 31)
    vt26 = parse_term("vt26")
    assert [m.month for m in vt26.months] == [1, 2, 3, 4, 5, 6]
    assert [t.code for t in like_terms(ht25)] == ["HT2023", "HT2024", "HT2025"]
    assert term_containing(datetime.date(2026, 7, 15)).code == "VT2026"
    assert term_containing(datetime.date(2026, 11, 29)).code == "HT2026"


@pytest.mark.parametrize("bad", ["", "HT", "ST2025", "HT20255", "2025", "HT1899"])
def test_a_term_that_is_not_one_is_refused_with_a_message(bad):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        parse_term(bad)


def test_absence_per_grade_is_minutes_weighted(world):
    rows = figures.absence_per_grade(
        Scope("school", world.school_a).schools(), parse_term("HT2025")
    )
    by_grade = {row.grade: row.minutes for row in rows}
    assert list(by_grade) == ["7", "8"]
    g7 = by_grade["7"]
    assert (g7.students, g7.scheduled_min, g7.absent_min, g7.valid_min) == (6, 12000, 2003, 1102)
    assert percent2(g7.absent_min, g7.scheduled_min) == Decimal("16.69")
    assert percent2(g7.valid_min, g7.scheduled_min) == Decimal("9.18")
    g8 = by_grade["8"]
    assert (g8.students, percent2(g8.absent_min, g8.scheduled_min)) == (2, Decimal("50.00"))
    # Grades 7 and 8 together weigh by minutes: 3003 / 14000, not the mean of the grades'
    # 16.69 and 50.00 (33.35) nor of the eight students' percentages.
    whole = figures.absence_total(rows)
    assert (whole.students, whole.absent_min, whole.scheduled_min) == (8, 3003, 14000)
    assert percent2(whole.absent_min, whole.scheduled_min) == Decimal("21.45")


def test_shares_above_count_strictly_greater_over_three_like_terms(world):
    terms = like_terms(parse_term("HT2025"))
    shares = figures.shares_above(Scope("school", world.school_a).schools(), terms)
    assert [s.term.code for s in shares] == ["HT2023", "HT2024", "HT2025"]
    ht23, ht24, ht25 = shares
    assert (ht23.students, ht23.above) == (6, {150: 0, 250: 0, 400: 0})
    assert (ht24.students, ht24.above) == (6, {150: 1, 250: 1, 400: 1})
    # a7_1 at exactly 15.00 % is not above 15; a7_3 at exactly 25.00 % is not above 25;
    # grade 8's first student at 100 % (September only) is above all three.
    assert (ht25.students, ht25.above) == (8, {150: 4, 250: 2, 400: 2})


def test_the_scope_decides_whose_minutes_count(world):
    term = parse_term("HT2025")
    district = figures.absence_per_grade(Scope("district", world.north).schools(), term)
    assert {r.grade: r.minutes.students for r in district} == {"7": 7, "8": 2}
    municipality = figures.absence_per_grade(
        Scope("municipality", world.municipality).schools(), term
    )
    assert {r.grade: r.minutes.students for r in municipality} == {"7": 7, "8": 2, "9": 1}


def test_an_earlier_term_counts_students_where_and_in_the_grade_they_were_then(world):
    """The register of each month (kept on the monthly row by the rollup), not of today."""
    a7_4 = world.grade7[3]  # 45 % in HT24 and 40.10 % in HT25, in grade 7 at school A
    # After the autumn the register moves a7_4 up to grade 8 at school C.
    a7_4.school, a7_4.grade, a7_4.mentor_group = world.school_c, "8", None
    a7_4.save()
    term = parse_term("HT2025")
    at_a = figures.absence_per_grade(Scope("school", world.school_a).schools(), term)
    assert {r.grade: r.minutes.students for r in at_a} == {"7": 6, "8": 2}
    at_c = figures.absence_per_grade(Scope("school", world.school_c).schools(), term)
    assert {r.grade: r.minutes.students for r in at_c} == {"9": 1}
    ht24, ht25 = figures.shares_above(
        Scope("school", world.school_a).schools(), [parse_term("HT2024"), term]
    )
    assert (ht24.students, ht24.above) == (6, {150: 1, 250: 1, 400: 1})
    assert (ht25.students, ht25.above) == (8, {150: 4, 250: 2, 400: 2})

    # A student who changes school during the term counts at each school with the months
    # there: 50 % in September at A, 0 % in October at C.
    mover = StudentFactory(
        mentor_group=MentorGroupFactory(school=world.school_c, name="7C"), grade="7"
    )
    month_row(mover, SEP25, invalid=500, school=world.school_a)
    month_row(mover, OCT25, school=world.school_c)
    ht25_a = figures.shares_above(Scope("school", world.school_a).schools(), [term])[0]
    assert (ht25_a.students, ht25_a.above[150]) == (9, 5)
    at_c = figures.absence_per_grade(Scope("school", world.school_c).schools(), term)
    g7_c = next(r.minutes for r in at_c if r.grade == "7")
    assert (g7_c.students, g7_c.scheduled_min, g7_c.absent_min) == (1, 1000, 0)
    # The municipality's figures are its schools' added, month for month.
    whole = figures.absence_total(
        figures.absence_per_grade(Scope("municipality", world.municipality).schools(), term)
    )
    by_school = figures.figures_by_school(
        Scope("municipality", world.municipality).schools(), term.months
    )
    assert whole.scheduled_min == sum(f.minutes.scheduled_min for f in by_school.values())
    assert by_school[world.school_a.pk].minutes.students == 9


def test_a_grade_corrected_during_the_term_counts_the_student_once_in_the_higher(world):
    """F sorts last as text; the preschool class is the lowest grade all the same."""
    student = StudentFactory(
        mentor_group=MentorGroupFactory(school=world.school_c, name="1C"), grade="1"
    )
    month_row(student, SEP25, invalid=100, grade="F")
    month_row(student, OCT25, invalid=300, grade="1")
    rows = figures.absence_per_grade(
        Scope("school", world.school_c).schools(), parse_term("HT2025")
    )
    by_grade = {r.grade: r.minutes for r in rows}
    assert list(by_grade) == ["1", "9"]
    assert (by_grade["1"].students, by_grade["1"].absent_min) == (1, 400)


def test_steps_per_month(world):
    term = parse_term("HT2025")
    months = figures.steps_per_month(Scope("school", world.school_a).schools(), term.months)
    assert [m.month for m in months] == [SEP25, datetime.date(2025, 10, 1)]
    sep, oct_ = months
    assert (sep.students, sep.steps) == (8, {0: 2, 2: 1, 3: 2, 4: 3})
    assert (oct_.students, oct_.steps) == (6, {0: 3, 2: 1, 3: 2, 4: 0})


def test_absence_per_month_is_the_trend(world):
    term = parse_term("HT2025")
    months = figures.absence_per_month(Scope("school", world.school_a).schools(), term.months)
    sep = months[0].minutes
    # September: grade 7 valid 1102 + invalid (100+150+0+200+0+0) = 450; grade 8: 1000.
    assert (sep.students, sep.scheduled_min, sep.valid_min, sep.invalid_min) == (
        8,
        8000,
        1102,
        1450,
    )


def test_the_figures_are_a_few_queries_whatever_the_students(world, django_assert_max_num_queries):
    scope = Scope("municipality", world.municipality)
    term = parse_term("HT2025")
    with django_assert_max_num_queries(3):
        figures.absence_per_grade(scope.schools(), term)
        figures.shares_above(scope.schools(), like_terms(term))
        figures.steps_per_month(scope.schools(), term.months)
