"""The satisfaction survey's one-time link: shown once, only its hash kept; it works once
and until it expires; the page shows no personal data and the answer names no one."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from cases.models import ClosureReason
from followup import closure_services, survey_services
from followup.models import Satisfied, SurveyAnswer, SurveyLink
from followup.survey_services import LinkGone, Scores

from ..conftest import verified_login
from ..privacy import find_personnummer
from .closure_setup import NOW, sv, text, worked_case

pytestmark = pytest.mark.django_db

ANSWER = {"satisfied": "4", "helped": "5", "listened_to": "3"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def closed(world):
    worked = worked_case(world)
    result = closure_services.closure_record(
        case=worked.case,
        by=world.counsellor_a,
        reason=ClosureReason.GOALS_MET,
        goals_met=Satisfied.YES,
        links=["student", "guardian"],
    )
    return result


def _url(token: str) -> str:
    return reverse("survey:answer", args=[token])


def test_only_the_hash_is_kept(closed):
    for respondent, token in closed.tokens.items():
        link = SurveyLink.objects.get(closure=closed.closure, respondent=respondent)
        assert link.token_hash == survey_services.token_hash(token) != token
        assert len(token) >= 43
        values = [str(getattr(link, f.attname)) for f in SurveyLink._meta.concrete_fields]
        assert not any(token in value for value in values)
        assert link.expires_at == NOW + datetime.timedelta(days=30)


def test_the_page_shows_no_personal_data_and_is_not_indexed(closed, world):
    client = Client()  # nobody signed in
    response = client.get(_url(closed.tokens["student"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="robots" content="noindex' in page
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["Referrer-Policy"] == "same-origin"
    case = closed.closure.case
    for personal in (
        case.student.first_name,
        case.student.last_name,
        world.guardian_a1.first_name,
        world.school_a.name,
        str(case.public_id),
        str(closed.closure.public_id),
    ):
        assert personal not in page
    assert not find_personnummer(page)
    assert sv("Did the support help you?") in text(response)
    guardian_page = text(client.get(_url(closed.tokens["guardian"])))
    assert sv("Did the support help your child?") in guardian_page


def test_an_answer_is_kept_without_identity(closed):
    client = Client()
    response = client.post(_url(closed.tokens["student"]), ANSWER)
    assert response.status_code == 200
    assert sv("Thank you for your answers") in text(response)
    answer = SurveyAnswer.objects.get()
    assert (answer.respondent, answer.channel) == ("student", "link")
    assert (answer.satisfied, answer.helped, answer.listened_to) == (4, 5, 3)
    assert answer.answered_week == datetime.date(2026, 11, 16)  # the Monday of the week
    # No link, no user, no time of day: nothing that tells who answered.
    related = {f.related_model for f in SurveyAnswer._meta.concrete_fields if f.is_relation}
    assert SurveyLink not in related
    assert all(model.__name__ == "Closure" for model in related)
    assert not any(
        f.get_internal_type() == "DateTimeField" for f in SurveyAnswer._meta.concrete_fields
    )
    link = SurveyLink.objects.get(closure=closed.closure, respondent="student")
    assert link.used_at is not None


def test_the_link_works_once(closed):
    client = Client()
    url = _url(closed.tokens["student"])
    assert client.post(url, ANSWER).status_code == 200
    again = client.post(url, ANSWER)
    assert again.status_code == 404
    assert sv("The link cannot be used any more") in text(again)
    assert client.get(url).status_code == 404
    assert SurveyAnswer.objects.count() == 1


def test_two_submits_at_once_answer_once(closed, monkeypatch):
    """Both requests found the link usable before either saved: the conditional UPDATE
    lets only one through."""
    token = closed.tokens["student"]
    found = survey_services.survey_link_find(token)
    monkeypatch.setattr(survey_services, "survey_link_find", lambda _token: found)
    scores = Scores("student", 4, 4, 4)
    survey_services.survey_answer_by_link(token=token, scores=scores)
    with pytest.raises(LinkGone):
        survey_services.survey_answer_by_link(token=token, scores=scores)
    assert SurveyAnswer.objects.count() == 1


def test_the_link_expires(closed):
    client = Client()
    url = _url(closed.tokens["student"])
    with time_machine.travel(NOW + datetime.timedelta(days=29, hours=23), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(NOW + datetime.timedelta(days=30, seconds=1), tick=False):
        response = client.get(url)
        assert response.status_code == 404
        assert client.post(url, ANSWER).status_code == 404
    assert not SurveyAnswer.objects.exists()


def test_unknown_used_and_expired_look_the_same(closed):
    client = Client()
    client.post(_url(closed.tokens["student"]), ANSWER)
    used = client.get(_url(closed.tokens["student"]))
    unknown = client.get(_url("x" * 43))
    too_long = client.get(_url("y" * 500))
    with time_machine.travel(NOW + datetime.timedelta(days=31), tick=False):
        expired = client.get(_url(closed.tokens["guardian"]))
    bodies = {text(r) for r in (used, unknown, too_long, expired)}
    assert len(bodies) == 1
    assert {r.status_code for r in (used, unknown, too_long, expired)} == {404}


def test_a_new_link_voids_the_old_unused_one(closed, client, world):
    verified_login(client, world.counsellor_a)
    old = closed.tokens["guardian"]
    response = client.post(
        reverse("followup:survey_link_create", args=[closed.closure.public_id]),
        {"respondent": "guardian"},
    )
    assert response.status_code == 200
    [new_url] = [
        part.split('"')[0]
        for part in response.content.decode().split('value="')[1:]
        if "/enkat/" in part.split('"')[0]
    ]
    anonymous = Client()
    assert anonymous.get(_url(old)).status_code == 404
    assert anonymous.get(new_url).status_code == 200
    # The student's link is untouched.
    assert anonymous.get(_url(closed.tokens["student"])).status_code == 200


def test_answers_at_the_meeting(closed, client, world):
    verified_login(client, world.counsellor_a)
    url = reverse("followup:survey_meeting", args=[closed.closure.public_id])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"guardian_satisfied": "5", "guardian_helped": "4", "guardian_listened_to": "5"}
    )
    assert response.status_code == 302
    answer = SurveyAnswer.objects.get()
    assert (answer.respondent, answer.channel, answer.helped) == ("guardian", "meeting", 4)
    detail = text(client.get(reverse("followup:closure_detail", args=[closed.closure.public_id])))
    assert "4,0" in detail or "4.0" in detail


def test_nothing_changes_on_get(closed):
    Client().get(_url(closed.tokens["student"]))
    assert SurveyLink.objects.filter(used_at__isnull=False).count() == 0
