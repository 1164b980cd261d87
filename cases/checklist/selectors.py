"""Reads of the mentor checklist. They start from the access policy (``sst.access``): the
mentor reads and writes for their own mentor groups' students, the principal and
student-health staff of the school read, everyone else gets a 404 that is audited.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet

from attendance import selectors as absence_selectors
from attendance.models import Alert, DueKind, Lesson
from attendance.rollup import AbsenceFigures, absence_between, month_start
from sst import access, audit
from sst.access import Capability
from sst.models import School, Student, User

from ..models import MentorChecklist
from .texts import FOLLOW_UP_AFTER, PANEL_LIMIT, RECENT_COPIES_DAYS, SOON_DAYS


def readable_checklists(user: access.AnyUser) -> QuerySet[MentorChecklist]:
    """Checklists the user may read: their mentees' (mentor) or their school's (case readers)."""
    return MentorChecklist.objects.filter(
        Q(
            case__student__in=access.checklist_students_of(user).values("pk"),
            case__school_id=F("case__student__school_id"),  # not a previous school's
        )
        | Q(case__in=access.cases_visible_to(user).values("pk"))
    )


def writable_checklists(user: access.AnyUser) -> QuerySet[MentorChecklist]:
    """Checklists whose one-week follow-up the user may record: their own mentees'."""
    return MentorChecklist.objects.filter(
        case__student__in=access.checklist_students_of(user).values("pk"),
        case__school_id=F("case__student__school_id"),
    )


def _one(queryset: QuerySet[MentorChecklist], public_id: uuid.UUID | str) -> MentorChecklist | None:
    try:
        return (
            queryset.select_related("case__student__school", "case__student__mentor_group", "alert")
            .filter(public_id=public_id)
            .first()
        )
    except ValidationError:  # not a UUID
        return None


def checklist_for_reader(user: access.AnyUser, public_id: uuid.UUID | str) -> MentorChecklist:
    """The checklist, if the user may read it; otherwise 404 (audited)."""
    checklist = _one(readable_checklists(user), public_id)
    if checklist is None:
        raise access.refuse(user, audit.AuditObjectType.MENTOR_CHECKLIST, public_id)
    return checklist


def checklist_for_mentor(user: access.AnyUser, public_id: uuid.UUID | str) -> MentorChecklist:
    """The checklist, if it is about one of the user's mentees; otherwise 404 (audited)."""
    checklist = _one(writable_checklists(user), public_id)
    if checklist is None:
        raise access.refuse(user, audit.AuditObjectType.MENTOR_CHECKLIST, public_id)
    return checklist


def checklist_for_eht(
    user: access.AnyUser, public_id: uuid.UUID | str
) -> tuple[MentorChecklist, str]:
    """The checklist and the user's EHT role at its school, or 404 (audited by the policy)."""
    checklist = checklist_for_reader(user, public_id)
    role = access.require(user, Capability.RECORD_EHT, checklist.case.student)
    return checklist, role


def student_for_checklist_writer(user: access.AnyUser, public_id: uuid.UUID | str) -> Student:
    """One of the user's own mentees, whose checklist they may write; otherwise 404 (audited)."""
    try:
        student = (
            access.checklist_students_of(user)
            .select_related("school", "mentor_group")
            .filter(public_id=public_id)
            .first()
        )
    except ValidationError:
        student = None
    if student is None:
        raise access.refuse(user, audit.AuditObjectType.STUDENT, public_id)
    return student


def may_write_for(user: access.AnyUser, student: Student) -> bool:
    return access.checklist_students_of(user).filter(pk=student.pk).exists()


def may_record_eht_part(user: access.AnyUser, student: Student) -> bool:
    return access.holds(user, Capability.RECORD_EHT, student)


def checklist_alert_for(user: access.AnyUser, student: Student, alert_id: uuid.UUID | str) -> Alert:
    """The student's checklist alert named in the link, for one of the user's mentees; or 404."""
    try:
        alert = Alert.objects.filter(
            public_id=alert_id,
            student=student,
            due=DueKind.CHECKLIST,
            student__in=access.checklist_students_of(user).values("pk"),
        ).first()
    except ValidationError:
        alert = None
    if alert is None:
        raise access.refuse(user, audit.AuditObjectType.ABSENCE_ALERT, alert_id)
    return alert


def student_checklists(user: access.AnyUser, student: Student) -> list[MentorChecklist]:
    """The student's checklists the user may read, newest first: one query."""
    return list(
        readable_checklists(user)
        .filter(case__student=student)
        .select_related("case")
        .order_by("-created_at", "-pk")
    )


def staff_of_school(school: School) -> QuerySet[User]:
    """Who can take on student-health work at the school today: its principal and student
    health team, and the mentors of its groups."""
    return access.holders(Capability.BE_RESPONSIBLE_FOR_EHT_DECISIONS, school, within=True)


def holders_of(capability: Capability, place: Any) -> list[User]:
    """Active people holding ``capability`` at ``place``, in a stable order (notifications)."""
    return list(access.holders(capability, place).order_by("pk"))


# ---------------------------------------------------------------- absence for the forms


@dataclass(frozen=True)
class PatternHint:
    """Where the absence is highest: a hint for question 5, with the period it covers."""

    start: datetime.date
    end: datetime.date
    weekday: tuple[int, AbsenceFigures] | None
    subject: tuple[str, AbsenceFigures] | None


def _lessons_of(student: Student) -> QuerySet[Lesson]:
    return Lesson.objects.filter(student=student).at_current_school()


def month_absence(student: Student, today: datetime.date) -> AbsenceFigures:
    """This month's absence so far (one query)."""
    return absence_between(_lessons_of(student), month_start(today), today)


def week_absence(checklist: MentorChecklist, today: datetime.date) -> AbsenceFigures:
    """Absence in the week the follow-up looks at: from the talk (or the checklist) to the
    day the follow-up is due, or to today if that comes first (one query)."""
    start = checklist.follow_up_due_on - FOLLOW_UP_AFTER
    end = max(start, min(checklist.follow_up_due_on, today))
    return absence_between(_lessons_of(checklist.case.student), start, end)


def _highest(rows: list[tuple[Any, AbsenceFigures]]) -> tuple[Any, AbsenceFigures] | None:
    absent = [(key, fig) for key, fig in rows if fig.absent_min > 0]
    if not absent:
        return None
    return max(absent, key=lambda row: (row[1].absent_pct, row[1].absent_min))


def pattern_hint(student: Student, today: datetime.date) -> PatternHint:
    """The weekday and subject with the highest absence since the start of last month."""
    start = absence_selectors.previous_month(month_start(today))
    patterns = absence_selectors.absence_patterns(student, start, today)
    return PatternHint(
        start=start,
        end=today,
        weekday=_highest(patterns.weekdays),
        subject=_highest(patterns.subjects),
    )


# ---------------------------------------------------------------- desk panels' reads


@dataclass(frozen=True)
class DueFollowUp:
    checklist: MentorChecklist
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left

    @property
    def due_today(self) -> bool:
        return self.days_left == 0

    @property
    def soon(self) -> bool:
        return 0 < self.days_left <= SOON_DAYS


@dataclass(frozen=True)
class MentorChecklistDesk:
    follow_ups: list[DueFollowUp]

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.follow_ups if row.overdue)


def mentor_checklist_desk(user: access.AnyUser, today: datetime.date) -> MentorChecklistDesk:
    """The mentor's follow-ups not yet done: one query. (The checklists still to fill in
    are tasks in the desk's inbox, ``attendance.inbox``.)"""
    mentees = access.checklist_students_of(user).values("pk")
    pending = (
        MentorChecklist.objects.filter(case__student__in=mentees, follow_up_done_at__isnull=True)
        .select_related("case__student__mentor_group")
        .order_by("follow_up_due_on", "pk")[:PANEL_LIMIT]
    )
    return MentorChecklistDesk(
        follow_ups=[DueFollowUp(c, (c.follow_up_due_on - today).days) for c in pending],
    )


@dataclass(frozen=True)
class EhtChecklistDesk:
    reported: list[MentorChecklist]
    recent: list[MentorChecklist]


def eht_checklist_desk(user: access.AnyUser, now: datetime.datetime) -> EhtChecklistDesk:
    """For the principal and student-health staff: students reported to the EHT whose EHT
    follow-up is not recorded yet, and the latest checklist copies: two queries."""
    school_cases = MentorChecklist.objects.filter(
        case__in=access.cases_visible_to(user).values("pk")
    ).select_related("case__student__mentor_group", "case__student__school")
    reported = list(
        school_cases.filter(
            reported_to_eht_at__isnull=False, eht_recorded_at__isnull=True
        ).order_by("reported_to_eht_at", "pk")[:PANEL_LIMIT]
    )
    recent = list(
        school_cases.filter(
            created_at__gte=now - datetime.timedelta(days=RECENT_COPIES_DAYS)
        ).order_by("-created_at", "-pk")[:PANEL_LIMIT]
    )
    return EhtChecklistDesk(reported=reported, recent=recent)
