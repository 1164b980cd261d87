"""The demo's team side: forums, a past meeting with approved minutes, referrals in every
state, three assigned cases for the consent demo, and real work on each team role's desk."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from cases.models import CaseState
from referrals import demo as referrals_demo
from referrals import referral_services
from referrals.consent import status as consent_status
from referrals.models import ForumMeeting, Referral, ReferralState
from sst.models import User


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", students=240, no_attendance=False, stdout=out, stderr=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_demo_has_the_forum_at_work(settings, client):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    output = _seed()
    assert "Referral forum:" in output
    first = referrals_demo.counts()
    states = set(Referral.objects.values_list("state", flat=True))
    assert states >= {
        ReferralState.DRAFT,
        ReferralState.SUBMITTED,
        ReferralState.ON_AGENDA,
        ReferralState.ASSIGNED,
        ReferralState.QUEUED,
        ReferralState.REJECTED,
        ReferralState.REDIRECTED,
        ReferralState.WITHDRAWN,
    }
    assert first["forums"] == 2 and first["referrals"] >= 10
    assert ForumMeeting.objects.filter(minutes_approved_at__isnull=False).count() == 1
    assigned = referrals_demo.demo_assigned_cases()
    assert len(assigned) == 3
    # The consent part booked the meeting with each family: awaiting consent.
    assert all(case.state == CaseState.CONSENT for case in assigned)
    # One case with a valid consent, one withdrawn, one waiting for the second guardian.
    found = sorted(consent_status(case)["state"] for case in assigned)
    assert found == ["valid", "waiting", "withdrawn"]
    waiting = next(case for case in assigned if consent_status(case)["state"] == "waiting")
    assert consent_status(waiting)["missing_guardians"] == 1
    # Each family met the team and said yes (the meeting's outcome is on record).
    from referrals.models import FamilyMeeting, InformationOutcome

    outcomes = FamilyMeeting.objects.filter(case__in=assigned).values_list("outcome", flat=True)
    assert sorted(outcomes) == [InformationOutcome.YES] * 3
    # The referrals carry their absence as the referral part writes it (the agenda shows
    # each month with its period, not "(–) No scheduled lessons").
    # (The referral part's own referrals: the team's work part refers its students months ago.)
    for referral in Referral.objects.filter(number__contains="-D"):
        assert [row["month"] for row in referral.absence] == [
            row["month"] for row in referral_services.absence_of(referral.case.student)
        ]
        assert all(row["month"] and row["start"] and row["end"] for row in referral.absence)
    _seed()
    assert referrals_demo.counts() == first

    for username, marker in (
        ("remissforum.norra", "forum-panel"),
        ("samordnare.norra", "coordinator-panel"),
        ("socionom.norra", "assignments-panel"),
    ):
        client.force_login(User.objects.get(username=username))
        desk = client.get(reverse("sst:desk")).content.decode()
        assert marker in desk, username
    client.force_login(User.objects.get(username="samordnare.norra"))
    queue = client.get(reverse("referrals:queue")).content.decode()
    for referral in Referral.objects.filter(state=ReferralState.QUEUED):
        assert referral.number in queue
    client.force_login(User.objects.get(username="socionom.norra"))
    desk = client.get(reverse("sst:desk")).content.decode()
    for case in assigned:
        assert case.referrals.get().number in desk
        assert case.student.last_name not in desk
