"""Recording a follow-up: goal results, the absence from the rollup code path over named
periods (equal to the monthly rollup's sums), ORS all or none, the next date, and a
concurrent save refused with nothing changed."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from attendance.models import MonthlyAbsence
from attendance.rollup import rollup_month
from cases.models import CaseEvent
from cases.workflow import ConcurrentChange
from followup import followup_services as services
from followup.models import FollowUp, FollowUpAbsence, GoalResult, GoalReview

from ..attendance.lessons import INVALID, VALID, month_absence
from .followup_setup import planned_case

pytestmark = pytest.mark.django_db

D = datetime.date
SPAN = FollowUpAbsence.Span


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2027, 1, 20, 10, 0), tick=False):
        yield


def _reviews(planned, *results):
    return [
        services.ReviewInput(goal=goal, result=result, comment="Bättre än förra gången")
        for goal, result in zip(planned.goals, results, strict=True)
    ]


def _record(planned, followup, *, held_on, next_on=None, ors=None, by=None, version=None):
    return services.followup_record(
        followup=followup,
        by=by or planned.team.assignment.social_worker,
        base_version=followup.version if version is None else version,
        held_on=held_on,
        reviews=_reviews(planned, GoalResult.MET, GoalResult.PARTLY),
        notes="Alva har kommit i tid de flesta dagarna.",
        ors=ors,
        next_on=next_on,
    )


def _rollup_sums(student, months):
    rows = MonthlyAbsence.objects.filter(student=student, month__in=months)
    return (
        sum(row.scheduled_min for row in rows),
        sum(row.valid_min for row in rows),
        sum(row.invalid_min for row in rows),
    )


def _figures(row):
    return (row.scheduled_min, row.valid_min, row.invalid_min)


def test_the_absence_equals_the_rollup_for_full_months_and_names_its_periods(world):
    student = world.student_a1
    month_absence(student, "2026-10-01", scheduled=2000, absent=300, kind=INVALID)
    month_absence(student, "2026-11-01", scheduled=1800, absent=200, kind=VALID)
    month_absence(student, "2026-12-01", scheduled=1000, absent=100, kind=INVALID)
    for month in ("2026-10-01", "2026-11-01", "2026-12-01"):
        rollup_month(D.fromisoformat(month))
    planned = planned_case(world, starts_on=D(2026, 10, 1))
    first = services.first_followup_book(planned.plan, world.social_worker_n)
    assert first is not None

    _record(planned, first, held_on=D(2026, 12, 1), next_on=D(2027, 1, 8))
    rows = {row.span: row for row in FollowUpAbsence.objects.filter(followup=first)}
    oct_nov = [D(2026, 10, 1), D(2026, 11, 1)]
    for span in (SPAN.SINCE_LAST, SPAN.SINCE_START):
        assert (rows[span].period_start, rows[span].period_end) == (D(2026, 10, 1), D(2026, 11, 30))
        assert _figures(rows[span]) == _rollup_sums(student, oct_nov) == (3800, 200, 300)

    second = FollowUp.objects.get(case=planned.case, number=2)
    assert second.planned_on == D(2027, 1, 8)
    _record(planned, second, held_on=D(2027, 1, 8))
    rows = {row.span: row for row in FollowUpAbsence.objects.filter(followup=second)}
    assert (rows[SPAN.SINCE_LAST].period_start, rows[SPAN.SINCE_LAST].period_end) == (
        D(2026, 12, 1),
        D(2027, 1, 7),
    )
    assert _figures(rows[SPAN.SINCE_LAST]) == _rollup_sums(student, [D(2026, 12, 1)])
    assert (rows[SPAN.SINCE_START].period_start, rows[SPAN.SINCE_START].period_end) == (
        D(2026, 10, 1),
        D(2027, 1, 7),
    )
    assert _figures(rows[SPAN.SINCE_START]) == _rollup_sums(student, [*oct_nov, D(2026, 12, 1)])
    # No next date: nothing booked after the second.
    assert FollowUp.objects.filter(case=planned.case).count() == 2


def test_a_record_writes_results_one_chronology_entry_and_books_the_next(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    before = CaseEvent.objects.filter(case=planned.case).count()
    recorded = _record(
        planned,
        followup,
        held_on=D(2026, 12, 7),
        next_on=D(2027, 1, 13),
        ors={
            "ors_individual": 6,
            "ors_interpersonal": 7,
            "ors_social": 5,
            "ors_overall": 8,
        },
    )
    assert recorded.held_on == D(2026, 12, 7) and recorded.version == 2
    assert recorded.ors_total == 26
    assert {r.result for r in GoalReview.objects.filter(followup=recorded)} == {"met", "partly"}
    events = list(CaseEvent.objects.filter(case=planned.case).order_by("pk")[before:])
    assert len(events) == 1
    assert "ORS 26" in events[0].summary and "2027-01-13" in events[0].summary
    assert FollowUp.objects.get(case=planned.case, number=2).planned_on == D(2027, 1, 13)


def test_ors_is_all_four_or_none(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    with pytest.raises(ValidationError) as refused:
        _record(planned, followup, held_on=D(2026, 12, 7), ors={"ors_individual": 6})
    assert refused.value.error_list[0].code == "ors_incomplete"
    with pytest.raises(ValidationError):
        _record(
            planned,
            followup,
            held_on=D(2026, 12, 7),
            ors=dict.fromkeys(services.ORS_FIELDS, 11),
        )
    recorded = _record(planned, followup, held_on=D(2026, 12, 7), ors=None)
    assert recorded.ors_total is None


def test_every_current_goal_gets_a_result(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    with pytest.raises(ValidationError):
        services.followup_record(
            followup=followup,
            by=world.counsellor_a,
            base_version=1,
            held_on=D(2026, 12, 7),
            reviews=[services.ReviewInput(goal=planned.goals[0], result=GoalResult.MET)],
        )


def test_a_refused_next_date_is_explained_and_nothing_is_saved(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    with pytest.raises(ValidationError) as refused:
        _record(planned, followup, held_on=D(2026, 12, 7), next_on=D(2026, 12, 25))
    assert refused.value.error_list[0].code == "not_school_day"
    followup.refresh_from_db()
    assert followup.held_on is None and not GoalReview.objects.exists()


def test_a_concurrent_record_is_refused_and_changes_nothing(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    page_version = followup.version  # both opened the page
    _record(planned, followup, held_on=D(2026, 12, 7), next_on=D(2027, 1, 13))
    counts = (
        GoalReview.objects.count(),
        FollowUpAbsence.objects.count(),
        FollowUp.objects.count(),
        CaseEvent.objects.filter(case=planned.case).count(),
    )
    with pytest.raises(ConcurrentChange):
        _record(
            planned,
            followup,
            held_on=D(2026, 12, 8),
            by=world.counsellor_a,
            version=page_version,
            next_on=D(2027, 1, 14),
        )
    assert counts == (
        GoalReview.objects.count(),
        FollowUpAbsence.objects.count(),
        FollowUp.objects.count(),
        CaseEvent.objects.filter(case=planned.case).count(),
    )
    followup.refresh_from_db()
    assert followup.held_on == D(2026, 12, 7)


def test_a_follow_up_cannot_be_held_in_the_future_or_before_the_start(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    with pytest.raises(ValidationError):
        _record(planned, followup, held_on=D(2027, 1, 21))
    with pytest.raises(ValidationError):
        _record(planned, followup, held_on=D(2026, 11, 2))
