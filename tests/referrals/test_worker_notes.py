"""The assigned social worker's own notes on the anonymous referral page (issue 10: without
a consent they see "the anonymous referral and their own notes")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from referrals.models import WorkerNote
from sst.models import AuditEvent, Role

from ..conftest import grant
from ..factories import UserFactory
from .consent_setup import accepted_case

pytestmark = pytest.mark.django_db


def _page(team):
    return reverse("referrals:consent_referral", args=[team.referral.public_id])


def _add(team):
    return reverse("referrals:consent_referral_note", args=[team.referral.public_id])


def test_the_assigned_social_worker_keeps_own_notes_before_any_consent(client, world):
    team = accepted_case(world)
    client.force_login(world.social_worker_n)
    response = client.post(_add(team), {"text": "Ringde skolan, möte bokas nästa vecka."})
    assert response.status_code == 302
    note = WorkerNote.objects.get(referral=team.referral)
    assert note.author == world.social_worker_n
    page = client.get(_page(team)).content.decode()
    assert "Ringde skolan, möte bokas nästa vecka." in page
    # No consent yet: the page stays anonymous.
    assert team.case.student.last_name not in page
    assert AuditEvent.objects.filter(
        action="create", object_type="worker_note", object_id=str(note.public_id)
    ).exists()


def test_notes_are_read_only_by_their_author(client, world):
    team = accepted_case(world)
    WorkerNote.objects.create(referral=team.referral, author=world.social_worker_n, text="Min egen")
    colleague = UserFactory(username="another_social_worker")
    grant(colleague, Role.SOCIAL_WORKER, world.district_n)
    client.force_login(colleague)
    # Not assigned: the referral page is not theirs at all, and neither is the note.
    assert client.get(_page(team)).status_code == 404
    assert client.post(_add(team), {"text": "x"}).status_code == 404
    assert WorkerNote.objects.count() == 1


@pytest.mark.parametrize(
    "who", ["principal_a", "counsellor_a", "referral_forum_n", "mentor_a1", "manager_m"]
)
def test_others_cannot_write_a_note(client, world, who):
    team = accepted_case(world)
    client.force_login(getattr(world, who))
    assert client.post(_add(team), {"text": "Inte min"}).status_code == 404
    assert not WorkerNote.objects.exists()


def test_an_empty_or_overlong_note_changes_nothing(client, world):
    team = accepted_case(world)
    client.force_login(world.social_worker_n)
    client.post(_add(team), {"text": "   "})
    client.post(_add(team), {"text": "x" * 10_001})
    assert not WorkerNote.objects.exists()


def test_a_get_of_the_note_url_changes_nothing(client, world):
    team = accepted_case(world)
    client.force_login(world.social_worker_n)
    assert client.get(_add(team)).status_code == 405
    assert not WorkerNote.objects.exists()
