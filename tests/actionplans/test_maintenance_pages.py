"""The maintenance pages both ways: the school's case staff and the assigned social worker
under a consent read and write the plan; everyone else (the social worker without a consent,
school B, a mentor, a manager) gets 404. The case-page section, the "moved to a school day"
message, the conflict page and the desk panel with a constant number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actionplans import maintenance_services as services
from actionplans import maintenance_views as views
from actionplans.models import BoosterMeeting, MaintenancePlan
from attendance import calendar
from cases import workflow
from cases.models import CaseState
from referrals.models import ConsentGiving

from ..clock import pinned_clock
from ..conftest import verified_login
from ..factories import StudentFactory
from .test_maintenance import at, case_in_implementation, plan_for

# Before the December days the booster tests travel to, so the consent is already given then.
_clock = pinned_clock(datetime.date(2026, 11, 18))

pytestmark = pytest.mark.django_db

EVERYONE = [
    "principal_a",
    "counsellor_a",
    "nurse_a",
    "mentor_a1",
    "social_worker_n",
    "referral_forum_n",
    "manager_m",
    "manager_a",
    "admin_m",
    "counsellor_b",
    "nobody",
]
WRITERS = {"principal_a", "counsellor_a", "nurse_a", "social_worker_n"}


def _urls(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    booster = BoosterMeeting.objects.create(
        maintenance=plan, planned_on=timezone.localdate() + datetime.timedelta(days=3)
    )
    return team, {
        "edit": reverse("actionplans:maintenance_edit", args=[team.case.public_id]),
        "booster_add": reverse("actionplans:booster_add", args=[team.case.public_id]),
        "booster_update": reverse("actionplans:booster_update", args=[booster.public_id]),
    }


@pytest.mark.parametrize("who", EVERYONE)
def test_role_matrix(client, world, who):
    _team, urls = _urls(world)
    verified_login(client, getattr(world, who))
    for name, url in urls.items():
        expected = 200 if who in WRITERS else 404
        assert client.get(url).status_code == expected, (name, who)


@pytest.mark.parametrize("who", sorted(set(EVERYONE) - WRITERS))
def test_nobody_else_can_post(client, world, who):
    team, urls = _urls(world)
    verified_login(client, getattr(world, who))
    response = client.post(urls["edit"], {"contact": "Hackat", "notes": "", "version": 1})
    assert response.status_code == 404
    response = client.post(urls["booster_update"], {"action": "cancel"})
    assert response.status_code == 404
    assert MaintenancePlan.objects.get(case=team.case).contact != "Hackat"
    assert not BoosterMeeting.objects.filter(cancelled=True).exists()


def test_the_social_worker_without_a_consent_gets_404_and_with_a_withdrawn_one_too(client, world):
    team = case_in_implementation(world, consent=False)
    plan_for(world, team.case)
    client.force_login(world.social_worker_n)
    url = reverse("actionplans:maintenance_edit", args=[team.case.public_id])
    assert client.get(url).status_code == 404
    from ..referrals.consent_setup import valid_consent

    consent = valid_consent(world, team.case)
    assert client.get(url).status_code == 200
    ConsentGiving.objects.filter(consent=consent).update(withdrawn_on=timezone.localdate())
    assert client.get(url).status_code == 404


def test_school_b_gets_404(client, world):
    team = case_in_implementation(world)
    plan_for(world, team.case)
    client.force_login(world.counsellor_b)
    assert (
        client.get(reverse("actionplans:maintenance_edit", args=[team.case.public_id])).status_code
        == 404
    )


def test_make_the_plan_then_move_to_maintenance_the_case_page_says_so(client, world):
    team = case_in_implementation(world)
    client.force_login(world.social_worker_n)
    url = reverse("actionplans:maintenance_edit", args=[team.case.public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, {"contact": "Ett samtal varannan vecka", "notes": "", "version": 0})
    assert response.status_code == 302
    assert MaintenancePlan.objects.get(case=team.case).made_by == world.social_worker_n
    workflow.case_enter_maintenance(case=team.case, by=world.social_worker_n)
    page = client.get(reverse("cases:case_detail", args=[team.case.public_id]))
    body = page.content.decode()
    assert 'id="maintenance-heading"' in body
    assert "Ett samtal varannan vecka" in body
    assert str(CaseState.MAINTENANCE.label) in body or "Vidmakthållande" in body


def test_the_enter_maintenance_button_appears_once_the_plan_exists(client, world):
    team = case_in_implementation(world)
    client.force_login(world.social_worker_n)
    case_url = reverse("cases:case_detail", args=[team.case.public_id])
    before = client.get(case_url).content.decode()
    assert "transition-enter_maintenance" not in before
    plan_for(world, team.case)
    after = client.get(case_url).content.decode()
    assert "transition-enter_maintenance" in after


def test_a_booster_booked_on_a_holiday_says_it_moved(client, world):
    team = case_in_implementation(world)
    plan_for(world, team.case)
    christmas = datetime.date(2026, 12, 25)
    with at(datetime.date(2026, 12, 1)):
        client.force_login(world.counsellor_a)
        response = client.post(
            reverse("actionplans:booster_add", args=[team.case.public_id]),
            {"planned_on": christmas.isoformat(), "note": ""},
            follow=True,
        )
    body = response.content.decode()
    landed = calendar.school_day_on_or_after(team.case.school.district.municipality_id, christmas)
    assert landed.isoformat() in body and christmas.isoformat() in body
    assert BoosterMeeting.objects.get().planned_on == landed


def test_the_booster_page_moves_records_and_cancels(client, world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    with at(datetime.date(2026, 12, 1)):
        client.force_login(world.counsellor_a)
        booster = services.booster_add(
            maintenance=plan, planned_on=datetime.date(2026, 12, 2), by=world.counsellor_a
        )
        url = reverse("actionplans:booster_update", args=[booster.public_id])
        assert client.get(url).status_code == 200
        client.post(url, {"action": "move", "planned_on": "2026-12-05"})  # a Saturday
        booster.refresh_from_db()
        assert booster.planned_on == datetime.date(2026, 12, 7)
    with at(datetime.date(2026, 12, 7), hour=16):
        client.force_login(world.counsellor_a)
        client.post(url, {"action": "held", "held-held_on": "2026-12-07", "held-note": "Bra"})
    booster.refresh_from_db()
    assert booster.held_on == datetime.date(2026, 12, 7) and booster.note == "Bra"


def test_a_conflict_shows_both_versions(client, world):
    team = case_in_implementation(world)
    plan_for(world, team.case)
    services.maintenance_plan_save(
        case=team.case, by=world.social_worker_n, base_version=1, contact="Socialsekreterarens"
    )
    client.force_login(world.counsellor_a)
    url = reverse("actionplans:maintenance_edit", args=[team.case.public_id])
    response = client.post(url, {"contact": "Kuratorns", "notes": "", "version": 1})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Socialsekreterarens" in body and "Kuratorns" in body
    assert 'class="border rounded p-2 h-100 conflict-theirs"' in body
    # Saving again knowingly replaces the other version.
    response = client.post(url, {"contact": "Kuratorns", "notes": "", "version": 2})
    assert response.status_code == 302
    assert MaintenancePlan.objects.get(case=team.case).contact == "Kuratorns"


# ---------------------------------------------------------------- the desk panel


def _panel(world, user):
    request = RequestFactory().get("/")
    request.user = user
    return views.boosters_panel(request)


def test_the_desk_lists_boosters_due_and_overdue_for_school_and_social_worker(client, world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    today = timezone.localdate()
    due = BoosterMeeting.objects.create(maintenance=plan, planned_on=today + datetime.timedelta(3))
    overdue = BoosterMeeting.objects.create(
        maintenance=plan, planned_on=today - datetime.timedelta(2)
    )
    BoosterMeeting.objects.create(maintenance=plan, planned_on=today + datetime.timedelta(30))
    BoosterMeeting.objects.create(maintenance=plan, planned_on=today, cancelled=True)
    for user in (world.counsellor_a, world.social_worker_n):
        _template, context = _panel(world, user)
        assert [b.pk for b in context["boosters"]] == [overdue.pk, due.pk]
    for user in (world.counsellor_b, world.mentor_a1, world.manager_m):
        assert _panel(world, user) is None
    client.force_login(world.principal_a)
    desk = client.get(reverse("sst:desk")).content.decode()
    assert "boosters-panel-heading" in desk and "Alva" in desk


def test_the_desk_panel_takes_the_same_queries_for_one_booster_or_many(world):
    today = timezone.localdate()
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    BoosterMeeting.objects.create(maintenance=plan, planned_on=today + datetime.timedelta(1))
    with CaptureQueriesContext(connection) as one:
        _template, context = _panel(world, world.counsellor_a)
    assert len(context["boosters"]) == 1
    for _ in range(4):
        other = case_in_implementation(
            world, student=StudentFactory(mentor_group=world.group_a1), consent=False
        )
        other_plan = plan_for(world, other.case)
        BoosterMeeting.objects.create(maintenance=other_plan, planned_on=today)
        BoosterMeeting.objects.create(
            maintenance=other_plan, planned_on=today - datetime.timedelta(1)
        )
    with CaptureQueriesContext(connection) as many:
        _template, context = _panel(world, world.counsellor_a)
    assert len(context["boosters"]) == 9
    assert len(many.captured_queries) == len(one.captured_queries)
