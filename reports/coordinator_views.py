"""The coordinator's dashboard (``/rapporter/samordning/``) and its desk panel."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from sst import access, audit, desk
from sst.access import Capability

from . import coordinator_selectors as selectors


@access.capability_view(Capability.COORDINATE)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Referrals and lead times, caseload per social worker, overdue follow-ups: for the
    schools where the coordinator holds the capability. Anonymous (referral numbers); the
    social workers are named."""
    user = access.staff_user(request)
    board = selectors.dashboard_of(user, today=timezone.localdate())
    audit.record(
        user=user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.CASELOAD,
        role=access.audit_role(Capability.COORDINATE),
        detail={
            "page": "coordinator_dashboard",
            "social_workers": len(board.workers),
            "overdue": board.overdue_total,
        },
    )
    return render(request, "reports/coordinator.html", {"board": board})


def coordinator_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """A link to the dashboard on the coordinator's desk."""
    if not access.holds_anywhere(request.user, Capability.COORDINATE):
        return None
    return ("reports/panel_coordinator.html", {})


def register_panels() -> None:
    desk.register(order=20, panel=coordinator_panel)
