"""A follow-up in real headless Chromium, in Swedish: the social worker opens the follow-up
that is due from the desk, sees the absence with its periods next to the level at intake,
records the goals' results, ORS and notes, and books the next follow-up.

The case, its consent, the action plan (goals, interventions) and the lessons are made with
the ORM; the follow-up is booked for today. Screenshots (desktop and 390 px) go to
test-artifacts/<test>/.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from actionplans.models import PlanIntervention
from attendance import calendar
from followup.models import Delivery, FollowUp, FollowUpAbsence, GoalReview

from ..attendance.lessons import INVALID, lesson
from ..followup.followup_setup import planned_case
from .browser import PHONE, fits_a_phone, sign_in

pytestmark = pytest.mark.browser


def test_the_social_worker_records_a_due_follow_up_from_the_desk(
    browser_page, _chromium, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url
    today = timezone.localdate()
    starts_on = today - datetime.timedelta(weeks=5)
    planned = planned_case(world, starts_on=starts_on)
    world.social_worker_n.first_name, world.social_worker_n.last_name = "Sara", "Socionomsson"
    world.social_worker_n.save(update_fields=["first_name", "last_name"])
    student = planned.case.student
    # Lessons since the start: two a weekday, the first of every Monday missed (invalid).
    day = starts_on
    while day < today:
        if day.weekday() < 5:
            lesson(student, day, "08:00", kind=INVALID if day.weekday() == 0 else "")
            lesson(student, day, "10:00")
        day += datetime.timedelta(days=1)
    talk = planned.interventions[0]
    Delivery.objects.create(
        intervention=talk,
        week=starts_on - datetime.timedelta(days=starts_on.weekday()) + datetime.timedelta(weeks=1),
        given=True,
        sessions=2,
        minutes=90,
    )
    followup = FollowUp.objects.create(case=planned.case, number=1, planned_on=today)
    until = today - datetime.timedelta(days=1)
    period = f"{starts_on:%Y-%m-%d} – {until:%Y-%m-%d}"

    # The desk lists the follow-up that is due; the social worker opens it.
    sign_in(page, base, world.social_worker_n.username)
    panel = page.locator(".followups-panel")
    assert "Uppföljningar att göra" in panel.inner_text()
    shot(page, "desk")
    panel.get_by_role("link", name=student.full_name).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/team/uppfoljning/{followup.public_id}/")
    main = page.inner_text("main")
    assert "Uppföljning 1" in main
    # The absence since the start, its period named, beside the level at intake.
    table = page.locator(".absence-table")
    assert "Sedan uppstarten" in table.inner_text()
    # The first follow-up: "since the last" is the same period, shown once.
    assert period in table.inner_text()
    assert "Vid uppdragsförfrågan" in table.inner_text()
    # What the weekly check-offs say was given.
    assert "Motiverande samtal" in page.locator(".given-table").inner_text()
    assert "1,5" in page.locator(".given-table").inner_text() or "1.5" in (
        page.locator(".given-table").inner_text()
    )
    shot(page, "record-form")

    # The goals' results, ORS, notes; the next date as proposed.
    goals = page.locator("fieldset.goal")
    goals.nth(0).get_by_label("Uppnått", exact=True).check()
    goals.nth(0).get_by_label("Kommentar").fill("Kommer i tid nästan varje dag.")
    goals.nth(1).get_by_label("Delvis uppnått", exact=True).check()
    page.get_by_label("individuellt (personligt välbefinnande)").fill("6")
    page.get_by_label("relationer (familj, nära relationer)").fill("7")
    page.get_by_label("socialt (skola, vänner)").fill("5")
    page.get_by_label("övergripande (allmänt välbefinnande)").fill("8")
    page.get_by_label("Anteckningar").fill("Familjen tycker att morgnarna går lättare.")
    proposed = page.get_by_label("Nästa uppföljning", exact=True).input_value()
    assert calendar.is_school_day(
        planned.case.school.district.municipality_id, datetime.date.fromisoformat(proposed)
    )
    page.set_viewport_size(PHONE)
    assert fits_a_phone(page)
    shot(page, "record-form-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Registrera uppföljningen").click()
    page.wait_for_load_state()

    main = page.inner_text("main")
    assert "Uppföljningen dokumenterades." in main
    assert "Hölls" in main
    assert page.locator(".ors-total").inner_text() == "26"
    assert period in page.locator(".absence-table").inner_text()
    shot(page, "recorded")
    page.set_viewport_size(PHONE)
    assert fits_a_phone(page)
    shot(page, "recorded-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The case page: the follow-up held, the next one booked, ORS over time.
    page.get_by_role("link", name="Tillbaka till ärendet").click()
    page.wait_for_load_state()
    section = page.locator(".followup-section")
    assert "Uppföljning 2" in section.inner_text() or "Dokumentera uppföljning 2" in (
        section.inner_text()
    )
    assert "26" in section.locator(".ors-trend").inner_text()
    shot(page, "case-section")

    followup.refresh_from_db()
    assert followup.held_on == today and followup.ors_total == 26
    assert GoalReview.objects.filter(followup=followup).count() == 2
    since_start = FollowUpAbsence.objects.get(followup=followup, span="since_start")
    assert (since_start.period_start, since_start.period_end) == (starts_on, until)
    assert since_start.invalid_min > 0
    assert FollowUp.objects.get(case=planned.case, number=2).planned_on.isoformat() == proposed

    # The follow-up showed a goal needs more time: the social worker revises the plan from
    # the case page, and the chronology says what changed. (The plan made with the ORM
    # names no one responsible for its interventions; a saved plan always does.)
    PlanIntervention.objects.filter(plan=planned.plan).update(responsible=world.social_worker_n)
    page.goto(f"{base}/team/plan/{planned.case.public_id}/")
    page.get_by_role("link", name="Revidera planen").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/team/plan/{planned.case.public_id}/andra/")
    target = page.locator("[name='goals-1-target_on']")
    before = target.input_value()
    later = datetime.date.fromisoformat(before) + datetime.timedelta(weeks=3)
    target.fill(later.isoformat())
    shot(page, "plan-revise")
    page.get_by_role("button", name="Spara planen").click()
    page.wait_for_load_state()
    shot(page, "plan-saved")
    planned.plan.refresh_from_db()
    assert planned.plan.version == 2
    goal = planned.plan.goals.get(text="Äter lunch i skolan")
    assert goal.target_on == later
    page.goto(f"{base}/elever/arende/{planned.case.public_id}/")
    chronology = page.locator("main").inner_text()
    assert f"{before} → {later.isoformat()}" in chronology
    shot(page, "plan-revised-chronology")
