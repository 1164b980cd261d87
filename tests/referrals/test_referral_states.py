"""The referral's transition table: source states, the optimistic check, the audit."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseOpening
from referrals import referral_states
from referrals.models import Referral, ReferralState
from sst.models import AuditEvent, AuditObjectType

from .factories import ReferralFactory, forum_for


@pytest.fixture
def referral(world) -> Referral:
    case = Case.objects.create(student=world.student_a1, opening=CaseOpening.PRINCIPAL)
    return ReferralFactory(case=case, forum=forum_for(world.district_n))


def test_every_name_the_forum_uses_is_in_the_table():
    assert set(referral_states.BY_NAME) == {
        "submit",
        "place_on_agenda",
        "take_off_agenda",
        "accept_queue",
        "accept_assign",
        "assign_from_queue",
        "reject",
        "redirect",
        "withdraw",
        "revise",
    }


def test_move_changes_state_and_version_and_audits(referral, world):
    moved = referral_states.move(referral, "submit", by=world.counsellor_a)
    assert (moved.state, moved.version) == (ReferralState.SUBMITTED, 2)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.SUBMITTED
    event = AuditEvent.objects.get(object_type=AuditObjectType.REFERRAL)
    assert event.detail == {"transition": "submit", "before": "draft", "after": "submitted"}


def test_move_refuses_a_wrong_source_state(referral, world):
    with pytest.raises(referral_states.StateRefused):
        referral_states.move(referral, "reject", by=world.counsellor_a)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.DRAFT


def test_move_refuses_a_stale_copy(referral, world):
    stale = Referral.objects.get(pk=referral.pk)
    referral_states.move(referral, "submit", by=world.counsellor_a)
    referral_states.move(referral, "withdraw", by=world.counsellor_a)
    stale.state = ReferralState.SUBMITTED  # as if read between the two moves, version 1
    with pytest.raises(referral_states.ConcurrentChange):
        referral_states.move(stale, "place_on_agenda", by=world.counsellor_a)
    assert Referral.objects.get(pk=referral.pk).state == ReferralState.WITHDRAWN


def test_move_saves_extra_fields_in_the_same_update(referral, world):
    from django.utils import timezone

    now = timezone.now()
    referral_states.move(referral, "submit", by=world.counsellor_a, submitted_at=now)
    assert Referral.objects.get(pk=referral.pk).submitted_at == now
