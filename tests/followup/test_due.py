"""Due and overdue follow-ups: the desk panel of the people responsible (one query budget
whatever the rows) and the content-free notices of the daily task, each sent once."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import RequestFactory, TestCase

from followup import followup_services as services
from followup import tasks
from followup.followup_views import followups_panel
from followup.models import FollowUp

from .followup_setup import planned_case

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2027, 1, 20)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime.datetime(2027, 1, 20, 10, 0), tick=False):
        yield


def _panel(user):
    request = RequestFactory().get("/")
    request.user = user
    return followups_panel(request)


def _book(planned, *days):
    return [
        FollowUp.objects.create(case=planned.case, number=n, planned_on=day)
        for n, day in enumerate(days, start=1)
    ]


def test_the_panel_lists_due_and_overdue_for_the_responsible(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    overdue, due, _later = _book(planned, D(2027, 1, 15), D(2027, 1, 25), D(2027, 2, 15))
    for who in ("social_worker_n", "principal_a", "counsellor_a"):
        result = _panel(getattr(world, who))
        assert result is not None, who
        rows = result[1]["rows"]
        assert [(f.pk, late) for f, late in rows] == [(overdue.pk, True), (due.pk, False)], who
    for who in ("nurse_a", "mentor_a1", "counsellor_b", "manager_m", "referral_forum_n"):
        assert _panel(getattr(world, who)) is None, who
    # Held and cancelled ones leave the desk.
    FollowUp.objects.filter(pk=overdue.pk).update(held_on=D(2027, 1, 15))
    FollowUp.objects.filter(pk=due.pk).update(cancelled=True)
    assert _panel(world.principal_a) is None


def test_the_social_worker_without_a_consent_sees_nothing(world):
    planned = planned_case(world, starts_on=D(2026, 11, 2), consent=False)
    _book(planned, D(2027, 1, 15))
    assert _panel(world.social_worker_n) is None
    assert _panel(world.principal_a) is not None


def test_the_panel_query_budget_does_not_grow_with_rows(world, django_assert_max_num_queries):
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    _book(planned, D(2027, 1, 15))
    with django_assert_max_num_queries(2):  # the list and its audit row
        assert len(_panel(world.social_worker_n)[1]["rows"]) == 1
    other = planned_case(world, starts_on=D(2026, 11, 2), student=world.student_a2, consent=False)
    FollowUp.objects.bulk_create(
        FollowUp(case=c, number=n, planned_on=D(2027, 1, 10) + datetime.timedelta(days=n))
        for c in (planned.case, other.case)
        for n in range(2, 8)
    )
    with django_assert_max_num_queries(2):
        result = _panel(world.principal_a)
        assert len(result[1]["rows"]) == 13
        # Rendering reads only what was fetched.
        for followup, _late in result[1]["rows"]:
            assert followup.case.student.full_name and followup.case.school.name


def _emails(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for user in (world.principal_a, world.counsellor_a, world.nurse_a, world.social_worker_n):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


def test_the_notices_go_once_and_name_no_one(world, settings):
    _emails(world, settings)
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    (followup,) = _book(planned, D(2027, 1, 25))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.notify_followups() == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.notify_followups() == 0  # run twice: nothing more
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == [
        "counsellor_a@example.org",
        "principal_a@example.org",
        "social_worker_n@example.org",
    ]
    for message in mail.outbox:
        text = message.subject + message.body
        assert "due" in message.subject.lower() or "dags" in message.subject.lower()
        assert "Alva" not in text and "Ekholmsson" not in text
        assert "/team/uppfoljning/" not in text  # the link is to the desk
    followup.refresh_from_db()
    assert followup.due_notice_at is not None and followup.overdue_notice_at is None

    # A week later it is overdue: one overdue notice, once.
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.notify_followups(today="2027-01-27") == 1
        assert tasks.notify_followups(today="2027-01-27") == 0
    assert len(mail.outbox) == 3
    assert all(
        "overdue" in m.subject.lower() or "försenad" in m.subject.lower() for m in mail.outbox
    )


def test_moving_starts_the_notices_over(world, settings):
    _emails(world, settings)
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    (followup,) = _book(planned, D(2027, 1, 22))
    with TestCase.captureOnCommitCallbacks(execute=True):
        tasks.notify_followups()
    followup.refresh_from_db()
    services.followup_move(
        followup=followup,
        by=world.counsellor_a,
        base_version=followup.version,
        planned_on=D(2027, 1, 26),
        reason="Sjukdom",
    )
    followup.refresh_from_db()
    assert followup.due_notice_at is None
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert tasks.notify_followups() == 1
    assert len(mail.outbox) == 3


def test_closed_cases_get_no_notice(world, settings):
    _emails(world, settings)
    planned = planned_case(world, starts_on=D(2026, 11, 2))
    _book(planned, D(2027, 1, 15))
    planned.case.state = "closed"
    planned.case.save(update_fields=["state"])
    assert tasks.notify_followups() == 0
