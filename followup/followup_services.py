"""Writes of the follow-ups (DOMAIN.md §4.9): booking the first one when a plan is made,
recording a follow-up (goal results, absence from the rollup code path with its periods,
ORS, notes) and booking the next, moving or cancelling a booked one, the weekly check-off of
the interventions given, and the content-free due/overdue notices.

Dates: every booked date is a school day of the municipality's calendar
(``attendance.calendar``): a date that falls in a weekend, a break or on a public holiday
moves to the first school day after it.

Periods: a follow-up's absence covers the days from the previous follow-up (or the plan's
start) up to the day before the meeting, so the periods of a case's follow-ups follow each
other without a gap or an overlap; "since the start" runs from the plan's start to the same
day. The weekly check-off belongs to the follow-up whose period holds the week's Monday.

Who may: the assigned social worker while they see the case (SOCIAL_WORK, which needs a
valid consent) and the school's case staff (WORK_CASES).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from actionplans import plan_hooks
from actionplans.models import ActionPlan, Goal, PlanIntervention
from attendance import calendar
from cases import workflow
from cases.models import ENDED_STATES, Case, EventKind
from sst import access, audit, notify, textlimits
from sst.access import Capability
from sst.models import User

from . import absence
from .models import Delivery, FollowUp, FollowUpAbsence, FollowUpPolicy, GoalResult, GoalReview

DUE_WITHIN = datetime.timedelta(days=7)
ORS_FIELDS = ("ors_individual", "ors_interpersonal", "ors_social", "ors_overall")
EARLIEST_WEEKS = 4
LATEST_WEEKS = 6
REASON_LENGTH = 200


class NotAllowed(PermissionDenied):
    """The person has no part in this case's follow-ups (the page answers 404, audited)."""


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class Policy:
    first_after_weeks: int = 5
    every_weeks: int = 5


def policy_of(case: Case) -> Policy:
    """The municipality's follow-up policy (the defaults without a row)."""
    row = FollowUpPolicy.objects.filter(municipality__districts__schools=case.school_id).first()
    if row is None:
        return Policy()
    return Policy(first_after_weeks=row.first_after_weeks, every_weeks=row.every_weeks)


def municipality_id_of(case: Case) -> int:
    return int(case.school.district.municipality_id)


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _require(user: User, case: Case) -> None:
    if not access.works_team_case(user, case):
        raise NotAllowed(Capability.WORK_CASES)


def _worked_case(case_id: int, by: User) -> Case:
    """The case, locked for this transaction, once ``by`` does the team's work on it."""
    case = (
        Case.objects.select_for_update()
        .select_related("student", "school__district")
        .get(pk=case_id)
    )
    _require(by, case)
    return case


def _require_open(case: Case) -> None:
    if case.state in ENDED_STATES:
        raise ValidationError(_("The case is closed."), code="closed")


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "Y-m-d")


def _audit(
    *, by: User | None, action: audit.AuditAction, followup: FollowUp, case: Case, **detail: Any
) -> None:
    audit.record_of(
        by=by,
        action=action,
        object_type=audit.AuditObjectType.FOLLOW_UP,
        obj=followup,
        case=case,
        **detail,
    )


def _concurrent() -> workflow.ConcurrentChange:
    return workflow.ConcurrentChange(
        _("Someone else changed this follow-up just now. Reload the page and try again."),
        code="concurrent",
    )


@dataclass(frozen=True)
class NextWindow:
    """Where the next follow-up may go: 4–6 weeks after ``after`` (the latest day moves on
    to the first school day when six weeks lands in a break, e.g. the summer)."""

    proposed: datetime.date
    earliest: datetime.date
    latest: datetime.date


def next_window(case: Case, after: datetime.date) -> NextWindow:
    municipality = municipality_id_of(case)
    policy = policy_of(case)
    earliest = calendar.school_day_on_or_after(
        municipality, after + datetime.timedelta(weeks=EARLIEST_WEEKS)
    )
    latest = calendar.school_day_on_or_after(
        municipality, after + datetime.timedelta(weeks=LATEST_WEEKS)
    )
    proposed = calendar.school_day_on_or_after(
        municipality, after + datetime.timedelta(weeks=policy.every_weeks)
    )
    return NextWindow(proposed=proposed, earliest=earliest, latest=latest)


def _require_school_day(case: Case, day: datetime.date) -> None:
    municipality = municipality_id_of(case)
    if not calendar.is_school_day(municipality, day):
        raise ValidationError(
            _(
                "%(day)s is not a school day (a weekend, a school break or a public holiday). "
                "The first school day after it is %(next)s."
            )
            % {"day": _day(day), "next": _day(calendar.school_day_on_or_after(municipality, day))},
            code="not_school_day",
        )


def check_next_date(case: Case, held_on: datetime.date, next_on: datetime.date) -> None:
    """The next follow-up's date: a school day 4–6 weeks after this one (or why not)."""
    _require_school_day(case, next_on)
    window = next_window(case, held_on)
    if not window.earliest <= next_on <= window.latest:
        raise ValidationError(
            _(
                "The next follow-up is held 4–6 weeks after this one: choose a school day "
                "from %(earliest)s to %(latest)s (proposed: %(proposed)s)."
            )
            % {
                "earliest": _day(window.earliest),
                "latest": _day(window.latest),
                "proposed": _day(window.proposed),
            },
            code="window",
        )


# ---------------------------------------------------------------- reading


def open_followups() -> QuerySet[FollowUp]:
    """Booked, not held, not cancelled, of a case still open."""
    return FollowUp.objects.filter(held_on__isnull=True, cancelled=False).exclude(
        case__state__in=[state.value for state in ENDED_STATES]
    )


def previous_held(followup: FollowUp) -> FollowUp | None:
    return (
        FollowUp.objects.filter(
            case_id=followup.case_id, held_on__isnull=False, number__lt=followup.number
        )
        .order_by("-number")
        .first()
    )


def plan_of(case: Case) -> ActionPlan | None:
    return ActionPlan.objects.filter(case=case).first()


def current_goals(plan: ActionPlan | None) -> list[Goal]:
    if plan is None:
        return []
    return list(plan.goals.filter(ended_in__isnull=True).order_by("order", "pk"))


def periods(
    followup: FollowUp, plan: ActionPlan, held_on: datetime.date
) -> dict[str, tuple[datetime.date, datetime.date]]:
    """The two named periods a follow-up held on ``held_on`` reports (inclusive)."""
    previous = previous_held(followup)
    end = held_on - datetime.timedelta(days=1)
    since_last = previous.held_on if previous is not None and previous.held_on else plan.starts_on
    return {
        FollowUpAbsence.Span.SINCE_LAST: (since_last, end),
        FollowUpAbsence.Span.SINCE_START: (plan.starts_on, end),
    }


@dataclass(frozen=True)
class Given:
    """An intervention's check-offs over a period: weeks given, sessions, minutes."""

    intervention: PlanIntervention
    weeks_checked: int
    weeks_given: int
    sessions: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def given_between(
    plan: ActionPlan, first_monday: datetime.date, last_day: datetime.date
) -> list[Given]:
    """The plan's interventions and what the weekly check-offs say was given in the weeks
    whose Monday is in [first_monday, last_day]: two queries."""
    interventions = list(plan.interventions.select_related("item").order_by("order", "pk"))
    sums = {
        row["intervention_id"]: row
        for row in Delivery.objects.filter(
            intervention__plan=plan, week__gte=first_monday, week__lte=last_day
        )
        .values("intervention_id")
        .annotate(
            checked=Count("pk"),
            given_weeks=Count("pk", filter=Q(given=True)),
            total_sessions=Sum("sessions"),
            total_minutes=Sum("minutes"),
        )
    }
    result = []
    for intervention in interventions:
        row = sums.get(intervention.pk)
        if (
            row is None
            and intervention.ended_on is not None
            and intervention.ended_on < (first_monday)
        ):
            continue
        result.append(
            Given(
                intervention=intervention,
                weeks_checked=int(row["checked"]) if row else 0,
                weeks_given=int(row["given_weeks"] or 0) if row else 0,
                sessions=int(row["total_sessions"] or 0) if row else 0,
                minutes=int(row["total_minutes"] or 0) if row else 0,
            )
        )
    return result


def given_for(followup: FollowUp, plan: ActionPlan, held_on: datetime.date) -> list[Given]:
    """What was given since the last follow-up: the weeks whose Monday falls after the
    previous follow-up's day (from the start-up week for the first) up to ``held_on``."""
    previous = previous_held(followup)
    if previous is not None and previous.held_on:
        first = previous.held_on + datetime.timedelta(days=1)
    else:
        first = monday_of(plan.starts_on)
    return given_between(plan, first, held_on)


# ---------------------------------------------------------------- booking


def _next_number(case: Case) -> int:
    return int(FollowUp.objects.filter(case=case).aggregate(n=Max("number"))["n"] or 0) + 1


def first_followup_book(plan: ActionPlan, by: User) -> FollowUp | None:
    """Book the first follow-up ``first_after_weeks`` after the start-up (the plan's
    start), on a school day. Registered with ``plan_hooks.on_plan_created``: it runs inside
    the plan's transaction. Nothing is booked if the case already has a follow-up."""
    case = Case.objects.select_related("student", "school__district").get(pk=plan.case_id)
    if FollowUp.objects.filter(case=case).exists():
        return None
    return _book(case=case, planned_on=first_date(case, plan.starts_on), by=by, first=True)


def first_date(case: Case, starts_on: datetime.date) -> datetime.date:
    """The first follow-up's day: ``first_after_weeks`` after the start-up, on a school day."""
    return calendar.school_day_on_or_after(
        municipality_id_of(case),
        starts_on + datetime.timedelta(weeks=policy_of(case).first_after_weeks),
    )


def _book(
    *,
    case: Case,
    planned_on: datetime.date,
    by: User | None,
    first: bool,
    chronicle: bool = True,
) -> FollowUp:
    """Book the case's next follow-up; ``chronicle=False`` when the caller's own chronology
    entry says it (a recorded follow-up names the next date in its one entry)."""
    followup = FollowUp(case=case, number=_next_number(case), planned_on=planned_on)
    followup.full_clean()
    followup.save()
    if chronicle:
        summary = (
            _("First follow-up booked for %(date)s")
            if first
            else _("Follow-up %(number)s booked for %(date)s")
        ) % {"date": _day(planned_on), "number": followup.number}
        workflow.chronicle(
            case=case, kind=EventKind.FOLLOW_UP, summary=summary, by=by, ref=followup
        )
    _audit(
        by=by,
        action=audit.AuditAction.CREATE,
        followup=followup,
        case=case,
        number=followup.number,
        planned_on=planned_on.isoformat(),
    )
    return followup


@transaction.atomic
def followup_book(
    *, case: Case, planned_on: datetime.date, by: User, today: datetime.date | None = None
) -> FollowUp:
    """Book a follow-up by hand (when none is booked: the plan came before the booking, or
    the booked one was cancelled)."""
    today = today or timezone.localdate()
    case = _worked_case(case.pk, by)
    _require_open(case)
    if plan_of(case) is None:
        raise ValidationError(_("The case has no action plan yet."), code="no_plan")
    if open_followups().filter(case=case).exists():
        raise ValidationError(
            _("A follow-up is already booked: move it instead."), code="already_booked"
        )
    if planned_on < today:
        raise ValidationError(_("The date cannot be in the past."), code="past")
    _require_school_day(case, planned_on)
    return _book(case=case, planned_on=planned_on, by=by, first=False)


# ---------------------------------------------------------------- recording


@dataclass(frozen=True)
class ReviewInput:
    goal: Goal
    result: str
    comment: str = ""


def _check_ors(ors: Mapping[str, int | None]) -> dict[str, int | None]:
    values = {name: ors.get(name) for name in ORS_FIELDS}
    given = [value for value in values.values() if value is not None]
    if given and len(given) != len(ORS_FIELDS):
        raise ValidationError(
            _("Rate all four ORS scales, or none of them."), code="ors_incomplete"
        )
    if any(not 0 <= value <= 10 for value in given):
        raise ValidationError(_("Each ORS scale is from 0 to 10."), code="ors_range")
    return values


@transaction.atomic
def followup_record(
    *,
    followup: FollowUp,
    by: User,
    base_version: int,
    held_on: datetime.date,
    reviews: Iterable[ReviewInput],
    notes: str = "",
    ors: Mapping[str, int | None] | None = None,
    next_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> FollowUp:
    """Record a held follow-up: a result for every current goal, the absence since the last
    follow-up and since the start (from the rollup code path, with their periods), ORS
    (optional, all four or none), notes; and book the next one on ``next_on`` (a school
    day 4–6 weeks later), unless it is None (the work goes on to maintenance or closure).

    ``base_version`` is the version the page showed: a save from an older one is refused
    (someone else recorded or moved it meanwhile) and nothing changes."""
    today = today or timezone.localdate()
    case = _worked_case(followup.case_id, by)
    _require_open(case)
    followup = FollowUp.objects.get(pk=followup.pk)
    if followup.version != base_version:
        raise _concurrent()
    if followup.held_on is not None or followup.cancelled:
        raise ValidationError(
            _("This follow-up is already recorded or cancelled."), code="not_open"
        )
    plan = plan_of(case)
    if plan is None:
        raise ValidationError(_("The case has no action plan yet."), code="no_plan")
    if held_on > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")
    spans = periods(followup, plan, held_on)
    for start, end in spans.values():
        if end < start:
            raise ValidationError(
                _("The follow-up is held after the plan's start and after the last follow-up."),
                code="before_start",
            )
    goals = {goal.pk: goal for goal in current_goals(plan)}
    results: dict[int, ReviewInput] = {}
    for review in reviews:
        if review.goal.pk not in goals:
            raise ValidationError(_("That goal is not in the current plan."), code="goal")
        if review.result not in GoalResult.values:
            raise ValidationError(_("Choose a result for every goal."), code="result")
        results[review.goal.pk] = review
    if set(results) != set(goals):
        raise ValidationError(_("Choose a result for every goal."), code="result")
    ors_values = _check_ors(ors or {})
    notes = notes.strip()
    textlimits.check_fields(FollowUp, {"notes": notes})
    if next_on is not None:
        check_next_date(case, held_on, next_on)

    changed = FollowUp.objects.filter(
        pk=followup.pk, version=base_version, held_on__isnull=True, cancelled=False
    ).update(
        held_on=held_on,
        notes=notes,
        recorded_by=by,
        recorded_at=timezone.now(),
        version=F("version") + 1,
        **ors_values,
    )
    if not changed:
        raise _concurrent()
    followup.refresh_from_db()
    followup.full_clean()
    GoalReview.objects.bulk_create(
        [
            GoalReview(
                followup=followup,
                goal=goals[pk],
                result=review.result,
                comment=review.comment.strip()[:300],
            )
            for pk, review in results.items()
        ]
    )
    figures = {}
    for span, (start, end) in spans.items():
        measured = absence.measure(case.student_id, start, end)
        figures[span] = measured
        FollowUpAbsence.objects.create(
            followup=followup, span=span, **absence.snapshot_fields(measured)
        )
    booked = (
        _book(case=case, planned_on=next_on, by=by, first=False, chronicle=False)
        if next_on
        else None
    )
    counts = {value: 0 for value in GoalResult.values}
    for review in results.values():
        counts[review.result] += 1
    summary = _(
        "Follow-up %(number)s held %(date)s: goals met %(met)s, partly %(partly)s, "
        "not met %(not_met)s"
    ) % {
        "number": followup.number,
        "date": _day(held_on),
        "met": counts[GoalResult.MET],
        "partly": counts[GoalResult.PARTLY],
        "not_met": counts[GoalResult.NOT_MET],
    }
    if followup.ors_total is not None:
        summary += _("; ORS %(total)s of 40") % {"total": followup.ors_total}
    if booked is not None:
        summary += _("; next on %(date)s") % {"date": _day(booked.planned_on)}
    workflow.chronicle(case=case, kind=EventKind.FOLLOW_UP, summary=summary, by=by, ref=followup)
    _audit(
        by=by,
        action=audit.AuditAction.UPDATE,
        followup=followup,
        case=case,
        held_on=held_on.isoformat(),
        goals=len(results),
        ors=followup.ors_total is not None,
        next=str(booked.public_id) if booked else "",
    )
    return followup


@transaction.atomic
def followup_move(
    *,
    followup: FollowUp,
    by: User,
    base_version: int,
    planned_on: datetime.date,
    reason: str,
    today: datetime.date | None = None,
) -> FollowUp:
    """Move a booked follow-up to another school day; the reason goes to the chronology.
    The notices start over for the new date."""
    today = today or timezone.localdate()
    case = _worked_case(followup.case_id, by)
    _require_open(case)
    reason = _reason(reason)
    current = FollowUp.objects.get(pk=followup.pk)
    if current.version != base_version:
        raise _concurrent()
    if current.held_on is not None or current.cancelled:
        raise ValidationError(
            _("This follow-up is already recorded or cancelled."), code="not_open"
        )
    if planned_on < today:
        raise ValidationError(_("The date cannot be in the past."), code="past")
    previous = previous_held(current)
    if previous is not None and previous.held_on and planned_on <= previous.held_on:
        raise ValidationError(
            _("The follow-up comes after the last one (%(date)s).")
            % {"date": _day(previous.held_on)},
            code="before_previous",
        )
    _require_school_day(case, planned_on)
    if planned_on == current.planned_on:
        raise ValidationError(_("Choose another date."), code="same")
    changed = FollowUp.objects.filter(
        pk=current.pk, version=base_version, held_on__isnull=True, cancelled=False
    ).update(
        planned_on=planned_on,
        due_notice_at=None,
        overdue_notice_at=None,
        version=F("version") + 1,
    )
    if not changed:
        raise _concurrent()
    old = current.planned_on
    current.refresh_from_db()
    workflow.chronicle(
        case=case,
        kind=EventKind.FOLLOW_UP,
        summary=_("Follow-up %(number)s moved from %(old)s to %(new)s: %(reason)s")
        % {"number": current.number, "old": _day(old), "new": _day(planned_on), "reason": reason},
        by=by,
        ref=current,
    )
    _audit(
        by=by,
        action=audit.AuditAction.UPDATE,
        followup=current,
        case=case,
        moved_from=old.isoformat(),
        planned_on=planned_on.isoformat(),
    )
    return current


@transaction.atomic
def followup_cancel(*, followup: FollowUp, by: User, base_version: int, reason: str) -> FollowUp:
    """Cancel a booked follow-up (no new one is booked); the reason goes to the chronology.
    A closed case's follow-ups stay as the closure left them, as with moving."""
    case = _worked_case(followup.case_id, by)
    _require_open(case)
    reason = _reason(reason)
    changed = FollowUp.objects.filter(
        pk=followup.pk, version=base_version, held_on__isnull=True, cancelled=False
    ).update(cancelled=True, version=F("version") + 1)
    if not changed:
        current = FollowUp.objects.get(pk=followup.pk)
        if current.version == base_version:
            raise ValidationError(
                _("This follow-up is already recorded or cancelled."), code="not_open"
            )
        raise _concurrent()
    followup.refresh_from_db()
    workflow.chronicle(
        case=case,
        kind=EventKind.FOLLOW_UP,
        summary=_("Follow-up %(number)s (%(date)s) cancelled: %(reason)s")
        % {"number": followup.number, "date": _day(followup.planned_on), "reason": reason},
        by=by,
        ref=followup,
    )
    _audit(by=by, action=audit.AuditAction.UPDATE, followup=followup, case=case, cancelled=True)
    return followup


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError(_("Say why."), code="reason")
    if len(reason) > REASON_LENGTH:
        raise ValidationError(
            _("Write at most %(limit)s characters.") % {"limit": REASON_LENGTH}, code="reason"
        )
    return reason


# ---------------------------------------------------------------- the weekly check-off


def running_interventions(plan: ActionPlan, week: datetime.date) -> list[PlanIntervention]:
    """The plan's interventions running some day of the week that starts on ``week``."""
    sunday = week + datetime.timedelta(days=6)
    return list(
        plan.interventions.filter(starts_on__lte=sunday)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=week))
        .select_related("item", "responsible")
        .order_by("order", "pk")
    )


@dataclass(frozen=True)
class CheckOff:
    intervention: PlanIntervention
    given: bool
    sessions: int
    minutes: int


@transaction.atomic
def deliveries_record(
    *,
    case: Case,
    week: datetime.date,
    entries: Iterable[CheckOff],
    by: User,
    today: datetime.date | None = None,
) -> int:
    """The weekly check-off: for each running intervention, given or not, sessions and
    minutes. An upsert keyed by (intervention, week): saving the same week again changes
    nothing. Returns how many rows were created or changed."""
    today = today or timezone.localdate()
    case = Case.objects.select_related("student").get(pk=case.pk)
    _require(by, case)
    _require_open(case)
    if week != monday_of(week):
        raise ValidationError(_("A week starts on a Monday."), code="week")
    if week > monday_of(today):
        raise ValidationError(_("A week is checked off once it has begun."), code="future")
    plan = plan_of(case)
    if plan is None:
        raise ValidationError(_("The case has no action plan yet."), code="no_plan")
    running = {intervention.pk for intervention in running_interventions(plan, week)}
    entries = list(entries)
    for entry in entries:
        if entry.intervention.pk not in running:
            raise ValidationError(
                _("That intervention is not running that week."), code="intervention"
            )
        if entry.given and entry.sessions < 1:
            raise ValidationError(
                _("An intervention given that week had at least one session."), code="sessions"
            )
        if not entry.given and (entry.sessions or entry.minutes):
            raise ValidationError(
                _("An intervention not given has no sessions or minutes."), code="not_given"
            )
        if entry.sessions > 50 or entry.minutes > 60 * 60:
            raise ValidationError(_("That is more than a week holds."), code="too_much")
    existing = {
        row.intervention_id: row
        for row in Delivery.objects.select_for_update().filter(
            intervention_id__in=[entry.intervention.pk for entry in entries], week=week
        )
    }
    changed = 0
    for entry in entries:
        row = existing.get(entry.intervention.pk)
        values = {"given": entry.given, "sessions": entry.sessions, "minutes": entry.minutes}
        if row is None:
            Delivery.objects.create(
                intervention=entry.intervention, week=week, recorded_by=by, **values
            )
            changed += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.recorded_by = by
            row.save(update_fields=[*values, "recorded_by", "recorded_at"])
            changed += 1
    if changed:
        year, number, _weekday = week.isocalendar()
        workflow.chronicle(
            case=case,
            kind=EventKind.FOLLOW_UP,
            summary=_("Interventions given checked off for week %(week)s, %(year)s")
            % {"week": number, "year": year},
            by=by,
        )
        audit.record(
            user=by,
            action=audit.AuditAction.UPDATE,
            object_type=audit.AuditObjectType.INTERVENTION_DELIVERY,
            object_id=str(plan.public_id),
            student_id=case.student.public_id,
            detail={"case": str(case.public_id), "week": week.isoformat(), "rows": changed},
        )
    return changed


# ---------------------------------------------------------------- due and overdue notices


def responsible_for(case: Case) -> list[User]:
    """Who a follow-up's notice goes to: the assigned social worker (while they see the
    case) and the school's staff alerted about follow-ups (the principal, the counsellor)."""
    from referrals.models import Assignment

    people = {user.pk: user for user in access.holders(Capability.ALERTED_FOLLOW_UP, case.school)}
    for assignment in Assignment.objects.filter(
        case=case, ended_at__isnull=True, social_worker__is_active=True
    ).select_related("social_worker"):
        worker = assignment.social_worker
        if Capability.SOCIAL_WORK in access.case_capabilities(worker, case):
            people.setdefault(worker.pk, worker)
    return list(people.values())


def _site_language() -> Any:
    return translation.override(settings.LANGUAGE_CODE)


def notices_send(*, today: datetime.date | None = None) -> int:
    """The content-free notices: "a follow-up is due" (within a week) once per follow-up,
    and "a follow-up is overdue" once. Idempotent: each is claimed by setting its
    ``*_notice_at`` before anyone is notified, so a second run sends nothing more. A
    follow-up first seen when already overdue gets only the overdue notice. Returns the
    number of notices claimed."""
    today = today or timezone.localdate()
    sent = 0
    booked = open_followups().select_related("case__student", "case__school")
    kinds = (
        (
            "overdue_notice_at",
            booked.filter(planned_on__lt=today, overdue_notice_at__isnull=True),
            "overdue",
        ),
        (
            "due_notice_at",
            booked.filter(
                planned_on__gte=today,
                planned_on__lte=today + DUE_WITHIN,
                due_notice_at__isnull=True,
            ),
            "due",
        ),
    )
    path = reverse("sst:desk")
    for field, rows, kind in kinds:
        for followup in rows.order_by("planned_on", "pk"):
            with transaction.atomic():
                now = timezone.now()
                claimed = FollowUp.objects.filter(
                    pk=followup.pk, **{f"{field}__isnull": True}
                ).update(**{field: now})
                if not claimed:
                    continue
                if kind == "overdue":
                    FollowUp.objects.filter(pk=followup.pk, due_notice_at__isnull=True).update(
                        due_notice_at=now
                    )
                with _site_language():
                    subject = (
                        _("A follow-up is overdue")
                        if kind == "overdue"
                        else _("A follow-up is due")
                    )
                recipients = responsible_for(followup.case)
                for user in recipients:
                    notify.notify(user=user, subject=subject, path=path)
                _audit(
                    by=None,
                    action=audit.AuditAction.UPDATE,
                    followup=followup,
                    case=followup.case,
                    notice=kind,
                    notified=len(recipients),
                )
                sent += 1
    return sent


def _book_first_on_plan_created(plan: ActionPlan, by: User) -> None:
    first_followup_book(plan, by)


def register_hooks() -> None:
    plan_hooks.on_plan_created(_book_first_on_plan_created)
