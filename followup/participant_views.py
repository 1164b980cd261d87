"""The participant follow-up pages: the selection form and the download, for the team's
coordinator only (COORDINATE at the district or its municipality). Everyone else gets 404,
audited: ``access.capability_view`` for people who coordinate nowhere, and the service's
``access.require`` for a district someone else coordinates."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from sst import access, audit, desk
from sst.access import Capability
from sst.models import District

from . import participant_services as services
from . import participant_suppression as suppression
from .participant_forms import ParticipantExportForm
from .participant_selectors import districts_for_coordinator

FORM_TEMPLATE = "followup/participant/form.html"


def _page(
    request: HttpRequest, form: ParticipantExportForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request,
        FORM_TEMPLATE,
        {"form": form, "threshold": suppression.threshold(), **extra},
        status=status,
    )


def _initial() -> dict[str, Any]:
    today = timezone.localdate()
    start = today.replace(month=1, day=1) if today.month < 7 else today.replace(month=7, day=1)
    return {"fran": start.replace(year=start.year - 1), "till": today, "format": services.CSV}


@access.capability_view(Capability.COORDINATE)
@require_GET
def participant_form(request: HttpRequest) -> HttpResponse:
    """Choose the district, the period and the file."""
    districts = districts_for_coordinator(request.user)
    form = ParticipantExportForm(districts=districts, initial=_initial())
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.PARTICIPANT_FOLLOWUP,
        detail={"page": "form"},
    )
    return _page(request, form)


@access.capability_view(Capability.COORDINATE)
@require_GET
def participant_export(request: HttpRequest) -> HttpResponse:
    """The file, for ?distrikt=<id>&fran=<date>&till=<date>[&format=csv|xlsx]."""
    if "distrikt" not in request.GET:
        return HttpResponseRedirect(reverse("followup:participant_form"))
    # Any district may be named here; the service refuses one the person does not coordinate
    # (404, audited), so a coordinator of another district learns nothing from the answer.
    form = ParticipantExportForm(request.GET, districts=District.objects.all())
    if not form.is_valid():
        if "distrikt" in form.errors:
            raise access.refuse(
                request.user,
                audit.AuditObjectType.DISTRICT,
                request.GET.get("distrikt", "")[:64],
                needs=str(Capability.COORDINATE),
            )
        form.fields["distrikt"].queryset = districts_for_coordinator(request.user)  # type: ignore[attr-defined]
        return _page(request, form, status=400)
    data = form.cleaned_data
    try:
        export = services.participant_export(
            user=access.staff_user(request),
            district=data["distrikt"],
            start=data["fran"],
            end=data["till"],
            fmt=data["format"],
        )
    except ValidationError as error:  # TooFewRows is one too
        form = ParticipantExportForm(request.GET, districts=districts_for_coordinator(request.user))
        form.is_valid()
        return _page(request, form, status=400, refusal=error.messages)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def coordinator_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """A link to the export on the coordinator's desk."""
    if not access.holds_anywhere(request.user, Capability.COORDINATE):
        return None
    return ("followup/participant/panel.html", {})


def register() -> None:
    desk.register(order=64, panel=coordinator_panel)
