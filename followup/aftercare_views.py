"""The after-care check's page and the desk panel of the checks due.

The school records the checks (the case is closed: social services no longer read it). A
check is fetched among the cases the user works as school case staff
(``access.cases_where(user, WORK_CASES)``); anything else is a refusal (404, audited).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cases.workflow import CapabilityMissing
from sst import access, audit, desk
from sst.access import Capability

from . import aftercare_services as services
from .aftercare_forms import AfterCareForm
from .models import AfterCareCheck


def _check_of(request: HttpRequest, public_id: uuid.UUID) -> AfterCareCheck:
    check = (
        AfterCareCheck.objects.filter(
            public_id=public_id, case__in=access.cases_where(request.user, Capability.WORK_CASES)
        )
        .select_related("case__student__school", "case__school", "case__closure")
        .first()
    )
    if check is None:
        raise access.refuse(request.user, audit.AuditObjectType.AFTERCARE_CHECK, public_id)
    return check


@access.staff_view
@require_http_methods(["GET", "POST"])
def aftercare_record(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    check = _check_of(request, public_id)
    case = check.case
    initial: dict[str, Any] = {}
    if check.done_on:
        initial = {
            "comment": check.comment,
            "passing_grades": {True: "yes", False: "no"}.get(check.passing_grades, ""),  # type: ignore[arg-type]
        }
    form = AfterCareForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.aftercare_record(
                check=check,
                comment=form.cleaned_data["comment"],
                passing_grades=form.cleaned_data["passing_grades"],
                by=access.staff_user(request),
            )
        except CapabilityMissing:
            raise access.refuse(
                request.user, audit.AuditObjectType.AFTERCARE_CHECK, check.public_id
            ) from None
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The after-care check was saved."))
            return HttpResponseRedirect(
                reverse("cases:case_detail", args=[case.public_id]) + "#closure-heading"
            )
    figures = services.measure(check)
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.AFTERCARE_CHECK,
        object_id=str(check.public_id),
        student_id=case.student.public_id,
        detail={"period": [figures.start.isoformat(), figures.end.isoformat()]},
    )
    try:
        next_case = case.next_case
    except type(case).next_case.RelatedObjectDoesNotExist:
        next_case = None
    return render(
        request,
        "followup/aftercare/record.html",
        {
            "check": check,
            "case": case,
            "student": case.student,
            "figures": figures,
            "form": form,
            "next_case": next_case,
            "student_here": case.student.school_id == case.school_id,
        },
    )


def aftercare_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The school's case staff: after-care checks due within a week, not yet recorded."""
    if not access.holds_anywhere(request.user, Capability.WORK_CASES):
        return None
    checks = list(services.checks_due_for(request.user))
    if not checks:
        return None
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.AFTERCARE_CHECK,
        detail={"page": "desk", "count": len(checks)},
    )
    return "followup/aftercare/panel.html", {"checks": checks}


def register() -> None:
    # Due work with a date comes before the inbox, which can be long.
    desk.register(order=8, panel=aftercare_panel)
