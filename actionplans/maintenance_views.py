"""The maintenance pages: the maintenance plan of a case, its booster meetings, the
"Vidmakthållande" section of the case page and the desk panel of boosters due.

Cases come only through the policy (``access.access_case``); a booster is looked up among
the cases ``access.cases_visible_to`` the user. Everyone who reads the case reads the plan;
the school's case staff and the assigned social worker (while a consent covers the case)
write it. Anything else is a refusal (404, audited).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cases import sections, transitions, workflow
from cases.models import Case, CaseState
from sst import access, audit, desk
from sst.access import Capability

from . import maintenance_services as services
from .maintenance_forms import BoosterForm, BoosterHeldForm, BoosterMoveForm, MaintenancePlanForm
from .models import BoosterMeeting, MaintenancePlan


def _case_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.public_id]) + "#maintenance-heading"


def _edit_url(case: Case) -> str:
    return reverse("actionplans:maintenance_edit", args=[case.public_id])


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _audit_view(
    request: HttpRequest, case: Case, granted: access.Granted, obj_id: Any, **detail: Any
) -> None:
    sections.audit_read(
        request,
        case,
        granted,
        object_type=audit.AuditObjectType.MAINTENANCE_PLAN,
        object_id=obj_id,
        **detail,
    )


def _refuse(request: HttpRequest, obj_id: Any, object_type: audit.AuditObjectType) -> None:
    raise access.refuse(request.user, object_type, obj_id, needs=str(Capability.WORK_CASES))


def _boosters(plan: MaintenancePlan | None) -> list[BoosterMeeting]:
    if plan is None:
        return []
    return list(plan.boosters.order_by("planned_on", "pk"))


def _moved_message(request: HttpRequest, asked: datetime.date, booster: BoosterMeeting) -> None:
    if booster.planned_on != asked:
        messages.info(
            request,
            _(
                "%(asked)s is not a school day: the booster meeting is on %(date)s, the next "
                "school day."
            )
            % {"asked": asked.isoformat(), "date": booster.planned_on.isoformat()},
        )


# ---------------------------------------------------------------- the plan


@access.staff_view
@require_http_methods(["GET", "POST"])
def maintenance_edit(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The maintenance plan: read by everyone who reads the case, written by its writers."""
    case, granted = access.access_case(request.user, case_id)
    user = access.staff_user(request)
    writer = access.works_team_case(user, case, granted)
    plan = MaintenancePlan.objects.filter(case=case).first()
    if request.method == "POST" and not writer:
        _refuse(request, case.public_id, audit.AuditObjectType.MAINTENANCE_PLAN)
    initial = (
        {"contact": plan.contact, "notes": plan.notes, "version": plan.version}
        if plan
        else {"version": 0}
    )
    form = MaintenancePlanForm(request.POST or None, initial=initial)
    conflict: MaintenancePlan | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.maintenance_plan_save(
                case=case,
                by=user,
                base_version=data["version"],
                contact=data["contact"],
                notes=data["notes"],
            )
        except workflow.ConcurrentChange as error:
            _errors(request, error)
            conflict = MaintenancePlan.objects.filter(case=case).first()
            if conflict is not None:
                # Saving again knowingly replaces the version now shown beside the form.
                form = MaintenancePlanForm(
                    {**request.POST.dict(), "version": conflict.version}, initial=initial
                )
                form.is_valid()
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The maintenance plan was saved."))
            return HttpResponseRedirect(_case_url(case))
    _audit_view(request, case, granted, plan.public_id if plan else case.public_id, page="edit")
    return render(
        request,
        "actionplans/maintenance/edit.html",
        {
            "case": case,
            "plan": plan,
            "boosters": _boosters(plan),
            "form": form if writer and case.is_open else None,
            "conflict": conflict,
            "writer": writer and case.is_open,
            "planning": case.state in services.PLANNING_STATES,
        },
    )


# ---------------------------------------------------------------- booster meetings


@access.staff_view
@require_http_methods(["GET", "POST"])
def booster_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted = access.access_case(request.user, case_id)
    user = access.staff_user(request)
    plan = MaintenancePlan.objects.filter(case=case).first()
    if plan is None or not access.works_team_case(user, case, granted) or not case.is_open:
        _refuse(request, case.public_id, audit.AuditObjectType.BOOSTER_MEETING)
    assert plan is not None
    form = BoosterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        asked = form.cleaned_data["planned_on"]
        try:
            booster = services.booster_add(
                maintenance=plan, planned_on=asked, note=form.cleaned_data["note"], by=user
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The booster meeting was booked."))
            _moved_message(request, asked, booster)
            return HttpResponseRedirect(_edit_url(case))
    _audit_view(request, case, granted, plan.public_id, page="booster_add")
    return render(
        request,
        "actionplans/maintenance/booster_form.html",
        {"case": case, "form": form, "title": _("Book a booster meeting")},
    )


ACTIONS = ("move", "held", "cancel")


@access.staff_view
@require_http_methods(["GET", "POST"])
def booster_update(request: HttpRequest, booster_id: uuid.UUID) -> HttpResponse:
    """Move, record as held or cancel a booster meeting."""
    user = access.staff_user(request)
    booster = (
        BoosterMeeting.objects.filter(
            public_id=booster_id, maintenance__case__in=access.cases_visible_to(user)
        )
        .select_related("maintenance__case__student", "maintenance__case__school")
        .first()
    )
    if booster is None:
        raise access.refuse(user, audit.AuditObjectType.BOOSTER_MEETING, booster_id)
    case = booster.maintenance.case
    granted = access.case_capabilities(user, case)
    if not access.works_team_case(user, case, granted) or not case.is_open:
        _refuse(request, booster.public_id, audit.AuditObjectType.BOOSTER_MEETING)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    today = timezone.localdate()
    move_form = BoosterMoveForm(
        request.POST if action == "move" else None, initial={"planned_on": booster.planned_on}
    )
    held_form = BoosterHeldForm(
        request.POST if action == "held" else None,
        initial={"held_on": min(booster.planned_on, today), "note": booster.note},
        prefix="held",
    )
    if request.method == "POST":
        try:
            if action == "move" and move_form.is_valid():
                asked = move_form.cleaned_data["planned_on"]
                services.booster_move(booster=booster, planned_on=asked, by=user)
                booster.refresh_from_db(fields=["planned_on"])
                messages.success(request, _("The booster meeting was moved."))
                _moved_message(request, asked, booster)
                return HttpResponseRedirect(_edit_url(case))
            if action == "held" and held_form.is_valid():
                services.booster_held(
                    booster=booster,
                    held_on=held_form.cleaned_data["held_on"],
                    note=held_form.cleaned_data["note"],
                    by=user,
                )
                messages.success(request, _("The booster meeting was recorded as held."))
                return HttpResponseRedirect(_edit_url(case))
            if action == "cancel":
                services.booster_cancel(booster=booster, by=user)
                messages.success(request, _("The booster meeting was cancelled."))
                return HttpResponseRedirect(_edit_url(case))
            if action not in ACTIONS:
                messages.error(request, _("Choose what to do with the booster meeting."))
        except ValidationError as error:
            _errors(request, error)
    audit.record(
        user=user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.BOOSTER_MEETING,
        object_id=str(booster.public_id),
        student_id=case.student.public_id,
        detail={"case": str(case.public_id), **sections.read_detail(user, case, granted)},
    )
    return render(
        request,
        "actionplans/maintenance/booster.html",
        {
            "case": case,
            "booster": booster,
            "pending": booster.held_on is None and not booster.cancelled,
            "move_form": move_form,
            "held_form": held_form,
        },
    )


# ---------------------------------------------------------------- the case page and the desk


def maintenance_section(
    request: HttpRequest, case: Case, granted: access.Granted
) -> tuple[str, dict[str, Any]] | None:
    """ "Vidmakthållande" on the case page, once the plan is carried out."""
    if not ({Capability.WORK_CASES, Capability.SOCIAL_WORK} & granted):
        return None
    plan = MaintenancePlan.objects.filter(case=case).first()
    if plan is None and case.state not in services.PLANNING_STATES:
        return None
    writer = access.works_team_case(request.user, case, granted) and case.is_open
    return (
        "actionplans/maintenance/section.html",
        {
            "plan": plan,
            "boosters": _boosters(plan),
            "writer": writer,
            "today": timezone.localdate(),
            "in_maintenance": case.state == CaseState.MAINTENANCE,
        },
    )


def boosters_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The booster meetings due in the next days or overdue, of the cases the person reads
    (the school's case staff; the assigned social worker under a consent): one query."""
    today = timezone.localdate()
    boosters = list(services.boosters_due_for(request.user, today))
    if not boosters:
        return None
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.BOOSTER_MEETING,
        detail={"panel": "boosters_due", "count": len(boosters)},
    )
    return (
        "actionplans/maintenance/panel.html",
        {"boosters": boosters, "today": today, "within": services.DUE_WITHIN_DAYS},
    )


def _has_maintenance_plan(case: Case) -> bool:
    return MaintenancePlan.objects.filter(case=case).exists()


def register() -> None:
    transitions.register_guard(transitions.MAINTENANCE_PLAN.name, _has_maintenance_plan)
    sections.register(order=60, section=maintenance_section)
    desk.register(order=63, panel=boosters_panel)
