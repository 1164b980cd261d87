"""The shared PDF layout and the consent form: neutral metadata, embedded fonts, page
numbers, the municipality and the date of printing; no network fetches."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from sst import printing
from sst.models import AuditAction, AuditEvent, AuditObjectType

from .consent_setup import accepted_case

pytestmark = pytest.mark.django_db


def _read(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _fonts(reader: PdfReader) -> list[tuple[str, bool]]:
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font.get("/DescendantFonts")
            target = descendant[0].get_object() if descendant else font
            descriptor = target["/FontDescriptor"].get_object()
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.append((str(font["/BaseFont"]), embedded))
    return found


def test_filled_consent_form(client, world):
    team = accepted_case(world)
    client.force_login(world.counsellor_a)
    response = client.get(reverse("referrals:consent_form_pdf", args=[team.case.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="samtyckesblankett.pdf"'
    reader = _read(response.content)
    metadata = {key: str(value) for key, value in (reader.metadata or {}).items()}
    assert metadata.get("/Title") == "Samtyckesblankett"
    assert not {"/Author", "/Subject", "/Keywords", "/Creator"} & set(metadata)
    assert not any("Alva" in v or "Ekholmsson" in v for v in metadata.values())
    text = _text(reader)
    assert "Sida 1 av" in text
    assert "Testkommun" in text
    assert "Alva Ekholmsson" in text  # on paper only
    assert "Karin Ekholmsson" in text
    assert "Samtycke" in text
    fonts = _fonts(reader)
    assert fonts and all(embedded for _name, embedded in fonts)
    assert all("DejaVu" in name for name, _embedded in fonts)
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT, object_type=AuditObjectType.CONSENT_FORM
    ).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal_a", 200),
        ("counsellor_a", 200),
        ("mentor_a1", 404),
        ("social_worker_n", 404),
        ("referral_forum_n", 404),
        ("counsellor_b", 404),
        ("manager_m", 404),
        ("nobody", 404),
    ],
)
def test_filled_form_role_matrix(client, world, who, status):
    team = accepted_case(world)
    client.force_login(getattr(world, who))
    url = reverse("referrals:consent_form_pdf", args=[team.case.public_id])
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("social_worker_n", 200),
        ("principal_a", 404),
        ("referral_forum_n", 404),
        ("counsellor_b", 404),
        ("nobody", 404),
    ],
)
def test_blank_form_for_the_assigned_worker_names_no_one(client, world, who, status):
    team = accepted_case(world)
    client.force_login(getattr(world, who))
    response = client.get(reverse("referrals:consent_form_blank", args=[team.referral.public_id]))
    assert response.status_code == status
    if status == 200:
        text = _text(_read(response.content))
        assert "Alva" not in text and "Ekholmsson" not in text
        assert "Sida 1 av" in text


def test_the_layout_refuses_anything_but_static_files():
    with pytest.raises(printing.ExternalResourceRefused):
        printing.static_file_for("https://example.org/x.css")
    with pytest.raises(printing.ExternalResourceRefused):
        printing.static_file_for(printing.BASE_URL + "static/../sst/settings.py")
    body, content_type = printing.static_file_for(printing.BASE_URL + "static/css/pdf.css")
    assert b"@font-face" in body and content_type == "text/css"


def test_render_pdf_wants_a_neutral_filename(rf):
    with pytest.raises(ValueError):
        printing.render_pdf(rf.get("/"), "print/base.html", {}, filename="Alva Ekholmsson.pdf")
