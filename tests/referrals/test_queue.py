"""The queue: order, positions and days waiting, moving up needs a reason, the coordinator
assigns (Assignment, the case accepted, a content-free notice); caseloads; lead times; the
coordinator's and social worker's pages and panels."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from cases.models import Case, CaseState
from referrals import forum_selectors as selectors
from referrals import forum_services as services
from referrals.models import AcceptedAs, Assignment, DecisionKind, QueueMove, ReferralState

from ..conftest import verified_login
from .forum_support import forum_world, on_agenda, second_student


@pytest.fixture
def fw(world):
    return forum_world(world)


def queued(fw, student=None):
    referral = on_agenda(fw, student=student or second_student(fw))
    services.decision_record(
        referral=referral,
        meeting=fw.meeting,
        kind=DecisionKind.ACCEPTED,
        accepted_as=AcceptedAs.QUEUE,
        reason="Behovet stämmer.",
        by=fw.member_n,
    )
    referral.refresh_from_db()
    return referral


def test_queue_order_positions_days_waiting_and_moves(fw):
    first, second, third = queued(fw), queued(fw), queued(fw)
    type(first).objects.filter(pk=first.pk).update(
        decided_at=timezone.now() - datetime.timedelta(days=12)
    )
    rows = selectors.queue_rows(selectors.queue_of(fw.coordinator_n))
    assert [(r.referral, r.position) for r in rows] == [(first, 1), (second, 2), (third, 3)]
    assert rows[0].days_waiting == 12 and rows[1].days_waiting == 0

    with pytest.raises(ValidationError):
        services.queue_move(referral=third, to_position=1, reason="", by=fw.coordinator_n)
    services.queue_move(
        referral=third, to_position=1, reason="Akut läge i hemmet", by=fw.coordinator_n
    )
    assert list(selectors.queue_of(fw.coordinator_n)) == [third, first, second]
    move = QueueMove.objects.get()
    assert (move.from_position, move.to_position, move.reason) == (3, 1, "Akut läge i hemmet")
    # Moving down needs no reason.
    services.queue_move(referral=third, to_position=3, reason="", by=fw.coordinator_n)
    assert list(selectors.queue_of(fw.coordinator_n)) == [first, second, third]
    with pytest.raises(Http404):
        services.queue_move(referral=first, to_position=2, reason="x", by=fw.member_n)


def test_assigning_from_the_queue(fw, django_capture_on_commit_callbacks):
    referral = queued(fw, fw.world.student_a1)
    assert Case.objects.get(pk=referral.case_id).state == CaseState.QUEUED
    with pytest.raises(Http404):
        services.referral_assign(
            referral=referral, social_worker=fw.social_worker_n, by=fw.member_s
        )
    with pytest.raises(ValidationError):
        services.referral_assign(referral=referral, social_worker=fw.member_n, by=fw.coordinator_n)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assignment = services.referral_assign(
            referral=referral, social_worker=fw.social_worker_n, by=fw.coordinator_n
        )
    referral.refresh_from_db()
    assert referral.state == ReferralState.ASSIGNED and referral.queue_rank is None
    assert assignment.social_worker == fw.social_worker_n
    assert Case.objects.get(pk=referral.case_id).state == CaseState.ACCEPTED
    assert [m.subject for m in mail.outbox] == [gettext("You have been assigned a case")]
    student = fw.world.student_a1
    assert student.last_name not in mail.outbox[0].body
    assert not selectors.queue_of(fw.coordinator_n).exists()
    loads = selectors.caseloads_of(fw.coordinator_n)
    assert [(load.social_worker, load.active) for load in loads] == [(fw.social_worker_n, 1)]


def test_lead_times(fw):
    referral = queued(fw)
    now = timezone.now()
    referral.submitted_at = now - datetime.timedelta(days=20)
    referral.decided_at = now - datetime.timedelta(days=8)
    referral.consent_valid_at = now - datetime.timedelta(days=3)
    referral.startup_at = now
    times = selectors.lead_times(referral)
    assert (times.to_decision, times.to_consent, times.to_startup, times.total) == (12, 5, 3, 20)
    referral.consent_valid_at = referral.startup_at = None
    assert selectors.lead_times(referral).to_consent is None


def test_queue_pages_role_matrix_and_posts(client, fw):
    referral = queued(fw)
    w = fw.world
    pages = [reverse("referrals:queue"), reverse("referrals:caseload")]
    verified_login(client, fw.coordinator_n)
    for url in pages:
        assert client.get(url).status_code == 200
    assert referral.number in client.get(pages[0]).content.decode()
    for user in (fw.member_n, w.social_worker_n, w.principal_a, w.mentor_a1, w.admin_m, w.nobody):
        verified_login(client, user)
        for url in pages:
            assert client.get(url).status_code == 404, (user, url)
        assign = reverse("referrals:queue_assign", args=[referral.public_id])
        assert client.post(assign, {}).status_code == 404
    verified_login(client, fw.coordinator_n)
    response = client.post(
        reverse("referrals:queue_assign", args=[referral.public_id]),
        {f"{referral.public_id}-social_worker": fw.social_worker_n.pk},
    )
    assert response.status_code == 302
    assert Assignment.objects.filter(referral=referral).exists()


def test_desk_panels_show_each_role_its_work(client, fw):
    referral = queued(fw)
    verified_login(client, fw.coordinator_n)
    desk = client.get(reverse("sst:desk")).content.decode()
    assert reverse("referrals:queue") in desk and "coordinator-panel" in desk
    verified_login(client, fw.member_n)
    desk = client.get(reverse("sst:desk")).content.decode()
    assert "forum-panel" in desk and reverse("referrals:meeting_list") in desk
    services.referral_assign(
        referral=referral, social_worker=fw.social_worker_n, by=fw.coordinator_n
    )
    verified_login(client, fw.social_worker_n)
    desk = client.get(reverse("sst:desk")).content.decode()
    assert "assignments-panel" in desk and referral.number in desk


def test_moving_up_through_the_page_needs_a_reason(client, fw):
    first, second = queued(fw), queued(fw)
    verified_login(client, fw.coordinator_n)
    url = reverse("referrals:queue_reorder", args=[second.public_id])
    assert client.post(url, {"to_position": 1, "reason": ""}).status_code == 302
    assert list(selectors.queue_of(fw.coordinator_n)) == [first, second]
    assert client.post(url, {"to_position": 1, "reason": "Akut"}).status_code == 302
    assert list(selectors.queue_of(fw.coordinator_n)) == [second, first]
    page = client.get(reverse("referrals:queue")).content.decode()
    assert page.index(second.number) < page.index(first.number)
