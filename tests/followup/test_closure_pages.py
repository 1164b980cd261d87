"""The closing page and the closure record, both ways: who may close a team case (the
school's case staff, the assigned social worker while the consent covers the case), and
after closure the social worker reads only the closure record they wrote."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import NoReverseMatch, reverse

from cases.models import CaseState, ClosureReason
from followup import closure_services as services
from followup.models import Closure, Satisfied, SurveyLink
from referrals import consent as consent_rule
from sst import access
from sst.models import AuditEvent, Role

from ..conftest import verified_login
from ..factories import UserFactory, grant
from ..privacy import find_personnummer
from .closure_setup import NOW, sv, text, worked_case

pytestmark = pytest.mark.django_db

EVERYONE = [
    "principal_a",
    "counsellor_a",
    "nurse_a",
    "mentor_a1",
    "social_worker_n",
    "referral_forum_n",
    "manager_m",
    "admin_m",
    "counsellor_b",
    "nobody",
]
CLOSERS = {"principal_a", "counsellor_a", "nurse_a", "social_worker_n"}
SCHOOL = {"principal_a", "counsellor_a", "nurse_a"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _close(world, worked, by, **extra):
    data = {
        "case": worked.case,
        "by": by,
        "reason": ClosureReason.GOALS_MET,
        "goals_met": Satisfied.YES,
        "summary": "Alva går i skolan igen.",
        **extra,
    }
    return services.closure_record(**data)


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_open_the_closing_page(client, world, who):
    worked = worked_case(world)
    verified_login(client, getattr(world, who))
    response = client.get(reverse("followup:closure_create", args=[worked.case.public_id]))
    assert response.status_code == (200 if who in CLOSERS else 404), who
    if who in CLOSERS:
        page = text(response)
        # Both periods are named before anything is saved.
        assert "2026-04-01 – 2026-05-31" in page and "2026-09-01 – 2026-10-31" in page


def test_the_case_page_close_step_leads_to_the_closing_page(client, world):
    worked = worked_case(world, state=CaseState.MAINTENANCE)
    verified_login(client, world.counsellor_a)
    step = reverse("cases:case_transition", args=[worked.case.public_id, "avsluta"])
    closing = reverse("followup:closure_create", args=[worked.case.public_id])
    page = client.get(reverse("cases:case_detail", args=[worked.case.public_id]))
    assert f'href="{step}"' in page.content.decode()
    response = client.get(step)
    assert response.status_code == 302 and response["Location"] == closing
    # A post from an old page with the simple form goes there too, and closes nothing.
    response = client.post(step, {"version": 1, "reason": "goals_met", "confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == closing
    worked.case.refresh_from_db()
    assert worked.case.state == CaseState.MAINTENANCE


def test_a_case_the_team_has_not_taken_keeps_the_simple_closure(client, world):
    worked = worked_case(world)
    worked.case.__class__.objects.filter(pk=worked.case.pk).update(state=CaseState.REFERRED)
    verified_login(client, world.counsellor_a)
    step = reverse("cases:case_transition", args=[worked.case.public_id, "avsluta"])
    assert client.get(step).status_code == 200  # the confirmation page
    response = client.get(reverse("followup:closure_create", args=[worked.case.public_id]))
    assert response.status_code == 302


def test_the_social_worker_closes_and_then_reads_only_the_closure_record(client, world):
    worked = worked_case(world)
    case = worked.case
    verified_login(client, world.social_worker_n)
    response = client.post(
        reverse("followup:closure_create", args=[case.public_id]),
        {
            "version": case.version,
            "reason": ClosureReason.OTHER_SUPPORT,
            "detail": "BUP",
            "goals_met": Satisfied.PARTLY,
            "summary": "Vidare till BUP.",
            "student_satisfied": "4",
            "student_helped": "4",
            "student_listened_to": "5",
        },
    )
    closure = Closure.objects.get(case=case)
    detail = reverse("followup:closure_detail", args=[closure.public_id])
    assert response.status_code == 302 and response["Location"] == detail
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and closure.closed_by == world.social_worker_n
    # The consent rule needs an open case: the social worker no longer reads the case.
    assert not consent_rule.consent_valid(case)
    assert not access.cases_visible_to(world.social_worker_n).filter(pk=case.pk).exists()
    assert client.get(reverse("cases:case_detail", args=[case.public_id])).status_code == 404
    try:
        plan_url = reverse("actionplans:plan_detail", args=[worked.plan.public_id])
    except NoReverseMatch:
        plan_url = None
    if plan_url:
        assert client.get(plan_url).status_code == 404
    # …but the closure record they wrote, without the student's name or personnummer.
    response = client.get(detail)
    assert response.status_code == 200
    page = response.content.decode()
    student = case.student
    assert student.first_name not in page and student.last_name not in page
    assert not find_personnummer(page)
    assert world.school_a.name not in page
    shown = text(response)
    assert f"{sv('Needs other support')} – BUP" in shown
    assert "2026-04-01 – 2026-05-31" in shown and "2026-09-01 – 2026-10-31" in shown
    assert sv("Partly") in shown


def test_the_school_reads_the_closure_on_the_case_page(client, world):
    worked = worked_case(world)
    closure = _close(world, worked, world.counsellor_a).closure
    verified_login(client, world.principal_a)
    page = text(client.get(reverse("cases:case_detail", args=[worked.case.public_id])))
    assert sv("Closure and after-care") in page
    assert "2026-09-01 – 2026-10-31" in page
    assert (
        client.get(reverse("followup:closure_detail", args=[closure.public_id])).status_code == 200
    )


@pytest.mark.parametrize("who", EVERYONE)
def test_who_reads_a_closure_record(client, world, who):
    worked = worked_case(world)
    closure = _close(world, worked, world.social_worker_n).closure
    verified_login(client, getattr(world, who))
    url = reverse("followup:closure_detail", args=[closure.public_id])
    allowed = SCHOOL | {"social_worker_n"}
    assert client.get(url).status_code == (200 if who in allowed else 404), who
    for name in ("followup:survey_meeting", "followup:survey_link_create"):
        response = client.get(reverse(name, args=[closure.public_id]))
        assert response.status_code == (200 if who in allowed else 404), (name, who)
    if who not in allowed:
        assert AuditEvent.objects.filter(
            action="access_denied", object_type="closure", object_id=str(closure.public_id)
        ).exists()


def test_another_social_worker_does_not_read_it(client, world):
    worked = worked_case(world)
    closure = _close(world, worked, world.social_worker_n).closure
    other = UserFactory(username="social_worker_2")
    grant(other, Role.SOCIAL_WORKER, world.district_n)
    verified_login(client, other)
    assert client.get(reverse("followup:closure_detail", args=[closure.public_id])).status_code == (
        404
    )


def test_links_made_at_closing_are_shown_once(client, world):
    worked = worked_case(world)
    verified_login(client, world.counsellor_a)
    response = client.post(
        reverse("followup:closure_create", args=[worked.case.public_id]),
        {
            "version": worked.case.version,
            "reason": ClosureReason.GOALS_MET,
            "goals_met": Satisfied.YES,
            "links": ["student", "guardian"],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    closure = Closure.objects.get(case=worked.case)
    assert SurveyLink.objects.filter(closure=closure).count() == 2
    shown = [url for url in page.split('value="')[1:] if "/enkat/" in url.split('"')[0]]
    assert len(shown) == 2
    # The page after shows no token: only the hash is kept.
    detail = client.get(reverse("followup:closure_detail", args=[closure.public_id]))
    assert "testserver/enkat/" not in detail.content.decode()
    assert "testserver/enkat/" in page


def test_the_form_asks_what_is_missing(client, world):
    worked = worked_case(world)
    verified_login(client, world.counsellor_a)
    response = client.post(
        reverse("followup:closure_create", args=[worked.case.public_id]),
        {
            "version": worked.case.version,
            "reason": ClosureReason.OTHER,
            "student_satisfied": "3",
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert sv("Say whether the plan's goals were met.") in page
    assert sv("Answer all three questions, or leave all three empty.") in page
    worked.case.refresh_from_db()
    assert worked.case.state == CaseState.IMPLEMENTATION
