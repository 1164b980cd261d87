"""The family's consent in real headless Chromium, in Swedish: record both guardians → the
social worker opens the case → one guardian withdraws → the next request is refused.

The team has accepted the case and assigned a social worker (set up with the ORM). The
counsellor opens the case from the list of cases, records a consent and who gave it: one
guardian in person before two staff members, the other by a signed form whose scan (a small
PNG made here) is uploaded first. The social worker then finds "Öppna ärendet" on the desk
and reads the identified case. One guardian withdraws (the counsellor records it); the
social worker's next request for the case page is answered "Sidan hittades inte" (404)
and the desk shows the withdrawn consent, with no way to the case.

Screenshots go to test-artifacts/<test>/.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from django.utils import timezone

from referrals import consent
from referrals.models import ConsentGiving, ConsentMethod, ConsentScan

from ..factories import GuardianFactory, give_custody
from ..privacy import find_personnummer
from ..referrals.consent_setup import accepted_case
from .browser import DESKTOP, PHONE, fits_a_phone, new_page, sign_in

pytestmark = pytest.mark.browser


def _png() -> bytes:
    """A valid 1×1 white PNG (the scan of the signed form)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def private_dir(monkeypatch, tmp_path):
    """The scans' private storage, in a temporary folder (the live server shares it)."""
    storage = ConsentScan._meta.get_field("file").storage
    monkeypatch.setattr(storage, "base_location", str(tmp_path), raising=False)
    monkeypatch.setattr(storage, "location", str(tmp_path), raising=False)
    return tmp_path


def test_both_guardians_consent_the_social_worker_reads_the_case_until_one_withdraws(
    browser_page, _chromium, live_server, e2e_world, shot, private_dir, tmp_path
):
    page, world = browser_page, e2e_world
    base = live_server.url
    today = timezone.localdate().isoformat()
    team = accepted_case(world)
    case, referral = team.case, team.referral
    student, first = world.student_a1, world.guardian_a1
    second = GuardianFactory(first_name="Per", last_name="Ekholmsson")
    give_custody(student, second)
    for user, (first_name, last_name) in (
        (world.counsellor_a, ("Kim", "Kurator")),
        (world.principal_a, ("Rut", "Rektor")),
        (world.social_worker_n, ("Sara", "Socionomsson")),
    ):
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
    scan_file = tmp_path / "samtycke.png"
    scan_file.write_bytes(_png())
    case_path = f"/elever/arende/{case.public_id}/"

    # The counsellor opens the case from the list of cases and records a consent.
    sign_in(page, base, world.counsellor_a.username)
    page.goto(f"{base}/elever/arende/")
    page.get_by_role("link", name="Ekholmsson, Alva").click()
    page.wait_for_load_state()
    assert page.url.endswith(case_path)
    section = page.locator(".consent-section")
    assert "Inget samtycke" in section.inner_text()
    shot(page, "case-without-consent")
    section.get_by_role("link", name="Registrera ett samtycke").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/team/samtycke/arende/{case.public_id}/nytt/")
    page.locator("#id_student_view").fill("Alva vill ha hjälp att komma i tid.")
    shot(page, "consent-form")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert "Samtycket registrerades. Lägg nu till vem som lämnat det." in page.inner_text("main")
    assert "Väntar på samtycke" in section.inner_text()
    assert "Väntar på 2 vårdnadshavare." in section.inner_text()

    # The first guardian in person, before the counsellor and the principal.
    section.get_by_role("link", name="Lägg till ett lämnat samtycke").click()
    page.wait_for_load_state()
    page.get_by_label("Vem lämnade samtycket").select_option(label=first.full_name)
    page.get_by_label("Lämnat den").fill(today)
    page.locator(f'input[name="method"][value="{ConsentMethod.IN_PERSON}"]').check()
    page.get_by_label("Kim Kurator").check()
    page.get_by_label("Rut Rektor").check()
    shot(page, "giving-in-person")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert page.url.endswith(case_path + "#consent-heading")
    assert "Det lämnade samtycket registrerades." in page.inner_text("main")
    assert "Väntar på 1 vårdnadshavare." in section.inner_text()

    # The second guardian signed the form: its scan first, then who gave it.
    section.get_by_role("link", name="Ladda upp en skanning").click()
    page.wait_for_load_state()
    page.get_by_label("Skannad blankett (PDF, JPEG eller PNG)").set_input_files(str(scan_file))
    shot(page, "scan-upload")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert "Skanningen sparades." in page.inner_text("main")
    scan = ConsentScan.objects.get()
    assert scan.content_type == "image/png"
    assert page.url.endswith(f"/team/samtycke/{scan.consent.public_id}/lamnat/")
    page.get_by_label("Vem lämnade samtycket").select_option(label=second.full_name)
    page.get_by_label("Lämnat den").fill(today)
    page.locator(f'input[name="method"][value="{ConsentMethod.SIGNED_FORM}"]').check()
    page.get_by_label("Den undertecknade blanketten (skanning)").select_option(str(scan.pk))
    page.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert "Det lämnade samtycket registrerades." in page.inner_text("main")
    assert "Samtycke gäller" in section.inner_text()
    assert section.get_by_role("link", name="ladda ner skanningen").count() == 1
    shot(page, "consent-valid")
    page.set_viewport_size(PHONE)
    page.reload()
    assert fits_a_phone(page)
    shot(page, "consent-valid-390")
    page.set_viewport_size(DESKTOP)
    assert consent.consent_valid(case)

    # The social worker opens the identified case from the desk.
    context, worker = new_page(_chromium)
    try:
        sign_in(worker, base, world.social_worker_n.username)
        assignments = worker.locator(".assignments-panel")
        assert "Samtycke gäller" in assignments.inner_text()
        shot(worker, "social-worker-desk-consent-valid")
        assignments.get_by_role("link", name="Öppna ärendet").click()
        worker.wait_for_load_state()
        assert worker.url.endswith(case_path)
        assert student.full_name in worker.inner_text("main")
        shot(worker, "social-worker-reads-the-case")
        # No link on the page leads the social worker to a page they may not see.
        links = worker.eval_on_selector_all(
            "main a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
        )
        dead = [
            href for href in sorted(set(links)) if worker.request.get(f"{base}{href}").status == 404
        ]
        assert dead == []
        worker.set_viewport_size(PHONE)
        worker.reload()
        assert fits_a_phone(worker)
        shot(worker, "social-worker-reads-the-case-390")
        worker.set_viewport_size(DESKTOP)

        # The second guardian withdraws; the counsellor records it on the case page.
        page.goto(f"{base}{case_path}")
        giving = ConsentGiving.objects.get(guardian=second)
        row = section.locator("tr", has_text=second.full_name)
        row.get_by_role("link", name="Återkalla").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/team/samtycke/lamnat/{giving.public_id}/aterkalla/")
        assert page.get_by_label("Återkallat den").input_value() == today
        shot(page, "withdraw-form")
        page.get_by_role("button", name="Spara").click()
        page.wait_for_load_state()
        main = page.inner_text("main")
        assert "Återkallelsen registrerades. Samtycket gäller inte längre." in main
        assert "Samtycke återkallat" in section.inner_text()
        shot(page, "consent-withdrawn")
        assert not consent.consent_valid(case)

        # The social worker's next request for the case is refused like any unknown page.
        response = worker.goto(f"{base}{case_path}")
        assert response is not None and response.status == 404
        assert "Sidan hittades inte" in worker.inner_text("main")
        assert student.first_name not in worker.content()
        shot(worker, "social-worker-refused")
        worker.goto(f"{base}/")
        assignments = worker.locator(".assignments-panel")
        assert f"Uppdragsförfrågan {referral.number}" in assignments.inner_text()
        assert "Samtycke återkallat" in assignments.inner_text()
        assert assignments.get_by_role("link", name="Öppna ärendet").count() == 0
        assert student.last_name not in worker.content()
        shot(worker, "social-worker-desk-withdrawn")
        worker.set_viewport_size(PHONE)
        worker.reload()
        assert fits_a_phone(worker)
        shot(worker, "social-worker-desk-withdrawn-390")
        assert find_personnummer(worker.content()) == []
    finally:
        context.close()
