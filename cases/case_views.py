"""The case pages: a case with its chronology, its print view, the school's case list, the
state changes (one view for every step of the transition table, calling the step's named
service), notes, opening a case from the student page, and the "open cases" panel on my desk.

Cases are fetched only through ``access.access_case`` (404 otherwise), which also says what
the user may do with them; a state change also
needs the capability its row of the table names (404, audited, without it). Every page is
audited; the services audit what they change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sst import access, audit, desk
from sst.access import Capability
from sst.models import Student

from . import chronology as selectors
from . import closing, sections, transitions, workflow
from .case_forms import (
    CaseListFilterForm,
    CaseOpenForm,
    ChronologyFilterForm,
    NoteForm,
    SkipForm,
    VersionForm,
    openings_for,
    service_arguments,
    transition_form_class,
)
from .models import Case

PAGE_SIZE = 50


# ---------------------------------------------------------------- the transitions


def _case_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.public_id])


def _case_with(request: HttpRequest, public_id: str, capability: Capability) -> Case:
    """The case, if the user may read it and holds ``capability`` on it (404 otherwise)."""
    case: Case = access.access_case(request.user, public_id, need=capability)[0]
    return case


def _stale(form: Form, case: Case) -> bool:
    version = form.cleaned_data.get("version") if hasattr(form, "cleaned_data") else None
    return version is not None and version != case.version


def _refuse_stale(request: HttpRequest) -> None:
    messages.error(
        request,
        _(
            "Someone else changed the case after you opened the page, so nothing was changed. "
            "The page now shows the case as it is: check it and try again."
        ),
    )


def _refuse_invalid(request: HttpRequest, form: Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _run(request: HttpRequest, case: Case, change: Callable[[], Case]) -> None:
    """Call the service; its refusals become messages (the service has changed nothing)."""
    try:
        case = change()
    except workflow.ConcurrentChange:
        _refuse_stale(request)
    except workflow.CapabilityMissing as error:
        # The user's rights changed between the page and the service: the policy's 404.
        raise access.refuse(
            request.user, audit.AuditObjectType.CASE, case.public_id, needs=str(error)
        ) from None
    except ValidationError as error:  # TransitionRefused, or a missing reason
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("The case is now “%(state)s”.") % {"state": case.get_state_display()}
        )


# The field a confirmation page posts: without it a step that asks for confirmation only
# shows what it will do.
CONFIRM_FIELD = "confirm"


def _confirmation(
    request: HttpRequest,
    case: Case,
    transition: transitions.Transition,
    form: Form,
    granted: access.Granted,
) -> HttpResponse:
    """What the step will do, with what the person gave, and the button that does it."""
    _audit_case_read(request, case, audit.AuditAction.VIEW, granted, page=transition.slug)
    given = [
        (form.fields[name].label, _given_value(form, name))
        for name in ("reason", "detail")
        if form.is_bound and name in form.fields
    ]
    return render(
        request,
        "cases/case/confirm.html",
        {
            "case": case,
            "student": case.student,
            "transition": transition,
            "version": form.cleaned_data["version"] if form.is_bound else case.version,
            "hidden": {
                name: form.cleaned_data[name]
                for name in ("reason", "detail")
                if form.is_bound and name in form.fields
            },
            "given": [(label, value) for label, value in given if value],
            "confirm_field": CONFIRM_FIELD,
        },
    )


def _given_value(form: Form, name: str) -> str:
    value = form.cleaned_data.get(name) or ""
    choices = dict(getattr(form.fields[name], "choices", []))
    return str(choices.get(value, value))


@access.staff_view
@require_http_methods(["GET", "POST"])
def case_transition(request: HttpRequest, public_id: str, step: str) -> HttpResponse:
    """One step of the transition table, from its button on the case page.

    A step with a ``confirm`` text first shows a confirmation page (on GET, or on a POST
    without the confirm field) and changes nothing; its POST with the field makes the step.
    """
    transition = transitions.BY_SLUG.get(step)
    if transition is None:
        raise Http404
    if request.method == "GET" and transition.confirm is None:
        return HttpResponseNotAllowed(["POST"])
    case, granted = access.access_case(request.user, public_id)
    if not transition.taken_by(granted):
        raise access.refuse(
            request.user,
            audit.AuditObjectType.CASE,
            case.public_id,
            needs=str(transition.capability),
        )
    allowed = transitions.judge(transition, case, granted).allowed
    closing_page = closing.page_for(case) if transition.asks is transitions.Asks.CLOSURE else None
    if closing_page and allowed:
        # A later app keeps a closure record for this case: its page closes it.
        return HttpResponseRedirect(closing_page)
    if request.method == "GET":
        if allowed:
            return _confirmation(request, case, transition, VersionForm(), granted)
        messages.error(
            request, _("This step cannot be taken now. The page shows the case as it is.")
        )
        return HttpResponseRedirect(_case_url(case))
    form = transition_form_class(transition)(request.POST)
    valid = form.is_valid()
    if _stale(form, case):
        _refuse_stale(request)
    elif not valid:
        _refuse_invalid(request, form)
    elif transition.confirm and allowed and request.POST.get(CONFIRM_FIELD) != "yes":
        return _confirmation(request, case, transition, form, granted)
    else:
        # The version the page was drawn from: the service refuses if the case moved since.
        case.version = form.cleaned_data["version"]
        service = workflow.SERVICES[transition.name]
        arguments = service_arguments(form)
        _run(request, case, lambda: service(case=case, by=access.staff_user(request), **arguments))
    return HttpResponseRedirect(_case_url(case))


@access.staff_view
@require_POST
def case_skip(request: HttpRequest, public_id: str) -> HttpResponse:
    """Skip forward past one or more of the school's own steps, with the reason recorded."""
    case = _case_with(request, public_id, transitions.SKIP_CAPABILITY)
    form = SkipForm(request.POST, state=case.state)
    valid = form.is_valid()
    if _stale(form, case):
        _refuse_stale(request)
    elif not valid:
        _refuse_invalid(request, form)
    else:
        case.version = form.cleaned_data["version"]
        _run(
            request,
            case,
            lambda: workflow.case_skip_to(
                case=case,
                to=form.cleaned_data["to"],
                reason=form.cleaned_data["reason"],
                by=access.staff_user(request),
            ),
        )
    return HttpResponseRedirect(_case_url(case))


# ---------------------------------------------------------------- notes, opening a case


@access.staff_view
@require_POST
def case_note_add(request: HttpRequest, public_id: str) -> HttpResponse:
    case = _case_with(request, public_id, Capability.WORK_CASES)
    form = NoteForm(request.POST)
    if not form.is_valid():
        _refuse_invalid(request, form)
        return HttpResponseRedirect(_case_url(case))
    try:
        workflow.note_add(
            case=case,
            text=form.cleaned_data["text"],
            restricted_to=form.cleaned_data["restricted_to"],
            by=access.staff_user(request),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The note was saved."))
    return HttpResponseRedirect(_case_url(case) + "#chronology-heading")


@access.staff_view
@require_POST
def case_open(request: HttpRequest, public_id: str) -> HttpResponse:
    """Open a case by hand from the student page (the principal or the student health team)."""
    student, granted = access.access_student(request.user, public_id, need=Capability.WORK_CASES)
    form = CaseOpenForm(request.POST, capabilities=granted)
    student_url = reverse("cases:student_detail", args=[student.public_id])
    if not form.is_valid():
        _refuse_invalid(request, form)
        return HttpResponseRedirect(student_url)
    try:
        case = workflow.case_open(
            student=student,
            opening=form.cleaned_data["opening"],
            by=access.staff_user(request),
            previous_case=selectors.previous_case_for_new(student),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return HttpResponseRedirect(student_url)
    messages.success(request, _("The case was opened."))
    return HttpResponseRedirect(_case_url(case))


def student_case_context(
    user: access.AnyUser, student: Student, granted: access.Granted | None = None
) -> dict[str, Any]:
    """What the student page needs for its "Case" section (empty for mentors and others
    who do not work with cases), from what the page's access check already decided."""
    if granted is None:
        granted = access.capabilities_at(user, student)
    if Capability.WORK_CASES not in granted:
        return {}
    cases = selectors.student_cases(user, student)
    return {
        "case_section": True,
        "student_cases": cases,
        # Only one open case at a time: the button shows when none is open.
        "case_openings": [] if any(case.is_open for case in cases) else openings_for(granted),
    }


# ---------------------------------------------------------------- reading


def _chronology_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    filters = ChronologyFilterForm(request.GET or None)
    kinds = filters.cleaned_data["kind"] if filters.is_valid() else []
    found = selectors.chronology(request.user, case, kinds=kinds)
    return {"case": case, "student": case.student, "chronology": found, "filters": filters}


def _audit_case_read(
    request: HttpRequest,
    case: Case,
    action: audit.AuditAction,
    granted: access.Granted,
    **detail: Any,
) -> None:
    audit.record(
        user=request.user,
        action=action,
        object_type=audit.AuditObjectType.CASE,
        object_id=str(case.public_id),
        student_id=case.student.public_id,
        role=granted.roles_for(Capability.WORK_CASES),
        detail=detail,
    )


@access.staff_view
@require_GET
def case_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    case, capabilities = access.access_case(request.user, public_id)
    context = _chronology_context(request, case)
    found = context["chronology"]
    can_change = Capability.WORK_CASES in capabilities
    try:
        next_case = case.next_case  # type: ignore[attr-defined]
    except Case.next_case.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        next_case = None
    version = {"version": case.version}
    may_skip = transitions.SKIP_CAPABILITY in capabilities and transitions.skip_targets(case.state)
    context.update(
        {
            "next_case": next_case,
            "can_change": can_change,
            # Exactly the steps the services would accept now, from the one table.
            "transitions": [
                (
                    transition,
                    transition_form_class(transition)(
                        initial=version, auto_id=f"id_{transition.name}_%s"
                    ),
                )
                for transition in transitions.available(case, capabilities)
            ],
            "waiting_for": transitions.waiting_for(case, capabilities),
            "closing_url": closing.page_for(case) if case.is_open else None,
            "skip_form": SkipForm(initial=version, state=case.state, auto_id="id_skip_%s")
            if may_skip
            else None,
            "note_form": NoteForm() if can_change else None,
            "sections": sections.render_sections(request, case, capabilities),
        }
    )
    _audit_case_read(
        request,
        case,
        audit.AuditAction.VIEW,
        capabilities,
        kinds=sorted(found.kinds),
        hidden=found.hidden_count,
        **sections.read_detail(request.user, case, capabilities),
    )
    return render(request, "cases/case/detail.html", context)


@access.staff_view
@require_GET
def case_print(request: HttpRequest, public_id: str) -> HttpResponse:
    """The chronology to print: the same entries and restrictions, without navigation."""
    case, capabilities = access.access_case(request.user, public_id)
    context = _chronology_context(request, case)
    found = context["chronology"]
    _audit_case_read(
        request,
        case,
        audit.AuditAction.EXPORT,
        capabilities,
        format="print",
        kinds=sorted(found.kinds),
        hidden=found.hidden_count,
        **sections.read_detail(request.user, case, capabilities),
    )
    return render(request, "cases/case/print.html", context)


@access.capability_view(Capability.WORK_CASES)
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases at the user's schools, open first, filtered by state (and school)."""
    schools = list(selectors.case_schools_of(request.user))
    filters = CaseListFilterForm(request.GET or None, schools=schools)
    state, school_id = "", None
    if filters.is_valid():
        state = filters.cleaned_data["state"]
        school_id = filters.cleaned_data["school"]
    page = Paginator(
        selectors.case_list(request.user, state=state, school_id=school_id), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.CASE,
        role=",".join(sorted(selectors.case_roles_of(request.user))),
        detail={"count": len(page.object_list), "page": page.number, "state": state},
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/case/list.html",
        {
            "page": page,
            "filters": filters,
            "schools": schools,
            "query": query.urlencode(),
            "is_filtered": bool(state or school_id),
        },
    )


# ---------------------------------------------------------------- my desk


def cases_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """Principal and student health team: open cases per state at each of their schools."""
    summaries = selectors.open_case_counts(request.user)
    if summaries is None:
        return None
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.CASE,
        detail={"page": "desk", "open": sum(summary.total for summary in summaries)},
    )
    return "cases/case/panel.html", {"summaries": summaries}


def register_panels() -> None:
    desk.register(order=40, panel=cases_panel)
