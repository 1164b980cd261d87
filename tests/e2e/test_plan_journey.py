"""The action plan in real headless Chromium, in Swedish: after the start-up meeting the
social worker starts the plan step, makes the plan (goals, interventions from the toolbox,
one more goal row added on the page), records the signatures (three on paper, their own in
the app) and downloads the plan the family takes home as a PDF.

The team has accepted the case, the guardian's consent is valid and the start-up meeting is
booked (set up with the ORM). Screenshots, at desktop width and at 390 px, go to
test-artifacts/<test>/.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from actionplans.models import ActionPlan, Signature
from actionplans.plan_services import default_ends_on
from cases.models import Case, CaseState
from referrals import consent_services
from referrals.models import FamilyMeetingKind

from ..actionplans.plan_setup import consent_case
from ..privacy import find_personnummer
from .browser import DESKTOP, PHONE, fits_a_phone, sign_in

pytestmark = pytest.mark.browser


def _at_phone_width(page, shot, step: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    page.reload()
    assert fits_a_phone(page), step
    shot(page, f"{step}-390")
    page.set_viewport_size(DESKTOP)


def test_the_social_worker_makes_the_plan_records_the_signatures_and_prints_it(
    browser_page, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url
    today = timezone.localdate()
    for user, (first_name, last_name) in (
        (world.counsellor_a, ("Kim", "Kurator")),
        (world.principal_a, ("Rut", "Rektor")),
        (world.social_worker_n, ("Sara", "Socionomsson")),
    ):
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
    team = consent_case(world)
    case = team.case
    consent_services.family_meeting_book(
        case=Case.objects.get(pk=case.pk),
        kind=FamilyMeetingKind.STARTUP,
        starts_at=timezone.now(),
        location="Skolans konferensrum",
        staff=[world.counsellor_a, world.social_worker_n],
        by=world.counsellor_a,
    )
    case_path = f"/elever/arende/{case.public_id}/"
    plan_path = f"/team/plan/{case.public_id}/"

    # The start-up meeting: the social worker opens the case from the desk.
    sign_in(page, base, world.social_worker_n.username)
    page.locator(".assignments-panel").get_by_role("link", name="Öppna ärendet").click()
    page.wait_for_load_state()
    assert page.url.endswith(case_path)
    section = page.locator(".plan-section")
    assert "Ingen handlingsplan är gjord ännu." in section.inner_text()
    section.get_by_role("link", name="Gå till handlingsplanen").click()
    page.wait_for_load_state()
    assert page.url.endswith(plan_path)
    shot(page, "plan-page-in-consent")
    page.get_by_role("button", name="Påbörja handlingsplanen").click()
    page.wait_for_load_state()
    assert Case.objects.get(pk=case.pk).state == CaseState.PLAN

    # The plan, at the meeting: goals, and interventions from the toolbox.
    page.goto(f"{base}{plan_path}")
    page.get_by_role("link", name="Gör handlingsplanen").click()
    page.wait_for_load_state()
    assert page.url.endswith(plan_path + "ny/")
    # Three months by default.
    assert page.get_by_label("Planen slutar").input_value() == default_ends_on(today).isoformat()
    target = (today + datetime.timedelta(days=56)).isoformat()
    page.locator("#id_goals-0-text").fill("Närvara på alla måndagslektioner")
    page.locator("#id_goals-0-measure").fill("Närvaron i skolans system, vecka för vecka")
    page.locator("#id_goals-0-target_on").fill(target)
    page.locator("#id_goals-0-perspective").select_option(label="Pedagogiskt / skola")
    page.locator("#id_goals-1-text").fill("Äta frukost innan skolan")
    page.locator("#id_goals-1-measure").fill("Alva berättar vid incheckningen")
    page.locator("#id_goals-1-target_on").fill(target)
    page.locator("#id_interventions-0-item").select_option(label="Incheckning och utcheckning")
    page.locator("#id_interventions-0-side").select_option(label="Skola")
    page.locator("#id_interventions-0-responsible").select_option(label="Kim Kurator")
    page.locator("#id_interventions-0-how_often").fill("Varje morgon och eftermiddag")
    page.locator("#id_interventions-0-starts_on").fill(today.isoformat())
    page.locator("#id_interventions-1-item").select_option(label="Regelbundna samtal och sms")
    page.locator("#id_interventions-1-side").select_option(label="Socialtjänsten")
    page.locator("#id_interventions-1-responsible").select_option(label="Sara Socionomsson")
    page.locator("#id_interventions-1-how_often").fill("En gång i veckan")
    page.locator("#id_interventions-1-starts_on").fill(today.isoformat())
    # One more goal: the page is drawn again with a third row, nothing saved yet.
    page.get_by_role("button", name="Lägg till en rad för mål").click()
    page.wait_for_load_state()
    assert not ActionPlan.objects.exists()
    assert page.locator("#id_goals-0-text").input_value() == "Närvara på alla måndagslektioner"
    page.locator("#id_goals-2-text").fill("Vara med på en fritidsaktivitet i veckan")
    page.locator("#id_goals-2-measure").fill("Fältarbetaren följer med de första gångerna")
    page.locator("#id_goals-2-target_on").fill(target)
    shot(page, "plan-form")
    page.set_viewport_size(PHONE)
    assert fits_a_phone(page)
    shot(page, "plan-form-390")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Spara planen").click()
    page.wait_for_load_state()
    assert page.url.endswith(plan_path), page.inner_text("main")[:2000]
    main = page.inner_text("main")
    assert "Handlingsplanen sparades." in main
    assert "Vara med på en fritidsaktivitet i veckan" in main
    assert "Underskrifter saknas på version 1:" in main
    plan = ActionPlan.objects.get(case=case)
    assert plan.goals.count() == 3 and plan.interventions.count() == 2
    shot(page, "plan-saved")
    _at_phone_width(page, shot, "plan-saved")

    # The signatures: student, guardian and school on paper; the social worker in the app.
    page.get_by_role("link", name="Registrera underskrifter").click()
    page.wait_for_load_state()
    paper = "Underskriven på papper vid mötet (registrerad av personal)"
    for party, extra in (
        ("Elev", None),
        ("Vårdnadshavare", ("#id_guardian", world.guardian_a1.full_name)),
        ("Skolans representant", ("#id_signer", "Kim Kurator")),
    ):
        page.get_by_label("Vem skriver under").select_option(label=party)
        if extra:
            page.locator(extra[0]).select_option(label=extra[1])
        page.get_by_label(paper).check()
        page.get_by_label("Underskrivet den").fill(today.isoformat())
        page.get_by_role("button", name="Registrera underskriften").click()
        page.wait_for_load_state()
        assert "Underskriften registrerades." in page.inner_text("main"), party
    shot(page, "signatures-three-of-four")
    page.get_by_label("Vem skriver under").select_option(label="Skolsocionom")
    page.get_by_label("Underskriven av medarbetaren själv i appen").check()
    page.get_by_role("button", name="Registrera underskriften").click()
    page.wait_for_load_state()
    assert "Version 1 är underskriven av alla." in page.inner_text("main")
    assert Signature.objects.filter(plan=plan).count() == 4
    shot(page, "signed")
    _at_phone_width(page, shot, "signed")

    # The plan the family takes home.
    page.goto(f"{base}{plan_path}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Skriv ut planen (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "handlingsplan.pdf"
    reader = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Vår handlingsplan" in text
    assert "Närvara på alla måndagslektioner" in text
    assert "Incheckning och utcheckning" in text and "Kim Kurator" in text
    assert "Skolsocionom" in text
    assert find_personnummer(text) == []
    assert str(case.public_id) not in text
    assert "Alva" not in str(dict(reader.metadata or {}))

    # The start of the implementation is now offered on the case page.
    page.goto(f"{base}{case_path}")
    assert page.get_by_role("button", name="Påbörja genomförandet").count() == 1
    shot(page, "case-page-implementation-offered")
