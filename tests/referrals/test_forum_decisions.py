"""Forum decisions: only by the forum's members, only at a meeting that is held (not
cancelled, not in the future, minutes not approved), and each kind moves the case."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from cases.models import Case, CaseEvent, CaseState
from referrals import forum_services as services
from referrals.models import (
    AcceptedAs,
    Assignment,
    Decision,
    DecisionKind,
    MeetingState,
    RedirectTarget,
    ReferralState,
)
from sst.models import AuditEvent

from ..conftest import verified_login
from .forum_support import forum_world, make_referral, meeting_at, on_agenda, second_student


@pytest.fixture
def fw(world):
    return forum_world(world)


def decide(referral, meeting, by, kind=DecisionKind.ACCEPTED, **extra):
    defaults = {
        DecisionKind.ACCEPTED: {"accepted_as": AcceptedAs.QUEUE},
        DecisionKind.REJECTED: {"suggestions": "Fortsätt med elevhälsans insatser."},
        DecisionKind.REDIRECTED: {"redirected_to": RedirectTarget.CAMHS},
    }[kind]
    return services.decision_record(
        referral=referral,
        meeting=meeting,
        kind=kind,
        reason="Behovet stämmer med teamets uppdrag.",
        by=by,
        **{**defaults, **extra},
    )


def test_accept_and_assign_moves_the_case_and_tells_the_school_and_the_social_worker(
    fw, django_capture_on_commit_callbacks
):
    referral = on_agenda(fw, submitted_by=fw.world.counsellor_a)
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(
            referral,
            fw.meeting,
            fw.member_n,
            accepted_as=AcceptedAs.ASSIGN,
            social_worker=fw.social_worker_n,
        )
    referral.refresh_from_db()
    assert decision.kind == DecisionKind.ACCEPTED and decision.meeting == fw.meeting
    assert referral.state == ReferralState.ASSIGNED and referral.decided_at is not None
    case = Case.objects.get(pk=referral.case_id)
    assert case.state == CaseState.ACCEPTED
    assignment = Assignment.objects.get(case=case)
    assert assignment.social_worker == fw.social_worker_n and assignment.referral == referral
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["socionom_n@example.com"] == gettext("You have been assigned a case")
    assert subjects["rektor_a@example.com"] == gettext("A referral has been decided")
    student = fw.world.student_a1
    for message in mail.outbox:
        assert student.first_name not in message.body + message.subject
        assert student.last_name not in message.body + message.subject
    assert AuditEvent.objects.filter(
        object_type="referral_decision", object_id=str(decision.public_id)
    ).exists()
    assert CaseEvent.objects.filter(case=case, summary__contains=referral.number).exists()


def test_accept_into_the_queue(fw):
    referral = on_agenda(fw)
    decide(referral, fw.meeting, fw.member_n, accepted_as=AcceptedAs.QUEUE)
    referral.refresh_from_db()
    assert referral.state == ReferralState.QUEUED and referral.queue_rank == 1
    assert Case.objects.get(pk=referral.case_id).state == CaseState.QUEUED
    assert not Assignment.objects.exists()


def test_reject_needs_suggestions_and_ends_the_case(fw):
    referral = on_agenda(fw)
    with pytest.raises(ValidationError):
        decide(referral, fw.meeting, fw.member_n, kind=DecisionKind.REJECTED, suggestions="")
    decide(referral, fw.meeting, fw.member_n, kind=DecisionKind.REJECTED)
    referral.refresh_from_db()
    assert referral.state == ReferralState.REJECTED
    assert referral.decision.suggestions == "Fortsätt med elevhälsans insatser."
    assert Case.objects.get(pk=referral.case_id).state == CaseState.REJECTED


def test_redirect_needs_a_target_and_ends_the_case(fw):
    referral = on_agenda(fw)
    with pytest.raises(ValidationError):
        decide(referral, fw.meeting, fw.member_n, kind=DecisionKind.REDIRECTED, redirected_to="")
    decide(referral, fw.meeting, fw.member_n, kind=DecisionKind.REDIRECTED)
    referral.refresh_from_db()
    assert referral.state == ReferralState.REDIRECTED
    assert referral.decision.redirected_to == RedirectTarget.CAMHS
    assert Case.objects.get(pk=referral.case_id).state == CaseState.REDIRECTED


def test_assigning_needs_a_social_worker_of_the_district(fw):
    referral = on_agenda(fw)
    with pytest.raises(ValidationError):
        decide(referral, fw.meeting, fw.member_n, accepted_as=AcceptedAs.ASSIGN)
    with pytest.raises(ValidationError):
        decide(
            referral,
            fw.meeting,
            fw.member_n,
            accepted_as=AcceptedAs.ASSIGN,
            social_worker=fw.coordinator_n,
        )
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    "who", ["coordinator_n", "social_worker_n", "principal", "member_s", "counsellor_b"]
)
def test_only_a_member_of_the_schools_forum_decides(fw, who):
    people = {
        "coordinator_n": fw.coordinator_n,
        "social_worker_n": fw.social_worker_n,
        "principal": fw.world.principal_a,
        "member_s": fw.member_s,
        "counsellor_b": fw.world.counsellor_b,
    }
    referral = on_agenda(fw)
    with pytest.raises(Http404) as refused:
        decide(referral, fw.meeting, people[who])
    refused.value.record_if_rolled_back()  # as the middleware does after the request
    referral.refresh_from_db()
    assert referral.state == ReferralState.ON_AGENDA
    assert not Decision.objects.exists()
    assert Case.objects.get(pk=referral.case_id).state == CaseState.REFERRED
    assert AuditEvent.objects.filter(action="access_denied").exists()


def test_no_decision_at_a_cancelled_future_or_locked_meeting(fw):
    referral = on_agenda(fw)
    fw.meeting.state = MeetingState.CANCELLED
    fw.meeting.save(update_fields=["state"])
    with pytest.raises(ValidationError):
        decide(referral, fw.meeting, fw.member_n)

    fw.meeting.state = MeetingState.PLANNED
    fw.meeting.minutes_approved_at = timezone.now()
    fw.meeting.save(update_fields=["state", "minutes_approved_at"])
    with pytest.raises(ValidationError):
        decide(referral, fw.meeting, fw.member_n)

    later = meeting_at(fw.forum_n, timezone.now() + datetime.timedelta(days=3))
    ahead = on_agenda(fw, student=second_student(fw), meeting=later)
    with pytest.raises(ValidationError):
        decide(ahead, later, fw.member_n)
    assert not Decision.objects.exists()


def test_only_a_referral_on_this_meetings_agenda(fw):
    waiting = make_referral(fw.world.student_a1, fw.forum_n)
    with pytest.raises(ValidationError):
        decide(waiting, fw.meeting, fw.member_n)
    assert not Decision.objects.exists()


def test_the_decision_page_is_for_members_only(client, fw):
    referral = on_agenda(fw)
    url = reverse("referrals:decision_create", args=[fw.meeting.public_id, referral.public_id])
    for user in (
        fw.coordinator_n,
        fw.social_worker_n,
        fw.world.principal_a,
        fw.member_s,
        fw.world.mentor_a1,
        fw.world.nobody,
    ):
        verified_login(client, user)
        assert client.get(url).status_code == 404, user
        assert client.post(url, {"kind": "accepted"}).status_code == 404, user
    verified_login(client, fw.member_n)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": DecisionKind.ACCEPTED,
            "reason": "Behovet stämmer.",
            "decided_on": timezone.localdate().isoformat(),
            "accepted_as": AcceptedAs.QUEUE,
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == ReferralState.QUEUED
    # Decided: the page no longer offers it.
    assert client.get(url).status_code == 404


def test_the_decision_page_before_the_meeting_says_so_instead_of_a_form(client, fw):
    later = meeting_at(fw.forum_n, timezone.now() + datetime.timedelta(days=3))
    ahead = on_agenda(fw, student=second_student(fw), meeting=later)
    verified_login(client, fw.member_n)
    url = reverse("referrals:decision_create", args=[later.public_id, ahead.public_id])
    page = client.get(url).content.decode()
    assert 'name="kind"' not in page
    assert gettext("Decisions are taken at the meeting, on its day or later.") in page
    # On the meeting's day the form is there.
    today = on_agenda(fw)
    page = client.get(
        reverse("referrals:decision_create", args=[fw.meeting.public_id, today.public_id])
    ).content.decode()
    assert 'name="kind"' in page
