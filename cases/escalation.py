"""The principal's decisions at step 4 of the staircase (more than 20 % in a month).

The principal reports the school's step-4 students to the head of schools every month,
contacts the SST coordinator, and makes a report of concern to social services when the
absence continues. Each is recorded per student with its date; a report of concern is a fact
and a date only, never its content (that belongs to social services, DOMAIN.md §8).

Only the principal of the student's school reads and records these.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance import services as attendance_services
from attendance.models import AlertRecipient, DueKind, MonthlyAbsence, next_month
from attendance.selectors import previous_month
from sst import access, audit
from sst.access import Capability
from sst.models import School, Student, User

from .models import (
    ENDED_STATES,
    Case,
    CaseOpening,
    Escalation,
    EscalationKind,
    EventKind,
)
from .workflow import case_open, chronicle

# The panel on "my desk" names this many students per school; the report lists them all.
PANEL_LIMIT = 10


# ---------------------------------------------------------------- access


def principal_school_for_user(user: access.AnyUser, unit_code: str) -> School:
    """A school where the user is the principal; otherwise 404 (audited)."""
    return access.access_school(user, unit_code, need=Capability.RECORD_ESCALATIONS)


def escalation_student_for_user(user: access.AnyUser, public_id: uuid.UUID | str) -> Student:
    """A student of a school where the user is the principal; otherwise 404 (audited)."""
    student, _granted = access.access_student(user, public_id, need=Capability.RECORD_ESCALATIONS)
    return student


# ---------------------------------------------------------------- the monthly report


@dataclass
class Step4Row:
    student: Student
    absence: MonthlyAbsence
    previous: MonthlyAbsence | None
    escalations: list[Escalation] = field(default_factory=list)

    def has(self, kind: str) -> bool:
        return any(e.kind == kind for e in self.escalations)


@dataclass
class Step4Report:
    school: School
    month: datetime.date
    end: datetime.date  # the last day of the month, or today in the current month
    rows: list[Step4Row]

    @property
    def previous_month(self) -> datetime.date:
        return previous_month(self.month)

    @property
    def without_escalation(self) -> int:
        return sum(1 for row in self.rows if not row.escalations)


def step4_report(
    user: access.AnyUser, school: School, month: datetime.date, today: datetime.date
) -> Step4Report:
    """The school's students at step 4 in ``month`` with their absence that month and the
    month before, and the escalations recorded since the month began: three queries."""
    month_end = next_month(month) - datetime.timedelta(days=1)
    absences = list(
        MonthlyAbsence.objects.filter(
            month=month,
            step=4,
            scheduled_min__gt=0,
            student__in=access.students_visible_to(user).filter(school=school).values("pk"),
        )
        .at_current_school()
        .select_related("student__mentor_group")
        .order_by("student__last_name", "student__first_name", "student_id")
    )
    rows = [Step4Row(student=a.student, absence=a, previous=None) for a in absences]
    if rows:
        ids = [row.student.pk for row in rows]
        previous = {
            a.student_id: a
            for a in MonthlyAbsence.objects.filter(
                month=previous_month(month), student_id__in=ids, scheduled_min__gt=0
            ).at_current_school()
        }
        escalations: dict[int, list[Escalation]] = {}
        for escalation in (
            Escalation.objects.filter(case__student_id__in=ids, decided_on__gte=month)
            .select_related("case")
            .order_by("decided_on", "pk")
        ):
            escalations.setdefault(escalation.case.student_id, []).append(escalation)
        for row in rows:
            row.previous = previous.get(row.student.pk)
            row.escalations = escalations.get(row.student.pk, [])
    return Step4Report(school=school, month=month, end=min(month_end, today), rows=rows)


@dataclass
class PrincipalPanelSchool:
    school: School
    students: list[Student]
    count: int


def principal_desk(user: access.AnyUser, today: datetime.date) -> list[PrincipalPanelSchool]:
    """Each school where the user is the principal, with this month's step-4 students for
    whom no escalation is recorded since the month began: two queries."""
    month = today.replace(day=1)
    held = access.schools_where(user, Capability.RECORD_ESCALATIONS).values("pk")
    schools = list(
        access.schools_with_students_visible_to(user).filter(pk__in=held).order_by("name")
    )
    if not schools:
        return []
    escalated = Escalation.objects.filter(
        case__student_id=OuterRef("student_id"), decided_on__gte=month
    )
    waiting: dict[int, list[Student]] = {s.pk: [] for s in schools}
    for absence in (
        MonthlyAbsence.objects.filter(
            month=month,
            step=4,
            scheduled_min__gt=0,
            student__in=access.students_visible_to(user)
            .filter(school__in=[s.pk for s in schools])
            .values("pk"),
        )
        .exclude(Exists(escalated))
        .at_current_school()
        .select_related("student__mentor_group")
        .order_by("student__last_name", "student__first_name", "student_id")
    ):
        waiting[absence.student.school_id].append(absence.student)
    return [
        PrincipalPanelSchool(s, waiting[s.pk][:PANEL_LIMIT], len(waiting[s.pk])) for s in schools
    ]


# ---------------------------------------------------------------- one student


def student_escalations(student: Student) -> list[Escalation]:
    return list(
        Escalation.objects.filter(case__student=student, case__school_id=student.school_id)
        .select_related("principal")
        .order_by("-decided_on", "-pk")
    )


def recent_absence(student: Student, count: int = 3) -> list[MonthlyAbsence]:
    """The student's last months with lessons, newest first."""
    return list(
        MonthlyAbsence.objects.filter(student=student, scheduled_min__gt=0)
        .at_current_school()
        .order_by("-month")[:count]
    )


# ---------------------------------------------------------------- the service


def _open_case_for(student: Student, by: User) -> Case:
    """The student's open case, or a new one opened by the principal."""
    case = (
        Case.objects.select_for_update()
        .filter(student=student)
        .exclude(state__in=ENDED_STATES)
        .first()
    )
    if case is not None:
        return case
    previous = (
        Case.objects.filter(student=student, school_id=student.school_id)
        .order_by("-opened_at")
        .first()
    )
    return case_open(
        student=student,
        opening=CaseOpening.PRINCIPAL,
        by=by,
        previous_case=previous
        if previous is not None and not hasattr(previous, "next_case")
        else None,
    )


def _summary(escalation: Escalation) -> str:
    date = f"{escalation.decided_on:%Y-%m-%d}"
    if escalation.kind == EscalationKind.HEAD_OF_SCHOOLS:
        return _("The principal reported the student to the head of schools on %(date)s.") % {
            "date": date
        }
    if escalation.kind == EscalationKind.SST_COORDINATOR:
        return _("The principal contacted the SST coordinator on %(date)s.") % {"date": date}
    return _("The principal made a report of concern to social services on %(date)s.") % {
        "date": date
    }


# The report due at continuous invalid absence goes both to the head of schools and to
# social services (004): it is done when both are recorded.
_REPORT_KINDS = {EscalationKind.HEAD_OF_SCHOOLS, EscalationKind.REPORT_OF_CONCERN}


def _tasks_done(student: Student, by: User) -> None:
    """Done by doing it: any decision closes the principal's step-4 task; the report at
    continuous invalid absence is closed once both reports since it began are recorded."""
    tasks = [DueKind.ESCALATION]
    since = (
        AlertRecipient.objects.filter(
            alert__student=student,
            task=DueKind.REPORT,
            done_at__isnull=True,
            acknowledged_at__isnull=True,
        )
        .order_by("alert__period_start")
        .values_list("alert__period_start", flat=True)
        .first()
    )
    if since is not None:
        kinds = set(
            Escalation.objects.filter(case__student=student, decided_on__gte=since).values_list(
                "kind", flat=True
            )
        )
        if kinds >= _REPORT_KINDS:
            tasks.append(DueKind.REPORT)
    attendance_services.tasks_done(student=student, tasks=tasks, by=by)


@transaction.atomic
def escalation_record(
    *,
    student: Student,
    kind: str,
    decided_on: datetime.date,
    by: User,
    comment: str = "",
) -> Escalation:
    """Record one of the principal's step-4 decisions for the student, on the student's open
    case (opened now by the principal if there is none).

    A report of concern is recorded as a fact with its date: a comment is refused, so its
    content can never end up here.
    """
    role = access.require(by, Capability.RECORD_ESCALATIONS, student)
    if kind not in EscalationKind.values:
        raise ValidationError(_("Choose what was done."), code="kind")
    if kind == EscalationKind.REPORT_OF_CONCERN and comment:
        raise ValidationError(
            _(
                "A report of concern is recorded with its date only. Its content belongs "
                "to social services and is not stored here."
            ),
            code="content",
        )
    today = timezone.localdate()
    if decided_on > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")
    case = _open_case_for(student, by)
    escalation = Escalation(
        case=case, kind=kind, decided_on=decided_on, comment=comment.strip(), principal=by
    )
    escalation.full_clean()
    escalation.save()
    _tasks_done(student, by)
    chronicle(
        case=case,
        kind=EventKind.DECISION,
        summary=_summary(escalation),
        by=by,
        happened_at=None
        if decided_on == today
        else timezone.make_aware(datetime.datetime.combine(decided_on, datetime.time(12, 0))),
        ref=escalation,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.ESCALATION,
        object_id=str(escalation.public_id),
        student_id=student.public_id,
        role=role,
        detail={"kind": kind, "case": str(case.public_id)},
    )
    return escalation
