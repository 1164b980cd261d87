"""The closing page of a case the team has worked, the closure record's page and its
section on the case page.

The case is fetched only through ``access.access_case`` (the school's case staff, or the
social worker assigned while a valid consent covers the case); closing needs what the
transition table's ``close`` row asks. A closure record is read through
``closure_selectors.closures_readable_by``: after closure a social worker reads only the
closure record they wrote, without the student's name. Anything else is a refusal (404,
audited).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cases import closing, sections, transitions, workflow
from cases.models import Case
from referrals.models import Referral
from sst import access, audit, desk
from sst.access import Capability

from . import closure_selectors as selectors
from . import closure_services as services
from .closure_forms import ClosureForm
from .models import AfterCareCheck, Closure, ClosureAbsence, Respondent

CLOSE = transitions.BY_NAME["close"]


def _case_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.public_id])


def closure_page_for(case: Case) -> str | None:
    """The closing page for the cases the team has worked (``cases.closing``)."""
    if selectors.takes(case):
        return reverse("followup:closure_create", args=[case.public_id])
    return None


def link_urls(request: HttpRequest, tokens: dict[str, str]) -> list[tuple[str, str]]:
    """The one-time links to show once: (respondent label, full URL)."""
    return [
        (
            str(Respondent(respondent).label),
            request.build_absolute_uri(reverse("survey:answer", args=[token])),
        )
        for respondent, token in tokens.items()
    ]


def links_page(request: HttpRequest, closure: Closure, tokens: dict[str, str]) -> HttpResponse:
    """The page that shows new links, once: never cached, never sent on as a referrer."""
    response = render(
        request,
        "followup/survey/links.html",
        {"closure": closure, "links": link_urls(request, tokens)},
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


@access.staff_view
@require_http_methods(["GET", "POST"])
def closure_create(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case, granted = access.access_case(request.user, public_id)
    if not CLOSE.taken_by(granted):
        raise access.refuse(
            request.user, audit.AuditObjectType.CASE, case.public_id, needs=str(CLOSE.capability)
        )
    if not transitions.judge(CLOSE, case, granted).allowed or not selectors.takes(case):
        messages.error(
            request, _("This step cannot be taken now. The page shows the case as it is.")
        )
        return HttpResponseRedirect(_case_url(case))
    has_plan = services.has_plan(case)
    form = ClosureForm(request.POST or None, has_plan=has_plan, initial={"version": case.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case.version = data["version"]
        try:
            result = services.closure_record(
                case=case,
                by=access.staff_user(request),
                reason=data["reason"],
                detail=data["detail"],
                goals_met=data.get("goals_met") or "",
                summary=data["summary"],
                answers=form.answers(),
                links=data["links"],
            )
        except workflow.ConcurrentChange:
            messages.error(
                request,
                _(
                    "Someone else changed the case after you opened the page, so nothing was "
                    "changed. The page now shows the case as it is: check it and try again."
                ),
            )
            return HttpResponseRedirect(_case_url(case))
        except workflow.CapabilityMissing as error:
            raise access.refuse(
                request.user, audit.AuditObjectType.CASE, case.public_id, needs=str(error)
            ) from None
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, _("The case is closed and the closure record is saved."))
            if result.tokens:
                return links_page(request, result.closure, result.tokens)
            return HttpResponseRedirect(
                reverse("followup:closure_detail", args=[result.closure.public_id])
            )
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.CASE,
        object_id=str(case.public_id),
        student_id=case.student.public_id,
        role=granted.roles_for(Capability.WORK_CASES, Capability.SOCIAL_WORK),
        detail={"page": "closure_create"},
    )
    periods = selectors.periods(case, timezone.localdate())
    return render(
        request,
        "followup/closure/form.html",
        {"case": case, "form": form, "has_plan": has_plan, "periods": periods},
    )


def closure_of(request: HttpRequest, public_id: uuid.UUID) -> Closure:
    closure = (
        selectors.closures_readable_by(request.user)
        .select_related("case__school", "closed_by")
        .filter(public_id=public_id)
        .first()
    )
    if closure is None:
        raise access.refuse(request.user, audit.AuditObjectType.CLOSURE, public_id)
    return closure


def closure_context(closure: Closure) -> dict[str, Any]:
    """What the closure record shows, to everyone who reads it: nothing that names the
    student (the social worker who wrote it reads it after the case is closed)."""
    absences = {row.span: row for row in closure.absences.all()}
    referral = (
        Referral.objects.filter(case_id=closure.case_id, submitted_at__isnull=False)
        .order_by("-submitted_at")
        .only("number")
        .first()
    )
    return {
        "closure": closure,
        "case": closure.case,
        "reason": closure.case.get_closure_reason_display(),
        "detail": closure.case.closure_detail,
        "intake": absences.get(ClosureAbsence.Span.INTAKE),
        "at_closure": absences.get(ClosureAbsence.Span.CLOSURE),
        "survey": selectors.survey_summary(closure),
        "referral_number": referral.number if referral else "",
        "checks": list(AfterCareCheck.objects.filter(case_id=closure.case_id)),
    }


@access.staff_view
@require_GET
def closure_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    closure = closure_of(request, public_id)
    reads_case = selectors.reads_case(request.user, closure)
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.CLOSURE,
        object_id=str(closure.public_id),
        detail={"reads_case": reads_case},
    )
    context = closure_context(closure)
    context["reads_case"] = reads_case
    context["may_survey"] = True
    return render(request, "followup/closure/detail.html", context)


# ---------------------------------------------------------------- the case page, the desk


def closure_section(
    request: HttpRequest, case: Case, granted: access.Granted
) -> tuple[str, dict[str, Any]] | None:
    """ "Closure and after-care" on the page of a closed case that has a closure record."""
    closure = Closure.objects.filter(case=case).first()
    if closure is None:
        return None
    context = closure_context(closure)
    context["works_case"] = Capability.WORK_CASES in granted
    try:
        context["next_case"] = case.next_case
    except Case.next_case.RelatedObjectDoesNotExist:
        context["next_case"] = None
    return "followup/closure/section.html", context


def my_closures_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The social worker's desk: the closure records they wrote (the only thing of a
    closed case they still read), newest first."""
    if not access.holds_anywhere(request.user, Capability.SOCIAL_WORK):
        return None
    closures = list(
        selectors.closures_readable_by(request.user)
        .filter(closed_by_id=request.user.pk)
        .order_by("-closed_on", "-pk")[:10]
    )
    if not closures:
        return None
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.CLOSURE,
        detail={"page": "desk", "count": len(closures)},
    )
    return "followup/closure/panel.html", {"closures": closures}


def register() -> None:
    closing.register(page=closure_page_for)
    sections.register(order=90, section=closure_section)
    desk.register(order=75, panel=my_closures_panel)
