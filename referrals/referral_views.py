"""The referral pages of the school (write, preview, submit, withdraw, revise) and the
coordinator's registration of a referral from outside the school; the case page's referral
section and the desk panel "Referrals".

A referral is fetched only through ``_referral_for_writer`` (the cases on which the user
holds ``WRITE_REFERRAL``, ``access.cases_where``) or, for the coordinator's receipt,
``selectors.coordinated_referrals_of``: anyone else gets the policy's 404, audited. Every
page view is audited; the services audit what they change. No page here shows the
student's name or personnummer: the writer knows whom it is about, and the preview shows
exactly the anonymous fragment the forum sees.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cases import sections, workflow
from cases.models import Case, CaseState
from sst import access, audit, desk
from sst.access import Capability

from . import anonymity, referral_services, referral_states, selectors
from .models import DECIDED_STATES, WAITING_STATES, Referral, ReferralState
from .referral_forms import ReferralForm, RegisterForm, VersionForm, WithdrawForm

CONFIRM_FIELD = "confirm"
WRITE = Capability.WRITE_REFERRAL


def _writable(user: access.AnyUser) -> QuerySet[Referral]:
    return Referral.objects.filter(case__in=access.cases_where(user, WRITE).values("pk"))


def _referral_for_writer(request: HttpRequest, public_id: str) -> Referral:
    """The referral, if the user holds WRITE_REFERRAL on its case; otherwise 404 (audited)."""
    try:
        return (
            _writable(request.user)
            .select_related("case__student", "case__school", "school", "forum", "revision_of")
            .get(public_id=public_id)
        )
    except (Referral.DoesNotExist, ValueError, ValidationError):
        raise access.refuse(request.user, audit.AuditObjectType.REFERRAL, public_id) from None


def _audit_read(request: HttpRequest, referral: Referral, page: str) -> None:
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.REFERRAL,
        object_id=str(referral.public_id),
        student_id=referral.case.student.public_id,
        role=access.audit_role(WRITE),
        detail={"page": page},
    )


def _url(name: str, referral: Referral) -> str:
    return reverse(f"referrals:{name}", args=[referral.public_id])


def _case_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.public_id])


def _back_url(request: HttpRequest, case: Case) -> str:
    """The case page for those who read it; the desk for the mentor (who does not)."""
    if Capability.WORK_CASES in access.case_capabilities(request.user, case):
        return _case_url(case)
    return reverse("sst:desk")


def _refusal_messages(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _run(request: HttpRequest, referral: Referral, change: Callable[[], Any]) -> bool:
    """Call the service; its refusals become messages (it changed nothing)."""
    try:
        change()
    except workflow.CapabilityMissing as error:
        raise access.refuse(
            request.user, audit.AuditObjectType.REFERRAL, referral.public_id, needs=str(error)
        ) from None
    except ValidationError as error:
        _refusal_messages(request, error)
        return False
    return True


# ---------------------------------------------------------------- starting and writing


@access.staff_view
@require_http_methods(["GET", "POST"])
def referral_start(request: HttpRequest, case_id: str) -> HttpResponse:
    """From a case: continue its draft, or (POST) start one."""
    case, granted = access.access_case_holding(request.user, case_id, WRITE)
    active = case.referrals.filter(state__in=referral_services.ACTIVE_STATES).first()
    if active is not None:
        target = "referral_edit" if active.state == ReferralState.DRAFT else "referral_preview"
        return HttpResponseRedirect(_url(target, active))
    if request.method == "POST":
        try:
            referral = referral_services.referral_create(case=case, by=access.staff_user(request))
        except ValidationError as error:
            _refusal_messages(request, error)
        else:
            messages.success(request, _("A draft referral was started."))
            return HttpResponseRedirect(_url("referral_edit", referral))
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.CASE,
        object_id=str(case.public_id),
        student_id=case.student.public_id,
        role=granted.roles_for(WRITE),
        detail={"page": "referral_start"},
    )
    return render(
        request,
        "referrals/referral/start.html",
        {
            "case": case,
            "can_start": case.state == CaseState.SCHOOL_INVESTIGATION,
            "back_url": _back_url(request, case),
        },
    )


def _render_form(
    request: HttpRequest,
    referral: Referral,
    form: ReferralForm,
    findings: anonymity.Findings | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "referrals/referral/form.html",
        {
            "referral": referral,
            "form": form,
            "warnings": findings.words_by_field() if findings else {},
            "warning_fields": [
                (form[name], words) for name, words in findings.words_by_field().items()
            ]
            if findings
            else [],
            "back_url": _back_url(request, referral.case),
        },
        status=status,
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def referral_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Write the draft; saving runs the anonymity check (names need a confirmation)."""
    referral = _referral_for_writer(request, public_id)
    if referral.state != ReferralState.DRAFT:
        return HttpResponseRedirect(_url("referral_preview", referral))
    if request.method == "GET":
        _audit_read(request, referral, "referral_edit")
        return _render_form(
            request, referral, ReferralForm(initial=ReferralForm.initial_of(referral))
        )
    form = ReferralForm(request.POST)
    if not form.is_valid():
        return _render_form(request, referral, form, status=400)
    try:
        referral_services.referral_save(
            referral=referral,
            content=form.content(),
            version=form.cleaned_data["version"],
            confirmation=form.given_confirmation(),
            by=access.staff_user(request),
        )
    except anonymity.NamesNeedConfirmation as warning:
        data = request.POST.copy()
        data["confirmation"] = warning.findings.token()
        data.pop("confirm_names", None)
        warned = ReferralForm(data)
        warned.is_valid()
        warned.add_error(None, warning.messages[0])
        return _render_form(request, referral, warned, warning.findings, status=400)
    except workflow.ConcurrentChange as error:
        form.add_error(None, error.messages[0])
        return _render_form(request, referral, form, status=409)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                for item in errors:
                    form.add_error(name if name in form.fields else None, item.messages[0])
        else:
            form.add_error(None, error.messages[0] if error.messages else str(error))
        return _render_form(request, referral, form, status=400)
    messages.success(request, _("The draft was saved."))
    if "preview" in request.POST:
        return HttpResponseRedirect(_url("referral_preview", referral))
    return HttpResponseRedirect(_url("referral_edit", referral))


# ---------------------------------------------------------------- preview and submit


@access.staff_view
@require_GET
def referral_preview(request: HttpRequest, public_id: str) -> HttpResponse:
    """Exactly what the forum will see (the same fragment as its agenda)."""
    referral = _referral_for_writer(request, public_id)
    _audit_read(request, referral, "referral_preview")
    return render(
        request,
        "referrals/referral/preview.html",
        {
            "referral": referral,
            "decision": getattr(referral, "decision", None),
            "can_submit": referral.state == ReferralState.DRAFT,
            "can_withdraw": referral_states.allowed(referral, "withdraw"),
            "can_revise": referral_states.allowed(referral, "revise"),
            "back_url": _back_url(request, referral.case),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def referral_submit(request: HttpRequest, public_id: str) -> HttpResponse:
    """GET: what submitting does; POST with confirm=yes: submit (the case is referred)."""
    referral = _referral_for_writer(request, public_id)
    if not referral_states.allowed(referral, "submit"):
        messages.error(request, _("This referral has already been submitted."))
        return HttpResponseRedirect(_url("referral_preview", referral))
    form = VersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and request.POST.get(CONFIRM_FIELD) == "yes":
        referral.version = form.cleaned_data["version"]
        if _run(
            request,
            referral,
            lambda: referral_services.referral_submit(
                referral=referral, by=access.staff_user(request)
            ),
        ):
            messages.success(
                request,
                _("Referral %(number)s was submitted to the referral forum.")
                % {"number": referral.number},
            )
            return HttpResponseRedirect(_back_url(request, referral.case))
        return HttpResponseRedirect(_url("referral_preview", referral))
    _audit_read(request, referral, "referral_submit")
    return render(
        request,
        "referrals/referral/confirm.html",
        {
            "referral": referral,
            "action_url": _url("referral_submit", referral),
            "title": _("Submit the referral"),
            "consequence": _(
                "The referral is sent to the referral forum, which decides whether the school "
                "social team takes the case. The case becomes “referred”. Until the forum has "
                "decided, the school can withdraw it."
            ),
            "button": _("Yes: submit the referral"),
            "style": "btn-primary",
            "confirm_field": CONFIRM_FIELD,
            "back_url": _back_url(request, referral.case),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def referral_withdraw(request: HttpRequest, public_id: str) -> HttpResponse:
    """Take the referral back before the forum has decided (or discard a draft)."""
    referral = _referral_for_writer(request, public_id)
    if not referral_states.allowed(referral, "withdraw"):
        messages.error(
            request, _("The forum has already decided: the referral cannot be withdrawn.")
        )
        return HttpResponseRedirect(_url("referral_preview", referral))
    form = WithdrawForm(request.POST or None, initial={"version": referral.version})
    if request.method == "POST" and form.is_valid():
        referral.version = form.cleaned_data["version"]
        if _run(
            request,
            referral,
            lambda: referral_services.referral_withdraw(
                referral=referral, reason=form.cleaned_data["reason"], by=access.staff_user(request)
            ),
        ):
            messages.success(request, _("The referral was withdrawn."))
            return HttpResponseRedirect(_back_url(request, referral.case))
        return HttpResponseRedirect(_url("referral_preview", referral))
    _audit_read(request, referral, "referral_withdraw")
    return render(
        request,
        "referrals/referral/withdraw.html",
        {
            "referral": referral,
            "form": form,
            "is_draft": referral.state == ReferralState.DRAFT,
            "back_url": _url("referral_preview", referral),
        },
        status=400 if form.is_bound else 200,
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def referral_revise(request: HttpRequest, public_id: str) -> HttpResponse:
    """A new draft from a rejected referral, in a new case that follows the ended one."""
    referral = _referral_for_writer(request, public_id)
    if not referral_states.allowed(referral, "revise"):
        messages.error(request, _("Only a rejected referral can be revised."))
        return HttpResponseRedirect(_url("referral_preview", referral))
    form = VersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and request.POST.get(CONFIRM_FIELD) == "yes":
        referral.version = form.cleaned_data["version"]
        revised: list[Referral] = []
        if _run(
            request,
            referral,
            lambda: revised.append(
                referral_services.referral_revise(referral=referral, by=access.staff_user(request))
            ),
        ):
            messages.success(
                request,
                _("A new case was opened with a revised draft, %(number)s.")
                % {"number": revised[0].number},
            )
            return HttpResponseRedirect(_url("referral_edit", revised[0]))
        return HttpResponseRedirect(_url("referral_preview", referral))
    _audit_read(request, referral, "referral_revise")
    return render(
        request,
        "referrals/referral/confirm.html",
        {
            "referral": referral,
            "action_url": _url("referral_revise", referral),
            "title": _("Revise the rejected referral"),
            "consequence": _(
                "The rejection ended the case. Revising opens a new case for the student, "
                "following the rejected one, with a new draft that starts as a copy of this "
                "referral. This referral and the forum's decision stay readable."
            ),
            "button": _("Yes: open a new case with a revised draft"),
            "style": "btn-primary",
            "confirm_field": CONFIRM_FIELD,
            "back_url": _back_url(request, referral.case),
        },
    )


# ---------------------------------------------------------------- the coordinator


def _render_register(
    request: HttpRequest,
    form: RegisterForm,
    findings: anonymity.Findings | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "referrals/referral/register.html",
        {
            "form": form,
            "warning_fields": [
                (form[name], words) for name, words in findings.words_by_field().items()
            ]
            if findings
            else [],
        },
        status=status,
    )


@access.capability_view(Capability.COORDINATE)
@require_http_methods(["GET", "POST"])
def referral_register(request: HttpRequest) -> HttpResponse:
    """A referral from the student, a guardian or social services: identify the student by
    personnummer among the schools the coordinator covers, open the case, write and submit."""
    if request.method == "GET":
        return _render_register(request, RegisterForm(initial={"report_of_concern": "unknown"}))
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return _render_register(request, form, status=400)
    student = access.student_by_personnummer_where(
        request.user, form.cleaned_data["personnummer"], Capability.COORDINATE
    )
    if student is None:
        audit.record(
            user=request.user,
            action=audit.AuditAction.ACCESS_DENIED,
            object_type=audit.AuditObjectType.STUDENT,
            detail={"page": "referral_register", "found": False},
        )
        form.add_error(
            "personnummer",
            _("No student with this number is at a school you coordinate."),
        )
        return _render_register(request, form, status=400)
    try:
        referral = referral_services.referral_register(
            student=student,
            origin=form.cleaned_data["origin"],
            content=form.content(),
            confirmation=form.given_confirmation(),
            by=access.staff_user(request),
        )
    except anonymity.NamesNeedConfirmation as warning:
        data = request.POST.copy()
        data["confirmation"] = warning.findings.token()
        data.pop("confirm_names", None)
        warned = RegisterForm(data)
        warned.is_valid()
        warned.add_error(None, warning.messages[0])
        return _render_register(request, warned, warning.findings, status=400)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                for item in errors:
                    form.add_error(name if name in form.fields else None, item.messages[0])
        else:
            form.add_error(None, error.messages[0])
        return _render_register(request, form, status=400)
    messages.success(
        request,
        _("Referral %(number)s was registered and submitted to the referral forum.")
        % {"number": referral.number},
    )
    return HttpResponseRedirect(_url("referral_registered", referral))


@access.capability_view(Capability.COORDINATE)
@require_GET
def referral_registered(request: HttpRequest, public_id: str) -> HttpResponse:
    """The coordinator's receipt: the anonymous referral as the forum sees it."""
    try:
        referral = (
            selectors.coordinated_referrals_of(request.user)
            .select_related("school", "forum")
            .get(public_id=public_id)
        )
    except (Referral.DoesNotExist, ValueError, ValidationError):
        raise access.refuse(request.user, audit.AuditObjectType.REFERRAL, public_id) from None
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.REFERRAL,
        object_id=str(referral.public_id),
        role=access.audit_role(Capability.COORDINATE),
        detail={"page": "referral_registered"},
    )
    return render(request, "referrals/referral/registered.html", {"referral": referral})


# ---------------------------------------------------------------- the case page and the desk


def referral_section(
    request: HttpRequest, case: Case, granted: access.Granted
) -> tuple[str, dict[str, Any]] | None:
    """ "Referral" on the case page: the case's referrals with their state and the forum's
    decision, and the writer's links."""
    if not ({Capability.WORK_CASES, WRITE} & granted):
        return None
    referrals = list(
        case.referrals.select_related("decision", "revision_of").order_by("created_at")
    )
    can_write = WRITE in granted
    has_active = any(r.state in referral_services.ACTIVE_STATES for r in referrals)
    return "referrals/referral/section.html", {
        "referrals": referrals,
        "can_write": can_write,
        "can_start": can_write and case.state == CaseState.SCHOOL_INVESTIGATION and not has_active,
        "revised_from": case.previous_case_id is not None
        and any(r.revision_of_id for r in referrals),
    }


RECENT_DECISIONS = datetime.timedelta(days=30)
PANEL_LIMIT = 10


def referral_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """ "Referrals" on the desk of the referral's writers: drafts, those waiting for the
    forum, recent decisions, and cases ready for a referral. Three queries."""
    user = request.user
    if not access.holds_anywhere(user, WRITE):
        return None
    cases = access.cases_where(user, WRITE)
    since = timezone.now() - RECENT_DECISIONS
    referrals = list(
        Referral.objects.filter(case__in=cases.values("pk"))
        .filter(
            Q(state=ReferralState.DRAFT)
            | Q(state__in=WAITING_STATES)
            | Q(state__in=DECIDED_STATES, decided_at__gte=since)
        )
        .select_related("decision")
        .order_by("-updated_at")[: 3 * PANEL_LIMIT]
    )
    ready = list(
        cases.filter(state=CaseState.SCHOOL_INVESTIGATION)
        .exclude(referrals__state__in=referral_services.ACTIVE_STATES)
        .select_related("student", "school")
        .order_by("-opened_at")[:PANEL_LIMIT]
    )
    audit.record(
        user=user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.REFERRAL,
        role=access.audit_role(WRITE),
        detail={"panel": "referrals", "count": len(referrals), "ready": len(ready)},
    )
    return "referrals/referral/panel.html", {
        "drafts": [r for r in referrals if r.state == ReferralState.DRAFT][:PANEL_LIMIT],
        "waiting": [r for r in referrals if r.state in WAITING_STATES][:PANEL_LIMIT],
        "decided": [r for r in referrals if r.state in DECIDED_STATES][:PANEL_LIMIT],
        "ready": ready,
    }


def register_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The coordinator's way in to registering a referral from outside the school."""
    if not access.holds_anywhere(request.user, Capability.COORDINATE):
        return None
    return "referrals/referral/panel_register.html", {}


def register_panels() -> None:
    desk.register(order=30, panel=referral_panel)
    desk.register(order=31, panel=register_panel)
    sections.register(order=10, section=referral_section)
