"""Consent scans: checked by content, size-limited, stored under generated names, served
only to those who may read the case, always as a download, audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from referrals import consent_services as services
from referrals import uploads
from referrals.models import ConsentScan
from sst.models import AuditAction, AuditEvent, AuditObjectType

from ..conftest import verified_login
from .consent_setup import accepted_case, valid_consent

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_WITH_SCRIPT = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj\n"
    b"2 0 obj << /S /JavaScript /JS (app.alert('x')) >> endobj\n%%EOF\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def private_dir(monkeypatch, tmp_path):
    """The scans' private storage, in a temporary folder for the test."""
    storage = ConsentScan._meta.get_field("file").storage
    monkeypatch.setattr(storage, "base_location", str(tmp_path), raising=False)
    monkeypatch.setattr(storage, "location", str(tmp_path), raising=False)
    return tmp_path


def _upload(world, name, data, content_type="application/pdf"):
    team = accepted_case(world)
    consent = services.consent_record(case=team.case, by=world.counsellor_a)
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return (
        team,
        consent,
        services.scan_upload(consent=consent, upload=upload, by=world.counsellor_a),
    )


def test_text_named_pdf_is_refused(world, private_dir):
    with pytest.raises(ValidationError):
        _upload(world, "samtycke.pdf", b"just some text, not a PDF at all\n" * 10)
    assert ConsentScan.objects.count() == 0


def test_oversized_file_is_refused(world, private_dir, settings):
    settings.CONSENT_SCAN_MAX_MB = 0.001
    with pytest.raises(ValidationError):
        _upload(world, "scan.pdf", PDF + b"0" * 2000)


def test_path_traversal_name_is_kept_as_text_only(world, private_dir):
    _team, _consent, scan = _upload(world, "../../etc/passwd.pdf", PDF)
    assert scan.uploaded_name == "passwd.pdf"
    assert scan.file.name.startswith("consent/") and "passwd" not in scan.file.name
    assert (private_dir / scan.file.name).exists()
    assert uploads.display_name("..\\..\\win\\x.png") == "x.png"


def test_type_by_content_not_by_name_or_browser(world, private_dir):
    _team, _consent, scan = _upload(world, "bild.pdf", PNG, content_type="application/pdf")
    assert scan.content_type == "image/png"
    assert scan.file.name.endswith(".png")


def test_pdf_with_javascript_is_stored_and_served_only_as_attachment(client, world, private_dir):
    _team, _consent, scan = _upload(world, "scan.pdf", PDF_WITH_SCRIPT)
    assert uploads.pdf_has_script(PDF_WITH_SCRIPT)
    client.force_login(world.principal_a)
    response = client.get(reverse("referrals:consent_scan_download", args=[scan.public_id]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PDF_WITH_SCRIPT
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT,
        object_type=AuditObjectType.CONSENT_SCAN,
        object_id=str(scan.public_id),
    ).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal_a", 200),
        ("counsellor_a", 200),
        ("nurse_a", 200),
        ("mentor_a1", 404),
        ("social_worker_n", 404),  # assigned, but no valid consent
        ("referral_forum_n", 404),
        ("counsellor_b", 404),
        ("manager_m", 404),
        ("admin_m", 404),
        ("nobody", 404),
    ],
)
def test_serving_asks_the_policy(client, world, private_dir, who, status):
    _team, _consent, scan = _upload(world, "scan.pdf", PDF)
    verified_login(client, getattr(world, who))
    response = client.get(reverse("referrals:consent_scan_download", args=[scan.public_id]))
    assert response.status_code == status


def test_assigned_worker_with_valid_consent_downloads_and_the_consent_is_audited(
    client, world, private_dir
):
    team, _consent, scan = _upload(world, "scan.pdf", PDF)
    valid = valid_consent(world, team.case)
    client.force_login(world.social_worker_n)
    response = client.get(reverse("referrals:consent_scan_download", args=[scan.public_id]))
    assert response.status_code == 200
    event = AuditEvent.objects.filter(object_type=AuditObjectType.CONSENT_SCAN).latest("pk")
    assert event.detail["consent"] == str(valid.public_id)


def test_upload_page_stores_and_refuses(client, world, private_dir):
    team = accepted_case(world)
    consent = services.consent_record(case=team.case, by=world.counsellor_a)
    url = reverse("referrals:consent_scan_upload", args=[consent.public_id])
    client.force_login(world.counsellor_a)
    bad = client.post(url, {"file": SimpleUploadedFile("x.pdf", b"hello" * 20)})
    assert bad.status_code == 200 and ConsentScan.objects.count() == 0
    good = client.post(url, {"file": SimpleUploadedFile("x.pdf", PDF)})
    assert good.status_code == 302 and ConsentScan.objects.count() == 1
