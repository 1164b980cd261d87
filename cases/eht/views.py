"""The school's steps 3 and 4: the student health team's page, meetings, printable agenda
and decisions, and the principal's monthly step-4 report and escalations; with the panels
they add to "my desk".

Data comes only through ``sst.access`` and the selectors of ``cases.eht.selectors`` and
``cases.escalation``; every read is audited, and every write goes through their services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attendance import selectors as absence_selectors
from sst import access, audit, desk
from sst.access import Capability

from .. import escalation
from ..models import EscalationKind
from . import selectors, services
from .forms import DecisionForm, EscalationForm, MeetingForm, MonthForm

# ---------------------------------------------------------------- helpers


def _eht_role(request: HttpRequest, school: Any) -> str:
    return access.capabilities_at(request.user, school).roles_for(Capability.RECORD_EHT)


def _student_ids(rows: list[Any]) -> list[str]:
    return [str(row.student.public_id) for row in rows]


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


# ---------------------------------------------------------------- the EHT


@access.staff_view
@require_GET
def eht_school(request: HttpRequest, unit_code: str) -> HttpResponse:
    """The students reported to the school's EHT, their step, absence and open items."""
    school = selectors.eht_school_for_user(request.user, unit_code)
    today = timezone.localdate()
    rows = selectors.eht_rows(request.user, school, today=today)
    meetings = selectors.upcoming_meetings(school, today)
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.EHT_STUDENTS,
        object_id=school.unit_code,
        role=_eht_role(request, school),
        detail={"page": "eht_school", "count": len(rows), "students": _student_ids(rows)},
    )
    return render(
        request,
        "cases/eht/school.html",
        {
            "school": school,
            "rows": rows,
            "meetings": meetings,
            "next_meeting": meetings[0] if meetings else None,
            "meeting_form": MeetingForm(),
            "today": today,
            "open_count": sum(len(row.items) for row in rows),
        },
    )


@access.staff_view
@require_POST
def eht_meeting_create(request: HttpRequest, unit_code: str) -> HttpResponse:
    school = selectors.eht_school_for_user(request.user, unit_code)
    form = MeetingForm(request.POST)
    if form.is_valid():
        try:
            meeting = services.eht_meeting_schedule(
                school=school,
                meets_on=form.cleaned_data["meets_on"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(
                request,
                _("The meeting on %(date)s is added.") % {"date": f"{meeting.meets_on:%Y-%m-%d}"},
            )
    else:
        messages.error(request, _("Give the meeting's date."))
    return redirect("cases:eht_school", school.unit_code)


@access.staff_view
@never_cache
@require_GET
def eht_agenda(request: HttpRequest, unit_code: str) -> HttpResponse:
    """The agenda of the EHT's next meeting, for printing. A school-social mapping's content
    is on it only when the student approved sharing it at the EHT."""
    school = selectors.eht_school_for_user(request.user, unit_code)
    today = timezone.localdate()
    rows = selectors.eht_rows(request.user, school, today=today, with_mapping_content=True)
    meeting = selectors.next_meeting(school, today)
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.EHT_AGENDA,
        object_id=school.unit_code,
        role=_eht_role(request, school),
        detail={
            "page": "eht_agenda",
            "meeting": meeting.meets_on.isoformat() if meeting else None,
            "count": len(rows),
            "students": _student_ids(rows),
            "mappings_shown": [str(r.student.public_id) for r in rows if r.shared_mapping],
        },
    )
    return render(
        request,
        "cases/eht/agenda.html",
        {"school": school, "rows": rows, "meeting": meeting, "today": today},
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def eht_case(request: HttpRequest, case_id: str) -> HttpResponse:
    """One student's EHT decisions: record a new one, mark open ones done."""
    case = selectors.eht_case_for_user(request.user, case_id)
    student, school = case.student, case.student.school
    today = timezone.localdate()
    meetings = selectors.meetings_for_decisions(school, today)
    todays = next((m for m in meetings if m.meets_on == today), None)
    form = DecisionForm(
        request.POST or None,
        staff=selectors.staff_at_school(school),
        meetings=meetings,
        initial_meeting=todays,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.eht_decision_record(
                case=case,
                kind=data["kind"],
                responsible=data["responsible"],
                due_on=data["due_on"],
                comment=data["comment"],
                meeting=data["meeting"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("cases:eht_case", case.public_id)
    absence, absence_end = selectors.latest_absence(case, today)
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.EHT_DECISIONS,
        object_id=str(case.public_id),
        student_id=student.public_id,
        role=_eht_role(request, school),
    )
    return render(
        request,
        "cases/eht/case.html",
        {
            "case": case,
            "student": student,
            "school": school,
            "form": form,
            "decisions": selectors.case_decisions(case),
            "absence": absence,
            "absence_end": absence_end,
            "today": today,
        },
    )


@access.staff_view
@require_POST
def eht_decision_done(request: HttpRequest, decision_id: str) -> HttpResponse:
    decision = selectors.eht_decision_for_user(request.user, decision_id)
    try:
        services.eht_decision_done(decision=decision, by=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, _("The decision is marked as done."))
    default = reverse("cases:eht_case", args=[decision.case.public_id])
    return HttpResponseRedirect(_safe_next(request, default))


# ---------------------------------------------------------------- the principal at step 4


def _step4_context(request: HttpRequest, unit_code: str, *, printing: bool) -> dict[str, Any]:
    school = escalation.principal_school_for_user(request.user, unit_code)
    today = timezone.localdate()
    form = MonthForm(request.GET or None, today=today)
    report = escalation.step4_report(request.user, school, form.chosen_month(), today)
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.STEP4_REPORT,
        object_id=school.unit_code,
        role=access.audit_role(Capability.RECORD_ESCALATIONS),
        detail={
            "page": "principal_report_print" if printing else "principal_report",
            "month": f"{report.month:%Y-%m}",
            "count": len(report.rows),
            "students": [str(row.student.public_id) for row in report.rows],
        },
    )
    return {
        "school": school,
        "form": form,
        "report": report,
        "policy": absence_selectors.policy_of(school),
        "today": today,
        "month_query": f"month={report.month:%Y-%m}",
        "kinds": EscalationKind,
    }


@access.staff_view
@require_GET
def principal_report(request: HttpRequest, unit_code: str) -> HttpResponse:
    """The month's step-4 students, what is recorded for them, and links to record more."""
    return render(
        request,
        "cases/eht/principal_report.html",
        _step4_context(request, unit_code, printing=False),
    )


@access.staff_view
@never_cache
@require_GET
def principal_report_print(request: HttpRequest, unit_code: str) -> HttpResponse:
    """The same list as a document for the head of schools."""
    return render(
        request,
        "cases/eht/principal_print.html",
        _step4_context(request, unit_code, printing=True),
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def principal_student(request: HttpRequest, student_id: str) -> HttpResponse:
    """Record that the student was reported to the head of schools, that the SST
    coordinator was contacted, or that a report of concern was made (fact and date only)."""
    student = escalation.escalation_student_for_user(request.user, student_id)
    today = timezone.localdate()
    posted = request.POST.get("kind") if request.method == "POST" else None
    forms = [
        EscalationForm(request.POST if posted == kind else None, kind=kind, today=today)
        for kind in EscalationKind.values
    ]
    if request.method == "POST":
        form = next((f for f in forms if f.kind == posted), None)
        if form is None:
            messages.error(request, _("Choose what was done."))
        elif form.is_valid():
            try:
                escalation.escalation_record(
                    student=student,
                    kind=form.kind,
                    decided_on=form.cleaned_data["decided_on"],
                    comment=form.cleaned_data.get("comment", ""),
                    by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("It is recorded."))
                return redirect("cases:principal_student", student.public_id)
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.ESCALATION,
        object_id=str(student.public_id),
        student_id=student.public_id,
        role=access.audit_role(Capability.RECORD_ESCALATIONS),
    )
    return render(
        request,
        "cases/eht/principal_student.html",
        {
            "student": student,
            "school": student.school,
            "forms": forms,
            "escalations": escalation.student_escalations(student),
            "absences": escalation.recent_absence(student),
            "today": today,
            "kinds": EscalationKind,
        },
    )


# ---------------------------------------------------------------- panels on "my desk"


def principal_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """Principals: the monthly step-4 report of each school, with how many step-4 students
    have no escalation recorded yet (counts only: the students are in the inbox)."""
    today = timezone.localdate()
    schools = escalation.principal_desk(request.user, today)
    if not schools:
        return None
    return "cases/eht/panel_principal.html", {"schools": schools, "month": today.replace(day=1)}


def eht_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The principal and EHT members: the next meeting and how many students are on its
    agenda, per school (counts only, no names)."""
    schools = selectors.eht_schools_of(request.user)
    if not schools:
        return None
    today = timezone.localdate()
    ids = [school.pk for school in schools]
    meetings = selectors.next_meetings_of(ids, today)
    counts = selectors.agenda_counts(request.user, ids)
    return "cases/eht/panel_eht.html", {
        "entries": [(s, meetings.get(s.pk), counts.get(s.pk, 0)) for s in schools],
    }


def register_panels() -> None:
    desk.register(order=40, panel=principal_panel)
    desk.register(order=50, panel=eht_panel)
