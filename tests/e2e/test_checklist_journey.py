"""The mentor checklist in real headless Chromium, from the alert on the mentor's desk to the
student health team's follow-up.

The mentor opens the checklist alert on their desk, fills in the checklist and saves it. A
week later (the due date is moved in the database) the follow-up is overdue on the desk;
the mentor records continued absence, which reports the student to the student health team.
The principal then reads the copy and records who contacts the guardian.

Pages are found by their addresses and form fields, not by wording, so the test does not
depend on the state of the Swedish catalogue. Screenshots go to test-artifacts/<test>/.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from attendance.models import Alert, AlertRecipient, DueKind, Rule
from cases.models import MentorChecklist, YesNo
from sst.models import Role

from ..privacy import find_personnummer
from .browser import sign_in

pytestmark = pytest.mark.browser

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _urls_seen(page) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_mentor_fills_in_the_checklist_and_follows_up_a_week_later(
    browser_page, _chromium, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url
    urls = _urls_seen(page)
    today = timezone.localdate()
    alert = Alert.objects.create(
        student=world.student_a1,
        rule=Rule.STEP_2,
        period_start=today.replace(day=1),
        period_end=today,
        value_pct=12,
        due=DueKind.CHECKLIST,
    )
    AlertRecipient.objects.create(
        alert=alert, user=world.mentor_a1, role=Role.MENTOR, task=DueKind.CHECKLIST
    )
    world.mentor_a1.first_name, world.mentor_a1.last_name = "Mia", "Mentorsson"
    world.mentor_a1.save()

    # The alert on the mentor's desk leads to the checklist.
    sign_in(page, base, world.mentor_a1.username)
    shot(page, "desk-with-alert")
    page.locator(f'.inbox-tasks a[href*="larm={alert.public_id}"]').click()
    page.wait_for_load_state()
    assert re.search(rf"/elever/{world.student_a1.public_id}/checklistor/ny/\?larm=", page.url)
    assert page.locator("#id_mentor_name").input_value() == "Mia Mentorsson"
    assert "Sjukdom?" in page.locator("main").inner_text()
    shot(page, "checklist-form")

    talk = today - datetime.timedelta(days=1)
    page.locator("#id_talked_with_student_on").fill(talk.isoformat())
    page.locator("#id_talked_with_guardian_on").fill(talk.isoformat())
    for name, choice in (
        ("illness", YesNo.NO),
        ("thrives", YesNo.YES),
        ("has_friends", YesNo.YES),
        ("schoolwork_difficulties", YesNo.YES),
        ("pattern", YesNo.YES),
    ):
        page.locator(f'input[name="{name}"][value="{choice}"]').check()
    page.locator("#id_schoolwork_difficulties_comment").fill("Svårt med matematiken")
    page.locator("#id_pattern_comment").fill("Borta på måndagar")
    page.locator(".checklist-form button[type=submit]").click()
    page.wait_for_load_state()

    assert re.search(rf"/elever/checklistor/{UUID}/$", page.url)
    main = page.locator("main").inner_text()
    assert "Svårt med matematiken" in main and "Borta på måndagar" in main
    shot(page, "checklist-saved")
    checklist = MentorChecklist.objects.get()
    assert checklist.follow_up_due_on == talk + datetime.timedelta(days=7)
    alert.refresh_from_db()
    assert alert.due_done_at is not None

    # A week and a day later: the follow-up is overdue on the desk, marked in words too.
    MentorChecklist.objects.filter(pk=checklist.pk).update(
        follow_up_due_on=today - datetime.timedelta(days=1)
    )
    page.goto(f"{base}/")
    overdue = page.locator(".follow-ups-due tr.table-danger")
    assert overdue.count() == 1
    assert overdue.locator(".follow-up-overdue").inner_text().strip()
    shot(page, "desk-follow-up-overdue")
    overdue.locator('a[href$="/uppfoljning/"]').click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/elever/checklistor/{checklist.public_id}/uppfoljning/")
    shot(page, "follow-up-form")
    page.locator('input[name="continued_absence"][value="yes"]').check()
    page.locator("#id_follow_up_comment").fill("Frånvaron fortsätter")
    page.locator(".follow-up-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/elever/checklistor/{checklist.public_id}/")
    shot(page, "follow-up-saved")
    checklist.refresh_from_db()
    assert checklist.reported_to_eht_at is not None
    page.goto(f"{base}/")
    assert page.locator(".follow-ups-due tr").count() <= 1  # only the header row is left

    # The principal reads the copy from the desk and records the EHT's part.
    context = _chromium.new_context(locale="sv-SE", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    principal = context.new_page()
    urls += _urls_seen(principal)
    try:
        sign_in(principal, base, world.principal_a.username)
        shot(principal, "principal-desk")
        principal.locator(f'.eht-checklists a[href$="/{checklist.public_id}/eht/"]').click()
        principal.wait_for_load_state()
        shot(principal, "eht-form")
        principal.locator("#id_guardian_contact_by").select_option(str(world.counsellor_a.pk))
        principal.locator("#id_guardian_contact_on").fill(today.isoformat())
        principal.locator("#id_feedback_by").select_option(str(world.principal_a.pk))
        principal.locator("#id_eht_comment").fill("Kuratorn ringer vårdnadshavaren")
        principal.locator(".eht-form button[type=submit]").click()
        principal.wait_for_load_state()
        assert principal.url.endswith(f"/elever/checklistor/{checklist.public_id}/")
        main = principal.locator("main").inner_text()
        assert "Svårt med matematiken" in main and "Kuratorn ringer vårdnadshavaren" in main
        shot(principal, "principal-copy")
    finally:
        context.close()
    checklist.refresh_from_db()
    assert checklist.eht_guardian_contact_by == world.counsellor_a

    assert [url for url in urls if find_personnummer(url)] == []
