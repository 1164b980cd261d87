"""Reads of the student health team (EHT): who is on its list, its meetings, the rows of its
page and agenda, a case's decisions. They start from the access policy's querysets and run
a fixed number of queries whatever the number of students.

Who is on the EHT's list: an open case whose mentor reported it to the EHT (checklist), that
the principal or the EHT opened, or that has a school-social mapping (step 3's work); and any
case, open or not, with a decision not yet done, so that no task disappears from sight.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance.models import MonthlyAbsence, next_month
from sst import access, audit
from sst.access import Capability
from sst.models import School, User

from ..models import (
    ENDED_STATES,
    Case,
    CaseOpening,
    EhtDecision,
    EhtDecisionKind,
    EhtMeeting,
    MappingApproval,
    MentorChecklist,
    SchoolSocialMapping,
)

# Decisions are recorded in the meeting they belong to: the meetings of the last weeks and
# the coming ones are offered.
MEETING_LOOKBACK_DAYS = 60


# ---------------------------------------------------------------- access


def eht_school_for_user(user: access.AnyUser, unit_code: str) -> School:
    """A school where the user is the principal or a member of the EHT; otherwise 404."""
    return access.access_school(user, unit_code, need=Capability.RECORD_EHT)


def eht_case_for_user(user: access.AnyUser, public_id: uuid.UUID | str) -> Case:
    """A case the user may read as principal or EHT member at the student's school (404)."""
    return access.access_case(user, public_id, need=Capability.RECORD_EHT)[0]


def eht_decision_for_user(user: access.AnyUser, public_id: uuid.UUID | str) -> EhtDecision:
    """A decision on a case the user may read; otherwise 404 (audited)."""
    decision = (
        EhtDecision.objects.filter(case__in=access.cases_visible_to(user))
        .select_related("case__student__school", "responsible")
        .filter(public_id=public_id)
        .first()
    )
    if decision is None:
        raise access.refuse(user, audit.AuditObjectType.EHT_DECISION, public_id)
    return decision


# ---------------------------------------------------------------- who is on the list


def _on_eht_list() -> Q:
    reported = Exists(
        MentorChecklist.objects.filter(case=OuterRef("pk"), reported_to_eht_at__isnull=False)
    )
    mapped = Exists(SchoolSocialMapping.objects.filter(case=OuterRef("pk")))
    undone = Exists(EhtDecision.objects.filter(case=OuterRef("pk"), done_at__isnull=True))
    is_open = ~Q(state__in=ENDED_STATES)
    brought_up = Q(opening__in=[CaseOpening.EHT, CaseOpening.PRINCIPAL])
    return (is_open & (Q(reported) | Q(mapped) | brought_up)) | Q(undone)


def eht_cases(user: access.AnyUser, school_ids: list[int]) -> QuerySet[Case]:
    """The cases on the EHT's list at these schools, as far as the user may read them."""
    return (
        access.cases_visible_to(user)
        .filter(student__school_id__in=school_ids)
        .filter(_on_eht_list())
    )


def eht_schools_of(user: access.AnyUser) -> list[School]:
    """The schools where the user is the principal or a member of the EHT: one query."""
    return list(
        access.schools_with_students_visible_to(user)
        .filter(pk__in=access.schools_where(user, Capability.RECORD_EHT).values("pk"))
        .order_by("name")
    )


def agenda_counts(user: access.AnyUser, school_ids: list[int]) -> dict[int, int]:
    """Students on the EHT's list per school: one query."""
    rows = (
        eht_cases(user, school_ids)
        .values("student__school_id")
        .annotate(n=Count("student_id", distinct=True))
        .values_list("student__school_id", "n")
        .order_by()
    )
    return dict(rows)


# ---------------------------------------------------------------- rows of the page and agenda


@dataclass(frozen=True)
class OpenItem:
    """Something the school still has to do for the student, and who does it."""

    label: str
    responsible: str
    due_on: datetime.date | None = None
    overdue: bool = False
    comment: str = ""
    decision: EhtDecision | None = None


@dataclass
class EhtRow:
    case: Case
    absence: MonthlyAbsence | None
    absence_end: datetime.date | None
    reason: str
    items: list[OpenItem] = field(default_factory=list)
    has_mapping: bool = False
    # Only a mapping the student approved to share at the EHT; never any other.
    shared_mapping: SchoolSocialMapping | None = None

    @property
    def student(self):  # type: ignore[no-untyped-def]
        return self.case.student

    @property
    def causes(self) -> list[tuple[str, list[str]]]:
        """The shared mapping's cause factors by group, in the catalogue's order."""
        if self.shared_mapping is None:
            return []
        groups: dict[str, list[str]] = defaultdict(list)
        for factor in sorted(
            self.shared_mapping.causes.all(), key=lambda f: (f.group, f.order, f.label)
        ):
            groups[str(factor.get_group_display())].append(factor.label)
        return list(groups.items())


def person_name(user: User | None) -> str:
    return str(user) if user is not None else ""


def _mapping_prefetches(with_content: bool) -> list[Any]:
    # Whether a mapping exists and its approval: never its text, which stays with the
    # counsellor unless the student approved sharing it.
    prefetches: list[Any] = [
        Prefetch(
            "mappings",
            queryset=SchoolSocialMapping.objects.only(
                "pk", "case", "approval", "counsellor", "created_at"
            )
            .select_related("counsellor")
            .order_by("-created_at", "-pk"),
            to_attr="mapping_rows",
        )
    ]
    if with_content:
        prefetches.append(
            Prefetch(
                "mappings",
                queryset=SchoolSocialMapping.objects.filter(
                    approval=MappingApproval.APPROVED
                ).prefetch_related("causes"),
                to_attr="approved_mappings",
            )
        )
    return prefetches


def eht_rows(
    user: access.AnyUser,
    school: School,
    *,
    today: datetime.date,
    with_mapping_content: bool = False,
) -> list[EhtRow]:
    """The students on the EHT's list with step, latest absence, open items and who is
    responsible. A fixed number of queries (eight at most) whatever the number of students.

    ``with_mapping_content`` loads the text and causes of mappings the student approved to
    share at the EHT (the agenda); the page itself shows only whether a mapping exists.
    """
    latest_month = (
        MonthlyAbsence.objects.filter(student_id=OuterRef("student_id"), scheduled_min__gt=0)
        .at_current_school()
        .order_by("-month")
        .values("pk")[:1]
    )
    cases = list(
        eht_cases(user, [school.pk])
        .select_related("student__mentor_group")
        .annotate(latest_absence_id=Subquery(latest_month))
        .prefetch_related(
            Prefetch(
                "eht_decisions",
                queryset=EhtDecision.objects.filter(done_at__isnull=True)
                .select_related("responsible")
                .order_by(F("due_on").asc(nulls_last=True), "pk"),
                to_attr="open_decisions",
            ),
            Prefetch(
                "checklists",
                queryset=MentorChecklist.objects.only(
                    "pk",
                    "case",
                    "mentor_name",
                    "created_at",
                    "follow_up_due_on",
                    "follow_up_done_at",
                    "reported_to_eht_at",
                    "eht_recorded_at",
                    "eht_no_further_follow_up",
                ).order_by("created_at", "pk"),
                to_attr="checklist_rows",
            ),
            *_mapping_prefetches(with_mapping_content),
        )
        .order_by("student__last_name", "student__first_name", "pk")
    )
    if not cases:
        return []
    absence_ids = [c.latest_absence_id for c in cases if c.latest_absence_id]  # type: ignore[attr-defined]
    absences = MonthlyAbsence.objects.in_bulk(absence_ids) if absence_ids else {}
    counsellors = ", ".join(
        person_name(person) for person in access.holders(Capability.WRITE_SOCIAL_MAPPING, school)
    ) or access.role_label(Capability.WRITE_SOCIAL_MAPPING)
    rows = []
    for case in cases:
        absence = absences.get(case.latest_absence_id)  # type: ignore[attr-defined]
        rows.append(
            EhtRow(
                case=case,
                absence=absence,
                absence_end=min(absence.month_end, today) if absence else None,
                reason=_reason(case),
                items=_open_items(case, counsellors, today),
                has_mapping=bool(case.mapping_rows),  # type: ignore[attr-defined]
                shared_mapping=_shared_mapping(case) if with_mapping_content else None,
            )
        )
    return rows


def _reason(case: Case) -> str:
    reported = [
        c.reported_to_eht_at
        for c in case.checklist_rows  # type: ignore[attr-defined]
        if c.reported_to_eht_at
    ]
    if reported:
        day = timezone.localdate(min(reported))
        return _("Reported by the mentor on %(date)s") % {"date": f"{day:%Y-%m-%d}"}
    if case.opening in (CaseOpening.EHT, CaseOpening.PRINCIPAL):
        return str(CaseOpening(case.opening).label)
    if case.mapping_rows:  # type: ignore[attr-defined]
        return _("School-social mapping begun")
    return _("Decisions not yet done")


def _shared_mapping(case: Case) -> SchoolSocialMapping | None:
    """The case's latest mapping, if the student approved sharing it at the EHT."""
    if not case.mapping_rows:  # type: ignore[attr-defined]
        return None
    latest = case.mapping_rows[0]  # type: ignore[attr-defined]
    if latest.approval != MappingApproval.APPROVED:
        return None
    return next((m for m in case.approved_mappings if m.pk == latest.pk), None)  # type: ignore[attr-defined]


def _open_items(case: Case, counsellors: str, today: datetime.date) -> list[OpenItem]:
    items = []
    for decision in case.open_decisions:  # type: ignore[attr-defined]
        items.append(
            OpenItem(
                label=str(decision.get_kind_display()),
                responsible=person_name(decision.responsible) or _("Nobody assigned"),
                due_on=decision.due_on,
                overdue=decision.due_on is not None and decision.due_on < today,
                comment=decision.comment,
                decision=decision,
            )
        )
    for checklist in case.checklist_rows:  # type: ignore[attr-defined]
        if checklist.follow_up_done_at is None:
            items.append(
                OpenItem(
                    label=_("Follow-up of the mentor's checklist after one week"),
                    responsible=checklist.mentor_name,
                    due_on=checklist.follow_up_due_on,
                    overdue=checklist.follow_up_due_on < today,
                )
            )
        if (
            checklist.reported_to_eht_at
            and checklist.eht_recorded_at is None
            and not checklist.eht_no_further_follow_up
        ):
            items.append(
                OpenItem(
                    label=_(
                        "The student health team's follow-up of the checklist: "
                        "contact with the guardian and feedback to the mentor"
                    ),
                    responsible=_("Student health team"),
                )
            )
    mappings = case.mapping_rows  # type: ignore[attr-defined]
    if not mappings and case.is_open:
        mapping_decided = any(
            d.kind == EhtDecisionKind.COUNSELLOR_MAPPING
            for d in case.open_decisions  # type: ignore[attr-defined]
        )
        if not mapping_decided:
            items.append(
                OpenItem(label=_("School-social mapping not yet done"), responsible=counsellors)
            )
    elif mappings and mappings[0].approval == MappingApproval.PENDING:
        items.append(
            OpenItem(
                label=_("The student has not yet been asked to approve sharing the mapping"),
                responsible=person_name(mappings[0].counsellor) or counsellors,
            )
        )
    return items


# ---------------------------------------------------------------- meetings


def next_meeting(school: School, today: datetime.date) -> EhtMeeting | None:
    return (
        EhtMeeting.objects.filter(school=school, meets_on__gte=today).order_by("meets_on").first()
    )


def upcoming_meetings(school: School, today: datetime.date) -> list[EhtMeeting]:
    return list(EhtMeeting.objects.filter(school=school, meets_on__gte=today).order_by("meets_on"))


def meetings_for_decisions(school: School, today: datetime.date) -> QuerySet[EhtMeeting]:
    """The meetings a decision may belong to: the last weeks' and the coming ones."""
    return EhtMeeting.objects.filter(
        school=school, meets_on__gte=today - datetime.timedelta(days=MEETING_LOOKBACK_DAYS)
    ).order_by("meets_on")


def next_meetings_of(school_ids: list[int], today: datetime.date) -> dict[int, EhtMeeting]:
    """The next meeting of each school: one query."""
    found: dict[int, EhtMeeting] = {}
    for meeting in EhtMeeting.objects.filter(
        school_id__in=school_ids, meets_on__gte=today
    ).order_by("meets_on"):
        found.setdefault(meeting.school_id, meeting)
    return found


# ---------------------------------------------------------------- decisions of one case


def staff_at_school(school: School) -> QuerySet[User]:
    """Who can be made responsible: the school's principal and EHT, and its mentors."""
    return access.holders(Capability.BE_RESPONSIBLE_FOR_EHT_DECISIONS, school, within=True)


def case_decisions(case: Case) -> list[EhtDecision]:
    """The case's decisions: open first (soonest due first), then done, newest first."""
    return list(
        case.eht_decisions.select_related("responsible", "meeting", "recorded_by").order_by(  # type: ignore[attr-defined]
            F("done_at").desc(nulls_first=True), F("due_on").asc(nulls_last=True), "-pk"
        )
    )


def latest_absence(
    case: Case, today: datetime.date
) -> tuple[MonthlyAbsence | None, datetime.date | None]:
    absence = (
        MonthlyAbsence.objects.filter(student_id=case.student_id, scheduled_min__gt=0)
        .at_current_school()
        .order_by("-month")
        .first()
    )
    if absence is None:
        return None, None
    return absence, min(next_month(absence.month) - datetime.timedelta(days=1), today)
