"""Writes of the mapping step: the counsellor's mapping and the student's approval, the
times offered for the mapping talk, the pedagogical mapping and the health talk.

Each service asks the access policy for the capability at the student's school (404,
audited, otherwise), validates, saves, writes the chronology and the audit trail.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from attendance import services as attendance_services
from attendance.models import DueKind
from sst import access, audit, notify
from sst.access import Capability
from sst.models import Student, User

from .. import workflow
from ..models import (
    Agreement,
    Case,
    CauseFactor,
    EventKind,
    HealthTalk,
    MappingApproval,
    OfferedTime,
    PedagogicalMapping,
    SchoolSocialMapping,
    TimeStatus,
)
from .texts import ANALYSIS_KEYS, AREA_FIELDS, AREAS, MISSED_TIMES_BEFORE_PRINCIPAL


@dataclass(frozen=True)
class MappingContent:
    """What the counsellor writes in a mapping; the form converts, the services save."""

    conducted_on: datetime.date | None = None
    school_situation: str = ""
    wellbeing: str = ""
    home_and_leisure: str = ""
    support_needed: str = ""
    support_wanted: str = ""
    absence_kind: str = ""
    analysis: dict[str, str] = field(default_factory=dict)
    causes: Sequence[CauseFactor] = ()

    def field_values(self) -> dict[str, Any]:
        return {
            "conducted_on": self.conducted_on,
            "school_situation": self.school_situation,
            "wellbeing": self.wellbeing,
            "home_and_leisure": self.home_and_leisure,
            "support_needed": self.support_needed,
            "support_wanted": self.support_wanted,
            "absence_kind": self.absence_kind,
            "analysis": dict(self.analysis),
        }


# ---------------------------------------------------------------- helpers


def _require(user: User, capability: Capability, student: Student) -> str:
    """The services' own check: writes belong to one profession at the student's school
    (404, audited, like every other refusal)."""
    return access.require(user, capability, student)


def _not_in_future(day: datetime.date | None, message: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError(message, code="future")


def _audit(
    *,
    by: User | None,
    action: audit.AuditAction,
    object_type: audit.AuditObjectType,
    object_id: Any,
    student: Student,
    **detail: Any,
) -> None:
    audit.record(
        user=by,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        student_id=student.public_id,
        detail=detail,
    )


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def mapping_missing(values: Any) -> dict[str, str]:
    """What a mapping needs before the student can approve it (and so before it is shared):
    the date of the talk and the four areas of the source (Trosa 004, appendix 2), field by
    field with what to do. ``values`` is a ``MappingContent`` or a saved mapping."""
    missing: dict[str, str] = {}
    if getattr(values, "conducted_on", None) is None:
        missing["conducted_on"] = _("Give the date of the talk with the student.")
    for area in AREAS:
        if not str(getattr(values, area.field, "") or "").strip():
            missing[area.field] = _("Write what the student says about this area.")
    return missing


def _is_empty(content: MappingContent) -> bool:
    texts = (*(content.field_values()[name] for name in AREA_FIELDS), content.support_wanted)
    return not (
        content.conducted_on
        or any(str(text).strip() for text in texts)
        or content.absence_kind
        or content.analysis
        or content.causes
    )


def _validate_content(content: MappingContent, *, done: bool) -> None:
    """A draft may be incomplete but not empty; a mapping saved as done has every part."""
    _not_in_future(content.conducted_on, _("The date of the talk cannot be in the future."))
    if _is_empty(content):
        raise ValidationError(
            _("The mapping is empty: write at least one part before saving it."), code="empty"
        )
    if done:
        missing = mapping_missing(content)
        if missing:
            raise ValidationError(
                {
                    name: ValidationError(message, code="required")
                    for name, message in missing.items()
                }
            )
    unknown = set(content.analysis) - ANALYSIS_KEYS
    if unknown:
        raise ValidationError(_("Unknown analysis statement."), code="analysis")
    if any(value not in Agreement.values for value in content.analysis.values()):
        raise ValidationError(_("Unknown answer to an analysis statement."), code="analysis")


# Chronology entries are restricted to a profession: the one that reads unshared mappings,
# and the one that reads health-talk notes.
_UNSHARED_MAPPING_READERS = access.restriction_for(Capability.READ_UNSHARED_MAPPINGS)
_HEALTH_NOTE_READERS = access.restriction_for(Capability.READ_HEALTH_NOTES)


def _mapping_restriction(approval: str) -> str:
    """Chronology entries about a mapping stay with the counsellors until the student approves."""
    return "" if approval == MappingApproval.APPROVED else _UNSHARED_MAPPING_READERS


# ---------------------------------------------------------------- services: the mapping


@transaction.atomic
def mapping_create(
    *, student: Student, content: MappingContent, by: User, done: bool = False
) -> SchoolSocialMapping:
    """The counsellor records a mapping; the student's case is opened if there is none.

    A draft may be incomplete (not empty); ``done`` asks for every part (``mapping_missing``).
    """
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    _validate_content(content, done=done)
    case = workflow.case_for_staircase_work(student=student, by=by)
    mapping = SchoolSocialMapping(case=case, counsellor=by, **content.field_values())
    mapping.full_clean(validate_unique=False)
    mapping.save()
    mapping.causes.set(content.causes)
    # Done by doing it: the counsellor's mapping, and the principal's giving it to them.
    attendance_services.tasks_done(
        student=student, tasks=[DueKind.SOCIAL_MAPPING, DueKind.ASSIGN_MAPPING], by=by
    )
    workflow.chronicle(
        case=case,
        kind=EventKind.MAPPING,
        summary=_("School-social mapping recorded"),
        by=by,
        restricted_to=_mapping_restriction(mapping.approval),
        ref=mapping,
    )
    _audit(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING,
        object_id=mapping.public_id,
        student=student,
    )
    return mapping


@transaction.atomic
def mapping_update(
    *,
    mapping: SchoolSocialMapping,
    content: MappingContent,
    version: int,
    by: User,
    done: bool = False,
) -> SchoolSocialMapping:
    """Save the counsellor's changes if nobody changed the mapping since ``version`` was read.

    A stale edit raises ``ConcurrentChange`` and changes nothing. Changing a mapping the
    student had approved asks for the approval again: the student approved what they read.
    """
    student = mapping.case.student
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    _validate_content(content, done=done)
    values = content.field_values()
    candidate = SchoolSocialMapping(case=mapping.case, counsellor=mapping.counsellor, **values)
    candidate.full_clean(validate_unique=False)
    new_causes = {factor.pk for factor in content.causes}
    changed = any(getattr(mapping, name) != value for name, value in values.items()) or (
        new_causes != set(mapping.causes.values_list("pk", flat=True))
    )
    reapprove = changed and mapping.approval == MappingApproval.APPROVED
    updates: dict[str, Any] = {**values, "updated_at": timezone.now(), "version": F("version") + 1}
    if reapprove:
        updates.update(approval=MappingApproval.PENDING, approval_on=None)
    saved = SchoolSocialMapping.objects.filter(pk=mapping.pk, version=version).update(**updates)
    if not saved:
        raise workflow.ConcurrentChange(
            _(
                "Someone else changed the mapping after you opened it. Your changes were not "
                "saved. Reload the page to see the latest version."
            ),
            code="concurrent",
        )
    mapping.causes.set(new_causes)
    mapping.refresh_from_db()
    summary = _("School-social mapping changed")
    if reapprove:
        summary = _("School-social mapping changed; the student's approval must be asked again")
    workflow.chronicle(
        case=mapping.case,
        kind=EventKind.MAPPING,
        summary=summary,
        by=by,
        restricted_to=_mapping_restriction(mapping.approval),
        ref=mapping,
    )
    _audit(
        by=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING,
        object_id=mapping.public_id,
        student=student,
        approval_reset=reapprove,
    )
    return mapping


@transaction.atomic
def mapping_record_approval(
    *,
    mapping: SchoolSocialMapping,
    approval: str,
    on: datetime.date,
    version: int,
    by: User,
) -> SchoolSocialMapping:
    """Record the student's written answer: may the mapping be shared at the EHT?

    The student answers about the finished mapping: an incomplete one is refused (so nothing
    incomplete is ever shared), and the answer cannot be dated before the talk.
    """
    student = mapping.case.student
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    if approval not in {MappingApproval.APPROVED, MappingApproval.NOT_APPROVED}:
        raise ValidationError(_("Choose approved or not approved."), code="approval")
    missing = mapping_missing(mapping)
    if missing:
        raise ValidationError(
            _(
                "The mapping is not complete, so the student cannot yet approve it. "
                "Complete it first: %(missing)s"
            )
            % {"missing": " ".join(dict.fromkeys(missing.values()))},
            code="incomplete",
        )
    _not_in_future(on, _("The date of the approval cannot be in the future."))
    if mapping.conducted_on is not None and on < mapping.conducted_on:
        raise ValidationError(
            {
                "approval_on": ValidationError(
                    _("The approval cannot be dated before the talk (%(date)s).")
                    % {"date": f"{mapping.conducted_on:%Y-%m-%d}"},
                    code="before_talk",
                )
            }
        )
    saved = SchoolSocialMapping.objects.filter(pk=mapping.pk, version=version).update(
        approval=approval, approval_on=on, updated_at=timezone.now(), version=F("version") + 1
    )
    if not saved:
        raise workflow.ConcurrentChange(
            _(
                "Someone else changed the mapping after you opened it. Nothing was saved. "
                "Reload the page to see the latest version."
            ),
            code="concurrent",
        )
    mapping.refresh_from_db()
    if approval == MappingApproval.APPROVED:
        summary = _("The student approved that the school-social mapping is shared at the EHT")
    else:
        summary = _(
            "The student did not approve that the school-social mapping is shared at the EHT"
        )
    workflow.chronicle(
        case=mapping.case,
        kind=EventKind.MAPPING,
        summary=summary,
        by=by,
        happened_at=_start_of(on) if on < timezone.localdate() else None,
        restricted_to=_mapping_restriction(approval),
        ref=mapping,
    )
    _audit(
        by=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING,
        object_id=mapping.public_id,
        student=student,
        approval=approval,
    )
    return mapping


# ---------------------------------------------------------------- services: offered times


@transaction.atomic
def offered_time_book(*, student: Student, starts_at: datetime.datetime, by: User) -> OfferedTime:
    """The counsellor offers the student a time for the mapping talk."""
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")
    case = workflow.case_for_staircase_work(student=student, by=by)
    offered = OfferedTime.objects.create(case=case, starts_at=starts_at, booked_by=by)
    workflow.chronicle(
        case=case,
        kind=EventKind.MAPPING,
        summary=_("Time offered for the school-social mapping: %(when)s")
        % {"when": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M")},
        by=by,
        ref=offered,
    )
    _audit(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.OFFERED_TIME,
        object_id=offered.public_id,
        student=student,
    )
    return offered


@transaction.atomic
def offered_time_mark(*, offered_time: OfferedTime, status: str, by: User) -> OfferedTime:
    """Mark a booked time attended or missed. On the third missed time the school's
    principals are informed, once per case however often this runs."""
    # Lock the case: two marks at once must not both see "two missed" or both notify.
    case = Case.objects.select_for_update().select_related("student").get(pk=offered_time.case_id)
    student = case.student
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    if status not in {TimeStatus.ATTENDED, TimeStatus.MISSED}:
        raise ValidationError(_("Choose attended or missed."), code="status")
    if offered_time.starts_at > timezone.now():
        raise ValidationError(
            _("A time that has not yet begun cannot be marked attended or missed."),
            code="not_yet",
        )
    marked = OfferedTime.objects.filter(pk=offered_time.pk, status=TimeStatus.BOOKED).update(
        status=status
    )
    if not marked:
        raise workflow.TransitionRefused(
            _("The time has already been marked. Reload the page."), code="marked"
        )
    offered_time.refresh_from_db()
    when = timezone.localtime(offered_time.starts_at).strftime("%Y-%m-%d %H:%M")
    workflow.chronicle(
        case=case,
        kind=EventKind.MAPPING,
        summary=(
            _("The student came to the offered time %(when)s")
            if status == TimeStatus.ATTENDED
            else _("The student did not come to the offered time %(when)s")
        )
        % {"when": when},
        by=by,
        ref=offered_time,
    )
    _audit(
        by=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.OFFERED_TIME,
        object_id=offered_time.public_id,
        student=student,
        status=status,
    )
    if status == TimeStatus.MISSED:
        _inform_principals_after_missed_times(case=case, offered_time=offered_time, by=by)
    return offered_time


def _inform_principals_after_missed_times(
    *, case: Case, offered_time: OfferedTime, by: User
) -> None:
    times = OfferedTime.objects.filter(case=case)
    if times.filter(principal_notified_at__isnull=False).exists():
        return
    if times.filter(status=TimeStatus.MISSED).count() < MISSED_TIMES_BEFORE_PRINCIPAL:
        return
    now = timezone.now()
    OfferedTime.objects.filter(pk=offered_time.pk, principal_notified_at__isnull=True).update(
        principal_notified_at=now
    )
    offered_time.principal_notified_at = now
    principals = access.holders(Capability.RECORD_ESCALATIONS, case.student.school).order_by("pk")
    path = reverse("cases:mapping_overview", args=[case.student.public_id])
    subject = _principal_subject()
    for principal in principals:
        notify.notify(user=principal, subject=subject, path=path)
    workflow.chronicle(
        case=case,
        kind=EventKind.MAPPING,
        summary=_(
            "The principal was informed: the student did not come to three offered times "
            "for the school-social mapping"
        ),
        by=by,
        ref=offered_time,
    )
    _audit(
        by=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.OFFERED_TIME,
        object_id=offered_time.public_id,
        student=case.student,
        principal_informed=True,
        principals=len(principals),
    )


def _principal_subject() -> str:
    # The subject says what happened, never to whom (sst.notify: content-free).
    with translation.override(settings.LANGUAGE_CODE):
        return _("A student has not come to three offered times for the school-social mapping")


# ---------------------------------------------------------------- services: lighter records


@transaction.atomic
def pedagogical_mapping_add(
    *,
    student: Student,
    conducted_on: datetime.date,
    findings: str,
    adjustments: str,
    by: User,
) -> PedagogicalMapping:
    """The special educator's short pedagogical mapping."""
    _require(by, Capability.WRITE_PEDAGOGICAL_MAPPING, student)
    _not_in_future(conducted_on, _("The date cannot be in the future."))
    case = workflow.case_for_staircase_work(student=student, by=by)
    record = PedagogicalMapping(
        case=case,
        special_educator=by,
        conducted_on=conducted_on,
        findings=findings,
        adjustments=adjustments,
    )
    record.full_clean(validate_unique=False)
    record.save()
    attendance_services.tasks_done(student=student, tasks=[DueKind.PEDAGOGICAL_MAPPING], by=by)
    workflow.chronicle(
        case=case,
        kind=EventKind.PEDAGOGICAL_MAPPING,
        summary=_("Pedagogical mapping recorded"),
        by=by,
        happened_at=_start_of(conducted_on) if conducted_on < timezone.localdate() else None,
        ref=record,
    )
    _audit(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.PEDAGOGICAL_MAPPING,
        object_id=record.public_id,
        student=student,
    )
    return record


@transaction.atomic
def health_talk_add(*, student: Student, held_on: datetime.date, note: str, by: User) -> HealthTalk:
    """The school nurse's health talk. The note is health-record content: nurses only."""
    _require(by, Capability.WRITE_HEALTH_TALK, student)
    _not_in_future(held_on, _("The date cannot be in the future."))
    case = workflow.case_for_staircase_work(student=student, by=by)
    talk = HealthTalk(case=case, nurse=by, held_on=held_on, note=note)
    talk.full_clean(validate_unique=False)
    talk.save()
    attendance_services.tasks_done(student=student, tasks=[DueKind.HEALTH_TALK], by=by)
    workflow.chronicle(
        case=case,
        kind=EventKind.HEALTH_TALK,
        summary=_("Health talk held"),
        by=by,
        happened_at=_start_of(held_on) if held_on < timezone.localdate() else None,
        restricted_to=_HEALTH_NOTE_READERS,
        ref=talk,
    )
    _audit(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.HEALTH_TALK,
        object_id=talk.public_id,
        student=student,
    )
    return talk
