"""The follow-up pages: recording a follow-up (goal results, absence with its periods next to
the level at intake, interventions given, ORS, notes, the next date), moving or cancelling a
booked one, booking one by hand, the weekly check-off of interventions given, the
"Uppföljning" section of the case page and the desk panel of due and overdue follow-ups.

Objects come only through the policy: a follow-up is looked up among the cases
``access.cases_visible_to`` the user, and the user must work the case (WORK_CASES) or be its
social worker (SOCIAL_WORK, which needs the assignment and a valid consent); anything else
is a refusal (404, audited).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from actionplans.models import ActionPlan
from attendance import calendar
from cases import sections
from cases.models import Case
from referrals.consent_services import current_referral
from referrals.models import Assignment
from sst import access, audit, desk
from sst.access import Capability
from sst.models import User

from . import absence
from . import followup_services as services
from .followup_forms import BookForm, CheckOffForm, MoveForm, RecordForm
from .models import Delivery, FollowUp, FollowUpAbsence, GoalResult, GoalReview

TEMPLATES = "followup/followup/"


def _case_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.public_id]) + "#followup-heading"


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _audit_view(
    request: HttpRequest,
    case: Case,
    object_type: audit.AuditObjectType,
    object_id: Any,
    granted: access.Granted,
    **detail: Any,
) -> None:
    sections.audit_read(
        request, case, granted, object_type=object_type, object_id=object_id, **detail
    )


def _followup_of(request: HttpRequest, followup_id: uuid.UUID) -> tuple[FollowUp, access.Granted]:
    user = access.staff_user(request)
    followup = (
        FollowUp.objects.filter(case__in=access.cases_visible_to(user), public_id=followup_id)
        .select_related("case__student", "case__school__district")
        .first()
    )
    if followup is None:
        raise access.refuse(user, audit.AuditObjectType.FOLLOW_UP, followup_id)
    granted = access.case_capabilities(user, followup.case)
    if not access.works_team_case(user, followup.case, granted):
        raise access.refuse(user, audit.AuditObjectType.FOLLOW_UP, followup_id)
    return followup, granted


def _case_of(request: HttpRequest, case_id: uuid.UUID) -> tuple[Case, access.Granted]:
    case, granted = access.access_case(request.user, case_id)
    if not access.works_team_case(access.staff_user(request), case, granted):
        raise access.refuse(request.user, audit.AuditObjectType.CASE, case_id)
    case = Case.objects.select_related("student", "school__district").get(pk=case.pk)
    return case, granted


# ---------------------------------------------------------------- absence beside intake


@dataclass(frozen=True)
class AbsenceRow:
    label: str
    start: datetime.date
    end: datetime.date
    scheduled_min: int
    absent_pct: Any
    valid_pct: Any
    invalid_pct: Any

    @property
    def scheduled_hours(self) -> float:
        return round(self.scheduled_min / 60, 1)


def _row(label: str, figures: Any) -> AbsenceRow:
    start = getattr(figures, "period_start", None) or figures.start
    end = getattr(figures, "period_end", None) or figures.end
    return AbsenceRow(
        label=label,
        start=start,
        end=end,
        scheduled_min=figures.scheduled_min,
        absent_pct=figures.absent_pct if figures.scheduled_min else None,
        valid_pct=figures.valid_pct if figures.scheduled_min else None,
        invalid_pct=figures.invalid_pct if figures.scheduled_min else None,
    )


def intake_rows(case: Case) -> list[AbsenceRow]:
    """The referral's two full months before it was submitted, as the forum saw them."""
    referral = current_referral(case)
    rows = []
    for month in (referral.absence if referral is not None else []) or []:
        start = datetime.date.fromisoformat(month["start"])
        rows.append(
            AbsenceRow(
                label=_("When referred (%(month)s)") % {"month": date_format(start, "F Y")},
                start=start,
                end=datetime.date.fromisoformat(month["end"]),
                scheduled_min=int(month.get("scheduled_min") or 0),
                # Stored as text on the referral; shown as numbers, in the locale's format.
                absent_pct=_decimal(month.get("total_pct")),
                valid_pct=_decimal(month.get("valid_pct")),
                invalid_pct=_decimal(month.get("invalid_pct")),
            )
        )
    return rows


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _span_label(span: str) -> str:
    return str(FollowUpAbsence.Span(span).label)


def _distinct(rows: list[AbsenceRow]) -> list[AbsenceRow]:
    """At the first follow-up both periods are the same: it is shown once, as "since the
    start-up" (both are stored)."""
    if len(rows) == 2 and (rows[0].start, rows[0].end) == (rows[1].start, rows[1].end):
        return rows[1:]
    return rows


def recorded_rows(followup: FollowUp) -> list[AbsenceRow]:
    order: dict[str, int] = {
        FollowUpAbsence.Span.SINCE_LAST: 0,
        FollowUpAbsence.Span.SINCE_START: 1,
    }
    return _distinct(
        [
            _row(_span_label(row.span), row)
            for row in sorted(followup.absences.all(), key=lambda row: order.get(row.span, 9))
        ]
    )


def live_rows(followup: FollowUp, plan: ActionPlan, held_on: datetime.date) -> list[AbsenceRow]:
    rows = []
    for span, (start, end) in services.periods(followup, plan, held_on).items():
        if end >= start:
            rows.append(
                _row(
                    _span_label(span),
                    absence.measure(followup.case.student_id, start, end),
                )
            )
    return _distinct(rows)


# ---------------------------------------------------------------- recording a follow-up


@access.staff_view
@require_http_methods(["GET", "POST"])
def followup_record(request: HttpRequest, followup_id: uuid.UUID) -> HttpResponse:
    followup, granted = _followup_of(request, followup_id)
    case = followup.case
    user = access.staff_user(request)
    plan = services.plan_of(case)
    today = timezone.localdate()
    is_open = followup.held_on is None and not followup.cancelled and case.is_open
    context: dict[str, Any] = {
        "case": case,
        "followup": followup,
        "plan": plan,
        "plan_edit_url": (
            reverse("actionplans:plan_edit", args=[case.public_id])
            if plan is not None and case.is_open
            else ""
        ),
        "intake": intake_rows(case),
        "overdue": is_open and followup.planned_on < today,
    }
    if not is_open or plan is None:
        reviews = list(followup.reviews.select_related("goal").order_by("goal__order", "goal__pk"))
        context.update(
            {
                "reviews": reviews,
                "absence": recorded_rows(followup),
                "given": services.given_for(followup, plan, followup.held_on)
                if plan is not None and followup.held_on
                else [],
            }
        )
        _audit_view(request, case, audit.AuditObjectType.FOLLOW_UP, followup.public_id, granted)
        return render(request, TEMPLATES + "detail.html", context)

    default_held = min(followup.planned_on, today)
    goals = services.current_goals(plan)
    window = services.next_window(case, default_held)
    form = RecordForm(
        request.POST or None,
        goals=goals,
        initial={
            "version": followup.version,
            "held_on": default_held,
            "book_next": True,
            "next_on": window.proposed,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.followup_record(
                followup=followup,
                by=user,
                base_version=data["version"],
                held_on=data["held_on"],
                reviews=form.reviews(),
                notes=data["notes"],
                ors=form.ors(),
                next_on=form.next_date(),
            )
        except ValidationError as error:  # ConcurrentChange is one too
            _errors(request, error)
        else:
            messages.success(request, _("The follow-up was recorded."))
            return HttpResponseRedirect(
                reverse("followup:followup_record", args=[followup.public_id])
            )
    held_on = default_held
    if form.is_bound and form.is_valid():
        held_on = form.cleaned_data["held_on"]
    elif form.is_bound:
        held_on = default_held
    _audit_view(
        request, case, audit.AuditObjectType.FOLLOW_UP, followup.public_id, granted, page="record"
    )
    context.update(
        {
            "form": form,
            "window": window,
            "absence": live_rows(followup, plan, held_on) if held_on > plan.starts_on else [],
            "absence_until": held_on - datetime.timedelta(days=1),
            "given": services.given_for(followup, plan, held_on),
            "checkoff_url": reverse("followup:checkoff", args=[case.public_id]),
            "previous_ors": _ors_history(case),
        }
    )
    return render(request, TEMPLATES + "record.html", context)


@access.staff_view
@require_http_methods(["GET", "POST"])
def followup_move(request: HttpRequest, followup_id: uuid.UUID) -> HttpResponse:
    followup, granted = _followup_of(request, followup_id)
    case = followup.case
    if followup.held_on is not None or followup.cancelled or not case.is_open:
        messages.info(request, _("This follow-up is already recorded or cancelled."))
        return HttpResponseRedirect(reverse("followup:followup_record", args=[followup.public_id]))
    form = MoveForm(
        request.POST or None,
        initial={"version": followup.version, "planned_on": followup.planned_on},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == MoveForm.CANCEL:
                services.followup_cancel(
                    followup=followup,
                    by=access.staff_user(request),
                    base_version=data["version"],
                    reason=data["reason"],
                )
                messages.success(request, _("The follow-up was cancelled."))
            else:
                services.followup_move(
                    followup=followup,
                    by=access.staff_user(request),
                    base_version=data["version"],
                    planned_on=data["planned_on"],
                    reason=data["reason"],
                )
                messages.success(request, _("The follow-up was moved."))
        except ValidationError as error:
            _errors(request, error)
        else:
            return HttpResponseRedirect(_case_url(case))
    _audit_view(
        request, case, audit.AuditObjectType.FOLLOW_UP, followup.public_id, granted, page="move"
    )
    return render(
        request, TEMPLATES + "move.html", {"case": case, "followup": followup, "form": form}
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def followup_book(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted = _case_of(request, case_id)
    plan = services.plan_of(case)
    today = timezone.localdate()
    proposed = None
    if plan is not None:
        last = FollowUp.objects.filter(case=case, held_on__isnull=False).order_by("-number").first()
        after = last.held_on if last is not None and last.held_on else today
        proposed = services.next_window(case, after).proposed
        if proposed < today:
            proposed = calendar.school_day_on_or_after(services.municipality_id_of(case), today)
    form = BookForm(request.POST or None, initial={"planned_on": proposed})
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_book(
                case=case, planned_on=form.cleaned_data["planned_on"], by=access.staff_user(request)
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The follow-up was booked."))
            return HttpResponseRedirect(_case_url(case))
    _audit_view(
        request, case, audit.AuditObjectType.FOLLOW_UP, case.public_id, granted, page="book"
    )
    return render(request, TEMPLATES + "book.html", {"case": case, "form": form, "plan": plan})


# ---------------------------------------------------------------- the weekly check-off


def _week_of(value: str | None, today: datetime.date) -> datetime.date:
    """``2026-W48`` → that week's Monday (this week's for anything else)."""
    if value:
        try:
            year, week = value.upper().split("-W")
            return datetime.date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            pass
    return services.monday_of(today)


def _week_param(monday: datetime.date) -> str:
    year, week, _weekday = monday.isocalendar()
    return f"{year}-W{week:02d}"


@access.staff_view
@require_http_methods(["GET", "POST"])
def checkoff(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case, granted = _case_of(request, case_id)
    today = timezone.localdate()
    week = _week_of(request.GET.get("vecka"), today)
    this_week = services.monday_of(today)
    plan = services.plan_of(case)
    interventions = services.running_interventions(plan, week) if plan is not None else []
    existing = {
        row.intervention_id: row
        for row in Delivery.objects.filter(
            intervention__in=[i.pk for i in interventions], week=week
        )
    }
    initial: dict[str, Any] = {}
    for pk, row in existing.items():
        initial[f"given_{pk}"] = "yes" if row.given else "no"
        initial[f"sessions_{pk}"] = row.sessions
        initial[f"minutes_{pk}"] = row.minutes
    form = CheckOffForm(request.POST or None, interventions=interventions, initial=initial)
    url = reverse("followup:checkoff", args=[case.public_id]) + f"?vecka={_week_param(week)}"
    may_save = week <= this_week and case.is_open and plan is not None
    if request.method == "POST" and may_save and form.is_valid():
        try:
            changed = services.deliveries_record(
                case=case, week=week, entries=form.entries(), by=access.staff_user(request)
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            if changed:
                messages.success(request, _("The week was checked off."))
            else:
                messages.info(request, _("Nothing had changed; the week was already saved."))
            return HttpResponseRedirect(url)
    _audit_view(
        request,
        case,
        audit.AuditObjectType.INTERVENTION_DELIVERY,
        case.public_id,
        granted,
        week=week.isoformat(),
    )
    year, number, _weekday = week.isocalendar()
    previous = week - datetime.timedelta(weeks=1)
    following = week + datetime.timedelta(weeks=1)
    return render(
        request,
        TEMPLATES + "checkoff.html",
        {
            "case": case,
            "plan": plan,
            "form": form,
            "week": week,
            "week_end": week + datetime.timedelta(days=6),
            "week_number": number,
            "week_year": year,
            "may_save": may_save,
            "future": week > this_week,
            "previous_param": _week_param(previous),
            "next_param": _week_param(following) if following <= this_week else "",
            "this_week_param": _week_param(this_week) if week != this_week else "",
        },
    )


# ---------------------------------------------------------------- the case page


def _ors_history(case: Case) -> list[FollowUp]:
    return [
        followup
        for followup in FollowUp.objects.filter(
            case=case, held_on__isnull=False, ors_overall__isnull=False
        ).order_by("number")
        if followup.ors_total is not None
    ]


def sparkline(values: list[int], *, width: int = 160, height: int = 40, top: int = 40) -> str:
    """The SVG polyline points of ``values`` (0–``top``), oldest left."""
    if len(values) < 2:
        return ""
    step = width / (len(values) - 1)
    return " ".join(
        f"{index * step:.1f},{height - value / top * height:.1f}"
        for index, value in enumerate(values)
    )


def followup_section(
    request: HttpRequest, case: Case, granted: access.Granted
) -> tuple[str, dict[str, Any]] | None:
    """ "Uppföljning" on the case page: the follow-ups (overdue flagged), the ORS trend and
    the goal results over time, for the school's case staff and the social worker."""
    if not (access.TEAM_CASE_WORK & granted):
        return None
    plan = services.plan_of(case)
    followups = list(FollowUp.objects.filter(case=case).order_by("number"))
    if plan is None and not followups:
        return None
    today = timezone.localdate()
    held = [f for f in followups if f.held_on is not None]
    ors = [f for f in held if f.ors_total is not None]
    reviews = GoalReview.objects.filter(followup__case=case).values_list(
        "goal_id", "followup_id", "result"
    )
    by_goal: dict[int, dict[int, str]] = {}
    for goal_id, followup_id, result in reviews:
        by_goal.setdefault(goal_id, {})[followup_id] = result
    goals = list(plan.goals.order_by("order", "pk")) if plan is not None else []
    labels = dict(GoalResult.choices)
    goal_rows = [
        (
            goal,
            [
                (
                    f,
                    by_goal.get(goal.pk, {}).get(f.pk, ""),
                    labels.get(by_goal.get(goal.pk, {}).get(f.pk, ""), ""),
                )
                for f in held
            ],
        )
        for goal in goals
        if goal.pk in by_goal or goal.ended_in is None
    ]
    has_open = any(f.held_on is None and not f.cancelled for f in followups)
    return (
        TEMPLATES + "section.html",
        {
            "followups": followups,
            "today": today,
            "held": held,
            "ors": ors,
            "ors_points": sparkline([f.ors_total or 0 for f in ors]),
            "goal_rows": goal_rows,
            "plan": plan,
            "case_open": case.is_open,
            "may_book": case.is_open and plan is not None and not has_open,
        },
    )


# ---------------------------------------------------------------- the desk


def followups_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """Follow-ups due within a week and overdue ones, on the desks of the people
    responsible: the assigned social worker and the school's principal and counsellor.
    One query, whatever the number of rows."""
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        return None
    today = timezone.localdate()
    responsible = Q(
        case__in=Assignment.objects.filter(social_worker=user, ended_at__isnull=True).values(
            "case_id"
        )
    ) | Q(case__school__in=access.schools_where(user, Capability.ALERTED_FOLLOW_UP))
    rows = list(
        services.open_followups()
        .filter(responsible, case__in=access.cases_visible_to(user))
        .filter(planned_on__lte=today + services.DUE_WITHIN)
        .select_related("case__student", "case__school")
        .order_by("planned_on", "pk")
    )
    if not rows:
        return None
    audit.record(
        user=user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.FOLLOW_UP,
        detail={"page": "desk", "due": len(rows)},
    )
    return (
        TEMPLATES + "panel.html",
        {"rows": [(f, f.planned_on < today) for f in rows], "today": today},
    )


def register() -> None:
    services.register_hooks()
    sections.register(order=40, section=followup_section)
    desk.register(order=7, panel=followups_panel)
