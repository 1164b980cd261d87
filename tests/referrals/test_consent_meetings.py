"""The information and start-up meetings: booking asks for consent (the case moves from
accepted to awaiting consent), "said no" closes the case as declined, the start-up time is
the referral's lead time; by the school or the assigned social worker only."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import CaseState, ClosureReason
from cases.workflow import ConcurrentChange
from referrals import consent_services as services

from .consent_setup import accepted_case

pytestmark = pytest.mark.django_db


def _book(team, by, kind="information"):
    return services.family_meeting_book(
        case=team.case, kind=kind, starts_at=timezone.now() + datetime.timedelta(days=7), by=by
    )


@pytest.mark.parametrize("who", ["principal_a", "counsellor_a", "social_worker_n"])
def test_booking_asks_for_consent(world, who):
    team = accepted_case(world)
    _book(team, getattr(world, who))
    team.case.refresh_from_db()
    assert team.case.state == CaseState.CONSENT


@pytest.mark.parametrize("who", ["mentor_a1", "referral_forum_n", "counsellor_b", "manager_m"])
def test_others_may_not_book(world, who):
    team = accepted_case(world)
    with pytest.raises(PermissionDenied):
        _book(team, getattr(world, who))


def test_said_no_closes_the_case_as_declined(world):
    team = accepted_case(world)
    meeting = _book(team, world.social_worker_n)
    services.family_meeting_outcome(
        meeting=meeting, outcome="no", version=meeting.version, by=world.social_worker_n
    )
    team.case.refresh_from_db()
    assert team.case.state == CaseState.CLOSED
    assert team.case.closure_reason == ClosureReason.DECLINED


def test_wants_time_keeps_the_case_and_a_stale_answer_is_refused(world):
    team = accepted_case(world)
    meeting = _book(team, world.principal_a)
    version = meeting.version
    services.family_meeting_outcome(
        meeting=meeting, outcome="wants_time", version=version, by=world.principal_a
    )
    with pytest.raises(ConcurrentChange):
        services.family_meeting_outcome(
            meeting=meeting, outcome="yes", version=version, by=world.counsellor_a
        )
    team.case.refresh_from_db()
    assert team.case.state == CaseState.CONSENT


def test_startup_meeting_sets_the_lead_time_and_has_no_answer(world):
    team = accepted_case(world)
    meeting = _book(team, world.principal_a, kind="startup")
    team.referral.refresh_from_db()
    assert team.referral.startup_at == meeting.starts_at
    with pytest.raises(ValidationError):
        services.family_meeting_outcome(
            meeting=meeting, outcome="yes", version=meeting.version, by=world.principal_a
        )


def test_combined_meeting_does_both(world):
    team = accepted_case(world)
    _book(team, world.principal_a, kind="combined")
    team.referral.refresh_from_db()
    team.case.refresh_from_db()
    assert team.referral.startup_at is not None
    assert team.case.state == CaseState.CONSENT
