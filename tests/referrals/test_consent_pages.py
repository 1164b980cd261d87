"""The consent pages, both ways: the school's case staff (and, where named, the assigned
social worker) get the page; every other role gets 404. What the forms do."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from referrals import consent_services as services
from referrals.models import Consent, ConsentGiving, FamilyMeeting

from ..conftest import verified_login
from .consent_setup import accepted_case, valid_consent

pytestmark = pytest.mark.django_db

EVERYONE = [
    "principal_a",
    "counsellor_a",
    "nurse_a",
    "mentor_a1",
    "social_worker_n",
    "referral_forum_n",
    "manager_m",
    "admin_m",
    "counsellor_b",
    "nobody",
]
SCHOOL = {"principal_a", "counsellor_a", "nurse_a"}


def _urls(world):
    team = accepted_case(world)
    consent = valid_consent(world, team.case)
    giving = consent.givings.get()
    meeting = services.family_meeting_book(
        case=team.case, kind="information", starts_at=timezone.now(), by=world.principal_a
    )
    return {
        "consent_new": (reverse("referrals:consent_new", args=[team.case.public_id]), SCHOOL),
        "giving_new": (reverse("referrals:consent_giving_new", args=[consent.public_id]), SCHOOL),
        "scan_upload": (
            reverse("referrals:consent_scan_upload", args=[consent.public_id]),
            SCHOOL,
        ),
        "meeting_book": (
            reverse("referrals:consent_meeting_book", args=[team.case.public_id]),
            SCHOOL,
        ),
        # The assigned social worker while the consent makes them see the case.
        "withdraw": (
            reverse("referrals:consent_giving_withdraw", args=[giving.public_id]),
            SCHOOL | {"social_worker_n"},
        ),
        "outcome": (
            reverse("referrals:consent_meeting_outcome", args=[meeting.public_id]),
            SCHOOL | {"social_worker_n"},
        ),
        "referral": (
            reverse("referrals:consent_referral", args=[team.referral.public_id]),
            {"social_worker_n"},
        ),
        "referral_meeting": (
            reverse("referrals:consent_referral_meeting_book", args=[team.referral.public_id]),
            {"social_worker_n"},
        ),
    }


@pytest.mark.parametrize("who", EVERYONE)
def test_role_matrix(client, world, who):
    urls = _urls(world)
    verified_login(client, getattr(world, who))
    for name, (url, allowed) in urls.items():
        expected = 200 if who in allowed else 404
        assert client.get(url).status_code == expected, (name, who)


def test_the_case_page_shows_the_section_to_the_school(client, world):
    team = accepted_case(world)
    valid_consent(world, team.case)
    client.force_login(world.counsellor_a)
    body = client.get(reverse("cases:case_detail", args=[team.case.public_id])).content.decode()
    assert 'id="consent-heading"' in body
    assert "Karin Ekholmsson" in body  # the guardian who gave it, to those who see the case
    assert reverse("referrals:consent_form_pdf", args=[team.case.public_id]) in body


def test_record_a_consent_and_a_giving_through_the_pages(client, world):
    team = accepted_case(world)
    client.force_login(world.counsellor_a)
    response = client.post(
        reverse("referrals:consent_new", args=[team.case.public_id]),
        {"scope_school_social_services": "on"},
    )
    assert response.status_code == 302
    consent = Consent.objects.get(case=team.case)
    response = client.post(
        reverse("referrals:consent_giving_new", args=[consent.public_id]),
        {
            "who": str(world.guardian_a1.public_id),
            "given_on": timezone.localdate().isoformat(),
            "method": "in_person",
            "witnesses": [world.counsellor_a.pk, world.principal_a.pk],
        },
    )
    assert response.status_code == 302
    assert ConsentGiving.objects.filter(consent=consent).count() == 1
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = client.post(
        reverse("referrals:consent_giving_new", args=[consent.public_id]),
        {
            "who": "student",
            "given_on": future,
            "method": "in_person",
            "witnesses": [world.counsellor_a.pk, world.principal_a.pk],
        },
    )
    assert response.status_code == 200  # refused with a message, nothing saved
    assert ConsentGiving.objects.filter(consent=consent).count() == 1


def test_withdrawal_notifies_the_school_and_the_worker_without_names(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for user in (world.principal_a, world.social_worker_n):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    team = accepted_case(world)
    consent = valid_consent(world, team.case)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.consent_withdraw(
            giving=consent.givings.get(), withdrawn_on=timezone.localdate(), by=world.counsellor_a
        )
    recipients = {address for message in mail.outbox for address in message.to}
    assert {"principal_a@example.org", "social_worker_n@example.org"} <= recipients
    for message in mail.outbox:
        assert "Alva" not in message.subject + message.body
        assert "Ekholmsson" not in message.subject + message.body


def test_meeting_booked_by_the_assigned_worker_without_personal_data(client, world):
    team = accepted_case(world)
    client.force_login(world.social_worker_n)
    url = reverse("referrals:consent_referral_meeting_book", args=[team.referral.public_id])
    page = client.get(url).content.decode()
    assert "Alva" not in page and "Ekholmsson" not in page
    response = client.post(
        url,
        {
            "kind": "information",
            "starts_at": "2026-12-10T10:00",
            "location": "Skolan",
            "with_student": "on",
            "with_guardians": "on",
        },
    )
    assert response.status_code == 302
    assert FamilyMeeting.objects.filter(case=team.case).count() == 1
