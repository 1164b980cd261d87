"""The desk's inbox in real headless Chromium: one row per student, no sideways scroll on a
phone (390 px), and the bulk acknowledge with a reason through the real form.

Screenshots go to test-artifacts/<test name>/ (git-ignored)."""

from __future__ import annotations

import datetime

import pytest

from attendance.models import Alert, AlertRecipient, DueKind, Rule
from sst.models import Role
from tests.factories import StudentFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # UserFactory's password for every person in `world`
SEP = datetime.date(2025, 9, 1)
OCT = datetime.date(2025, 10, 1)


def _tasks(world, count: int) -> None:
    students = [
        StudentFactory(mentor_group=world.group_a1, last_name=f"Långnamnsdottersson-{n:02d}")
        for n in range(count)
    ]
    for student in students:
        for month, rule, task in (
            (SEP, Rule.STEP_2, DueKind.ESCALATION),
            (OCT, Rule.STEP_3, DueKind.ASSIGN_MAPPING),
            (OCT, Rule.STEP_4, DueKind.ESCALATION),
        ):
            alert = Alert.objects.create(
                student=student,
                rule=rule,
                period_start=month,
                period_end=month + datetime.timedelta(days=29),
                value_pct="23.4",
                due=DueKind.ESCALATION,
            )
            AlertRecipient.objects.create(
                alert=alert, user=world.principal_a, role=Role.PRINCIPAL, task=task
            )


def _sign_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_label("Lösenord").press("Enter")
    page.wait_for_load_state()


def _scrolls_sideways(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    )


def test_the_inbox_fits_a_phone_and_acknowledges_in_bulk(
    browser_page, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    _tasks(world, 30)
    _sign_in(page, live_server.url, world.principal_a.username)
    rows = page.locator(".inbox-row")
    assert rows.count() == 25  # a page; the rest behind "next" and "show all"
    assert page.get_by_role("link", name="Visa alla 30").count() == 1
    shot(page, "desk-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert not _scrolls_sideways(page)
    shot(page, "desk-390")

    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    page.get_by_label("Skäl").select_option("handled_elsewhere")
    page.get_by_role("button", name="Kvittera de valda").click()
    page.wait_for_load_state()
    assert "Uppgifterna om 2 elever är kvitterade." in page.locator("main").inner_text()
    assert page.locator(".inbox-row").count() == 25
    page.get_by_role("link", name="Visa alla 28").click()
    assert page.locator(".inbox-row").count() == 28
    assert not _scrolls_sideways(page)
    assert (
        AlertRecipient.objects.filter(
            user=world.principal_a, acknowledged_reason="handled_elsewhere"
        ).count()
        == 6
    )
