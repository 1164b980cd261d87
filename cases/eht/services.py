"""Writes of the student health team (EHT): meetings and decisions. Each service asks the
access policy for the capability at the student's school, validates, saves, writes the
chronology and the audit trail, and notifies content-free after commit.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from attendance import services as attendance_services
from attendance.models import DueKind
from sst import access, audit, notify
from sst.access import Capability
from sst.models import School, User

from ..models import (
    Case,
    EhtDecision,
    EhtDecisionKind,
    EhtMeeting,
    EventKind,
)
from ..workflow import chronicle
from .selectors import person_name


@transaction.atomic
def eht_meeting_schedule(*, school: School, meets_on: datetime.date, by: User) -> EhtMeeting:
    """Set a date for a meeting of the school's EHT (principal or EHT member)."""
    access.require(by, Capability.RECORD_EHT, school)
    if meets_on < timezone.localdate():
        raise ValidationError(_("A meeting cannot be set in the past."), code="past")
    if EhtMeeting.objects.filter(school=school, meets_on=meets_on).exists():
        raise ValidationError(_("There is already a meeting on that day."), code="duplicate")
    meeting = EhtMeeting(school=school, meets_on=meets_on)
    meeting.full_clean()
    meeting.save()
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.EHT_MEETING,
        object_id=str(meeting.pk),
        detail={"school": school.unit_code, "meets_on": meets_on.isoformat()},
    )
    return meeting


def _decision_summary(decision: EhtDecision) -> str:
    summary = _("Student health team decision: %(kind)s. Responsible: %(who)s.") % {
        "kind": decision.get_kind_display(),
        "who": person_name(decision.responsible) or _("Nobody assigned"),
    }
    if decision.due_on:
        summary += " " + _("To be done by %(date)s.") % {"date": f"{decision.due_on:%Y-%m-%d}"}
    return summary


@transaction.atomic
def eht_decision_record(
    *,
    case: Case,
    kind: str,
    responsible: User,
    due_on: datetime.date | None,
    comment: str,
    by: User,
    meeting: EhtMeeting | None = None,
) -> EhtDecision:
    """Record a decision about the student; the responsible person gets a content-free
    e-mail saying there is something to do."""
    school_id = case.student.school_id
    access.require(by, Capability.RECORD_EHT, case)
    if not case.is_open:
        raise ValidationError(
            _("The case has ended: decisions can no longer be recorded on it."), code="ended"
        )
    if kind not in EhtDecisionKind.values:
        raise ValidationError(_("Choose a decision."), code="kind")
    if (
        responsible is None
        or not access.holders(
            Capability.BE_RESPONSIBLE_FOR_EHT_DECISIONS, case.student.school, within=True
        )
        .filter(pk=responsible.pk)
        .exists()
    ):
        raise ValidationError(
            _("The person responsible must work at the student's school."), code="responsible"
        )
    if meeting is not None and meeting.school_id != school_id:
        raise ValidationError(_("The meeting belongs to another school."), code="meeting")
    today = timezone.localdate()
    if due_on is not None and due_on < today:
        raise ValidationError(_("The due date cannot be in the past."), code="due_on")
    decision = EhtDecision(
        case=case,
        meeting=meeting,
        kind=kind,
        responsible=responsible,
        due_on=due_on,
        comment=comment.strip(),
        decided_on=today,
        recorded_by=by,
    )
    decision.full_clean()
    decision.save()
    # The principal's step-3 task (give the counsellor the mapping) is a team decision.
    attendance_services.tasks_done(student=case.student, tasks=[DueKind.ASSIGN_MAPPING], by=by)
    chronicle(
        case=case,
        kind=EventKind.EHT_DECISION,
        summary=_decision_summary(decision),
        by=by,
        ref=decision,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.EHT_DECISION,
        object_id=str(decision.public_id),
        student_id=case.student.public_id,
        detail={
            "kind": kind,
            "meeting": meeting.pk if meeting else None,
            "case": str(case.public_id),
        },
    )
    if responsible.pk != by.pk:
        _notify_responsible(responsible, case)
    return decision


def _notify_responsible(responsible: User, case: Case) -> None:
    school = case.student.school
    # A mentor made responsible cannot open the EHT page: their link goes to their desk.
    on_eht = access.holds(responsible, Capability.RECORD_EHT, school)
    path = reverse("cases:eht_school", args=[school.unit_code]) if on_eht else None
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("A student health team decision gives you something to do")
    notify.notify(user=responsible, subject=subject, path=path)


@transaction.atomic
def eht_decision_done(*, decision: EhtDecision, by: User) -> EhtDecision:
    """Mark a decision as done (once)."""
    case = decision.case
    access.require(by, Capability.RECORD_EHT, case)
    now = timezone.now()
    if not EhtDecision.objects.filter(pk=decision.pk, done_at__isnull=True).update(done_at=now):
        raise ValidationError(_("The decision is already marked as done."), code="done")
    decision.done_at = now
    chronicle(
        case=case,
        kind=EventKind.EHT_DECISION,
        summary=_("Student health team decision done: %(kind)s.")
        % {"kind": decision.get_kind_display()},
        by=by,
        ref=decision,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.EHT_DECISION,
        object_id=str(decision.public_id),
        student_id=case.student.public_id,
        detail={"done": True},
    )
    return decision
