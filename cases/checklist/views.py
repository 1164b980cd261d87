"""Pages of the mentor checklist at repeated absence, and its panels on "my desk".

Objects come only through ``cases.checklist.selectors``, which start from the access
policy and answer 404 (audited) to anyone else; every read and write is audited. Writes
are the services of ``cases.checklist.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sst import access, audit, desk
from sst.models import Student

from ..models import MentorChecklist
from . import selectors, services, texts
from .forms import ChecklistForm, EhtFollowUpForm, FollowUpForm

ALERT_PARAMETER = "larm"


def _audit_read(
    request: HttpRequest,
    student: Student,
    action: audit.AuditAction,
    object_type: audit.AuditObjectType,
    **detail: Any,
) -> None:
    audit.record(
        user=request.user,
        action=action,
        object_type=object_type,
        object_id=str(detail.pop("object_id", student.public_id)),
        student_id=student.public_id,
        role=access.role_for_student(request.user, student),
        detail=detail,
    )


def _answers(checklist: MentorChecklist) -> list[tuple[int, str, str, str]]:
    """(number, question, answer, comment) for the five questions, in the paper's order."""
    rows = []
    for number, (answer, comment) in enumerate(texts.QUESTIONS, start=1):
        field = MentorChecklist._meta.get_field(answer)
        rows.append(
            (
                number,
                str(field.verbose_name),  # type: ignore[union-attr]
                getattr(checklist, f"get_{answer}_display")(),
                getattr(checklist, comment),
            )
        )
    return rows


# ---------------------------------------------------------------- a student's checklists


@access.staff_view
@require_GET
def checklist_list(request: HttpRequest, public_id: str) -> HttpResponse:
    """A student's mentor checklists, for whoever may see the student: the checklists the
    user may read (their mentor's and the school's case readers'), newest first."""
    student = access.student_for_user(request.user, public_id)
    rows = selectors.student_checklists(request.user, student)
    _audit_read(
        request,
        student,
        audit.AuditAction.LIST,
        audit.AuditObjectType.MENTOR_CHECKLIST,
        count=len(rows),
    )
    return render(
        request,
        "cases/checklist/list.html",
        {
            "student": student,
            "checklists": rows,
            "may_write": selectors.may_write_for(request.user, student),
            "today": timezone.localdate(),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def checklist_new(request: HttpRequest, public_id: str) -> HttpResponse:
    """The mentor fills in the checklist for one of their mentees (from an alert or not)."""
    student = selectors.student_for_checklist_writer(request.user, public_id)
    alert_id = request.GET.get(ALERT_PARAMETER)
    alert = selectors.checklist_alert_for(request.user, student, alert_id) if alert_id else None
    form = ChecklistForm(
        request.POST or None,
        initial={
            "mentor_name": request.user.get_full_name()  # type: ignore[union-attr]
            or request.user.get_username()
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            checklist = services.checklist_submit(
                student=student,
                by=request.user,  # type: ignore[arg-type]
                data=form.cleaned_data,
                alert=alert,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "The checklist is saved and the principal has a copy. "
                    "The follow-up is due on %(date)s."
                )
                % {"date": f"{checklist.follow_up_due_on:%Y-%m-%d}"},
            )
            return redirect("cases:checklist_detail", checklist_id=checklist.public_id)
    today = timezone.localdate()
    _audit_read(
        request,
        student,
        audit.AuditAction.VIEW,
        audit.AuditObjectType.MENTOR_CHECKLIST_FORM,
        alert=str(alert.public_id) if alert else None,
    )
    return render(
        request,
        "cases/checklist/form.html",
        {
            "student": student,
            "form": form,
            "alert": alert,
            "month_absence": selectors.month_absence(student, today),
            "hint": selectors.pattern_hint(student, today),
            "today": today,
        },
    )


# ---------------------------------------------------------------- one checklist


@access.staff_view
@require_GET
def checklist_detail(request: HttpRequest, checklist_id: str) -> HttpResponse:
    """The checklist with its follow-ups: the mentor's, and the principal's copy."""
    checklist = selectors.checklist_for_reader(request.user, checklist_id)
    student = checklist.case.student
    _audit_read(
        request,
        student,
        audit.AuditAction.VIEW,
        audit.AuditObjectType.MENTOR_CHECKLIST,
        object_id=checklist.public_id,
    )
    today = timezone.localdate()
    return render(
        request,
        "cases/checklist/detail.html",
        {
            "checklist": checklist,
            "student": student,
            "answers": _answers(checklist),
            "follow_up": selectors.DueFollowUp(
                checklist, (checklist.follow_up_due_on - today).days
            ),
            "can_follow_up": checklist.follow_up_done_at is None
            and selectors.may_write_for(request.user, student),
            "can_record_eht": checklist.reported_to_eht_at is not None
            and selectors.may_record_eht_part(request.user, student),
            "today": today,
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def checklist_follow_up(request: HttpRequest, checklist_id: str) -> HttpResponse:
    """The mentor's follow-up one week on; "yes" reports the student to the EHT."""
    checklist = selectors.checklist_for_mentor(request.user, checklist_id)
    student = checklist.case.student
    if checklist.follow_up_done_at is not None and request.method == "GET":
        messages.info(request, _("The follow-up is already recorded."))
        return redirect("cases:checklist_detail", checklist_id=checklist.public_id)
    form = FollowUpForm(request.POST or None, initial={"version": checklist.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.checklist_follow_up(
                checklist=checklist,
                by=request.user,  # type: ignore[arg-type]
                continued_absence=form.cleaned_data["continued_absence"],
                comment=form.cleaned_data["follow_up_comment"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The follow-up is saved. The student is reported to the student health team.")
                if checklist.reported_to_eht_at
                else _("The follow-up is saved."),
            )
            return redirect("cases:checklist_detail", checklist_id=checklist.public_id)
    today = timezone.localdate()
    _audit_read(
        request,
        student,
        audit.AuditAction.VIEW,
        audit.AuditObjectType.MENTOR_CHECKLIST_FOLLOW_UP,
        object_id=checklist.public_id,
    )
    return render(
        request,
        "cases/checklist/follow_up.html",
        {
            "checklist": checklist,
            "student": student,
            "form": form,
            "week": selectors.week_absence(checklist, today),
            "follow_up": selectors.DueFollowUp(
                checklist, (checklist.follow_up_due_on - today).days
            ),
            "today": today,
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def checklist_eht(request: HttpRequest, checklist_id: str) -> HttpResponse:
    """The student health team's follow-up part, for the EHT members of the school."""
    checklist, role = selectors.checklist_for_eht(request.user, checklist_id)
    student = checklist.case.student
    if checklist.reported_to_eht_at is None:
        messages.info(request, _("The student has not been reported to the student health team."))
        return redirect("cases:checklist_detail", checklist_id=checklist.public_id)
    staff = selectors.staff_of_school(student.school)
    form = EhtFollowUpForm(
        request.POST or None,
        staff=staff,
        initial={
            "guardian_contact_by": checklist.eht_guardian_contact_by_id,
            "guardian_contact_on": checklist.eht_guardian_contact_on,
            "feedback_by": checklist.eht_feedback_by_id,
            "feedback_on": checklist.eht_feedback_on,
            "no_further_follow_up": checklist.eht_no_further_follow_up,
            "eht_comment": checklist.eht_comment,
            "version": checklist.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.checklist_eht_record(
                checklist=checklist,
                by=request.user,  # type: ignore[arg-type]
                guardian_contact_by=data["guardian_contact_by"],
                guardian_contact_on=data["guardian_contact_on"],
                feedback_by=data["feedback_by"],
                feedback_on=data["feedback_on"],
                no_further_follow_up=data["no_further_follow_up"],
                comment=data["eht_comment"],
                version=data["version"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The student health team's follow-up is saved."))
            return redirect("cases:checklist_detail", checklist_id=checklist.public_id)
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.MENTOR_CHECKLIST_EHT,
        object_id=str(checklist.public_id),
        student_id=student.public_id,
        role=role,
    )
    return render(
        request,
        "cases/checklist/eht.html",
        {"checklist": checklist, "student": student, "form": form, "answers": _answers(checklist)},
    )


# ---------------------------------------------------------------- panels on "my desk"


def mentor_checklists_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The mentor's checklist conversations to hold and follow-ups due (overdue first)."""
    today = timezone.localdate()
    mentor_desk = selectors.mentor_checklist_desk(request.user, today)
    # The checklists to fill in are tasks in the inbox (attendance.inbox); here the follow-ups.
    if not mentor_desk.follow_ups:
        return None
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.MENTOR_CHECKLIST,
        role="mentor",
        detail={
            "page": "desk",
            "follow_ups": len(mentor_desk.follow_ups),
        },
    )
    return "cases/checklist/panel_mentor.html", {"desk": mentor_desk, "today": today}


def eht_checklists_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The principal's and student-health staff's checklist copies and EHT reports."""
    eht_desk = selectors.eht_checklist_desk(request.user, timezone.now())
    if not eht_desk.reported and not eht_desk.recent:
        return None
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.MENTOR_CHECKLIST,
        detail={
            "page": "desk",
            "reported": len(eht_desk.reported),
            "recent": len(eht_desk.recent),
        },
    )
    return "cases/checklist/panel_eht.html", {
        "desk": eht_desk,
        "recent_days": texts.RECENT_COPIES_DAYS,
    }


def register_panels() -> None:
    desk.register(order=15, panel=mentor_checklists_panel)
    desk.register(order=16, panel=eht_checklists_panel)
