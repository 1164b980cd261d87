"""The forum's test world: forums of districts N and S, their members, a coordinator, and
submitted referrals made directly (not through the referral part's services)."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from cases.models import Case, CaseOpening, CaseState
from referrals.models import (
    Forum,
    ForumMeeting,
    Frequency,
    Referral,
    ReferralState,
    TeamPolicy,
)
from sst.models import Role

from ..factories import StudentFactory, UserFactory, grant

_numbers = itertools.count(1)
# The absence of a referral as the referral part's ``absence_of`` stores it.
ABSENCE = [
    {
        "month": "2026-09-01",
        "start": "2026-09-01",
        "end": "2026-09-30",
        "scheduled_min": 6000,
        "total_pct": "31.5",
        "valid_pct": "10.0",
        "invalid_pct": "21.5",
    }
]


@dataclass
class ForumWorld:
    world: Any
    policy: TeamPolicy
    forum_n: Forum
    forum_s: Forum
    member_n: Any
    member_s: Any
    coordinator_n: Any
    social_worker_n: Any
    meeting: ForumMeeting  # today, already begun


def person(username: str, role: str, place: object) -> Any:
    user = UserFactory(username=username, email=f"{username}@example.com")
    grant(user, role, place)
    return user


def make_referral(
    student: Any,
    forum: Forum,
    *,
    submitted: datetime.datetime | None = None,
    state: str = ReferralState.SUBMITTED,
    grade: str | None = None,
    meeting: ForumMeeting | None = None,
    submitted_by: Any = None,
) -> Referral:
    """A submitted referral on an open case that the school has referred."""
    case = Case.objects.filter(
        student=student, state=CaseState.REFERRED
    ).first() or Case.objects.create(
        student=student,
        school=student.school,
        state=CaseState.REFERRED,
        opening=CaseOpening.PRINCIPAL,
    )
    submitted = submitted or timezone.now() - datetime.timedelta(days=10)
    return Referral.objects.create(
        number=f"T-{next(_numbers):04d}",
        case=case,
        forum=forum,
        state=state,
        school=student.school,
        grade=grade or student.grade,
        gender=student.gender,
        cause_student_view="Tycker att det är svårt att komma i tid på morgonen.",
        expected_help="Stöd i skolnärvaron och samverkan med hemmet.",
        absence=ABSENCE,
        submitted_at=submitted,
        submitted_by=submitted_by,
        meeting=meeting,
    )


def meeting_at(forum: Forum, when: datetime.datetime, **extra: Any) -> ForumMeeting:
    return ForumMeeting.objects.create(forum=forum, starts_at=when, location="Rum 1", **extra)


def forum_world(world: Any) -> ForumWorld:
    """Each test module's ``fw`` fixture: ``fw = pytest.fixture(...)`` over ``world``."""
    policy = TeamPolicy.objects.create(municipality=world.municipality)
    forum_n = Forum.objects.create(
        municipality=world.municipality,
        district=world.district_n,
        name="Remissforum Norra",
        frequency=Frequency.MONTHLY,
        weekday=2,
        week_of_month=1,
        starts_at=datetime.time(13, 0),
        location="Stadshuset",
    )
    forum_s = Forum.objects.create(
        municipality=world.municipality, district=world.district_s, name="Remissforum Södra"
    )
    world.referral_forum_n.email = "forum_n@example.com"
    world.referral_forum_n.save(update_fields=["email"])
    world.social_worker_n.email = "socionom_n@example.com"
    world.social_worker_n.save(update_fields=["email"])
    world.principal_a.email = "rektor_a@example.com"
    world.principal_a.save(update_fields=["email"])
    now = timezone.now()
    meeting = meeting_at(forum_n, now - datetime.timedelta(minutes=30), agenda_sent_at=now)
    return ForumWorld(
        world=world,
        policy=policy,
        forum_n=forum_n,
        forum_s=forum_s,
        member_n=world.referral_forum_n,
        member_s=person("member_s", Role.REFERRAL_FORUM, world.district_s),
        coordinator_n=person("coordinator_n", Role.COORDINATOR, world.district_n),
        social_worker_n=world.social_worker_n,
        meeting=meeting,
    )


def on_agenda(fw: ForumWorld, student: Any = None, **extra: Any) -> Referral:
    extra.setdefault("meeting", fw.meeting)
    return make_referral(
        student or fw.world.student_a1, fw.forum_n, state=ReferralState.ON_AGENDA, **extra
    )


def second_student(fw: ForumWorld, **extra: Any) -> Any:
    return StudentFactory(mentor_group=fw.world.group_a1, **extra)
