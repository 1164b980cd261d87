"""Pages of the referral forum: its meetings and agendas, decisions, minutes (and their
PDF), the queue, the coordinator's caseload page, and the desk panels of forum members,
coordinators and social workers.

Everything shown here is the anonymous referral (number, school, grade, its anonymous
content): no page follows a referral to its student. Objects come only through
``forum_selectors`` and ``selectors``, which start from the access policy.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sst import access, audit, desk, printing
from sst.access import Capability

from . import forum_selectors as selectors
from . import forum_services as services
from .consent import consent_status_for_cases
from .forum_forms import (
    AssignForm,
    DecisionForm,
    MeetingAddForm,
    MeetingCancelForm,
    MeetingMoveForm,
    MinutesForm,
    QueueMoveForm,
    VersionForm,
)
from .models import (
    Decision,
    ForumMeeting,
    MeetingState,
    Referral,
    ReferralState,
)
from .selectors import assigned_referrals_of, forum_referrals_of, forums_of

ViewFunc = Callable[..., HttpResponse]


def team_view(*capabilities: Capability) -> Callable[[ViewFunc], ViewFunc]:
    """A staff view for people holding one of ``capabilities`` somewhere (404, audited,
    for everyone else); the view still asks for the place."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(access.holds_anywhere(request.user, c) for c in capabilities):
                match = request.resolver_match
                raise access.refuse(
                    request.user,
                    audit.AuditObjectType.PAGE,
                    match.view_name if match else "",
                    needs=",".join(str(c) for c in capabilities),
                )
            return view(request, *args, **kwargs)

        return access.staff_view(wrapped)

    return decorate


READERS = selectors.MEETING_READERS


def _meeting_url(meeting: ForumMeeting) -> str:
    return reverse("referrals:meeting_detail", args=[meeting.public_id])


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _audit_read(
    request: HttpRequest,
    object_type: audit.AuditObjectType,
    object_id: Any,
    *,
    action: audit.AuditAction = audit.AuditAction.VIEW,
    role: str = "",
    **detail: Any,
) -> None:
    audit.record(
        user=request.user,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        role=role,
        detail=detail,
    )


# ---------------------------------------------------------------- meetings


@team_view(*READERS)
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """The forums' meetings, upcoming and past."""
    today_start = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time.min)
    )
    meetings = (
        selectors.meetings_of(request.user)
        .annotate(
            agenda_count=Count(
                "referrals",
                filter=~Q(referrals__state__in=[ReferralState.WITHDRAWN, ReferralState.DRAFT]),
                distinct=True,
            ),
            decision_count=Count("decisions", distinct=True),
        )
        .order_by("starts_at")
    )
    upcoming = list(meetings.filter(starts_at__gte=today_start)[:30])
    past = list(meetings.filter(starts_at__lt=today_start).order_by("-starts_at")[:30])
    _audit_read(
        request,
        audit.AuditObjectType.FORUM_MEETING,
        "",
        action=audit.AuditAction.LIST,
        upcoming=len(upcoming),
        past=len(past),
    )
    return render(
        request, "referrals/forum/meeting_list.html", {"upcoming": upcoming, "past": past}
    )


@team_view(*READERS)
@require_http_methods(["GET", "POST"])
def meeting_add(request: HttpRequest) -> HttpResponse:
    forums = selectors.forums_readable_by(request.user)
    form = MeetingAddForm(request.POST or None, forums=forums)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_add(
                forum=form.cleaned_data["forum"],
                starts_at=form.starts_at(),
                location=form.cleaned_data["location"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The meeting was added."))
            return HttpResponseRedirect(_meeting_url(meeting))
    return render(
        request,
        "referrals/forum/meeting_form.html",
        {"form": form, "title": _("Add a meeting"), "button": _("Add the meeting")},
    )


@access.staff_view
@require_GET
def meeting_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """A meeting and its agenda: the anonymous referrals, and the decisions taken."""
    meeting, granted = selectors.access_meeting(request.user, public_id)
    agenda = list(selectors.agenda_of(meeting))
    member = Capability.DECIDE_REFERRALS in granted
    decidable = True
    try:
        services.refuse_unless_decidable(meeting)
    except ValidationError:
        decidable = False
    rows = [
        {
            "referral": referral,
            "decision": getattr(referral, "decision", None),
            "lead": selectors.lead_times(referral),
            "can_decide": member
            and decidable
            and referral.state == ReferralState.ON_AGENDA
            and referral.meeting_id == meeting.pk,
        }
        for referral in agenda
    ]
    _audit_read(
        request,
        audit.AuditObjectType.FORUM_MEETING,
        meeting.public_id,
        role=granted.roles_for(*READERS),
        referrals=[str(r.public_id) for r in agenda],
    )
    return render(
        request,
        "referrals/forum/meeting_detail.html",
        {
            "meeting": meeting,
            "rows": rows,
            "member": member,
            "planned": meeting.state == MeetingState.PLANNED and not meeting.minutes_locked,
            "closes_at": selectors.agenda_closes_at(meeting),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def meeting_move(request: HttpRequest, public_id: str) -> HttpResponse:
    meeting, _granted = selectors.access_meeting(request.user, public_id)
    local = timezone.localtime(meeting.starts_at)
    form = MeetingMoveForm(
        request.POST or None,
        initial={
            "day": local.date(),
            "time": local.time(),
            "location": meeting.location,
            "version": meeting.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_move(
                meeting=meeting,
                starts_at=form.starts_at(),
                location=form.cleaned_data["location"],
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The meeting was moved."))
            return HttpResponseRedirect(_meeting_url(meeting))
    return render(
        request,
        "referrals/forum/meeting_form.html",
        {
            "form": form,
            "meeting": meeting,
            "title": _("Move the meeting"),
            "button": _("Move the meeting"),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def meeting_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    meeting, _granted = selectors.access_meeting(request.user, public_id)
    form = MeetingCancelForm(request.POST or None, initial={"version": meeting.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_cancel(
                meeting=meeting,
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The meeting was cancelled. Its referrals wait for the next meeting's agenda."),
            )
            return HttpResponseRedirect(_meeting_url(meeting))
    return render(
        request,
        "referrals/forum/meeting_form.html",
        {
            "form": form,
            "meeting": meeting,
            "title": _("Cancel the meeting"),
            "button": _("Cancel the meeting"),
            "danger": True,
        },
    )


@access.staff_view
@require_POST
def meeting_prepare(request: HttpRequest, public_id: str) -> HttpResponse:
    meeting, _granted = selectors.access_meeting(request.user, public_id)
    try:
        placed = services.meeting_prepare_agenda(meeting=meeting, by=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(
            request,
            _("The agenda is ready (%(count)d referrals placed); the members were told.")
            % {"count": len(placed)},
        )
    return HttpResponseRedirect(_meeting_url(meeting))


# ---------------------------------------------------------------- decisions


@access.staff_view
@require_http_methods(["GET", "POST"])
def decision_create(request: HttpRequest, public_id: str, referral_id: str) -> HttpResponse:
    """A member records the forum's decision on one referral of the meeting's agenda."""
    meeting, granted = selectors.access_meeting(
        request.user, public_id, need=[Capability.DECIDE_REFERRALS]
    )
    referral = (
        forum_referrals_of(request.user)
        .filter(public_id=referral_id, meeting=meeting, state=ReferralState.ON_AGENDA)
        .select_related("school__district")
        .first()
        if _is_uuid(referral_id)
        else None
    )
    if referral is None:
        raise access.refuse(request.user, audit.AuditObjectType.REFERRAL, referral_id)
    form = DecisionForm(
        request.POST or None, social_workers=selectors.social_workers_for(referral.school)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.decision_record(
                referral=referral,
                meeting=meeting,
                kind=data["kind"],
                reason=data["reason"],
                decided_on=data["decided_on"],
                accepted_as=data["accepted_as"],
                social_worker=data["social_worker"],
                suggestions=data["suggestions"],
                redirected_to=data["redirected_to"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The decision on referral %(number)s was recorded; the school was told.")
                % {"number": referral.number},
            )
            return HttpResponseRedirect(_meeting_url(meeting))
    _audit_read(
        request,
        audit.AuditObjectType.REFERRAL,
        referral.public_id,
        role=granted.roles_for(Capability.DECIDE_REFERRALS),
    )
    # Before the meeting's day (or at a cancelled or closed meeting) the page says why no
    # decision can be taken, instead of a form the service would refuse.
    try:
        services.refuse_unless_decidable(meeting)
    except ValidationError as error:
        not_now = error.messages[0]
    else:
        not_now = ""
    return render(
        request,
        "referrals/forum/decision_form.html",
        {"form": form, "meeting": meeting, "referral": referral, "not_now": not_now},
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- minutes


def _minutes_context(meeting: ForumMeeting) -> dict[str, Any]:
    decisions = list(
        Decision.objects.filter(meeting=meeting)
        .select_related("referral__school")
        .order_by("referral__submitted_at", "referral__pk")
    )
    return {
        "meeting": meeting,
        "decisions": decisions,
        "present": list(meeting.present.order_by("last_name", "first_name", "pk")),
    }


@access.staff_view
@require_http_methods(["GET", "POST"])
def minutes(request: HttpRequest, public_id: str) -> HttpResponse:
    """The meeting's minutes: present members, notes and every decision; editable by the
    members until approved."""
    meeting, granted = selectors.access_meeting(
        request.user, public_id, need=[Capability.DECIDE_REFERRALS]
    )
    members = selectors.forum_members(meeting.forum)
    editable = not meeting.minutes_locked and meeting.state != MeetingState.CANCELLED
    form = None
    if editable:
        form = MinutesForm(
            request.POST or None,
            members=members,
            initial={
                "present": list(meeting.present.values_list("pk", flat=True)),
                "notes": meeting.minutes_notes,
                "version": meeting.version,
            },
        )
    if request.method == "POST":
        if form is None:
            messages.error(request, _("The minutes are approved and can no longer be changed."))
            return HttpResponseRedirect(reverse("referrals:minutes", args=[meeting.public_id]))
        if form.is_valid():
            try:
                services.minutes_save(
                    meeting=meeting,
                    present=form.cleaned_data["present"],
                    notes=form.cleaned_data["notes"],
                    version=form.cleaned_data["version"],
                    by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The minutes were saved."))
                return HttpResponseRedirect(reverse("referrals:minutes", args=[meeting.public_id]))
    _audit_read(
        request,
        audit.AuditObjectType.FORUM_MINUTES,
        meeting.public_id,
        role=granted.roles_for(Capability.DECIDE_REFERRALS),
    )
    return render(
        request,
        "referrals/forum/minutes.html",
        {
            **_minutes_context(meeting),
            "form": form,
            "approve_form": VersionForm(initial={"version": meeting.version}),
        },
    )


@access.staff_view
@require_POST
def minutes_approve(request: HttpRequest, public_id: str) -> HttpResponse:
    meeting, _granted = selectors.access_meeting(
        request.user, public_id, need=[Capability.DECIDE_REFERRALS]
    )
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reload the page and try again."))
    else:
        try:
            services.minutes_approve(
                meeting=meeting,
                version=form.cleaned_data["version"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The minutes were approved and are now locked."))
    return HttpResponseRedirect(reverse("referrals:minutes", args=[meeting.public_id]))


@access.staff_view
@require_GET
def minutes_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    """The minutes as a PDF: anonymous (referral numbers, school, grade, decisions)."""
    meeting, granted = selectors.access_meeting(
        request.user, public_id, need=[Capability.DECIDE_REFERRALS]
    )
    context = _minutes_context(meeting)
    _audit_read(
        request,
        audit.AuditObjectType.FORUM_MINUTES,
        meeting.public_id,
        action=audit.AuditAction.EXPORT,
        role=granted.roles_for(Capability.DECIDE_REFERRALS),
        format="pdf",
    )
    local = timezone.localtime(meeting.starts_at)
    context["municipality"] = meeting.forum.municipality
    return printing.render_pdf(
        request,
        "referrals/forum/minutes_pdf.html",
        context,
        filename=f"protokoll-{local:%Y-%m-%d}.pdf",
    )


# ---------------------------------------------------------------- the queue and caseloads


@team_view(Capability.COORDINATE)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Accepted referrals waiting for a social worker: position, days waiting, lead times."""
    referrals = list(selectors.queue_of(request.user))
    rows = selectors.queue_rows(referrals)
    _audit_read(
        request,
        audit.AuditObjectType.REFERRAL_QUEUE,
        "",
        action=audit.AuditAction.LIST,
        role=access.audit_role(Capability.COORDINATE),
        referrals=len(rows),
    )
    return render(
        request,
        "referrals/forum/queue.html",
        {
            "rows": [
                {
                    "row": row,
                    "lead": selectors.lead_times(row.referral),
                    "assign": AssignForm(
                        social_workers=selectors.social_workers_for(row.referral.school),
                        prefix=str(row.referral.public_id),
                    ),
                }
                for row in rows
            ]
        },
    )


def _queued(request: HttpRequest, referral_id: str) -> Referral:
    referral = (
        selectors.queue_of(request.user).filter(public_id=referral_id).first()
        if _is_uuid(referral_id)
        else None
    )
    if referral is None:
        raise access.refuse(request.user, audit.AuditObjectType.REFERRAL_QUEUE, referral_id)
    return referral


@team_view(Capability.COORDINATE)
@require_POST
def queue_assign(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _queued(request, referral_id)
    form = AssignForm(
        request.POST,
        social_workers=selectors.social_workers_for(referral.school),
        prefix=str(referral.public_id),
    )
    if not form.is_valid():
        messages.error(request, _("Choose a social worker of the school's district."))
    else:
        try:
            services.referral_assign(
                referral=referral,
                social_worker=form.cleaned_data["social_worker"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(
                request,
                _("A social worker was assigned to referral %(number)s.")
                % {"number": referral.number},
            )
    return HttpResponseRedirect(reverse("referrals:queue"))


@team_view(Capability.COORDINATE)
@require_POST
def queue_reorder(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _queued(request, referral_id)
    form = QueueMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the new place in the queue."))
    else:
        try:
            services.queue_move(
                referral=referral,
                to_position=form.cleaned_data["to_position"],
                reason=form.cleaned_data["reason"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The queue was changed."))
    return HttpResponseRedirect(reverse("referrals:queue"))


@team_view(Capability.COORDINATE)
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    """Per social worker: active assignments by the case's state, anonymously."""
    loads = selectors.caseloads_of(request.user)
    _audit_read(
        request,
        audit.AuditObjectType.CASELOAD,
        "",
        action=audit.AuditAction.LIST,
        role=access.audit_role(Capability.COORDINATE),
        social_workers=len(loads),
    )
    return render(request, "referrals/forum/caseload.html", {"loads": loads})


# ---------------------------------------------------------------- desk panels


def forum_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """A forum member: the next meeting with its agenda, and what waits for a decision."""
    user = request.user
    if not access.holds_anywhere(user, Capability.DECIDE_REFERRALS):
        return None
    forums = list(forums_of(user, Capability.DECIDE_REFERRALS))
    meetings = []
    for forum in forums:
        meeting = selectors.next_meeting(forum)
        if meeting is not None:
            meetings.append((meeting, selectors.agenda_of(meeting).count()))
    undecided = forum_referrals_of(user).filter(
        state__in=[ReferralState.SUBMITTED, ReferralState.ON_AGENDA]
    )
    return (
        "referrals/forum/panel_forum.html",
        {"meetings": meetings, "undecided": undecided.count()},
    )


def coordinator_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    user = request.user
    if not access.holds_anywhere(user, Capability.COORDINATE):
        return None
    return (
        "referrals/forum/panel_coordinator.html",
        {
            "queued": selectors.queue_of(user).count(),
            "assigned": sum(selectors.assigned_counts(user).values()),
        },
    )


def social_worker_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """ "Mina uppdrag": the referrals the social worker is assigned to, anonymously."""
    user = request.user
    if not access.holds_anywhere(user, Capability.SOCIAL_WORK):
        return None
    referrals = list(
        assigned_referrals_of(user)
        .select_related("school", "case")
        .order_by("decided_at", "pk")
        .distinct()
    )
    # The consent's state per case, in a constant number of queries: the link to the
    # identified case is offered only where a valid consent covers it.
    states = consent_status_for_cases([referral.case_id for referral in referrals])
    rows = [(referral, states.get(referral.case_id, "none")) for referral in referrals]
    return ("referrals/forum/panel_social_worker.html", {"rows": rows})


def register_panels() -> None:
    desk.register(order=60, panel=forum_panel)
    desk.register(order=61, panel=coordinator_panel)
    desk.register(order=62, panel=social_worker_panel)
