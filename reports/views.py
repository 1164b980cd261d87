"""The managers' report pages: the dashboard, the term report, its files and their runs.

Every page asks the access policy for the scope (``scope.scope_for``: ``VIEW_REPORTS`` held
at the place or above it, otherwise an audited 404) and shows aggregates only, suppressed by
the small-count rule. Views and downloads are audited with the scope and the term.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from sst import access, audit
from sst.access import Capability

from . import runs
from .dashboard import build_dashboard
from .models import ReportRun
from .scope import Scope, may_see, scope_for, scopes_of
from .suppression import threshold
from .term_report import build_term_report
from .terms import Term, parse_term, term_containing, terms_offered


def _audit_view(request: HttpRequest, object_type: audit.AuditObjectType, **detail: Any) -> None:
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=object_type,
        object_id=str(detail.get("scope", ""))[:64],
        detail=detail,
    )


def _scope(request: HttpRequest) -> tuple[Scope, list[Scope]]:
    """The scope asked for (``?scope=``), or the user's first one; 404 outside their own."""
    user = access.staff_user(request)
    mine = scopes_of(user)
    asked = request.GET.get("scope", "").strip()
    if asked:
        return scope_for(user, asked), mine
    if not mine:
        raise access.refuse(user, audit.AuditObjectType.DASHBOARD, "", needs="view_reports")
    return mine[0], mine


def _trail(user: access.AnyUser, scope: Scope) -> list[Scope]:
    """The places above the scope that the user may also open (the breadcrumb)."""
    trail: list[Scope] = []
    parent = scope.parent()
    while parent is not None:
        if may_see(user, parent):
            trail.insert(0, parent)
        parent = parent.parent()
    return trail


@access.capability_view(Capability.VIEW_REPORTS)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope, mine = _scope(request)
    board = build_dashboard(scope, today=timezone.localdate())
    _audit_view(request, audit.AuditObjectType.DASHBOARD, scope=scope.key)
    return render(
        request,
        "reports/dashboard.html",
        {
            "board": board,
            "scope": scope,
            "my_scopes": mine,
            "trail": _trail(request.user, scope),
            "threshold": threshold(),
        },
    )


def _term(request: HttpRequest, scope: Scope) -> tuple[Term, str]:
    """The term asked for (``?term=HT2025``), or the current one, with a message for a bad
    one (the page then shows the current term)."""
    code = request.GET.get("term", "").strip()
    current = term_containing(timezone.localdate(), municipality_id=scope.municipality_id)
    if not code:
        return current, ""
    try:
        return parse_term(code, municipality_id=scope.municipality_id), ""
    except ValidationError as error:
        return current, " ".join(error.messages)


@access.capability_view(Capability.VIEW_REPORTS)
@require_GET
def term_report(request: HttpRequest) -> HttpResponse:
    scope, mine = _scope(request)
    term, problem = _term(request, scope)
    report = build_term_report(scope, term, today=timezone.localdate())
    _audit_view(request, audit.AuditObjectType.TERM_REPORT, scope=scope.key, term=term.code)
    recent = list(runs.report_runs_of(request.user)[:5])
    return render(
        request,
        "reports/term_report.html",
        {
            "report": report,
            "scope": scope,
            "my_scopes": mine,
            "trail": _trail(request.user, scope),
            "terms": terms_offered(timezone.localdate(), municipality_id=scope.municipality_id),
            "problem": problem,
            "recent_runs": recent,
            "query": urlencode({"scope": scope.key, "term": term.code}),
        },
        status=400 if problem else 200,
    )


@access.capability_view(Capability.VIEW_REPORTS)
@require_GET
def term_report_xlsx(request: HttpRequest) -> HttpResponse:
    scope, _mine = _scope(request)
    term, problem = _term(request, scope)
    if problem:
        return HttpResponseRedirect(reverse("reports:term") + "?" + urlencode({"scope": scope.key}))
    from .outputs import report_filename, term_report_xlsx

    report = build_term_report(scope, term, today=timezone.localdate())
    data = term_report_xlsx(report)
    audit.record(
        user=request.user,
        action=audit.AuditAction.EXPORT,
        object_type=audit.AuditObjectType.TERM_REPORT,
        object_id=scope.key,
        detail={"scope": scope.key, "term": term.code, "format": "xlsx", "bytes": len(data)},
    )
    response = HttpResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{report_filename(report, "xlsx")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@access.capability_view(Capability.VIEW_REPORTS)
@require_POST
def term_report_pdf(request: HttpRequest) -> HttpResponse:
    """Ask for the PDF: made in the background; the run's page shows progress and the link."""
    user = access.staff_user(request)
    scope = scope_for(user, request.POST.get("scope", ""))
    try:
        term = parse_term(request.POST.get("term", ""), municipality_id=scope.municipality_id)
    except ValidationError:
        return HttpResponseRedirect(reverse("reports:term") + "?" + urlencode({"scope": scope.key}))
    run = runs.report_run_request(by=user, scope=scope, term=term)
    return HttpResponseRedirect(reverse("reports:run", args=[run.public_id]))


@access.capability_view(Capability.VIEW_REPORTS)
@require_GET
def run_detail(request: HttpRequest, run_id: str) -> HttpResponse:
    run = runs.report_run_for(request.user, run_id)
    return render(
        request,
        "reports/run.html",
        {"run": run, "query": urlencode({"scope": run.scope_key, "term": run.term_code})},
    )


@access.capability_view(Capability.VIEW_REPORTS)
@require_GET
def run_file(request: HttpRequest, run_id: str) -> HttpResponse:
    user = access.staff_user(request)
    run: ReportRun = runs.report_run_for(user, run_id)
    data = runs.report_run_file(run=run, by=user)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{run.file_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
