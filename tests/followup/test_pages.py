"""The follow-up pages, both ways: the school's case staff and the assigned social worker
(with a valid consent) read and write; every other role gets 404. What the forms do."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from followup import followup_services as services
from followup.models import Delivery, FollowUp, FollowUpAbsence, GoalReview

from ..conftest import verified_login
from .followup_setup import planned_case

pytestmark = pytest.mark.django_db

D = datetime.date
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
ALLOWED = {"principal_a", "counsellor_a", "nurse_a", "social_worker_n"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2027, 1, 20, 10, 0), tick=False):
        yield


def _urls(planned, followup):
    return {
        "record": reverse("followup:followup_record", args=[followup.public_id]),
        "move": reverse("followup:followup_move", args=[followup.public_id]),
        "book": reverse("followup:followup_book", args=[planned.case.public_id]),
        "checkoff": reverse("followup:checkoff", args=[planned.case.public_id]),
    }


@pytest.mark.parametrize("who", EVERYONE)
def test_role_matrix(client, world, who):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    verified_login(client, getattr(world, who))
    for name, url in _urls(planned, followup).items():
        expected = 200 if who in ALLOWED else 404
        assert client.get(url).status_code == expected, (name, who)


def test_the_social_worker_without_a_consent_gets_404(client, world):
    planned = planned_case(world, starts_on=D(2026, 11, 2), consent=False)
    followup = services.first_followup_book(planned.plan, world.principal_a)
    assert followup is not None
    verified_login(client, world.social_worker_n)
    for name, url in _urls(planned, followup).items():
        assert client.get(url).status_code == 404, name
        assert client.post(url, {}).status_code == 404, name
    assert FollowUp.objects.get(pk=followup.pk).version == 1


def test_school_b_cannot_post(client, world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    followup = services.first_followup_book(planned.plan, world.principal_a)
    assert followup is not None
    verified_login(client, world.counsellor_b)
    response = client.post(
        reverse("followup:followup_move", args=[followup.public_id]),
        {"version": 1, "action": "cancel", "reason": "x"},
    )
    assert response.status_code == 404
    assert not FollowUp.objects.get(pk=followup.pk).cancelled


def _record_post(planned, followup, **extra):
    data = {
        "version": followup.version,
        "held_on": "2027-01-15",
        "ors_individual": "6",
        "ors_interpersonal": "7",
        "ors_social": "5",
        "ors_overall": "8",
        "notes": "Bra samtal med familjen.",
        "book_next": "on",
        "next_on": "2027-02-19",
    }
    for goal in planned.goals:
        data[f"goal_{goal.pk}"] = "met"
        data[f"comment_{goal.pk}"] = "Går bättre"
    data.update(extra)
    return data


def test_record_through_the_page_and_read_it_back(client, world):
    planned = planned_case(world, starts_on=D(2026, 12, 7))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    verified_login(client, world.social_worker_n)
    url = reverse("followup:followup_record", args=[followup.public_id])
    page = client.get(url).content.decode()
    assert "Går till skolan varje morgon" in page
    # The absence so far, up to the day before the planned day, its period named.
    assert "2026-12-07 – 2027-01-10" in page
    response = client.post(url, _record_post(planned, followup))
    assert response.status_code == 302, response.content.decode()[:3000]
    followup.refresh_from_db()
    assert followup.held_on == D(2027, 1, 15) and followup.ors_total == 26
    assert GoalReview.objects.filter(followup=followup).count() == 2
    assert FollowUpAbsence.objects.filter(followup=followup).count() == 2
    assert FollowUp.objects.get(case=planned.case, number=2).planned_on == D(2027, 2, 19)
    page = client.get(url).content.decode()
    assert "2026-12-07 – 2027-01-14" in page and "26" in page
    case_page = client.get(reverse("cases:case_detail", args=[planned.case.public_id]))
    body = case_page.content.decode()
    assert 'id="followup-heading"' in body
    assert "ors-trend" in body


def test_a_concurrent_save_on_the_page_shows_the_conflict(client, world):
    planned = planned_case(world, starts_on=D(2026, 12, 7))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    stale = _record_post(planned, followup)
    services.followup_move(
        followup=followup,
        by=world.counsellor_a,
        base_version=1,
        planned_on=D(2027, 1, 22),
        reason="Krock med utvecklingssamtal",
    )
    verified_login(client, world.social_worker_n)
    url = reverse("followup:followup_record", args=[followup.public_id])
    response = client.post(url, stale, follow=True)
    assert response.status_code == 200
    assert "någon annan" in response.content.decode().lower() or "someone else" in (
        response.content.decode().lower()
    )
    followup.refresh_from_db()
    assert followup.held_on is None and not GoalReview.objects.exists()


def test_ors_partly_filled_is_refused_on_the_page(client, world):
    planned = planned_case(world, starts_on=D(2026, 12, 7))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    verified_login(client, world.counsellor_a)
    url = reverse("followup:followup_record", args=[followup.public_id])
    response = client.post(url, _record_post(planned, followup, ors_social="", ors_overall=""))
    assert response.status_code == 200
    followup.refresh_from_db()
    assert followup.held_on is None


def test_a_refused_next_date_is_explained_on_the_page(client, world):
    planned = planned_case(world, starts_on=D(2026, 12, 7))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    verified_login(client, world.counsellor_a)
    url = reverse("followup:followup_record", args=[followup.public_id])
    response = client.post(url, _record_post(planned, followup, next_on="2027-03-02"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "2027-03-08" in body  # the first school day after sportlov


def test_check_off_a_week_through_the_page(client, world):
    planned = planned_case(world, starts_on=D(2026, 12, 7))
    talk, mentor = planned.interventions
    verified_login(client, world.counsellor_a)
    url = reverse("followup:checkoff", args=[planned.case.public_id]) + "?vecka=2027-W02"
    page = client.get(url).content.decode()
    assert "Motiverande samtal" in page and "2027-01-11" in page
    data = {
        f"given_{talk.pk}": "yes",
        f"sessions_{talk.pk}": "2",
        f"minutes_{talk.pk}": "90",
        f"given_{mentor.pk}": "no",
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert Delivery.objects.filter(week=D(2027, 1, 11)).count() == 2
    # A week that has not begun is shown, not saved.
    future = reverse("followup:checkoff", args=[planned.case.public_id]) + "?vecka=2027-W05"
    assert client.post(future, data).status_code == 200
    assert Delivery.objects.count() == 2


def test_move_through_the_page(client, world):
    planned = planned_case(world, starts_on=D(2026, 12, 7))
    followup = services.first_followup_book(planned.plan, world.social_worker_n)
    assert followup is not None
    verified_login(client, world.principal_a)
    url = reverse("followup:followup_move", args=[followup.public_id])
    response = client.post(
        url, {"version": 1, "action": "move", "planned_on": "2027-02-01", "reason": "Sjuk"}
    )
    assert response.status_code == 302
    followup.refresh_from_db()
    assert followup.planned_on == D(2027, 2, 1)


def test_the_case_section_flags_overdue_and_shows_the_trends(client, world):
    planned = planned_case(world, starts_on=D(2026, 10, 1))
    first, second = (
        FollowUp.objects.create(
            case=planned.case,
            number=number,
            planned_on=day,
            held_on=day,
            ors_individual=score,
            ors_interpersonal=score,
            ors_social=score,
            ors_overall=score,
        )
        for number, day, score in ((1, D(2026, 11, 5), 4), (2, D(2026, 12, 10), 7))
    )
    goal = planned.goals[0]
    GoalReview.objects.create(followup=first, goal=goal, result="not_met")
    GoalReview.objects.create(followup=second, goal=goal, result="met")
    FollowUp.objects.create(case=planned.case, number=3, planned_on=D(2027, 1, 15))
    verified_login(client, world.principal_a)
    body = client.get(reverse("cases:case_detail", args=[planned.case.public_id])).content.decode()
    section = body[body.index('id="followup-heading"') :]
    assert "Försenad" in section  # the third, planned for a day that has passed
    assert "<polyline" in section and "ors-sparkline" in section
    trend = section[
        section.index("ors-trend") : section.index("</table>", section.index("ors-trend"))
    ]
    assert ">16<" in trend and ">28<" in trend
    results = section[section.index("goal-results") :]
    assert results.index("Inte uppnått") < results.index("Uppnått</td>")
    # The social worker reads the same section; a mentor never reaches the case page.
    verified_login(client, world.social_worker_n)
    page = client.get(reverse("cases:case_detail", args=[planned.case.public_id]))
    assert 'id="followup-heading"' in page.content.decode()
    verified_login(client, world.mentor_a1)
    assert (
        client.get(reverse("cases:case_detail", args=[planned.case.public_id])).status_code == 404
    )
