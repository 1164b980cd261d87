"""Writes of the forum's part: meetings from the schedule, agendas, decisions, minutes, the
queue and the assignment of a social worker.

Each service asks the access policy first (a refusal is a 404, audited), validates, saves
with ``update_fields`` (and a version check where two people may edit the same record),
audits with identifiers only, and moves the case through ``cases.workflow`` in the same
transaction, so the case follows the referral. Notices carry no content.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import workflow
from cases.models import Case, EventKind
from sst import access, audit, notify, textlimits
from sst.access import Capability
from sst.models import User

from . import forum_selectors as selectors
from . import referral_states
from .models import (
    AcceptedAs,
    Assignment,
    Decision,
    DecisionKind,
    Forum,
    ForumMeeting,
    Frequency,
    MeetingState,
    QueueMove,
    RedirectTarget,
    Referral,
    ReferralState,
)

MANAGE_MEETINGS = (Capability.DECIDE_REFERRALS, Capability.COORDINATE)
# A fortnightly forum meets in the even weeks counted from this Monday.
FORTNIGHT_EPOCH = datetime.date(2024, 1, 1)


def _require_at_forum(by: User, forum: Forum, capabilities: Iterable[Capability]) -> str:
    """The roles giving the user one of ``capabilities`` at the forum's place, or 404."""
    granted = access.capabilities_at(by, selectors.forum_place(forum))
    held = [c for c in capabilities if c in granted]
    if not held:
        raise access.refuse(
            by,
            audit.AuditObjectType.FORUM,
            forum.public_id,
            needs=",".join(str(c) for c in capabilities),
        )
    return granted.roles_for(*held)


def _reason(reason: str, *, limit: int = textlimits.REASON) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give a reason."), code="reason")
    textlimits.limit(limit)(reason)
    return reason


def _save_meeting(meeting: ForumMeeting, version: int, **fields: Any) -> ForumMeeting:
    """Save ``fields`` if nobody changed the meeting since it was read (``version``)."""
    changed = ForumMeeting.objects.filter(pk=meeting.pk, version=version).update(
        version=F("version") + 1, **fields
    )
    if not changed:
        raise workflow.ConcurrentChange(
            _("Someone else changed the meeting just now. Reload the page and try again."),
            code="concurrent",
        )
    meeting.refresh_from_db()
    return meeting


def _locked_meeting(meeting: ForumMeeting) -> ForumMeeting:
    return ForumMeeting.objects.select_for_update().select_related("forum").get(pk=meeting.pk)


# ---------------------------------------------------------------- the schedule


def schedule_dates(forum: Forum, start: datetime.date, until: datetime.date) -> list[datetime.date]:
    """The days the forum's rule gives from ``start`` to ``until`` (both included)."""
    days = []
    day = start + datetime.timedelta(days=(forum.weekday - start.weekday()) % 7)
    while day <= until:
        if forum.frequency == Frequency.WEEKLY:
            days.append(day)
        elif forum.frequency == Frequency.FORTNIGHTLY:
            if ((day - FORTNIGHT_EPOCH).days // 7) % 2 == 0:
                days.append(day)
        elif _nth_weekday_of_month(day) == forum.week_of_month or (
            forum.week_of_month >= 5 and (day + datetime.timedelta(days=7)).month != day.month
        ):
            days.append(day)
        day += datetime.timedelta(days=7)
    return days


def _nth_weekday_of_month(day: datetime.date) -> int:
    return (day.day - 1) // 7 + 1


def _at(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time))


@transaction.atomic
def forum_plan_meetings(
    *, forum: Forum, until: datetime.date, today: datetime.date | None = None
) -> list[ForumMeeting]:
    """Create the meetings the schedule gives up to ``until``; a day already planned (even
    if the meeting was moved or cancelled since) is left alone, so running it again changes
    nothing. Returns the meetings created."""
    today = today or timezone.localdate()
    created = []
    for day in schedule_dates(forum, today, until):
        meeting, made = ForumMeeting.objects.get_or_create(
            forum=forum,
            scheduled_on=day,
            defaults={
                "starts_at": _at(day, forum.starts_at),
                "location": forum.location,
                "from_schedule": True,
            },
        )
        if made:
            audit.record_of(
                by=None,
                action=audit.AuditAction.CREATE,
                object_type=audit.AuditObjectType.FORUM_MEETING,
                obj=meeting,
                from_schedule=True,
            )
            created.append(meeting)
    return created


def forums_plan_all(*, weeks: int = 8, today: datetime.date | None = None) -> int:
    """Every forum's meetings planned ``weeks`` ahead (the daily task)."""
    today = today or timezone.localdate()
    until = today + datetime.timedelta(weeks=weeks)
    return sum(
        len(forum_plan_meetings(forum=forum, until=until, today=today))
        for forum in Forum.objects.all()
    )


@transaction.atomic
def meeting_add(
    *, forum: Forum, starts_at: datetime.datetime, location: str, by: User
) -> ForumMeeting:
    """An extra meeting, outside the schedule."""
    role = _require_at_forum(by, forum, MANAGE_MEETINGS)
    textlimits.check_fields(ForumMeeting, {"location": location})
    meeting = ForumMeeting.objects.create(
        forum=forum, starts_at=starts_at, location=location.strip() or forum.location
    )
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.FORUM_MEETING,
        object_id=str(meeting.public_id),
        role=role,
    )
    return meeting


def _refuse_unless_planned(meeting: ForumMeeting) -> None:
    if meeting.state != MeetingState.PLANNED or meeting.minutes_locked:
        raise ValidationError(
            _("Only a planned meeting can be moved or cancelled."), code="meeting_state"
        )


@transaction.atomic
def meeting_move(
    *,
    meeting: ForumMeeting,
    starts_at: datetime.datetime,
    location: str,
    reason: str,
    version: int,
    by: User,
) -> ForumMeeting:
    """A new time (and place) for a planned meeting; the reason is kept in the audit."""
    meeting = _locked_meeting(meeting)
    role = _require_at_forum(by, meeting.forum, MANAGE_MEETINGS)
    _refuse_unless_planned(meeting)
    reason = _reason(reason)
    textlimits.check_fields(ForumMeeting, {"location": location})
    before = meeting.starts_at
    meeting = _save_meeting(
        meeting, version, starts_at=starts_at, location=location.strip() or meeting.location
    )
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.FORUM_MEETING,
        object_id=str(meeting.public_id),
        role=role,
        detail={"moved_from": before.isoformat(), "moved_to": starts_at.isoformat()},
    )
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: ForumMeeting, reason: str, version: int, by: User) -> ForumMeeting:
    """Cancel a planned meeting: its undecided referrals go back to waiting, for the next
    meeting's agenda."""
    meeting = _locked_meeting(meeting)
    role = _require_at_forum(by, meeting.forum, MANAGE_MEETINGS)
    _refuse_unless_planned(meeting)
    reason = _reason(reason, limit=200)
    meeting = _save_meeting(meeting, version, state=MeetingState.CANCELLED, cancel_reason=reason)
    returned = 0
    for referral in Referral.objects.select_for_update().filter(
        meeting=meeting, state=ReferralState.ON_AGENDA
    ):
        referral_states.move(referral, "take_off_agenda", by=by, meeting=None)
        returned += 1
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.FORUM_MEETING,
        object_id=str(meeting.public_id),
        role=role,
        detail={"cancelled": True, "referrals_returned": returned},
    )
    return meeting


# ---------------------------------------------------------------- the agenda


@transaction.atomic
def meeting_prepare_agenda(*, meeting: ForumMeeting, by: User | None) -> list[Referral]:
    """Place the waiting referrals on the meeting's agenda and tell the members once.

    ``by`` is None when the daily task does it. Running it again adds only what came in
    since (before the agenda closed) and sends nothing twice."""
    meeting = _locked_meeting(meeting)
    if by is not None:
        _require_at_forum(by, meeting.forum, MANAGE_MEETINGS)
    if meeting.state != MeetingState.PLANNED or meeting.minutes_locked:
        raise ValidationError(
            _("The agenda of a cancelled or closed meeting cannot change."), code="meeting_state"
        )
    placed = []
    for referral in selectors.agenda_candidates(meeting).select_for_update():
        referral_states.move(referral, "place_on_agenda", by=by, meeting=meeting)
        placed.append(referral)
    first_time = meeting.agenda_sent_at is None
    if first_time:
        meeting.agenda_sent_at = timezone.now()
        meeting.save(update_fields=["agenda_sent_at"])
        path = reverse("referrals:meeting_detail", args=[meeting.public_id])
        for member in selectors.forum_members(meeting.forum):
            notify.notify(
                user=member, subject=_("An agenda for the referral forum is ready"), path=path
            )
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.FORUM_MEETING,
        object_id=str(meeting.public_id),
        detail={"agenda_placed": [str(r.public_id) for r in placed], "sent": first_time},
    )
    return placed


def agendas_prepare_due(*, now: datetime.datetime | None = None) -> int:
    """The daily task: every planned meeting whose agenda has closed gets its agenda."""
    now = now or timezone.now()
    prepared = 0
    for meeting in ForumMeeting.objects.filter(
        state=MeetingState.PLANNED, agenda_sent_at__isnull=True, starts_at__gte=now
    ).select_related("forum"):
        if selectors.agenda_closes_at(meeting) <= now:
            meeting_prepare_agenda(meeting=meeting, by=None)
            prepared += 1
    return prepared


# ---------------------------------------------------------------- decisions


def _meeting_day(meeting: ForumMeeting) -> datetime.date:
    return timezone.localtime(meeting.starts_at).date()


def refuse_unless_decidable(meeting: ForumMeeting, *, today: datetime.date | None = None) -> None:
    """Decisions are taken at a meeting that is not cancelled, on its day or later, until
    its minutes are approved."""
    today = today or timezone.localdate()
    if meeting.state == MeetingState.CANCELLED:
        raise ValidationError(_("The meeting is cancelled."), code="cancelled")
    if meeting.minutes_locked:
        raise ValidationError(
            _("The minutes of the meeting are approved: no more decisions."), code="locked"
        )
    if _meeting_day(meeting) > today:
        raise ValidationError(
            _("Decisions are taken at the meeting, on its day or later."), code="too_early"
        )


def _notify_school(referral: Referral, case: Case) -> None:
    """The school learns that its referral was decided (and books the meeting with the
    principal after an acceptance): the principals and whoever submitted it."""
    path = reverse("cases:case_detail", args=[case.public_id])
    people = {u.pk: u for u in access.holders(Capability.OPEN_CASE_AS_PRINCIPAL, referral.school)}
    if referral.submitted_by_id and referral.submitted_by_id not in people:
        submitter = User.objects.filter(pk=referral.submitted_by_id, is_active=True).first()
        if submitter is not None:
            people[submitter.pk] = submitter
    for person in people.values():
        notify.notify(user=person, subject=_("A referral has been decided"), path=path)


def _notify_assigned(social_worker: User) -> None:
    notify.notify(
        user=social_worker, subject=_("You have been assigned a case"), path=reverse("sst:desk")
    )


def _check_social_worker(referral: Referral, social_worker: User | None) -> User:
    if social_worker is None:
        raise ValidationError(_("Choose the social worker to assign."), code="social_worker")
    if not selectors.social_workers_for(referral.school).filter(pk=social_worker.pk).exists():
        raise ValidationError(
            _("The person chosen is not a social worker of the school's district."),
            code="social_worker",
        )
    return social_worker


def _assign(referral: Referral, case: Case, social_worker: User, by: User) -> Assignment:
    assignment = Assignment.objects.create(
        case=case, referral=referral, social_worker=social_worker, assigned_by=by
    )
    workflow.chronicle(
        case=case,
        kind=EventKind.STATE_CHANGE,
        summary=_("Referral %(number)s: a social worker of the team was assigned")
        % {"number": referral.number},
        by=by,
        ref=assignment,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.ASSIGNMENT,
        object_id=str(assignment.public_id),
        student_id=case.student.public_id,
        detail={"referral": str(referral.public_id), "social_worker": social_worker.pk},
    )
    return assignment


def _next_queue_rank(forum: Forum) -> float:
    top = Referral.objects.filter(forum=forum, state=ReferralState.QUEUED).aggregate(
        top=Max("queue_rank")
    )["top"]
    return (top or 0) + 1


@transaction.atomic
def decision_record(
    *,
    referral: Referral,
    meeting: ForumMeeting,
    kind: str,
    reason: str,
    decided_on: datetime.date | None = None,
    accepted_as: str = "",
    social_worker: User | None = None,
    suggestions: str = "",
    redirected_to: str = "",
    by: User,
) -> Decision:
    """The forum's decision on one referral on the meeting's agenda, by a member.

    Records the Decision, moves the referral, and moves the case with the case workflow
    (which checks the member's capability at the case's school and reads this decision)."""
    referral = (
        Referral.objects.select_for_update().select_related("school__district").get(pk=referral.pk)
    )
    role = access.require(by, Capability.DECIDE_REFERRALS, referral.school)
    meeting = _locked_meeting(meeting)
    if meeting.forum_id != referral.forum_id:
        raise access.refuse(by, audit.AuditObjectType.REFERRAL, referral.public_id)
    today = timezone.localdate()
    refuse_unless_decidable(meeting, today=today)
    if referral.meeting_id != meeting.pk or referral.state != ReferralState.ON_AGENDA:
        raise ValidationError(
            _("Only a referral on this meeting's agenda, not yet decided, can be decided here."),
            code="not_on_agenda",
        )
    decided_on = decided_on or today
    if not _meeting_day(meeting) <= decided_on <= today:
        raise ValidationError(
            _("The date of the decision is the meeting's day or later, and not in the future."),
            code="decided_on",
        )
    reason = reason.strip()
    suggestions = suggestions.strip()
    if not reason:
        raise ValidationError(_("Give the reason for the decision."), code="reason")
    textlimits.check_fields(Decision, {"reason": reason, "suggestions": suggestions})
    if kind == DecisionKind.ACCEPTED:
        if accepted_as not in AcceptedAs.values:
            raise ValidationError(
                _("Say whether a social worker is assigned now or the referral is queued."),
                code="accepted_as",
            )
        if accepted_as == AcceptedAs.ASSIGN:
            social_worker = _check_social_worker(referral, social_worker)
        redirected_to, suggestions = "", ""
    elif kind == DecisionKind.REJECTED:
        if not suggestions:
            raise ValidationError(
                _("Suggest the other measures the school can take."), code="suggestions"
            )
        accepted_as, redirected_to = "", ""
    elif kind == DecisionKind.REDIRECTED:
        if redirected_to not in RedirectTarget.values:
            raise ValidationError(_("Choose where the student is redirected."), code="redirect")
        accepted_as, suggestions = "", ""
    else:
        raise ValidationError(_("Choose the decision."), code="kind")

    decision = Decision.objects.create(
        referral=referral,
        meeting=meeting,
        kind=kind,
        accepted_as=accepted_as,
        redirected_to=redirected_to,
        reason=reason,
        suggestions=suggestions,
        decided_on=decided_on,
        recorded_by=by,
    )
    move = {
        (DecisionKind.ACCEPTED, AcceptedAs.ASSIGN): "accept_assign",
        (DecisionKind.ACCEPTED, AcceptedAs.QUEUE): "accept_queue",
        (DecisionKind.REJECTED, ""): "reject",
        (DecisionKind.REDIRECTED, ""): "redirect",
    }[(DecisionKind(kind), accepted_as)]
    # State, decision time and (placed in the queue) its rank in one optimistic UPDATE.
    changes: dict[str, Any] = {"decided_at": timezone.now()}
    if move == "accept_queue":
        changes["queue_rank"] = _next_queue_rank(referral.forum)
    referral_states.move(referral, move, by=by, **changes)

    case = Case.objects.select_for_update().select_related("student").get(pk=referral.case_id)
    workflow.chronicle(
        case=case,
        kind=EventKind.STATE_CHANGE,
        summary=_("Referral %(number)s: the referral forum decided: %(decision)s")
        % {"number": referral.number, "decision": decision.get_kind_display()},
        by=by,
        ref=decision,
    )
    if move == "accept_assign":
        assert social_worker is not None
        _assign(referral, case, social_worker, by)
        workflow.case_accept(case=case, by=by)
        _notify_assigned(social_worker)
    elif move == "accept_queue":
        workflow.case_queue(case=case, by=by)
    elif move == "reject":
        workflow.case_reject(case=case, reason=reason[: textlimits.REASON], by=by)
    else:
        workflow.case_redirect(case=case, reason=reason[: textlimits.REASON], by=by)
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.REFERRAL_DECISION,
        object_id=str(decision.public_id),
        student_id=case.student.public_id,
        role=role,
        detail={
            "referral": str(referral.public_id),
            "meeting": str(meeting.public_id),
            "kind": kind,
            "accepted_as": accepted_as,
            "redirected_to": redirected_to,
        },
    )
    _notify_school(referral, case)
    return decision


# ---------------------------------------------------------------- the queue and assignment


def _coordinated(referral: Referral, by: User) -> tuple[Referral, str]:
    referral = (
        Referral.objects.select_for_update().select_related("school__district").get(pk=referral.pk)
    )
    role = access.require(by, Capability.COORDINATE, referral.school)
    if referral.state != ReferralState.QUEUED:
        raise ValidationError(_("The referral is no longer in the queue."), code="not_queued")
    return referral, role


@transaction.atomic
def referral_assign(*, referral: Referral, social_worker: User, by: User) -> Assignment:
    """The coordinator assigns a social worker to a referral waiting in the queue."""
    referral, role = _coordinated(referral, by)
    social_worker = _check_social_worker(referral, social_worker)
    case = Case.objects.select_for_update().select_related("student").get(pk=referral.case_id)
    assignment = _assign(referral, case, social_worker, by)
    referral_states.move(referral, "assign_from_queue", by=by, queue_rank=None)
    workflow.case_accept(case=case, by=by)
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.REFERRAL_QUEUE,
        object_id=str(referral.public_id),
        role=role,
        detail={"assigned": str(assignment.public_id)},
    )
    _notify_assigned(social_worker)
    return assignment


@transaction.atomic
def queue_move(*, referral: Referral, to_position: int, reason: str, by: User) -> QueueMove:
    """Move a referral in its forum's queue; moving it up (ahead of others) needs a reason."""
    referral, role = _coordinated(referral, by)
    queue = list(
        Referral.objects.select_for_update()
        .filter(forum_id=referral.forum_id, state=ReferralState.QUEUED)
        .order_by("queue_rank", "decided_at", "pk")
    )
    from_position = next(i for i, r in enumerate(queue, start=1) if r.pk == referral.pk)
    to_position = max(1, min(to_position, len(queue)))
    if to_position == from_position:
        raise ValidationError(_("The referral is already at that place."), code="same")
    reason = reason.strip()
    if to_position < from_position:
        reason = _reason(reason, limit=200)
    else:
        textlimits.limit(200)(reason)
    moving = queue.pop(from_position - 1)
    queue.insert(to_position - 1, moving)
    for rank, row in enumerate(queue, start=1):
        if row.queue_rank != rank:
            row.queue_rank = rank
            row.save(update_fields=["queue_rank"])
    recorded = QueueMove.objects.create(
        referral=referral,
        from_position=from_position,
        to_position=to_position,
        reason=reason,
        moved_by=by,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.REFERRAL_QUEUE,
        object_id=str(referral.public_id),
        role=role,
        detail={"from": from_position, "to": to_position},
    )
    return recorded


# ---------------------------------------------------------------- minutes


def _refuse_if_locked(meeting: ForumMeeting) -> None:
    if meeting.minutes_locked:
        raise ValidationError(
            _("The minutes are approved and can no longer be changed."), code="locked"
        )


@transaction.atomic
def minutes_save(
    *, meeting: ForumMeeting, present: Iterable[User], notes: str, version: int, by: User
) -> ForumMeeting:
    """The minutes' present members and notes, until they are approved."""
    meeting = _locked_meeting(meeting)
    role = _require_at_forum(by, meeting.forum, [Capability.DECIDE_REFERRALS])
    _refuse_if_locked(meeting)
    if meeting.state == MeetingState.CANCELLED:
        raise ValidationError(_("The meeting is cancelled."), code="cancelled")
    members = set(selectors.forum_members(meeting.forum).values_list("pk", flat=True))
    chosen = {person.pk for person in present}
    if not chosen <= members:
        raise ValidationError(_("Only the forum's members can be present."), code="present")
    textlimits.check_fields(ForumMeeting, {"minutes_notes": notes})
    meeting = _save_meeting(meeting, version, minutes_notes=notes.strip())
    meeting.present.set(sorted(chosen))
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.FORUM_MINUTES,
        object_id=str(meeting.public_id),
        role=role,
        detail={"present": len(chosen)},
    )
    return meeting


@transaction.atomic
def minutes_approve(*, meeting: ForumMeeting, version: int, by: User) -> ForumMeeting:
    """Approve the minutes: the meeting is held and its record locked."""
    meeting = _locked_meeting(meeting)
    role = _require_at_forum(by, meeting.forum, [Capability.DECIDE_REFERRALS])
    _refuse_if_locked(meeting)
    if meeting.state == MeetingState.CANCELLED:
        raise ValidationError(_("The meeting is cancelled."), code="cancelled")
    if _meeting_day(meeting) > timezone.localdate():
        raise ValidationError(
            _("Minutes can be approved on the meeting's day or later."), code="too_early"
        )
    if not meeting.present.exists():
        raise ValidationError(_("Record who was present first."), code="present")
    meeting = _save_meeting(
        meeting,
        version,
        state=MeetingState.HELD,
        minutes_approved_at=timezone.now(),
        minutes_approved_by=by,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.FORUM_MINUTES,
        object_id=str(meeting.public_id),
        role=role,
        detail={"approved": True},
    )
    return meeting
