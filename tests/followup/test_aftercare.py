"""After-care: the checks at 3 and 6 months are scheduled at closure on school days, show
on the school's desks when due, record the absence since closure from data with its
period, send one content-free notice each; a re-referral opens a new case linked to the old."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from attendance.calendar import is_school_day
from cases.models import Case, ClosureReason
from followup import absence, closure_services
from followup import aftercare_services as services
from followup.models import AfterCareCheck, Satisfied
from followup.tasks import notify_aftercare_due

from ..attendance.lessons import INVALID, school_day
from ..conftest import verified_login
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
SCHOOL = {"principal_a", "counsellor_a", "nurse_a"}


def _at(day: str, hour: int = 10):
    return time_machine.travel(
        datetime.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00"), tick=False
    )


@pytest.fixture
def closed(world):
    with time_machine.travel(NOW, tick=False):
        worked = worked_case(world)
        return closure_services.closure_record(
            case=worked.case,
            by=world.social_worker_n,
            reason=ClosureReason.GOALS_MET,
            goals_met=Satisfied.YES,
        ).closure


def test_checks_at_three_and_six_months_land_on_school_days(closed, world):
    checks = list(AfterCareCheck.objects.filter(case=closed.case).order_by("months_after"))
    assert [c.months_after for c in checks] == [3, 6]
    mid = world.municipality.pk
    for check, nominal in zip(
        checks, (datetime.date(2027, 2, 20), datetime.date(2027, 5, 20)), strict=True
    ):
        assert is_school_day(mid, check.due_on)
        assert check.due_on >= nominal
        day = nominal
        while day < check.due_on:
            assert not is_school_day(mid, day)
            day += datetime.timedelta(days=1)
    # 20 February 2027 is a Saturday: the check moves to a school day after it.
    assert checks[0].due_on > datetime.date(2027, 2, 20)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert services.add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)
    assert services.add_months(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)
    assert services.add_months(datetime.date(2026, 10, 15), 3) == datetime.date(2027, 1, 15)


def test_the_check_appears_on_the_school_desk_three_months_later(client, closed, world):
    check = AfterCareCheck.objects.get(case=closed.case, months_after=3)
    url = reverse("followup:aftercare_record", args=[check.public_id])
    with _at("2027-01-15"):
        verified_login(client, world.counsellor_a)
        assert url not in client.get(reverse("sst:desk")).content.decode()
    seen = check.due_on - datetime.timedelta(days=3)
    with _at(seen.isoformat()):
        verified_login(client, world.counsellor_a)
        page = client.get(reverse("sst:desk"))
        assert url in page.content.decode()
        assert sv("After-care checks due") in text(page)
        client.logout()
        verified_login(client, world.social_worker_n)
        assert url not in client.get(reverse("sst:desk")).content.decode()


@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_record_a_check(client, closed, world, who):
    check = AfterCareCheck.objects.get(case=closed.case, months_after=3)
    verified_login(client, getattr(world, who))
    response = client.get(reverse("followup:aftercare_record", args=[check.public_id]))
    assert response.status_code == (200 if who in SCHOOL else 404), who


def test_recording_keeps_the_absence_since_closure_with_its_period(client, closed, world):
    student = closed.case.student
    for day in ("2026-12-01", "2026-12-02", "2027-01-12", "2027-02-09"):
        school_day(student, day, lessons=2, kind=INVALID, absent_lessons=1)
    check = AfterCareCheck.objects.get(case=closed.case, months_after=3)
    url = reverse("followup:aftercare_record", args=[check.public_id])
    with _at(check.due_on.isoformat()):
        verified_login(client, world.counsellor_a)
        page = text(client.get(url))
        period = f"{closed.closed_on:%Y-%m-%d} – {check.due_on:%Y-%m-%d}"
        assert period in page
        assert "240 " in page and "480 " in page  # absent of scheduled minutes
        response = client.post(url, {"comment": "Går bra, full närvaro.", "passing_grades": "yes"})
        assert response.status_code == 302
    check.refresh_from_db()
    expected = absence.measure(student, closed.closed_on, check.due_on)
    assert (check.period_start, check.period_end) == (closed.closed_on, check.due_on)
    assert (check.scheduled_min, check.invalid_min) == (expected.scheduled_min, 240)
    assert check.passing_grades is True and check.done_by == world.counsellor_a
    assert check.done_on == check.due_on
    # Done: off the desk; the case page shows it.
    with _at(check.due_on.isoformat()):
        assert url not in client.get(reverse("sst:desk")).content.decode()
        case_page = text(client.get(reverse("cases:case_detail", args=[closed.case.public_id])))
        assert "Går bra, full närvaro." in case_page


def test_a_comment_is_needed(client, closed, world):
    check = AfterCareCheck.objects.get(case=closed.case, months_after=3)
    verified_login(client, world.counsellor_a)
    response = client.post(
        reverse("followup:aftercare_record", args=[check.public_id]), {"comment": " "}
    )
    assert response.status_code == 200
    check.refresh_from_db()
    assert check.done_on is None


def test_one_content_free_notice_per_check_when_due(
    closed, world, django_capture_on_commit_callbacks
):
    for person in (world.counsellor_a, world.principal_a, world.social_worker_n):
        person.email = f"{person.username}@skola.example"
        person.save(update_fields=["email"])
    check = AfterCareCheck.objects.get(case=closed.case, months_after=3)
    with _at((check.due_on - datetime.timedelta(days=1)).isoformat()):
        assert notify_aftercare_due() == 0
    with _at(check.due_on.isoformat()), django_capture_on_commit_callbacks(execute=True):
        assert notify_aftercare_due() == 1
        assert notify_aftercare_due() == 0
    recipients = {address for message in mail.outbox for address in message.to}
    assert world.counsellor_a.email in recipients
    assert world.social_worker_n.email not in recipients
    for message in mail.outbox:
        assert closed.case.student.last_name not in message.body + message.subject
    check.refresh_from_db()
    assert check.due_notice_at is not None


def test_a_re_referral_opens_a_new_case_linked_to_the_old(client, closed, world):
    check = AfterCareCheck.objects.get(case=closed.case, months_after=3)
    student = closed.case.student
    with _at(check.due_on.isoformat()):
        verified_login(client, world.counsellor_a)
        page = client.get(reverse("followup:aftercare_record", args=[check.public_id]))
        assert reverse("cases:student_detail", args=[student.public_id]) in page.content.decode()
        response = client.post(
            reverse("cases:case_open", args=[student.public_id]), {"opening": "eht"}
        )
        assert response.status_code == 302
        new = Case.objects.exclude(pk=closed.case.pk).get(student=student)
        assert new.previous_case_id == closed.case.pk
        new_page = client.get(reverse("cases:case_detail", args=[new.public_id]))
        assert reverse("cases:case_detail", args=[closed.case.public_id]) in (
            new_page.content.decode()
        )
        old_page = client.get(reverse("cases:case_detail", args=[closed.case.public_id]))
        assert reverse("cases:case_detail", args=[new.public_id]) in old_page.content.decode()
        again = client.get(reverse("followup:aftercare_record", args=[check.public_id]))
        assert reverse("cases:case_detail", args=[new.public_id]) in again.content.decode()
