"""In real headless Chromium, in Swedish: the social worker makes the maintenance plan, moves
the case to maintenance, and books a booster meeting on a Saturday, which lands on the next
school day with a message saying so; the coordinator downloads the participant follow-up.

Screenshots go to test-artifacts/<test>/.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone

from actionplans.models import BoosterMeeting, MaintenancePlan
from attendance import calendar
from cases.models import CaseState
from sst.models import Role

from ..e2e.conftest import _chromium, browser_page, e2e_world, shot  # noqa: F401 (fixtures)
from ..factories import UserFactory, grant
from ..followup.test_participant_export import intake
from .test_maintenance import case_in_implementation

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # UserFactory's password


def _sign_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()


def test_maintenance_plan_booster_on_a_saturday_and_the_participant_export(
    browser_page,  # noqa: F811 (the e2e fixtures, imported above)
    live_server,
    e2e_world,  # noqa: F811
    shot,  # noqa: F811
):
    page, world = browser_page, e2e_world
    base = live_server.url
    team = case_in_implementation(world)
    case = team.case
    today = timezone.localdate()
    saturday = today + datetime.timedelta(days=(5 - today.weekday()) % 7 or 7)
    landing = calendar.school_day_on_or_after(world.municipality.pk, saturday)

    _sign_in(page, base, world.social_worker_n.username)
    page.goto(f"{base}/elever/arende/{case.public_id}/")
    section = page.locator(".maintenance-section")
    assert "Ingen plan för vidmakthållande är gjord ännu" in section.inner_text()
    shot(page, "case-without-maintenance-plan")
    section.get_by_role("link", name="Gör en plan för vidmakthållande").click()
    page.wait_for_load_state()
    page.get_by_label("Hur ofta eleven och teamet träffas eller hör av sig till varandra").fill(
        "Ett samtal varannan vecka och en träff i månaden"
    )
    page.get_by_label("Anteckningar").fill("Alva fortsätter med morgonrutinen.")
    shot(page, "maintenance-form")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert "Planen för vidmakthållande sparades." in page.inner_text("main")
    assert MaintenancePlan.objects.filter(case=case).exists()

    # The plan lets the case move to maintenance.
    page.locator(".transition-enter_maintenance button").click()
    page.wait_for_load_state()
    case.refresh_from_db()
    assert case.state == CaseState.MAINTENANCE
    assert "I vidmakthållande" in page.locator(".maintenance-section").inner_text()
    shot(page, "case-in-maintenance")

    # A booster meeting asked for on a Saturday lands on the next school day.
    page.locator(".maintenance-section").get_by_role("link", name="Boka en boosterträff").click()
    page.wait_for_load_state()
    page.get_by_label("Datum").fill(saturday.isoformat())
    page.get_by_role("button", name="Boka").click()
    page.wait_for_load_state()
    main = page.inner_text("main")
    assert "Boosterträffen bokades." in main
    assert f"{saturday.isoformat()} är inte en skoldag" in main
    assert landing.isoformat() in main
    assert BoosterMeeting.objects.get().planned_on == landing
    shot(page, "booster-moved-to-a-school-day")

    # The coordinator of district N downloads the participant follow-up as Excel.
    coordinator = UserFactory(username="samordnare_n")
    grant(coordinator, Role.COORDINATOR, world.district_n)
    for month in range(1, 6):
        intake(world, group=world.group_a2, born=datetime.date(2012, month, 3), decided=today)
    page.context.clear_cookies()
    _sign_in(page, base, coordinator.username)
    page.get_by_role("link", name="Välj stadsdel och period").click()
    page.wait_for_load_state()
    page.get_by_label("Intag från").fill((today - datetime.timedelta(days=30)).isoformat())
    page.get_by_label("Intag till och med").fill(today.isoformat())
    page.get_by_label("Excel (XLSX)").check()
    shot(page, "participant-form")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Ladda ned").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 7  # the header, five cases and the social worker's case
    assert rows[0][:3] == ("lopnummer", "kon", "arskurs")
