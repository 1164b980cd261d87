"""The social worker's side of the access policy: the identified case and student only
while assigned AND a valid consent covers the case, checked on every request; each read
audited with the consent it relied on."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseState
from referrals import consent_services as services
from referrals.models import Consent
from sst.models import AuditAction, AuditEvent, AuditObjectType, Role

from ..factories import GuardianFactory, UserFactory, give_custody, grant
from .consent_setup import accepted_case, give, valid_consent

pytestmark = pytest.mark.django_db


def _case_url(team):
    return reverse("cases:case_detail", args=[team.case.public_id])


def _student_url(world):
    return reverse("cases:student_detail", args=[world.student_a1.public_id])


def test_before_consent_the_assigned_worker_sees_only_the_referral(client, world):
    team = accepted_case(world)
    client.force_login(world.social_worker_n)
    assert client.get(_case_url(team)).status_code == 404
    assert client.get(_student_url(world)).status_code == 404
    page = client.get(reverse("referrals:consent_referral", args=[team.referral.public_id]))
    assert page.status_code == 200
    body = page.content.decode()
    assert team.referral.number in body
    for name in ("Alva", "Ekholmsson", "Karin"):
        assert name not in body


def test_during_consent_the_case_opens_and_the_read_names_the_consent(client, world):
    team = accepted_case(world)
    consent = valid_consent(world, team.case)
    client.force_login(world.social_worker_n)
    response = client.get(_case_url(team))
    assert response.status_code == 200
    assert "Alva" in response.content.decode()
    event = AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type=AuditObjectType.CASE, actor_id=world.social_worker_n.pk
    ).latest("pk")
    assert event.detail["consent"] == str(consent.public_id)
    assert client.get(_student_url(world)).status_code == 200
    page = client.get(reverse("referrals:consent_referral", args=[team.referral.public_id]))
    assert _case_url(team) in page.content.decode()


def test_the_school_reads_without_a_consent_in_the_audit(client, world):
    team = accepted_case(world)
    valid_consent(world, team.case)
    client.force_login(world.principal_a)
    assert client.get(_case_url(team)).status_code == 200
    event = AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type=AuditObjectType.CASE, actor_id=world.principal_a.pk
    ).latest("pk")
    assert "consent" not in event.detail


def test_withdrawal_takes_effect_on_the_next_request(client, world):
    team = accepted_case(world)
    consent = valid_consent(world, team.case)
    client.force_login(world.social_worker_n)
    assert client.get(_case_url(team)).status_code == 200
    services.consent_withdraw(
        giving=consent.givings.get(), withdrawn_on=timezone.localdate(), by=world.principal_a
    )
    assert client.get(_case_url(team)).status_code == 404
    assert client.get(_student_url(world)).status_code == 404
    assert AuditEvent.objects.filter(
        action=AuditAction.ACCESS_DENIED, actor_id=world.social_worker_n.pk
    ).exists()


def test_expiry_takes_effect_on_the_next_request(client, world):
    team = accepted_case(world)
    consent = valid_consent(world, team.case)
    client.force_login(world.social_worker_n)
    assert client.get(_case_url(team)).status_code == 200
    Consent.objects.filter(pk=consent.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert client.get(_case_url(team)).status_code == 404


def test_one_guardian_of_two(client, world):
    team = accepted_case(world)
    second = GuardianFactory()
    give_custody(world.student_a1, second)
    consent = valid_consent(world, team.case)
    client.force_login(world.social_worker_n)
    assert client.get(_case_url(team)).status_code == 404
    give(consent, guardian=second, by=world.counsellor_a, witness=world.principal_a)
    assert client.get(_case_url(team)).status_code == 200


def test_an_unassigned_social_worker_sees_nothing_even_with_consent(client, world):
    team = accepted_case(world)
    valid_consent(world, team.case)
    other = UserFactory(username="social_worker_n2")
    grant(other, Role.SOCIAL_WORKER, world.district_n)
    client.force_login(other)
    assert client.get(_case_url(team)).status_code == 404
    assert client.get(_student_url(world)).status_code == 404
    page = reverse("referrals:consent_referral", args=[team.referral.public_id])
    assert client.get(page).status_code == 404


def test_an_ended_assignment_ends_the_access(client, world):
    team = accepted_case(world)
    valid_consent(world, team.case)
    team.assignment.ended_at = timezone.now()
    team.assignment.save(update_fields=["ended_at"])
    client.force_login(world.social_worker_n)
    assert client.get(_case_url(team)).status_code == 404


def test_a_closed_case_is_closed_to_social_services(client, world):
    team = accepted_case(world)
    valid_consent(world, team.case)
    team.case.state = CaseState.CLOSED
    team.case.save(update_fields=["state"])
    client.force_login(world.social_worker_n)
    assert client.get(_case_url(team)).status_code == 404


def test_the_worker_with_consent_may_withdraw_and_then_loses_the_case(client, world):
    team = accepted_case(world)
    consent = valid_consent(world, team.case)
    client.force_login(world.social_worker_n)
    url = reverse("referrals:consent_giving_withdraw", args=[consent.givings.get().public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, {"withdrawn_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    assert client.get(_case_url(team)).status_code == 404
