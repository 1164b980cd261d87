"""Reads of the mapping step. They start from the access policy.

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
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from sst import access, audit
from sst.access import Capability

from ..models import (
    ENDED_STATES,
    Agreement,
    CauseFactor,
    CauseGroup,
    HealthTalk,
    MappingApproval,
    OfferedTime,
    PedagogicalMapping,
    SchoolSocialMapping,
    Student,
    TimeStatus,
)
from .texts import ANALYSIS_STATEMENTS


def readable_mappings(user: access.AnyUser) -> QuerySet[SchoolSocialMapping]:
    """Mappings whose content the user may read: of cases they may read, and either shared
    with the student's approval or at a school where they are a counsellor."""
    if not (user.is_authenticated and user.is_active):
        return SchoolSocialMapping.objects.none()
    return SchoolSocialMapping.objects.filter(case__in=access.cases_visible_to(user)).filter(
        Q(approval=MappingApproval.APPROVED)
        | Q(case__school__in=access.schools_where(user, Capability.READ_UNSHARED_MAPPINGS))
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
        raise access.refuse(user, audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING, public_id) from None


def offered_time_for_user(user: access.AnyUser, public_id: uuid.UUID | str) -> OfferedTime:
    """An offered time of a case the user may read; otherwise 404 (audited)."""
    try:
        return (
            OfferedTime.objects.filter(case__in=access.cases_visible_to(user))
            .select_related("case__student__school")
            .get(public_id=public_id)
        )
    except (OfferedTime.DoesNotExist, ValueError, ValidationError):
        raise access.refuse(user, audit.AuditObjectType.OFFERED_TIME, public_id) from None


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
    has_open_case = cases.exclude(state__in=ENDED_STATES).exists()
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
            case__school_id=school_id,
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
