"""Minutes: present members and notes, a stale edit refused, approval locks them (and the
meeting's decisions); the PDF and every forum page carry no personal data."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from cases import workflow
from referrals import forum_services as services
from referrals.models import AcceptedAs, DecisionKind
from sst.models import AuditEvent

from ..conftest import verified_login
from ..factories import GuardianFactory, give_custody
from .forum_support import forum_world, on_agenda


@pytest.fixture
def fw(world):
    return forum_world(world)


def test_minutes_are_edited_until_approved_then_locked(fw):
    meeting = fw.meeting
    with pytest.raises(ValidationError):
        services.minutes_save(
            meeting=meeting, present=[fw.coordinator_n], notes="", version=1, by=fw.member_n
        )
    services.minutes_save(
        meeting=meeting, present=[fw.member_n], notes="Två ärenden.", version=1, by=fw.member_n
    )
    with pytest.raises(workflow.ConcurrentChange):
        services.minutes_save(
            meeting=meeting, present=[fw.member_n], notes="Gammal", version=1, by=fw.member_n
        )
    meeting.refresh_from_db()
    services.minutes_approve(meeting=meeting, version=meeting.version, by=fw.member_n)
    meeting.refresh_from_db()
    assert meeting.minutes_locked and meeting.state == "held"
    with pytest.raises(ValidationError):
        services.minutes_save(
            meeting=meeting, present=[], notes="Efteråt", version=meeting.version, by=fw.member_n
        )
    referral = on_agenda(fw)
    with pytest.raises(ValidationError):
        services.decision_record(
            referral=referral,
            meeting=meeting,
            kind=DecisionKind.ACCEPTED,
            accepted_as=AcceptedAs.QUEUE,
            reason="Sent",
            by=fw.member_n,
        )


def test_minutes_pages_role_matrix(client, fw):
    urls = [
        reverse("referrals:minutes", args=[fw.meeting.public_id]),
        reverse("referrals:minutes_pdf", args=[fw.meeting.public_id]),
    ]
    verified_login(client, fw.member_n)
    for url in urls:
        assert client.get(url).status_code == 200
    w = fw.world
    for user in (fw.coordinator_n, fw.member_s, w.social_worker_n, w.principal_a, w.nobody):
        verified_login(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(urls[0], {"notes": "x", "version": 1}).status_code == 404


def test_no_personal_data_on_any_page_or_pdf_a_forum_member_reaches(client, fw):
    """The anonymity sweep: the student's names, personnummer and the guardians' names."""
    w = fw.world
    guardian = GuardianFactory(first_name="Ingegerd", last_name="Vårdnadsson")
    give_custody(w.student_a1, guardian)
    referral = on_agenda(fw)
    services.decision_record(
        referral=referral,
        meeting=fw.meeting,
        kind=DecisionKind.ACCEPTED,
        accepted_as=AcceptedAs.ASSIGN,
        social_worker=fw.social_worker_n,
        reason="Behovet stämmer.",
        by=fw.member_n,
    )
    services.minutes_save(
        meeting=fw.meeting, present=[fw.member_n], notes="Ett beslut.", version=1, by=fw.member_n
    )
    student = w.student_a1
    secrets = [
        student.first_name,
        student.last_name,
        str(student.personnummer),
        student.personnummer.digits if hasattr(student.personnummer, "digits") else "",
        w.guardian_a1.first_name,
        w.guardian_a1.last_name,
        guardian.first_name,
        guardian.last_name,
    ]
    secrets = [s for s in secrets if s]
    pages = [
        reverse("sst:desk"),
        reverse("referrals:meeting_list"),
        reverse("referrals:meeting_detail", args=[fw.meeting.public_id]),
        reverse("referrals:minutes", args=[fw.meeting.public_id]),
    ]
    verified_login(client, fw.member_n)
    for url in pages:
        page = client.get(url).content.decode()
        for secret in secrets:
            assert secret not in page, (url, secret)
    html = client.get(pages[2]).content.decode()
    assert referral.number in html
    pdf = client.get(reverse("referrals:minutes_pdf", args=[fw.meeting.public_id]))
    assert pdf["Content-Type"] == "application/pdf"
    body = pdf.content
    assert body.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert referral.number in text  # the text is really read: the minutes name the referral
    metadata = " ".join(str(value) for value in (reader.metadata or {}).values())
    for secret in secrets:
        assert secret not in text
        assert secret not in metadata
    # The PDF's source is the same anonymous minutes.
    from django.template.loader import render_to_string

    source = render_to_string(
        "referrals/forum/minutes_pdf.html",
        {"meeting": fw.meeting, "decisions": [referral.decision], "present": [fw.member_n]},
    )
    assert referral.number in source
    for secret in secrets:
        assert secret not in source
    assert AuditEvent.objects.filter(
        action="export", object_type="forum_minutes", object_id=str(fw.meeting.public_id)
    ).exists()
    # The social worker's desk, unassigned to nothing else, is anonymous too.
    verified_login(client, fw.social_worker_n)
    desk = client.get(reverse("sst:desk")).content.decode()
    assert referral.number in desk
    for secret in secrets:
        assert secret not in desk


def test_minutes_through_the_pages(client, fw):
    url = reverse("referrals:minutes", args=[fw.meeting.public_id])
    verified_login(client, fw.member_n)
    response = client.post(
        url, {"present": [fw.member_n.pk], "notes": "Inga övriga frågor.", "version": 1}
    )
    assert response.status_code == 302
    fw.meeting.refresh_from_db()
    assert list(fw.meeting.present.all()) == [fw.member_n]
    approve = reverse("referrals:minutes_approve", args=[fw.meeting.public_id])
    assert client.post(approve, {"version": fw.meeting.version}).status_code == 302
    fw.meeting.refresh_from_db()
    assert fw.meeting.minutes_locked
    page = client.get(url).content.decode()
    assert "Inga övriga frågor." in page and "minutes-edit" not in page
    client.post(url, {"present": [], "notes": "Ändrat", "version": fw.meeting.version})
    fw.meeting.refresh_from_db()
    assert fw.meeting.minutes_notes == "Inga övriga frågor."
