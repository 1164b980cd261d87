"""Booking follow-ups on school days: the first when the plan is made (across a break), the
next one 4–6 weeks after (a refused date explained), moving and cancelling with a reason."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from actionplans import plan_hooks
from cases.models import CaseEvent, EventKind
from followup import followup_services as services
from followup.models import FollowUp, FollowUpPolicy

from .followup_setup import planned_case

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2027, 1, 20, 10, 0), tick=False):
        yield


def test_the_first_follow_up_skips_the_autumn_break(world):
    # A start-up on Friday 2026-09-25 + 5 weeks is Friday 30 October, in höstlov (week 44):
    # the first follow-up moves to the Monday after.
    planned = planned_case(world, starts_on=D(2026, 9, 25))
    plan_hooks.plan_created(planned.plan, world.social_worker_n)
    followup = FollowUp.objects.get(case=planned.case)
    assert followup.number == 1
    assert followup.planned_on == D(2026, 11, 2)
    entry = CaseEvent.objects.get(case=planned.case, kind=EventKind.FOLLOW_UP)
    assert "2026-11-02" in entry.summary


def test_booking_twice_books_one(world):
    planned = planned_case(world)
    plan_hooks.plan_created(planned.plan, world.social_worker_n)
    plan_hooks.plan_created(planned.plan, world.social_worker_n)
    assert FollowUp.objects.filter(case=planned.case).count() == 1


def test_the_municipality_policy_sets_the_weeks(world):
    FollowUpPolicy.objects.create(municipality=world.municipality, first_after_weeks=4)
    planned = planned_case(world, starts_on=D(2026, 9, 7))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None and followup.planned_on == D(2026, 10, 5)


def test_the_next_date_is_a_school_day_four_to_six_weeks_later(world):
    planned = planned_case(world)
    case = planned.case
    window = services.next_window(case, D(2026, 11, 20))
    assert window.proposed == D(2026, 12, 25) or window.proposed >= D(2026, 12, 25)
    # Christmas: 5 weeks after 20 November is in the winter break → the first school day
    # of the spring term; the window's end moves with it.
    assert window.proposed == window.latest
    with pytest.raises(ValidationError) as refused:
        services.check_next_date(case, D(2026, 11, 2), D(2026, 11, 7))  # a Saturday
    assert refused.value.error_list[0].code == "not_school_day"
    assert "2026-11-09" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        services.check_next_date(case, D(2026, 11, 2), D(2026, 11, 23))  # three weeks
    assert refused.value.error_list[0].code == "window"
    services.check_next_date(case, D(2026, 11, 2), D(2026, 12, 4))  # five weeks: fine


def test_move_and_cancel_need_a_reason_and_a_school_day(world):
    planned = planned_case(world, starts_on=D(2027, 1, 11))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None and followup.planned_on == D(2027, 2, 15)
    with pytest.raises(ValidationError):
        services.followup_move(
            followup=followup,
            by=world.social_worker_n,
            base_version=followup.version,
            planned_on=D(2027, 2, 22),
            reason="  ",
        )
    with pytest.raises(ValidationError) as refused:
        services.followup_move(
            followup=followup,
            by=world.social_worker_n,
            base_version=followup.version,
            planned_on=D(2027, 3, 2),  # sportlov
            reason="Familjen är bortrest",
        )
    assert refused.value.error_list[0].code == "not_school_day"
    moved = services.followup_move(
        followup=followup,
        by=world.social_worker_n,
        base_version=followup.version,
        planned_on=D(2027, 2, 22),
        reason="Familjen är bortrest",
    )
    assert moved.planned_on == D(2027, 2, 22) and moved.version == 2
    entry = CaseEvent.objects.filter(case=planned.case).order_by("-pk").first()
    assert entry is not None and "Familjen är bortrest" in entry.summary
    # The page was read before the move: its version is old.
    with pytest.raises(services.workflow.ConcurrentChange):
        services.followup_cancel(
            followup=moved, by=world.counsellor_a, base_version=1, reason="Avslutas"
        )
    services.followup_cancel(
        followup=moved, by=world.counsellor_a, base_version=2, reason="Ärendet avslutas"
    )
    moved.refresh_from_db()
    assert moved.cancelled


def test_booking_by_hand_when_none_is_booked(world):
    planned = planned_case(world, starts_on=D(2027, 1, 11))
    with pytest.raises(ValidationError):  # in the past
        services.followup_book(case=planned.case, planned_on=D(2027, 1, 19), by=world.principal_a)
    booked = services.followup_book(
        case=planned.case, planned_on=D(2027, 2, 1), by=world.principal_a
    )
    assert booked.number == 1
    with pytest.raises(ValidationError):  # one is booked already
        services.followup_book(case=planned.case, planned_on=D(2027, 2, 2), by=world.principal_a)


def test_only_the_people_of_the_case_book(world):
    planned = planned_case(world)
    for outsider in (world.mentor_a1, world.counsellor_b, world.manager_m):
        with pytest.raises(services.NotAllowed):
            services.followup_book(case=planned.case, planned_on=D(2027, 2, 1), by=outsider)


def test_a_closed_cases_follow_up_is_neither_moved_nor_cancelled(world):
    planned = planned_case(world, starts_on=D(2027, 1, 11))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    planned.case.state = "closed"
    planned.case.save(update_fields=["state"])
    for change in (
        lambda: services.followup_move(
            followup=followup,
            by=world.counsellor_a,  # the social worker's consent ended with the case
            base_version=followup.version,
            planned_on=D(2027, 2, 22),
            reason="Familjen är bortrest",
        ),
        lambda: services.followup_cancel(
            followup=followup,
            by=world.counsellor_a,
            base_version=followup.version,
            reason="Avslutas",
        ),
    ):
        with pytest.raises(ValidationError) as refused:
            change()
        assert refused.value.error_list[0].code == "closed"
    followup.refresh_from_db()
    assert (followup.planned_on, followup.cancelled, followup.version) == (D(2027, 2, 15), False, 1)
    assert not CaseEvent.objects.filter(case=planned.case, summary__contains="Avslutas").exists()
