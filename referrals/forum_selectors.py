"""Reads of the forum's part: meetings, agendas, the queue, caseloads and lead times.

Everything starts from the access policy (``sst.access``): a forum is reached through the
capability its reader holds at the forum's place (the district, or the municipality for a
municipality-wide forum). What is shown is the anonymous referral only: no query here
follows a referral to its case's student.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from sst import access, audit
from sst.access import AnyUser, Capability
from sst.models import District, Municipality, School, User

from .models import (
    Assignment,
    Forum,
    ForumMeeting,
    ForumScope,
    MeetingState,
    Referral,
    ReferralState,
    TeamPolicy,
)
from .selectors import forums_of

YOUNGER_GRADES = ("F", "1", "2", "3", "4", "5", "6")
# Who reads a forum's meetings and agendas: its members, and the team's coordinators.
MEETING_READERS = (Capability.DECIDE_REFERRALS, Capability.COORDINATE)


def forum_place(forum: Forum) -> District | Municipality:
    """Where the forum's members hold the referral-forum role."""
    return forum.district if forum.district is not None else forum.municipality


def forum_for_school(school: School) -> Forum | None:
    """The forum that decides the school's referrals, by the municipality's policy."""
    municipality_id = school.district.municipality_id
    policy = TeamPolicy.objects.filter(municipality_id=municipality_id).first()
    municipal = policy is not None and policy.forum_scope == ForumScope.MUNICIPALITY
    forums = Forum.objects.filter(municipality_id=municipality_id)
    if municipal:
        return forums.filter(district__isnull=True).first()
    return (
        forums.filter(district_id=school.district_id).first()
        or forums.filter(district__isnull=True).first()
    )


def forum_members(forum: Forum) -> QuerySet[User]:
    return access.holders(Capability.DECIDE_REFERRALS, forum_place(forum))


def social_workers_for(school: School) -> QuerySet[User]:
    """Who may be assigned a referral of the school: social workers of its district."""
    return access.holders(Capability.SOCIAL_WORK, school.district)


def forums_readable_by(user: AnyUser) -> QuerySet[Forum]:
    """The forums whose meetings the user reads: as a member, or as a coordinator."""
    return Forum.objects.filter(
        Q(pk__in=forums_of(user, Capability.DECIDE_REFERRALS).values("pk"))
        | Q(pk__in=forums_of(user, Capability.COORDINATE).values("pk"))
    )


def meetings_of(user: AnyUser) -> QuerySet[ForumMeeting]:
    return ForumMeeting.objects.filter(forum__in=forums_readable_by(user)).select_related("forum")


def access_meeting(
    user: AnyUser,
    public_id: uuid.UUID | str,
    *,
    need: Iterable[Capability] = MEETING_READERS,
) -> tuple[ForumMeeting, access.Granted]:
    """The meeting and what the user holds at its forum's place, if the user holds one of
    ``need`` there; otherwise 404, the refusal audited."""
    try:
        meeting = ForumMeeting.objects.select_related(
            "forum__district", "forum__municipality", "minutes_approved_by"
        ).get(public_id=public_id)
    except (ForumMeeting.DoesNotExist, ValueError, ValidationError):
        raise access.refuse(user, audit.AuditObjectType.FORUM_MEETING, public_id) from None
    granted = access.capabilities_at(user, forum_place(meeting.forum))
    if not set(need) & granted:
        raise access.refuse(user, audit.AuditObjectType.FORUM_MEETING, public_id)
    return meeting, granted


def _agenda_order(forum: Forum, referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    policy = TeamPolicy.objects.filter(municipality_id=forum.municipality_id).first()
    if policy is not None and policy.younger_grades_first:
        referrals = referrals.annotate(
            younger_first=Case(
                When(grade__in=YOUNGER_GRADES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("younger_first", "submitted_at", "pk")
        return referrals
    return referrals.order_by("submitted_at", "pk")


def agenda_closes_at(meeting: ForumMeeting) -> datetime.datetime:
    return meeting.starts_at - datetime.timedelta(days=meeting.forum.agenda_closes_days_before)


def agenda_candidates(meeting: ForumMeeting) -> QuerySet[Referral]:
    """Submitted referrals not on any agenda that were in before the agenda closed."""
    return _agenda_order(
        meeting.forum,
        Referral.objects.filter(
            forum=meeting.forum,
            state=ReferralState.SUBMITTED,
            meeting__isnull=True,
            submitted_at__lte=agenda_closes_at(meeting),
        ),
    )


def agenda_of(meeting: ForumMeeting) -> QuerySet[Referral]:
    """The meeting's agenda: its referrals (decided or not), in the agenda's order; before
    the agenda is ready, also those that will be placed on it."""
    placed = Q(meeting=meeting)
    if meeting.state == MeetingState.PLANNED and meeting.agenda_sent_at is None:
        placed |= Q(pk__in=agenda_candidates(meeting).values("pk"))
    return _agenda_order(
        meeting.forum,
        Referral.objects.filter(placed)
        .exclude(state__in=[ReferralState.WITHDRAWN, ReferralState.DRAFT])
        .select_related("school", "decision"),
    )


def next_meeting(forum: Forum, *, now: datetime.datetime | None = None) -> ForumMeeting | None:
    """The forum's next meeting that is not cancelled (today's included)."""
    now = now or timezone.now()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        ForumMeeting.objects.filter(forum=forum, starts_at__gte=start_of_day)
        .exclude(state=MeetingState.CANCELLED)
        .order_by("starts_at")
        .first()
    )


# ---------------------------------------------------------------- the queue


def queue_of(user: AnyUser) -> QuerySet[Referral]:
    """Accepted referrals waiting for a social worker, for the coordinator: in the order
    the coordinator assigns them (rank, then when the forum decided)."""
    return (
        Referral.objects.filter(
            state=ReferralState.QUEUED,
            school__in=access.schools_where(user, Capability.COORDINATE),
        )
        .select_related("school", "forum")
        .order_by("forum_id", "queue_rank", "decided_at", "pk")
    )


def forum_queue(forum: Forum) -> list[Referral]:
    """One forum's queue, in order (the positions a move speaks of)."""
    return list(
        Referral.objects.filter(forum=forum, state=ReferralState.QUEUED).order_by(
            "queue_rank", "decided_at", "pk"
        )
    )


@dataclass(frozen=True)
class QueueRow:
    referral: Referral
    position: int
    days_waiting: int


def queue_rows(
    referrals: Iterable[Referral], *, today: datetime.date | None = None
) -> list[QueueRow]:
    """Positions (per forum) and days waiting since the decision."""
    today = today or timezone.localdate()
    rows = []
    positions: dict[int, int] = {}
    for referral in referrals:
        positions[referral.forum_id] = positions.get(referral.forum_id, 0) + 1
        decided = timezone.localtime(referral.decided_at).date() if referral.decided_at else today
        rows.append(QueueRow(referral, positions[referral.forum_id], (today - decided).days))
    return rows


# ---------------------------------------------------------------- caseloads and lead times


@dataclass(frozen=True)
class Caseload:
    social_worker: User
    active: int
    by_state: dict[str, int]
    referrals: list[Referral]


def caseloads_of(user: AnyUser) -> list[Caseload]:
    """Per social worker of the coordinator's districts: their active assignments, by the
    case's state, listed anonymously (referral number, school, grade)."""
    schools = access.schools_where(user, Capability.COORDINATE)
    districts = District.objects.filter(schools__in=schools).distinct()
    workers: dict[int, User] = {}
    for district in districts:
        for worker in access.holders(Capability.SOCIAL_WORK, district):
            workers.setdefault(worker.pk, worker)
    assignments = (
        Assignment.objects.filter(
            ended_at__isnull=True, social_worker_id__in=list(workers), referral__school__in=schools
        )
        .select_related("referral__school", "case")
        .order_by("referral__number")
    )
    by_worker: dict[int, list[Assignment]] = {pk: [] for pk in workers}
    for assignment in assignments:
        by_worker[assignment.social_worker_id].append(assignment)
    loads = []
    for pk, worker in sorted(
        workers.items(), key=lambda item: (item[1].last_name, item[1].first_name, item[0])
    ):
        rows = by_worker[pk]
        states: dict[str, int] = {}
        for assignment in rows:
            states[assignment.case.get_state_display()] = (
                states.get(assignment.case.get_state_display(), 0) + 1
            )
        loads.append(Caseload(worker, len(rows), states, [a.referral for a in rows]))
    return loads


def assigned_counts(user: AnyUser) -> dict[str, int]:
    schools = access.schools_where(user, Capability.COORDINATE)
    return dict(
        Assignment.objects.filter(ended_at__isnull=True, referral__school__in=schools)
        .values_list("referral__state")
        .annotate(n=Count("pk"))
        .values_list("referral__state", "n")
    )


@dataclass(frozen=True)
class LeadTimes:
    """Days between the steps: submitted → decided → consent → start-up meeting."""

    to_decision: int | None
    to_consent: int | None
    to_startup: int | None
    total: int | None


def _days(start: datetime.datetime | None, end: datetime.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return (timezone.localtime(end).date() - timezone.localtime(start).date()).days


def lead_times(referral: Referral) -> LeadTimes:
    last = referral.startup_at or referral.consent_valid_at or referral.decided_at
    return LeadTimes(
        to_decision=_days(referral.submitted_at, referral.decided_at),
        to_consent=_days(referral.decided_at, referral.consent_valid_at),
        to_startup=_days(referral.consent_valid_at, referral.startup_at),
        total=_days(referral.submitted_at, last) if last else None,
    )
