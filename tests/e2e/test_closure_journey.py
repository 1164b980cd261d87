"""Closing a case the team has worked, in real headless Chromium, in Swedish: the counsellor
closes it with the student's answers from the closing meeting and a one-time link for the
guardian → the guardian answers through the link in a fresh browser (no login), and the
link then says it cannot be used any more → three months on (the clock set), the after-care
check is on the counsellor's desk, shows the absence since closure with its period, and is
recorded.

The case (accepted, consent valid, a plan with a goal) is set up with the ORM. Screenshots
go to test-artifacts/<test>/, on a desktop and at 390 px.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from cases.models import CaseState
from followup.models import AfterCareCheck, Closure, SurveyAnswer

from ..followup.closure_setup import worked_case
from ..privacy import find_personnummer
from .browser import both_sizes, new_page, sign_in

pytestmark = pytest.mark.browser


def test_close_with_the_survey_then_the_after_care_check_appears_three_months_later(
    browser_page, _chromium, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url
    worked = worked_case(world)
    case, student = worked.case, worked.case.student
    world.counsellor_a.first_name, world.counsellor_a.last_name = "Kim", "Kurator"
    world.counsellor_a.save(update_fields=["first_name", "last_name"])
    case_path = f"/elever/arende/{case.public_id}/"

    # The counsellor takes the case page's "Avsluta ärendet" step: it leads to the closing page.
    sign_in(page, base, world.counsellor_a.username)
    page.goto(f"{base}{case_path}")
    page.get_by_role("link", name="Avsluta ärendet").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/team/uppfoljning/avslut/arende/{case.public_id}/")
    main = page.inner_text("main")
    assert "Frånvaro, från närvarouppgifterna" in main and "Vid start:" in main
    page.get_by_label("Varför avslutas ärendet?").select_option(label="Målen är nådda")
    page.locator('input[name="goals_met"][value="yes"]').check()
    page.get_by_label("Sammanfattning vid avslut").fill("Alva går i skolan varje dag igen.")
    # The student answered at the closing meeting; the guardian gets a link.
    for question, score in (("satisfied", "5"), ("helped", "4"), ("listened_to", "5")):
        page.locator(f'input[name="student_{question}"][value="{score}"]').check()
    page.locator('input[name="links"][value="guardian"]').check()
    both_sizes(page, shot, "closing-page")
    page.get_by_role("button", name="Avsluta ärendet och spara dokumentationen").click()
    page.wait_for_load_state()

    # The link is shown once, to copy or print.
    assert "Avslutsdokumentationen är sparad" in page.inner_text("main") or (
        "Ärendet är avslutat" in page.inner_text("main")
    )
    assert "den visas bara den här gången" in page.inner_text("main")
    link = page.locator(".survey-link-url").input_value()
    assert "/enkat/" in link and str(case.public_id) not in link
    both_sizes(page, shot, "survey-link-shown-once")
    case.refresh_from_db()
    closure = Closure.objects.get(case=case)
    assert case.state == CaseState.CLOSED and closure.completed
    assert SurveyAnswer.objects.filter(closure=closure, channel="meeting").count() == 1

    # The guardian answers in a fresh browser: no login, nothing about anyone on the page.
    context, guardian = new_page(_chromium)
    try:
        guardian.goto(link)
        text = guardian.inner_text("body")
        assert "Vad tyckte du om stödet?" in text
        assert "Har stödet hjälpt ditt barn?" in text
        for personal in (student.first_name, student.last_name, world.school_a.name):
            assert personal not in guardian.content()
        assert not find_personnummer(guardian.content())
        assert (
            guardian.locator('meta[name="robots"]').get_attribute("content").startswith("noindex")
        )
        both_sizes(guardian, shot, "survey-answer-page")
        for question, score in (("satisfied", "4"), ("helped", "4"), ("listened_to", "5")):
            guardian.locator(f'input[name="{question}"][value="{score}"]').check()
        guardian.get_by_role("button", name="Skicka mina svar").click()
        guardian.wait_for_load_state()
        assert "Tack för dina svar" in guardian.inner_text("main")
        shot(guardian, "survey-thanks")
        guardian.goto(link)
        assert "Länken går inte att använda längre" in guardian.inner_text("main")
        both_sizes(guardian, shot, "survey-link-used")
    finally:
        context.close()
    answer = SurveyAnswer.objects.get(closure=closure, channel="link")
    assert answer.respondent == "guardian"

    # The closure record on the case page.
    page.goto(f"{base}{case_path}")
    section = page.locator(".closure-section")
    assert "Avslut och efterkontroller" in section.inner_text()
    assert "Målen är nådda" in section.inner_text()
    both_sizes(page, shot, "case-closed-with-record")

    # Three months on: the after-care check is on the counsellor's desk.
    check = AfterCareCheck.objects.get(case=case, months_after=3)
    assert check.due_on >= closure.closed_on + datetime.timedelta(days=89)
    moment = timezone.make_aware(datetime.datetime.combine(check.due_on, datetime.time(9, 0)))
    with time_machine.travel(moment, tick=True):
        context, later = new_page(_chromium)
        try:
            sign_in(later, base, world.counsellor_a.username)
            panel = later.locator(".aftercare-due")
            assert "Efterkontroller att göra" in panel.inner_text()
            assert student.full_name in panel.inner_text()
            both_sizes(later, shot, "desk-after-care-due")
            panel.get_by_role("link").first.click()
            later.wait_for_load_state()
            main = later.inner_text("main")
            assert "Efterkontroll efter 3 månader" in main
            period = f"{closure.closed_on:%Y-%m-%d} – {check.due_on:%Y-%m-%d}"
            assert period in main
            assert "Behöver eleven stöd igen?" in main
            later.get_by_label("Kommentar").fill("Full närvaro sedan avslutet.")
            later.locator('input[name="passing_grades"][value="yes"]').check()
            both_sizes(later, shot, "after-care-check")
            later.get_by_role("button", name="Spara kontrollen").click()
            later.wait_for_load_state()
            assert "Efterkontrollen sparades." in later.inner_text("main")
            assert "Full närvaro sedan avslutet." in later.locator(".closure-section").inner_text()
            shot(later, "after-care-recorded")
        finally:
            context.close()
    check.refresh_from_db()
    assert check.done_on == check.due_on and check.passing_grades is True
