"""Meetings from the schedule (idempotent), moved and cancelled; the agenda's order (grades
F–6 first when the policy says so), its notice once per meeting, and its pages."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from cases import workflow
from referrals import forum_selectors as selectors
from referrals import forum_services as services
from referrals.models import ForumMeeting, MeetingState, ReferralState

from ..conftest import verified_login
from .forum_support import forum_world, make_referral, meeting_at, second_student


@pytest.fixture
def fw(world):
    return forum_world(world)


def test_planning_follows_the_rule_and_is_idempotent(fw):
    today = datetime.date(2026, 9, 1)
    until = datetime.date(2026, 12, 31)
    first = services.forum_plan_meetings(forum=fw.forum_n, until=until, today=today)
    days = [timezone.localtime(m.starts_at).date() for m in first]
    # The first Wednesday of each month, at 13:00.
    assert days == [
        datetime.date(2026, 9, 2),
        datetime.date(2026, 10, 7),
        datetime.date(2026, 11, 4),
        datetime.date(2026, 12, 2),
    ]
    assert all(timezone.localtime(m.starts_at).time() == datetime.time(13, 0) for m in first)
    assert services.forum_plan_meetings(forum=fw.forum_n, until=until, today=today) == []
    # A moved meeting is not planned again on its old day.
    october = first[1]
    services.meeting_move(
        meeting=october,
        starts_at=october.starts_at + datetime.timedelta(days=1),
        location="",
        reason="Höstlov",
        version=october.version,
        by=fw.member_n,
    )
    assert services.forum_plan_meetings(forum=fw.forum_n, until=until, today=today) == []
    assert ForumMeeting.objects.filter(forum=fw.forum_n, from_schedule=True).count() == 4


def test_weekly_and_fortnightly_rules(fw):
    fw.forum_s.frequency = "weekly"
    fw.forum_s.weekday = 0
    dates = services.schedule_dates(
        fw.forum_s, datetime.date(2026, 9, 1), datetime.date(2026, 9, 30)
    )
    assert [d.day for d in dates] == [7, 14, 21, 28]
    fw.forum_s.frequency = "fortnightly"
    dates = services.schedule_dates(
        fw.forum_s, datetime.date(2026, 9, 1), datetime.date(2026, 9, 30)
    )
    assert len(dates) == 2 and (dates[1] - dates[0]).days == 14


def test_a_stale_move_is_refused(fw):
    meeting = meeting_at(fw.forum_n, timezone.now() + datetime.timedelta(days=10))
    version = meeting.version
    services.meeting_move(
        meeting=meeting,
        starts_at=meeting.starts_at + datetime.timedelta(hours=1),
        location="",
        reason="Krock",
        version=version,
        by=fw.coordinator_n,
    )
    with pytest.raises(workflow.ConcurrentChange):
        services.meeting_move(
            meeting=meeting,
            starts_at=meeting.starts_at + datetime.timedelta(hours=2),
            location="",
            reason="Krock igen",
            version=version,
            by=fw.member_n,
        )


def test_cancelling_sends_the_referrals_back_to_wait(fw):
    meeting = meeting_at(fw.forum_n, timezone.now() + datetime.timedelta(days=10))
    referral = make_referral(fw.world.student_a1, fw.forum_n)
    services.meeting_prepare_agenda(meeting=meeting, by=fw.member_n)
    referral.refresh_from_db()
    assert referral.state == ReferralState.ON_AGENDA and referral.meeting == meeting
    with pytest.raises(ValidationError):
        services.meeting_cancel(meeting=meeting, reason="", version=meeting.version, by=fw.member_n)
    services.meeting_cancel(
        meeting=meeting, reason="För få ledamöter", version=meeting.version, by=fw.member_n
    )
    referral.refresh_from_db()
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CANCELLED
    assert referral.state == ReferralState.SUBMITTED and referral.meeting is None
    later = meeting_at(fw.forum_n, timezone.now() + datetime.timedelta(days=20))
    assert list(selectors.agenda_candidates(later)) == [referral]


def test_agenda_order_and_the_notice_once(fw, django_capture_on_commit_callbacks):
    now = timezone.now()
    meeting = meeting_at(fw.forum_n, now + datetime.timedelta(days=1))  # closed yesterday
    older = make_referral(
        fw.world.student_a1, fw.forum_n, submitted=now - datetime.timedelta(days=9)
    )
    younger_grade = make_referral(
        second_student(fw), fw.forum_n, submitted=now - datetime.timedelta(days=5), grade="4"
    )
    too_late = make_referral(second_student(fw), fw.forum_n, submitted=now)
    other_forum = make_referral(fw.world.student_b1, fw.forum_s)
    assert list(selectors.agenda_of(meeting)) == [older, younger_grade]
    fw.policy.younger_grades_first = True
    fw.policy.save(update_fields=["younger_grades_first"])
    assert list(selectors.agenda_of(meeting)) == [younger_grade, older]

    with django_capture_on_commit_callbacks(execute=True):
        placed = services.meeting_prepare_agenda(meeting=meeting, by=fw.coordinator_n)
    assert placed == [younger_grade, older]
    assert [m.subject for m in mail.outbox] == [
        gettext("An agenda for the referral forum is ready")
    ]
    assert mail.outbox[0].to == ["forum_n@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.meeting_prepare_agenda(meeting=meeting, by=fw.member_n) == []
    assert len(mail.outbox) == 1
    too_late.refresh_from_db()
    other_forum.refresh_from_db()
    assert too_late.state == other_forum.state == ReferralState.SUBMITTED


def test_the_task_prepares_closed_agendas_once(fw):
    meeting = meeting_at(fw.forum_n, timezone.now() + datetime.timedelta(days=1))
    make_referral(fw.world.student_a1, fw.forum_n)
    assert services.agendas_prepare_due() == 1
    assert services.agendas_prepare_due() == 0
    meeting.refresh_from_db()
    assert meeting.agenda_sent_at is not None


def test_meeting_pages_role_matrix(client, fw):
    meeting = fw.meeting
    urls = [
        reverse("referrals:meeting_list"),
        reverse("referrals:meeting_detail", args=[meeting.public_id]),
        reverse("referrals:meeting_move", args=[meeting.public_id]),
        reverse("referrals:meeting_cancel", args=[meeting.public_id]),
        reverse("referrals:meeting_add"),
    ]
    w = fw.world
    for user in (fw.member_n, fw.coordinator_n):
        verified_login(client, user)
        for url in urls:
            assert client.get(url).status_code == 200, (user, url)
    outsiders = (
        w.mentor_a1,
        w.counsellor_a,
        w.principal_a,
        w.nurse_a,
        w.social_worker_n,
        w.manager_m,
        w.admin_m,
        w.counsellor_b,
        w.nobody,
    )
    for user in outsiders:
        verified_login(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    # Another district's member does not reach this forum's meeting.
    verified_login(client, fw.member_s)
    assert client.get(urls[1]).status_code == 404
    assert client.post(urls[3], {"reason": "x", "version": meeting.version}).status_code == 404


def test_the_agenda_page_runs_a_constant_number_of_queries(
    client, fw, django_assert_max_num_queries
):
    verified_login(client, fw.member_n)
    url = reverse("referrals:meeting_detail", args=[fw.meeting.public_id])
    make_referral(
        fw.world.student_a1, fw.forum_n, state=ReferralState.ON_AGENDA, meeting=fw.meeting
    )
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for _ in range(5):
        make_referral(
            second_student(fw), fw.forum_n, state=ReferralState.ON_AGENDA, meeting=fw.meeting
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("agenda-item") == 6


def test_prepare_move_and_cancel_through_the_pages(client, fw, django_capture_on_commit_callbacks):
    meeting = meeting_at(fw.forum_n, timezone.now() + datetime.timedelta(days=1))
    referral = make_referral(fw.world.student_a1, fw.forum_n)
    verified_login(client, fw.coordinator_n)
    prepare = reverse("referrals:meeting_prepare", args=[meeting.public_id])
    assert client.get(prepare).status_code == 405  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(prepare).status_code == 302
    referral.refresh_from_db()
    assert referral.meeting == meeting
    page = client.get(reverse("referrals:meeting_detail", args=[meeting.public_id]))
    assert referral.number in page.content.decode()

    move = reverse("referrals:meeting_move", args=[meeting.public_id])
    day = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = client.post(
        move, {"day": day, "time": "09:30", "location": "", "reason": "", "version": 1}
    )
    assert response.status_code == 200  # the reason is missing
    meeting.refresh_from_db()
    response = client.post(
        move,
        {
            "day": day,
            "time": "09:30",
            "location": "",
            "reason": "Krock",
            "version": meeting.version,
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert timezone.localtime(meeting.starts_at).time() == datetime.time(9, 30)

    cancel = reverse("referrals:meeting_cancel", args=[meeting.public_id])
    stale = client.post(cancel, {"reason": "Sjukdom", "version": meeting.version - 1})
    assert stale.status_code == 200
    assert "Någon annan" in stale.content.decode() or "Someone else" in stale.content.decode()
    response = client.post(cancel, {"reason": "Sjukdom", "version": meeting.version})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == ReferralState.SUBMITTED and referral.meeting is None
