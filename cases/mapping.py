"""The school-social mapping (DOMAIN.md §4.3) and the lighter records beside it: the times
offered for the mapping talk, the special educator's pedagogical mapping and the school
nurse's health talk.

Writes are services (``mapping_create``, ``offered_time_mark`` ...): each checks the profession
at the student's school, validates, saves, writes the chronology and the audit trail. Reads
are selectors that start from the access policy.

Two rules of confidentiality are enforced here, in the queries, not in templates:

- a mapping the student has not approved for sharing at the student health team (EHT) is
  read only by the school's counsellors; everyone else who may read the case learns that it
  exists (date and whether it is shared), and its text never leaves the database for them;
- a health talk's note is read only by the school's nurses; others learn when it was held.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sst import access, audit, notify
from sst.access import Capability
from sst.models import User

from . import workflow
from .models import (
    Agreement,
    Case,
    CauseFactor,
    CauseGroup,
    EventKind,
    HealthTalk,
    MappingApproval,
    OfferedTime,
    PedagogicalMapping,
    SchoolSocialMapping,
    Student,
    TimeStatus,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# ---------------------------------------------------------------- the source's questions

# After this many missed offered times the principal is informed (Trosa 004, appendix 2).
MISSED_TIMES_BEFORE_PRINCIPAL = 3


@dataclass(frozen=True)
class Area:
    """One of the four areas of the counsellor's talk, with the prompts of the source."""

    field: str
    question: StrPromise
    prompts: StrPromise


# Trosa 004, appendix 2, "Frågor/områden som diskuteras i kurators samtal med eleven".
AREAS: tuple[Area, ...] = (
    Area(
        "school_situation",
        gettext_lazy("How do you experience your situation at school, pedagogically and socially?"),
        gettext_lazy(
            "School work, what has worked and works today, difficulties, the cause of the "
            "absence, relations and interaction with staff and students in lessons and breaks."
        ),
    ),
    Area(
        "wellbeing",
        gettext_lazy("How do you feel emotionally?"),
        gettext_lazy(
            "Self-confidence, self-esteem, identity, stress, sleep, food, view of the future, "
            "stomach ache and headache."
        ),
    ),
    Area(
        "home_and_leisure",
        gettext_lazy("What is your situation at home and in your free time?"),
        gettext_lazy("Family, home conditions, network and leisure."),
    ),
    Area(
        "support_needed",
        gettext_lazy("What support do you think you need for absence to become attendance?"),
        gettext_lazy("What the school can do, what you can do yourself, what your parents can do."),
    ),
)
AREA_FIELDS = tuple(area.field for area in AREAS)

# Trosa 004, appendix 3, "Analysfrågor" (stämmer / delvis / ej). The keys are stored in
# ``SchoolSocialMapping.analysis`` and feed the group statistics: never rename one.
ANALYSIS_STATEMENTS: tuple[tuple[str, StrPromise], ...] = (
    ("absence_increased", gettext_lazy("The student's absence has increased")),
    ("schoolwork_missing", gettext_lazy("The student's school work has not been done")),
    (
        "goals_some_subjects",
        gettext_lazy("The student finds it hard to reach the goals in some subjects"),
    ),
    (
        "irregular_routines",
        gettext_lazy("The student has developed irregular routines at school"),
    ),
    (
        "conflicts_about_school",
        gettext_lazy("The student and the guardians end up in conflicts about school"),
    ),
    ("low_mood", gettext_lazy("The student shows low mood")),
    (
        "dependencies",
        gettext_lazy("The student has developed dependencies, e.g. computer and TV games"),
    ),
    ("final_grades_at_risk", gettext_lazy("The student risks not getting final grades")),
    (
        "lost_self_belief",
        gettext_lazy("The student has lost faith in themselves and their ability"),
    ),
    (
        "isolates_from_friends",
        gettext_lazy("The student isolates themselves from their friends at school"),
    ),
    (
        "worry_about_schoolwork",
        gettext_lazy("The student shows a strong feeling of worry about school work"),
    ),
    ("compulsive_behaviour", gettext_lazy("The student shows symptoms of compulsive behaviour")),
    ("fatigue", gettext_lazy("The student shows fatigue syndrome")),
    (
        "isolates_from_family",
        gettext_lazy(
            "The student isolates themselves and avoids contact with close ones and family"
        ),
    ),
)
ANALYSIS_KEYS = frozenset(key for key, _label in ANALYSIS_STATEMENTS)


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
    action: str,
    object_type: str,
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


def _validate_content(content: MappingContent) -> None:
    _not_in_future(content.conducted_on, _("The date of the talk cannot be in the future."))
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
def mapping_create(*, student: Student, content: MappingContent, by: User) -> SchoolSocialMapping:
    """The counsellor records a mapping; the student's case is opened if there is none."""
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    _validate_content(content)
    case = workflow.case_for_staircase_work(student=student, by=by)
    mapping = SchoolSocialMapping(case=case, counsellor=by, **content.field_values())
    mapping.full_clean(validate_unique=False)
    mapping.save()
    mapping.causes.set(content.causes)
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
        object_type="school_social_mapping",
        object_id=mapping.public_id,
        student=student,
    )
    return mapping


@transaction.atomic
def mapping_update(
    *, mapping: SchoolSocialMapping, content: MappingContent, version: int, by: User
) -> SchoolSocialMapping:
    """Save the counsellor's changes if nobody changed the mapping since ``version`` was read.

    A stale edit raises ``ConcurrentChange`` and changes nothing. Changing a mapping the
    student had approved asks for the approval again: the student approved what they read.
    """
    student = mapping.case.student
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    _validate_content(content)
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
        object_type="school_social_mapping",
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
    """Record the student's written answer: may the mapping be shared at the EHT?"""
    student = mapping.case.student
    _require(by, Capability.WRITE_SOCIAL_MAPPING, student)
    if approval not in {MappingApproval.APPROVED, MappingApproval.NOT_APPROVED}:
        raise ValidationError(_("Choose approved or not approved."), code="approval")
    _not_in_future(on, _("The date of the approval cannot be in the future."))
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
        object_type="school_social_mapping",
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
        object_type="offered_time",
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
        object_type="offered_time",
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
        object_type="offered_time",
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
        object_type="pedagogical_mapping",
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
        object_type="health_talk",
        object_id=talk.public_id,
        student=student,
    )
    return talk


# ---------------------------------------------------------------- selectors


def _denied(user: access.AnyUser, object_type: str, object_id: Any) -> Http404:
    audit.record(
        user=user,
        action=audit.AuditAction.ACCESS_DENIED,
        object_type=object_type,
        object_id=str(object_id),
    )
    return Http404()


def readable_mappings(user: access.AnyUser) -> QuerySet[SchoolSocialMapping]:
    """Mappings whose content the user may read: of cases they may read, and either shared
    with the student's approval or at a school where they are a counsellor."""
    if not (user.is_authenticated and user.is_active):
        return SchoolSocialMapping.objects.none()
    return SchoolSocialMapping.objects.filter(case__in=access.cases_visible_to(user)).filter(
        Q(approval=MappingApproval.APPROVED)
        | Q(case__student__school__in=access.schools_where(user, Capability.READ_UNSHARED_MAPPINGS))
    )


def mapping_for_user(user: access.AnyUser, public_id: uuid.UUID | str) -> SchoolSocialMapping:
    """A mapping whose content the user may read; otherwise 404 (audited), also when it
    exists but is not shared with this reader."""
    try:
        return (
            readable_mappings(user)
            .select_related("case__student__school", "case__student__mentor_group", "counsellor")
            .get(public_id=public_id)
        )
    except (SchoolSocialMapping.DoesNotExist, ValueError, ValidationError):
        raise _denied(user, "school_social_mapping", public_id) from None


def offered_time_for_user(user: access.AnyUser, public_id: uuid.UUID | str) -> OfferedTime:
    """An offered time of a case the user may read; otherwise 404 (audited)."""
    try:
        return (
            OfferedTime.objects.filter(case__in=access.cases_visible_to(user))
            .select_related("case__student__school")
            .get(public_id=public_id)
        )
    except (OfferedTime.DoesNotExist, ValueError, ValidationError):
        raise _denied(user, "offered_time", public_id) from None


def student_for_school_social_work(
    user: access.AnyUser, public_id: uuid.UUID | str
) -> tuple[Student, access.Granted]:
    """The student and the user's capabilities for them, if the user works with the school's
    cases (principal or student health staff); otherwise 404 (audited)."""
    return access.access_student(user, public_id, need=Capability.WORK_CASES)


def cause_factor_choices(*, chosen: Sequence[int] = ()) -> QuerySet[CauseFactor]:
    """The catalogue a mapping offers: factors in use, and any the mapping already has."""
    return CauseFactor.objects.filter(Q(active=True) | Q(pk__in=list(chosen))).order_by(
        "group", "order", "label"
    )


def causes_by_group(factors: Sequence[CauseFactor]) -> list[tuple[str, list[CauseFactor]]]:
    """(group label, factors) in the order of ``CauseGroup``, only groups with factors."""
    return [
        (str(group.label), [factor for factor in factors if factor.group == group])
        for group in CauseGroup
        if any(factor.group == group for factor in factors)
    ]


def analysis_answers(mapping: SchoolSocialMapping) -> list[tuple[str, str]]:
    """(statement, answer label) for the statements the counsellor answered, source order."""
    labels = dict(Agreement.choices)
    answers = mapping.analysis or {}
    return [
        (str(statement), str(labels[answers[key]]))
        for key, statement in ANALYSIS_STATEMENTS
        if answers.get(key) in labels
    ]


@dataclass(frozen=True)
class MappingSummary:
    """A mapping as a list shows it: that it exists, never its content."""

    public_id: uuid.UUID
    conducted_on: datetime.date | None
    created_at: datetime.datetime
    approval: str
    approval_on: datetime.date | None
    counsellor: str
    readable: bool

    @property
    def shared(self) -> bool:
        return self.approval == MappingApproval.APPROVED

    @property
    def approval_label(self) -> str:
        return str(MappingApproval(self.approval).label)


@dataclass(frozen=True)
class HealthTalkSummary:
    """A health talk as the reader may see it: the note only for school nurses."""

    public_id: uuid.UUID
    held_on: datetime.date
    nurse: str
    note: str | None


@dataclass
class SchoolSocialWork:
    """Everything of the mapping step for one student, as this reader may see it."""

    student: Student
    capabilities: frozenset[Capability]
    has_open_case: bool
    mappings: list[MappingSummary]
    offered_times: list[OfferedTime]
    pedagogical_mappings: list[PedagogicalMapping]
    health_talks: list[HealthTalkSummary]

    @property
    def is_counsellor(self) -> bool:
        return Capability.WRITE_SOCIAL_MAPPING in self.capabilities

    @property
    def is_special_educator(self) -> bool:
        return Capability.WRITE_PEDAGOGICAL_MAPPING in self.capabilities

    @property
    def is_nurse(self) -> bool:
        return Capability.WRITE_HEALTH_TALK in self.capabilities

    @property
    def missed_count(self) -> int:
        return sum(1 for time in self.offered_times if time.status == TimeStatus.MISSED)

    @property
    def principal_informed_at(self) -> datetime.datetime | None:
        return next(
            (t.principal_notified_at for t in self.offered_times if t.principal_notified_at),
            None,
        )

    @property
    def hidden_mapping_count(self) -> int:
        return sum(1 for mapping in self.mappings if not mapping.readable)


def _person(first: str | None, last: str | None, username: str | None) -> str:
    name = f"{first or ''} {last or ''}".strip()
    return name or username or "–"


def school_social_work(
    user: access.AnyUser, student: Student, capabilities: frozenset[Capability]
) -> SchoolSocialWork:
    """The student's mappings, offered times, pedagogical mappings and health talks across
    the cases the user may read. Six queries however many records there are."""
    cases = access.cases_visible_to(user).filter(student=student)
    has_open_case = cases.exclude(state__in=["closed", "rejected", "redirected"]).exists()
    reads_unshared = Capability.READ_UNSHARED_MAPPINGS in capabilities
    mapping_rows = (
        SchoolSocialMapping.objects.filter(case__in=cases)
        .order_by("-created_at", "-id")
        .values(
            "public_id",
            "conducted_on",
            "created_at",
            "approval",
            "approval_on",
            "counsellor__first_name",
            "counsellor__last_name",
            "counsellor__username",
        )
    )
    mappings = [
        MappingSummary(
            public_id=row["public_id"],
            conducted_on=row["conducted_on"],
            created_at=row["created_at"],
            approval=row["approval"],
            approval_on=row["approval_on"],
            counsellor=_person(
                row["counsellor__first_name"],
                row["counsellor__last_name"],
                row["counsellor__username"],
            ),
            readable=reads_unshared or row["approval"] == MappingApproval.APPROVED,
        )
        for row in mapping_rows
    ]
    offered_times = list(
        OfferedTime.objects.filter(case__in=cases)
        .select_related("booked_by")
        .order_by("-starts_at", "-id")
    )
    pedagogical = list(
        PedagogicalMapping.objects.filter(case__in=cases)
        .select_related("special_educator")
        .order_by("-conducted_on", "-id")
    )
    talk_fields = [
        "public_id",
        "held_on",
        "nurse__first_name",
        "nurse__last_name",
        "nurse__username",
    ]
    if Capability.READ_HEALTH_NOTES in capabilities:
        talk_fields.append("note")
    talks = [
        HealthTalkSummary(
            public_id=row["public_id"],
            held_on=row["held_on"],
            nurse=_person(
                row["nurse__first_name"], row["nurse__last_name"], row["nurse__username"]
            ),
            note=row.get("note"),
        )
        for row in HealthTalk.objects.filter(case__in=cases)
        .order_by("-held_on", "-id")
        .values(*talk_fields)
    ]
    return SchoolSocialWork(
        student=student,
        capabilities=capabilities,
        has_open_case=has_open_case,
        mappings=mappings,
        offered_times=offered_times,
        pedagogical_mappings=pedagogical,
        health_talks=talks,
    )


def shared_mappings_at_school(
    user: access.AnyUser, school_id: int
) -> QuerySet[SchoolSocialMapping]:
    """Mappings the students approved for sharing, of the school's cases the user may read:
    what the student health team's agenda shows. Pending and refused ones are never here."""
    return (
        SchoolSocialMapping.objects.filter(
            case__in=access.cases_visible_to(user),
            case__student__school_id=school_id,
            approval=MappingApproval.APPROVED,
        )
        .select_related("case__student__mentor_group", "counsellor")
        .prefetch_related("causes")
        .order_by("case__student__last_name", "case__student__first_name", "-created_at")
    )


# How many rows each list of the counsellor's desk panel shows.
DESK_LIMIT = 15


@dataclass(frozen=True)
class CounsellorDesk:
    role: str
    pending: list[SchoolSocialMapping]
    pending_count: int
    times: list[OfferedTime]
    times_count: int
    now: datetime.datetime


def counsellor_desk(user: access.AnyUser) -> CounsellorDesk | None:
    """For counsellors: their schools' mappings waiting for the student's approval and the
    booked times (upcoming, and earlier ones not yet marked). ``None`` for everyone else.
    Five queries however many rows."""
    if not (user.is_authenticated and user.is_active):
        return None
    school_ids = list(
        access.schools_where(user, Capability.WRITE_SOCIAL_MAPPING).values_list("pk", flat=True)
    )
    if not school_ids:
        return None
    cases = access.cases_visible_to(user).filter(student__school_id__in=school_ids)
    pending = (
        SchoolSocialMapping.objects.filter(case__in=cases, approval=MappingApproval.PENDING)
        .select_related("case__student__mentor_group")
        .only(
            "public_id",
            "conducted_on",
            "created_at",
            "case__student__public_id",
            "case__student__first_name",
            "case__student__last_name",
            "case__student__mentor_group__name",
        )
        .order_by("created_at", "id")
    )
    times = (
        OfferedTime.objects.filter(case__in=cases, status=TimeStatus.BOOKED)
        .select_related("case__student__mentor_group")
        .order_by("starts_at", "id")
    )
    return CounsellorDesk(
        role=access.audit_role(Capability.WRITE_SOCIAL_MAPPING),
        pending=list(pending[:DESK_LIMIT]),
        pending_count=pending.count(),
        times=list(times[:DESK_LIMIT]),
        times_count=times.count(),
        now=timezone.now(),
    )
