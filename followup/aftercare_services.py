"""After-care: the checks 3 and 6 months after closure (DOMAIN.md §4.10).

They are scheduled when the case closes, on a school day of the municipality's calendar.
The school records each one (the case is closed: social services no longer read it): the
student's absence from the closure to the check, from data with the period named, a short
comment and, if the school says so, whether the student has passing grades in all subjects.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance.calendar import school_day_on_or_after
from attendance.rollup import AbsenceFigures
from cases.models import EventKind
from cases.workflow import CapabilityMissing, chronicle
from sst import access, audit, notify, textlimits
from sst.access import Capability
from sst.models import User

from . import absence
from . import closure_selectors as selectors
from .models import AfterCareCheck, Closure

MONTHS_AFTER = (3, 6)
# A check shows on the desk this many days before it is due.
DESK_DAYS_AHEAD = 7


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def aftercare_schedule(*, closure: Closure) -> list[AfterCareCheck]:
    """The checks at 3 and 6 months, each on the first school day on or after the date
    (called inside ``closure_record``'s transaction)."""
    municipality_id = selectors.municipality_of(closure.case)
    checks = []
    for months in MONTHS_AFTER:
        due = school_day_on_or_after(municipality_id, add_months(closure.closed_on, months))
        checks.append(
            AfterCareCheck.objects.create(
                case=closure.case,
                months_after=months,
                due_on=due,
                period_start=closure.closed_on,
                period_end=due,
            )
        )
    return checks


def period_of(
    check: AfterCareCheck, today: datetime.date | None = None
) -> tuple[datetime.date, datetime.date]:
    """The period a check measures: from the closure to the due date (to today, when the
    check is made before it is due)."""
    today = today or timezone.localdate()
    closed_on = check.case.closure.closed_on
    return closed_on, max(closed_on, min(check.due_on, today))


def measure(check: AfterCareCheck) -> AbsenceFigures:
    start, end = period_of(check)
    return absence.measure(check.case.student_id, start, end)


@transaction.atomic
def aftercare_record(
    *, check: AfterCareCheck, comment: str, passing_grades: bool | None, by: User
) -> AfterCareCheck:
    """The school records the check: absence over the period from data (stored with its
    period), a short comment and optionally the yes/no on passing grades."""
    check = (
        AfterCareCheck.objects.select_for_update().select_related("case__school").get(pk=check.pk)
    )
    if Capability.WORK_CASES not in access.case_capabilities(by, check.case):
        raise CapabilityMissing(Capability.WORK_CASES)
    comment = comment.strip()
    textlimits.check_fields(AfterCareCheck, {"comment": comment})
    if not comment:
        raise ValidationError({"comment": _("Write a short comment.")}, code="comment")
    figures = measure(check)
    first = check.done_on is None
    for name, value in absence.snapshot_fields(figures).items():
        setattr(check, name, value)
    check.comment = comment
    check.passing_grades = passing_grades
    check.done_on = timezone.localdate()
    check.done_by = by
    check.save(
        update_fields=[
            *absence.snapshot_fields(figures).keys(),
            "comment",
            "passing_grades",
            "done_on",
            "done_by",
        ]
    )
    chronicle(
        case=check.case,
        kind=EventKind.FOLLOW_UP,
        summary=(
            _("After-care check at %(months)s months recorded")
            if first
            else _("After-care check at %(months)s months updated")
        )
        % {"months": check.months_after},
        by=by,
        ref=check,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.AFTERCARE_CHECK,
        object_id=str(check.public_id),
        student_id=check.case.student.public_id,
        detail={"months_after": check.months_after, "first": first},
    )
    return check


def checks_due_for(
    user: access.AnyUser, today: datetime.date | None = None
) -> QuerySet[AfterCareCheck]:
    """The after-care checks not yet done and due within a week, at the cases the user
    works as school case staff."""
    today = today or timezone.localdate()
    return (
        AfterCareCheck.objects.filter(
            case__in=access.cases_where(user, Capability.WORK_CASES),
            done_on__isnull=True,
            due_on__lte=today + datetime.timedelta(days=DESK_DAYS_AHEAD),
        )
        .select_related("case__student", "case__school")
        .order_by("due_on", "pk")
    )


def aftercare_notify_due(today: datetime.date | None = None) -> int:
    """Content-free notices to the school's case staff when a check falls due; each check
    once (``due_notice_at`` is set by a conditional UPDATE). Returns the checks noticed."""
    today = today or timezone.localdate()
    count = 0
    due = AfterCareCheck.objects.filter(
        done_on__isnull=True, due_on__lte=today, due_notice_at__isnull=True
    ).select_related("case__school")
    for check in due:
        with transaction.atomic():
            claimed = AfterCareCheck.objects.filter(pk=check.pk, due_notice_at__isnull=True).update(
                due_notice_at=timezone.now()
            )
            if not claimed:
                continue
            path = reverse("followup:aftercare_record", args=[check.public_id])
            for user in access.holders(Capability.WORK_CASES, check.case.school):
                notify.notify(user=user, subject=_("An after-care check is due"), path=path)
            count += 1
    return count
