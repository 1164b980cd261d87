"""The weekly check-off of interventions given: an idempotent upsert per (intervention,
week), and the sums a follow-up shows since the last one."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cases.models import CaseEvent
from followup import followup_services as services
from followup.models import Delivery, GoalResult

from .followup_setup import planned_case

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2027, 1, 20, 10, 0), tick=False):
        yield


def _week(planned, monday, *rows, by=None):
    return services.deliveries_record(
        case=planned.case,
        week=monday,
        entries=[
            services.CheckOff(intervention=i, given=given, sessions=s, minutes=m)
            for i, (given, s, m) in zip(planned.interventions, rows, strict=False)
        ],
        by=by or planned.team.assignment.social_worker,
    )


def test_saving_a_week_twice_changes_nothing(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    monday = D(2026, 11, 9)
    assert _week(planned, monday, (True, 2, 90), (False, 0, 0)) == 2
    events = CaseEvent.objects.filter(case=planned.case).count()
    assert _week(planned, monday, (True, 2, 90), (False, 0, 0)) == 0
    assert Delivery.objects.filter(week=monday).count() == 2
    assert CaseEvent.objects.filter(case=planned.case).count() == events
    # A correction updates the row in place.
    assert _week(planned, monday, (True, 3, 120), by=world.counsellor_a) == 1
    row = Delivery.objects.get(intervention=planned.interventions[0], week=monday)
    assert (row.sessions, row.minutes, row.recorded_by) == (3, 120, world.counsellor_a)
    assert Delivery.objects.count() == 2


def test_what_a_check_off_refuses(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    with pytest.raises(ValidationError):  # given, but no session
        _week(planned, D(2026, 11, 9), (True, 0, 0))
    with pytest.raises(ValidationError):  # not given, but minutes
        _week(planned, D(2026, 11, 9), (False, 0, 30))
    with pytest.raises(ValidationError):  # not a Monday
        _week(planned, D(2026, 11, 10), (True, 1, 30))
    with pytest.raises(ValidationError):  # a week that has not begun
        _week(planned, D(2027, 1, 25), (True, 1, 30))
    with pytest.raises(ValidationError):  # before the intervention started
        _week(planned, D(2026, 10, 26), (True, 1, 30))
    with pytest.raises(services.NotAllowed):
        _week(planned, D(2026, 11, 9), (True, 1, 30), by=world.mentor_a1)
    assert not Delivery.objects.exists()


def test_a_follow_up_sums_the_weeks_since_the_last_one(world):
    planned = planned_case(world, starts_on=D(2026, 11, 4))  # a Wednesday
    # The start-up week counts (its Monday is before the start).
    _week(planned, D(2026, 11, 2), (True, 1, 45), (True, 1, 60))
    _week(planned, D(2026, 11, 9), (True, 2, 90), (False, 0, 0))
    _week(planned, D(2026, 11, 16), (True, 1, 45), (True, 2, 120))
    first = services.first_followup_book(planned.plan, world.social_worker_n)
    assert first is not None
    given = {g.intervention.pk: g for g in services.given_for(first, planned.plan, D(2026, 11, 13))}
    talk, mentor = planned.interventions
    assert (given[talk.pk].sessions, given[talk.pk].minutes, given[talk.pk].weeks_given) == (
        3,
        135,
        2,
    )
    assert (given[mentor.pk].weeks_given, given[mentor.pk].weeks_checked) == (1, 2)
    assert given[talk.pk].hours == 2.2
    services.followup_record(
        followup=first,
        by=world.counsellor_a,
        base_version=first.version,
        held_on=D(2026, 11, 13),
        reviews=[services.ReviewInput(goal=g, result=GoalResult.PARTLY) for g in planned.goals],
        next_on=D(2026, 12, 18),
    )
    second = first.case.followups.get(number=2)
    # Only the week after the first follow-up's day.
    given = {
        g.intervention.pk: g for g in services.given_for(second, planned.plan, D(2026, 12, 18))
    }
    assert (given[talk.pk].sessions, given[mentor.pk].sessions) == (1, 2)
