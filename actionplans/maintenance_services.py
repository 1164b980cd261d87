"""The maintenance plan (vidmakthållandeplan) and its booster meetings (DOMAIN.md §4.10).

When the plan's goals are reached, the team and the family agree how often they keep in
touch while support tapers, and book booster meetings (boosterträffar). A recorded
maintenance plan is what lets the case move to maintenance (the ``maintenance_plan`` guard,
registered by ``maintenance_views.register``).

Who may write: the school's case staff (WORK_CASES on the case) and the assigned social
worker while a valid consent covers the case (SOCIAL_WORK on the case, which the access
policy grants only then). Everyone who may read the case reads the plan.

Each service validates, saves (optimistic version on the plan), writes the chronology
(no names: "Booster meeting booked for 2026-12-07") and the audit trail (identifiers only).
Booster dates land on school days of the municipality's calendar
(``attendance.calendar.school_day_on_or_after``); the page says when a date was moved.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from attendance import calendar
from cases import workflow
from cases.models import ENDED_STATES, Case, CaseState, EventKind
from sst import access, audit, notify, textlimits
from sst.access import Capability
from sst.models import User

from .models import BoosterMeeting, MaintenancePlan

# A maintenance plan is made while the plan is carried out (or revised in maintenance).
PLANNING_STATES = frozenset({CaseState.IMPLEMENTATION, CaseState.MAINTENANCE})
# The content-free reminder goes out this many days before a booster meeting.
REMIND_DAYS_BEFORE = 3
# The desk lists boosters due within this many days (and every overdue one).
DUE_WITHIN_DAYS = 7


class NotAllowed(PermissionDenied):
    """The person may not write the maintenance plan (the page answers 404, audited)."""


# ---------------------------------------------------------------- who may


def _require_writer(user: User, case: Case) -> None:
    if not access.works_team_case(user, case):
        raise NotAllowed(Capability.WORK_CASES)


def _require_planning(case: Case) -> None:
    if case.state in ENDED_STATES:
        raise ValidationError(_("The case is closed."), code="closed")
    if case.state not in PLANNING_STATES:
        raise ValidationError(
            _("A maintenance plan is made once the action plan is being carried out."),
            code="state",
        )


def _require_open(case: Case) -> None:
    if case.state in ENDED_STATES:
        raise ValidationError(_("The case is closed."), code="closed")


def _audit(*, by: User, action: audit.AuditAction, obj: Any, case: Case, **detail: Any) -> None:
    object_type = (
        audit.AuditObjectType.MAINTENANCE_PLAN
        if isinstance(obj, MaintenancePlan)
        else audit.AuditObjectType.BOOSTER_MEETING
    )
    audit.record_of(by=by, action=action, object_type=object_type, obj=obj, case=case, **detail)


def municipality_id_of(case: Case) -> int:
    return int(case.school.district.municipality_id)


def landing_day(case: Case, day: datetime.date) -> datetime.date:
    """The school day a booster asked for on ``day`` lands on (the same day if it is one)."""
    return calendar.school_day_on_or_after(municipality_id_of(case), day)


def _locked_case(case: Case) -> Case:
    return (
        Case.objects.select_for_update()
        .select_related("student", "school__district")
        .get(pk=case.pk)
    )


# ---------------------------------------------------------------- the plan


@transaction.atomic
def maintenance_plan_save(
    *, case: Case, by: User, base_version: int | None, contact: str, notes: str = ""
) -> MaintenancePlan:
    """Make the case's maintenance plan, or change it.

    ``base_version`` is the version the person edited (``None`` or 0 for a new plan): if
    someone else saved in between, nothing is saved and ``ConcurrentChange`` says so."""
    case = _locked_case(case)
    _require_writer(by, case)
    _require_planning(case)
    contact, notes = contact.strip(), notes.strip()
    if not contact:
        raise ValidationError(
            _("Say how often the student and the team meet or hear from each other."),
            code="contact",
        )
    textlimits.check_fields(MaintenancePlan, {"contact": contact, "notes": notes})
    existing = MaintenancePlan.objects.filter(case=case).first()
    if existing is None:
        if base_version:
            raise workflow.ConcurrentChange(
                _("The maintenance plan is no longer there. Reload the page."),
                code="concurrent",
            )
        plan = MaintenancePlan.objects.create(case=case, contact=contact, notes=notes, made_by=by)
        workflow.chronicle(
            case=case,
            kind=EventKind.DOCUMENT,
            summary=_("Maintenance plan made"),
            by=by,
            ref=plan,
        )
        _audit(by=by, action=audit.AuditAction.CREATE, obj=plan, case=case)
        return plan
    changed = MaintenancePlan.objects.filter(pk=existing.pk, version=base_version or 0).update(
        contact=contact, notes=notes, version=F("version") + 1
    )
    if not changed:
        raise workflow.ConcurrentChange(
            _(
                "Someone else changed the maintenance plan just now. Their version is shown "
                "below; make your change again on it."
            ),
            code="concurrent",
        )
    existing.refresh_from_db(fields=["contact", "notes", "version"])
    workflow.chronicle(
        case=case,
        kind=EventKind.DOCUMENT,
        summary=_("Maintenance plan changed"),
        by=by,
        ref=existing,
    )
    _audit(
        by=by, action=audit.AuditAction.UPDATE, obj=existing, case=case, version=existing.version
    )
    return existing


# ---------------------------------------------------------------- booster meetings


def _booster_case(booster: BoosterMeeting) -> tuple[BoosterMeeting, Case]:
    booster = (
        BoosterMeeting.objects.select_for_update().select_related("maintenance").get(pk=booster.pk)
    )
    return booster, _locked_case(booster.maintenance.case)


def _not_past(day: datetime.date, today: datetime.date) -> None:
    if day < today:
        raise ValidationError(_("A booster meeting cannot be booked in the past."), code="past")


def _not_future(day: datetime.date, today: datetime.date) -> None:
    if day > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")


def _require_pending(booster: BoosterMeeting) -> None:
    if booster.cancelled:
        raise ValidationError(_("The booster meeting is cancelled."), code="cancelled")
    if booster.held_on is not None:
        raise ValidationError(_("The booster meeting is already held."), code="held")


def _pending_booster(booster: BoosterMeeting, by: User) -> tuple[BoosterMeeting, Case]:
    """The booster and its case, locked, once ``by`` may change it: booked, not held or
    cancelled, the case open."""
    booster, case = _booster_case(booster)
    _require_writer(by, case)
    _require_open(case)
    _require_pending(booster)
    return booster, case


def _booster_recorded(
    *,
    booster: BoosterMeeting,
    case: Case,
    by: User,
    summary: str,
    action: audit.AuditAction,
    **detail: Any,
) -> None:
    """The chronology's line and the audit row of a change to a booster meeting."""
    workflow.chronicle(case=case, kind=EventKind.MEETING, summary=summary, by=by, ref=booster)
    _audit(by=by, action=action, obj=booster, case=case, **detail)


def _note(note: str) -> str:
    note = note.strip()
    textlimits.check_fields(BoosterMeeting, {"note": note})
    return note


@transaction.atomic
def booster_add(
    *,
    maintenance: MaintenancePlan,
    planned_on: datetime.date,
    note: str = "",
    by: User,
    today: datetime.date | None = None,
) -> BoosterMeeting:
    """Book a booster meeting; the date moves to the first school day on or after it
    (compare ``planned_on`` with the booster's to tell the person)."""
    today = today or timezone.localdate()
    case = _locked_case(maintenance.case)
    _require_writer(by, case)
    _require_open(case)
    _not_past(planned_on, today)
    day = landing_day(case, planned_on)
    booster = BoosterMeeting.objects.create(
        maintenance=maintenance, planned_on=day, note=_note(note)
    )
    _booster_recorded(
        booster=booster,
        case=case,
        by=by,
        summary=_("Booster meeting booked for %(date)s") % {"date": day.isoformat()},
        action=audit.AuditAction.CREATE,
        planned_on=day.isoformat(),
        moved=day != planned_on,
    )
    return booster


@transaction.atomic
def booster_move(
    *,
    booster: BoosterMeeting,
    planned_on: datetime.date,
    by: User,
    today: datetime.date | None = None,
) -> BoosterMeeting:
    """Move a booked booster meeting (to a school day); its reminder goes out again."""
    today = today or timezone.localdate()
    booster, case = _pending_booster(booster, by)
    _not_past(planned_on, today)
    day = landing_day(case, planned_on)
    before = booster.planned_on
    booster.planned_on = day
    booster.reminded_at = None
    booster.save(update_fields=["planned_on", "reminded_at"])
    _booster_recorded(
        booster=booster,
        case=case,
        by=by,
        summary=_("Booster meeting moved from %(before)s to %(after)s")
        % {"before": before.isoformat(), "after": day.isoformat()},
        action=audit.AuditAction.UPDATE,
        planned_on=day.isoformat(),
        moved=day != planned_on,
    )
    return booster


@transaction.atomic
def booster_held(
    *,
    booster: BoosterMeeting,
    held_on: datetime.date,
    note: str = "",
    by: User,
    today: datetime.date | None = None,
) -> BoosterMeeting:
    """Record that the booster meeting was held (and a short note)."""
    today = today or timezone.localdate()
    booster, case = _pending_booster(booster, by)
    _not_future(held_on, today)
    booster.held_on = held_on
    booster.note = _note(note) or booster.note
    booster.save(update_fields=["held_on", "note"])
    _booster_recorded(
        booster=booster,
        case=case,
        by=by,
        summary=_("Booster meeting held %(date)s") % {"date": held_on.isoformat()},
        action=audit.AuditAction.UPDATE,
        held=True,
    )
    return booster


@transaction.atomic
def booster_cancel(*, booster: BoosterMeeting, by: User) -> BoosterMeeting:
    """Cancel a booked booster meeting (it stays on record, struck through)."""
    booster, case = _pending_booster(booster, by)
    booster.cancelled = True
    booster.save(update_fields=["cancelled"])
    _booster_recorded(
        booster=booster,
        case=case,
        by=by,
        summary=_("Booster meeting of %(date)s cancelled")
        % {"date": booster.planned_on.isoformat()},
        action=audit.AuditAction.UPDATE,
        cancelled=True,
    )
    return booster


# ---------------------------------------------------------------- reads


def pending_boosters() -> QuerySet[BoosterMeeting]:
    """Booked booster meetings of open cases: not held, not cancelled."""
    return BoosterMeeting.objects.filter(held_on__isnull=True, cancelled=False).exclude(
        maintenance__case__state__in=[state.value for state in ENDED_STATES]
    )


def boosters_due_for(
    user: access.AnyUser, today: datetime.date | None = None
) -> QuerySet[BoosterMeeting]:
    """The booster meetings due within ``DUE_WITHIN_DAYS`` or overdue, of the cases the user
    reads (the school's case staff; the assigned social worker while a consent covers the
    case): one query."""
    today = today or timezone.localdate()
    return (
        pending_boosters()
        .filter(
            planned_on__lte=today + datetime.timedelta(days=DUE_WITHIN_DAYS),
            maintenance__case__in=access.cases_visible_to(user),
        )
        .select_related("maintenance__case__student", "maintenance__case__school")
        .order_by("planned_on", "pk")
    )


# ---------------------------------------------------------------- reminders


def _recipients(case: Case, plan: MaintenancePlan) -> list[User]:
    """The assigned social workers, and the school staff member who made the plan (while
    they still work the school's cases); if neither, the school's case staff."""
    assigned = list(
        User.objects.filter(
            is_active=True, assignments__case=case, assignments__ended_at__isnull=True
        )
    )
    people = {user.pk: user for user in assigned}
    school_staff = access.holders(Capability.WORK_CASES, case.school)
    if plan.made_by_id is not None:
        author = school_staff.filter(pk=plan.made_by_id).first()
        if author is not None:
            people[author.pk] = author
    if not people:
        people = {user.pk: user for user in school_staff}
    return list(people.values())


def boosters_remind(*, today: datetime.date | None = None) -> int:
    """Send the content-free reminder of each booster meeting ``REMIND_DAYS_BEFORE`` days
    ahead, once: a booster is claimed (``reminded_at``) before anyone is notified, so a
    second run, or two at once, sends nothing more. Returns how many boosters were reminded
    about."""
    today = today or timezone.localdate()
    due = (
        pending_boosters()
        .filter(
            reminded_at__isnull=True,
            planned_on__gte=today,
            planned_on__lte=today + datetime.timedelta(days=REMIND_DAYS_BEFORE),
        )
        .select_related("maintenance__case__student", "maintenance__case__school")
        .order_by("planned_on", "pk")
    )
    reminded = 0
    for booster in due.iterator():
        with transaction.atomic():
            claimed = BoosterMeeting.objects.filter(pk=booster.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            )
            if not claimed:
                continue
            case = booster.maintenance.case
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("A booster meeting is coming up")
            path = reverse("cases:case_detail", args=[case.public_id]) + "#maintenance-heading"
            recipients = _recipients(case, booster.maintenance)
            for user in recipients:
                notify.notify(user=user, subject=subject, path=path)
            audit.record(
                user=None,
                action=audit.AuditAction.UPDATE,
                object_type=audit.AuditObjectType.BOOSTER_MEETING,
                object_id=str(booster.public_id),
                student_id=case.student.public_id,
                detail={
                    "case": str(case.public_id),
                    "part": "reminder",
                    "notified": len(recipients),
                },
            )
            reminded += 1
    return reminded
