"""The action plan's pages under /team/plan/<case>/: the plan, making and revising it (goals
and interventions as rows), its versions, signatures, the six-month decision and the
printable plan; and the plan's section of the case page.

Who reads: everyone who may read the case (``access.access_case``: the school's case staff,
the assigned social worker while a valid consent covers the case). Who writes: the assigned
social worker and the school's case staff. A mentor does not read cases (their part is the
checklist), so a mentor gets 404 here as on the case page. Every read is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cases import sections, transitions
from cases.models import Case, CaseState
from sst import access, audit, printing
from sst import services as core_services
from sst.access import Capability
from sst.models import User

from . import catalogue
from . import plan_services as services
from .models import ActionPlan, Goal, PlanIntervention
from .plan_forms import (
    ContinuationForm,
    PlanForm,
    SignatureForm,
    goal_formset,
    goal_initial,
    intervention_formset,
    intervention_initial,
    posted_rows,
    rows_of,
)

T = "actionplans/plan/"


def _plan_url(case: Case) -> str:
    return reverse("actionplans:plan_detail", args=[case.public_id])


def _case_and_plan(
    request: HttpRequest, case_id: uuid.UUID, *, write: bool = False, need_plan: bool = True
) -> tuple[Case, access.Granted, ActionPlan | None]:
    case, granted = access.access_case(request.user, case_id)
    if write and not access.works_team_case(access.staff_user(request), case, granted):
        raise access.refuse(request.user, audit.AuditObjectType.ACTION_PLAN, case_id, needs="write")
    case = Case.objects.select_related("student", "school__district").get(pk=case.pk)
    plan = ActionPlan.objects.filter(case=case).first()
    if need_plan and plan is None:
        raise access.refuse(request.user, audit.AuditObjectType.ACTION_PLAN, case_id)
    return case, granted, plan


def _audit_read(
    request: HttpRequest,
    case: Case,
    plan: ActionPlan | None,
    granted: access.Granted,
    action: audit.AuditAction = audit.AuditAction.VIEW,
    **detail: Any,
) -> None:
    sections.audit_read(
        request,
        case,
        granted,
        object_type=audit.AuditObjectType.ACTION_PLAN,
        object_id=plan.public_id if plan else case.public_id,
        action=action,
        **detail,
    )


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _form_errors(form: Any, error: ValidationError) -> None:
    """A service's refusal on the form: on its field where it names one, else on top."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _current_rows(plan: ActionPlan) -> tuple[list[Goal], list[PlanIntervention]]:
    goals = list(plan.goals.filter(ended_in__isnull=True).order_by("order", "pk"))
    interventions = list(
        plan.interventions.filter(ended_on__isnull=True)
        .select_related("item__category", "responsible")
        .order_by("order", "pk")
    )
    return goals, interventions


# ---------------------------------------------------------------- the plan page


def _start_plan_form(case: Case, granted: access.Granted) -> bool:
    transition = transitions.BY_NAME["start_plan"]
    return transitions.judge(transition, case, granted).allowed


@access.staff_view
@require_GET
def plan_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted, plan = _case_and_plan(request, case_id, need_plan=False)
    user = access.staff_user(request)
    context: dict[str, Any] = {
        "case": case,
        "plan": plan,
        "may_write": access.works_team_case(user, case, granted) and case.is_open,
        "may_start_plan": _start_plan_form(case, granted),
        "in_consent": case.state == CaseState.CONSENT,
        "plan_state": case.state == CaseState.PLAN,
    }
    if plan is not None:
        goals, interventions = _current_rows(plan)
        context.update(
            {
                "goals": goals,
                "interventions": interventions,
                "ended_interventions": plan.interventions.filter(ended_on__isnull=False)
                .select_related("item")
                .order_by("ended_on"),
                "signatures": services.signatures_of(plan),
                "missing": services.missing_signatures(plan),
                "decision_due": services.decision_due(plan),
                "decision_due_on": services.decision_due_on(plan),
                "decisions": list(plan.continuations.select_related("decided_by")),
                "longer": services.needs_reason(plan.starts_on, plan.ends_on),
                "revision": plan.revisions.order_by("-number").select_related("made_by").first(),
            }
        )
    _audit_read(request, case, plan, granted, page="plan")
    return render(request, T + "detail.html", context)


# ---------------------------------------------------------------- making and revising


def _formsets(
    request: HttpRequest,
    case: Case,
    *,
    plan: ActionPlan | None,
    goals: list[dict[str, Any]],
    interventions: list[dict[str, Any]],
    extra: int,
) -> tuple[Any, Any]:
    keep = list(plan.interventions.values_list("item_id", flat=True)) if plan else []
    items = catalogue.offered_items(case.school.district.municipality_id, keep=keep)
    people = services.responsible_choices(case)
    data = request.POST if request.method == "POST" else None
    return (
        goal_formset(data, initial=goals, extra=extra),
        intervention_formset(data, initial=interventions, extra=extra, items=items, people=people),
    )


def _added_row(request: HttpRequest, goal_set: Any, intervention_set: Any) -> tuple[Any, Any]:
    """The same form again with one more goal or intervention row, nothing saved."""
    case_items = intervention_set.form_kwargs
    add_goal = "add_goal" in request.POST
    goals = goal_formset(initial=posted_rows(goal_set), extra=1 if add_goal else 0)
    interventions = intervention_formset(
        initial=posted_rows(intervention_set),
        extra=0 if add_goal else 1,
        items=case_items["items"],
        people=case_items["people"],
    )
    return goals, interventions


def _plan_arguments(form: PlanForm, goal_set: Any, intervention_set: Any) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "longer_reason": data["longer_reason"],
        "school_measures": data["school_measures"],
        "sip": data["sip"],
        "sip_on": data["sip_on"],
        "goals": rows_of(goal_set),
        "interventions": rows_of(intervention_set),
    }


def _editor(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    adding = "add_goal" in request.POST or "add_intervention" in request.POST
    if request.method == "POST" and not adding:
        sets = (context["form"], context["goal_set"], context["intervention_set"])
        if any(part.is_bound and not part.is_valid() for part in sets):
            # Said at the top: the marked fields may be far down a long form.
            messages.error(request, _("The plan was not saved: correct what is marked below."))
    return render(request, T + "edit.html", context)


@access.staff_view
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted, plan = _case_and_plan(request, case_id, write=True, need_plan=False)
    if plan is not None:
        return HttpResponseRedirect(reverse("actionplans:plan_edit", args=[case.public_id]))
    if case.state != CaseState.PLAN:
        messages.info(request, _("The action plan is made when the case is at the plan step."))
        return HttpResponseRedirect(_plan_url(case))
    today = timezone.localdate()
    form = PlanForm(
        request.POST or None,
        initial={"starts_on": today, "ends_on": services.default_ends_on(today)},
    )
    goal_set, intervention_set = _formsets(
        request, case, plan=None, goals=[], interventions=[], extra=2
    )
    if request.method == "POST":
        if "add_goal" in request.POST or "add_intervention" in request.POST:
            goal_set, intervention_set = _added_row(request, goal_set, intervention_set)
            form = PlanForm(initial=request.POST.dict())
        elif form.is_valid() & goal_set.is_valid() & intervention_set.is_valid():
            try:
                services.plan_create(
                    case=case,
                    by=access.staff_user(request),
                    **_plan_arguments(form, goal_set, intervention_set),
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The action plan was saved. Record the signatures when it is signed."),
                )
                return HttpResponseRedirect(_plan_url(case))
    else:
        _audit_read(request, case, None, granted, page="create")
    return _editor(
        request,
        {
            "case": case,
            "form": form,
            "goal_set": goal_set,
            "intervention_set": intervention_set,
            "title": _("Make the action plan"),
            "has_catalogue": catalogue.has_catalogue(case.school.district.municipality_id),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted, plan = _case_and_plan(request, case_id, write=True)
    assert plan is not None
    if not case.is_open:
        messages.info(request, _("The case is closed: its plan can no longer change."))
        return HttpResponseRedirect(_plan_url(case))
    goals, interventions = _current_rows(plan)
    form = PlanForm(
        request.POST or None,
        initial={
            "version": plan.version,
            "starts_on": plan.starts_on,
            "ends_on": plan.ends_on,
            "longer_reason": plan.longer_reason,
            "school_measures": plan.school_measures,
            "sip": plan.sip,
            "sip_on": plan.sip_on,
        },
    )
    goal_set, intervention_set = _formsets(
        request,
        case,
        plan=plan,
        goals=goal_initial(goals),
        interventions=intervention_initial(interventions),
        extra=1,
    )
    if request.method == "POST":
        if "add_goal" in request.POST or "add_intervention" in request.POST:
            goal_set, intervention_set = _added_row(request, goal_set, intervention_set)
            form = PlanForm(initial=request.POST.dict())
        elif form.is_valid() & goal_set.is_valid() & intervention_set.is_valid():
            # The version the edit began from; a form without it is from an older page.
            base = form.cleaned_data["version"] or 0
            arguments = _plan_arguments(form, goal_set, intervention_set)
            try:
                services.plan_revise(
                    plan=plan, by=access.staff_user(request), base_version=base, **arguments
                )
            except services.PlanConflict:
                return _conflict(request, case, plan, base, arguments, granted)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The plan was saved as a new version. It needs signing again."),
                )
                return HttpResponseRedirect(_plan_url(case))
    else:
        _audit_read(request, case, plan, granted, page="edit", version=plan.version)
    return _editor(
        request,
        {
            "case": case,
            "plan": plan,
            "form": form,
            "goal_set": goal_set,
            "intervention_set": intervention_set,
            "title": _("Revise the action plan"),
            "has_catalogue": True,
        },
    )


# ---------------------------------------------------------------- the conflict page


def _goal_line(text: str, measure: str, target: Any) -> str:
    return f"{text} – {measure} – {target}"


def _intervention_line(name: str, side: str, person: str, how_often: str, starts: Any) -> str:
    return f"{name} – {side} – {person} – {how_often} – {starts}"


def _marked(lines: list[str], other: list[str]) -> list[tuple[str, bool]]:
    return [(line, line not in other) for line in lines]


def _conflict(
    request: HttpRequest,
    case: Case,
    plan: ActionPlan,
    base: int,
    yours: dict[str, Any],
    granted: access.Granted,
) -> HttpResponse:
    """Both versions side by side: what the person tried to save, and what is saved now."""
    from .models import Side

    plan.refresh_from_db()
    goals, interventions = _current_rows(plan)
    now_goals = [_goal_line(g.text, g.measure, g.target_on) for g in goals]
    your_goals = [
        _goal_line(g.text.strip(), g.measure.strip(), g.target_on) for g in yours["goals"]
    ]

    def person(user: User | None) -> str:
        return str(user.get_full_name() or user.get_username()) if user else "–"

    now_rows = [
        _intervention_line(
            r.item.name, r.get_side_display(), person(r.responsible), r.how_often, r.starts_on
        )
        for r in interventions
    ]
    your_rows = [
        _intervention_line(
            r.item.name,
            str(Side(r.side).label),
            person(r.responsible),
            r.how_often.strip(),
            r.starts_on,
        )
        for r in yours["interventions"]
    ]
    fields = [
        (
            _("Period"),
            f"{yours['starts_on']} – {yours['ends_on']}",
            f"{plan.starts_on} – {plan.ends_on}",
        ),
        (
            _("Why longer than six months"),
            yours["longer_reason"].strip() or "–",
            plan.longer_reason or "–",
        ),
        (
            _("The school's own measures"),
            yours["school_measures"].strip() or "–",
            plan.school_measures or "–",
        ),
        (
            _("SIP"),
            str(yours["sip_on"]) if yours["sip"] else _("No"),
            str(plan.sip_on) if plan.sip else _("No"),
        ),
    ]
    latest = plan.revisions.order_by("-number").select_related("made_by").first()
    _audit_read(request, case, plan, granted, page="conflict", base=base, version=plan.version)
    return render(
        request,
        T + "conflict.html",
        {
            "case": case,
            "plan": plan,
            "base": base,
            "latest": latest,
            "fields": [(label, a, b, a != b) for label, a, b in fields],
            "your_goals": _marked(your_goals, now_goals),
            "now_goals": _marked(now_goals, your_goals),
            "your_rows": _marked(your_rows, now_rows),
            "now_rows": _marked(now_rows, your_rows),
        },
        status=409,
    )


# ---------------------------------------------------------------- versions


@access.staff_view
@require_GET
def plan_versions(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted, plan = _case_and_plan(request, case_id)
    assert plan is not None
    revisions = [
        (revision, [services.describe(change) for change in revision.changes])
        for revision in plan.revisions.select_related("made_by").order_by("-number")
    ]
    _audit_read(request, case, plan, granted, page="versions")
    return render(
        request, T + "versions.html", {"case": case, "plan": plan, "revisions": revisions}
    )


@access.staff_view
@require_GET
def plan_version(request: HttpRequest, case_id: uuid.UUID, number: int) -> HttpResponse:
    case, granted, plan = _case_and_plan(request, case_id)
    assert plan is not None
    revision = plan.revisions.select_related("made_by").filter(number=number).first()
    if revision is None:
        raise Http404
    version = services.version_as_of(plan, revision)
    _audit_read(request, case, plan, granted, page="version", version=number)
    return render(
        request,
        T + "version.html",
        {
            "case": case,
            "plan": plan,
            "version": version,
            "changes": [services.describe(change) for change in revision.changes],
            "rows": [
                (row, version.item_name(row), version.people.get(row.responsible_id))
                for row in version.interventions
            ],
        },
    )


# ---------------------------------------------------------------- signatures


@access.staff_view
@require_http_methods(["GET", "POST"])
def plan_sign(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted, plan = _case_and_plan(request, case_id, write=True)
    assert plan is not None
    user = access.staff_user(request)
    guardians = services.custody_guardians(case)
    staff = services.responsible_choices(case)
    form = SignatureForm(
        request.POST or None,
        guardians=guardians,
        staff=staff,
        initial={"version": plan.version, "signed_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.signature_record(
                plan=plan,
                by=user,
                party=data["party"],
                guardian=data["guardian"],
                signer=data["signer"],
                how=data["how"],
                signed_on=data["signed_on"],
                version=data["version"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The signature was recorded."))
            return HttpResponseRedirect(reverse("actionplans:plan_sign", args=[case.public_id]))
    if request.method == "GET":
        _audit_read(request, case, plan, granted, page="sign")
    return render(
        request,
        T + "sign.html",
        {
            "case": case,
            "plan": plan,
            "form": form,
            "signatures": services.signatures_of(plan),
            "missing": services.missing_signatures(plan),
        },
    )


# ---------------------------------------------------------------- the six-month decision


@access.staff_view
@require_http_methods(["GET", "POST"])
def plan_continuation(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted, plan = _case_and_plan(request, case_id, write=True)
    assert plan is not None
    form = ContinuationForm(request.POST or None, initial={"decided_on": timezone.localdate()})
    due = services.decision_due(plan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.continuation_decide(
                plan=plan,
                by=access.staff_user(request),
                decision=data["decision"],
                reason=data["reason"],
                decided_on=data["decided_on"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("The decision was recorded."))
            return HttpResponseRedirect(_plan_url(case))
    if request.method == "GET":
        _audit_read(request, case, plan, granted, page="continuation")
    return render(
        request,
        T + "continuation.html",
        {
            "case": case,
            "plan": plan,
            "form": form,
            "due": due,
            "due_on": services.decision_due_on(plan),
            "decisions": list(plan.continuations.select_related("decided_by")),
        },
    )


# ---------------------------------------------------------------- the printable plan


@access.staff_view
@require_GET
def plan_pdf(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The plan the family takes home, in Swedish: names on paper, never in the file's
    metadata; no internal codes."""
    case, granted, plan = _case_and_plan(request, case_id)
    assert plan is not None
    case = Case.objects.select_related("student", "school__district__municipality").get(pk=case.pk)
    goals, interventions = _current_rows(plan)
    _audit_read(
        request,
        case,
        plan,
        granted,
        action=audit.AuditAction.EXPORT,
        format="pdf",
        version=plan.version,
    )
    with translation.override("sv"):
        return printing.render_pdf(
            request,
            T + "plan_pdf.html",
            {
                "municipality": case.school.district.municipality,
                "school": case.school,
                "student": case.student,
                "plan": plan,
                "goals": goals,
                "interventions": interventions,
                "signatures": services.signatures_of(plan),
                "guardians": services.custody_guardians(case),
                "longer": services.needs_reason(plan.starts_on, plan.ends_on),
            },
            filename="handlingsplan.pdf",
        )


# ---------------------------------------------------------------- the case page


def plan_section(
    request: HttpRequest, case: Case, granted: access.Granted
) -> tuple[str, dict[str, Any]] | None:
    """ "Handlingsplan" on the case page: the plan in short, and where to go."""
    if not ({Capability.WORK_CASES, Capability.SOCIAL_WORK} & granted):
        return None
    if case.state in (CaseState.SCHOOL_INVESTIGATION, CaseState.REFERRED, CaseState.QUEUED):
        return None
    plan = ActionPlan.objects.filter(case=case).first()
    context: dict[str, Any] = {"plan": plan, "may_write": case.is_open}
    if plan is not None:
        context.update(
            {
                "goal_count": plan.goals.filter(ended_in__isnull=True).count(),
                "intervention_count": plan.interventions.filter(ended_on__isnull=True).count(),
                "missing": services.missing_signatures(plan),
                "decision_due": services.decision_due(plan),
                "longer": services.needs_reason(plan.starts_on, plan.ends_on),
            }
        )
    elif case.state not in (CaseState.CONSENT, CaseState.PLAN):
        return None
    return T + "section.html", context


def register() -> None:
    sections.register(order=30, section=plan_section)
    core_services.register_municipality_hook(catalogue.municipality_saved)
