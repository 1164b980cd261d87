"""Absence pages: a student's absence and patterns, a school's overview and its export,
the alert inbox's acknowledge button, and the panels this app adds to "my desk".

Data comes only through ``sst.access`` and ``attendance.selectors``; every list and student
view is audited. The small filter forms live here because only these views use them.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from sst import access, audit
from sst.models import Grade

from . import export, inbox, selectors, services
from .models import AcknowledgeReason, StaircasePolicy
from .rollup import month_start, term_of
from .templatetags.absence import month_label, pct

PAGE_SIZE = 100
MONTHS_TO_CHOOSE = 12


# ---------------------------------------------------------------- forms


class PeriodForm(forms.Form):
    """The period of the pattern tables: ``?from=YYYY-MM-DD&to=YYYY-MM-DD``."""

    def __init__(self, data: Any, *, default: tuple[datetime.date, datetime.date]) -> None:
        super().__init__(data)
        self.default = default
        date_input = forms.DateInput(attrs={"type": "date", "class": "form-control"})
        self.fields["from"] = forms.DateField(
            label=gettext_lazy("From"), required=False, widget=date_input
        )
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("To"), required=False, widget=date_input
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start = data.get("from") or self.default[0]
        end = data.get("to") or self.default[1]
        if start > end:
            raise ValidationError(_("The start date must not be after the end date."))
        return data

    def period(self) -> tuple[datetime.date, datetime.date]:
        if self.is_bound and self.is_valid():
            return (
                self.cleaned_data.get("from") or self.default[0],
                self.cleaned_data.get("to") or self.default[1],
            )
        return self.default


def _month_choices(today: datetime.date) -> list[tuple[str, str]]:
    months = [month_start(today)]
    while len(months) < MONTHS_TO_CHOOSE:
        months.append(selectors.previous_month(months[-1]))
    return [(f"{m:%Y-%m}", month_label(m)) for m in months]


def _step_choices(policy: StaircasePolicy) -> list[tuple[str, str]]:
    return [
        ("", _("All steps")),
        ("4", _("Step 4 (more than %(pct)s)") % {"pct": pct(policy.step4_pct)}),
        ("3", _("Step 3 (at least %(pct)s)") % {"pct": pct(policy.step3_pct)}),
        ("2", _("Step 2 (at least %(pct)s)") % {"pct": pct(policy.step2_pct)}),
        ("0", _("Below step 2")),
        (selectors.NO_DATA, _("No lessons registered")),
    ]


class OverviewFilterForm(forms.Form):
    """Filters of the school overview; they go in the URL (identifiers, never names)."""

    month = forms.ChoiceField(label=gettext_lazy("Month"), required=False)
    grade = forms.ChoiceField(
        label=gettext_lazy("Grade"),
        required=False,
        choices=[("", gettext_lazy("All grades")), *Grade.choices],
    )
    group = forms.TypedChoiceField(
        label=gettext_lazy("Class"), required=False, coerce=int, empty_value=None
    )
    step = forms.ChoiceField(label=gettext_lazy("Step"), required=False)
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=[
            ("absence", gettext_lazy("Absence, highest first")),
            ("name", gettext_lazy("Name")),
            ("class", gettext_lazy("Class")),
        ],
    )

    def __init__(
        self, data: Any, *, today: datetime.date, groups: list[Any], policy: StaircasePolicy
    ) -> None:
        super().__init__(data)
        self.today = today
        self.fields["month"].choices = _month_choices(today)  # type: ignore[attr-defined]
        self.fields["group"].choices = [  # type: ignore[attr-defined]
            ("", _("All classes")),
            *((g.pk, g.name) for g in groups),
        ]
        self.fields["step"].choices = _step_choices(policy)  # type: ignore[attr-defined]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select"

    def value(self, name: str, default: Any = None) -> Any:
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get(name) or default
        return default

    def chosen_month(self) -> datetime.date:
        chosen = self.value("month")
        return month_start(chosen) if chosen else month_start(self.today)


# ---------------------------------------------------------------- one student


@access.staff_view
@require_GET
def student_absence(request: HttpRequest, public_id: str) -> HttpResponse:
    """A student's monthly absence history (table and chart), alerts and patterns."""
    student = access.student_for_user(request.user, public_id)
    today = timezone.localdate()
    term_name, term_start, _term_end = term_of(today)
    period_form = PeriodForm(request.GET or None, default=(term_start, today))
    start, end = period_form.period()
    history = selectors.monthly_history(student)
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.STUDENT_ABSENCE,
        object_id=str(student.public_id),
        student_id=student.public_id,
        role=access.role_for_student(request.user, student),
        detail={"from": start.isoformat(), "to": end.isoformat()},
    )
    return render(
        request,
        "attendance/student_absence.html",
        {
            "student": student,
            "history": history,
            "history_newest_first": list(reversed(history)),
            "policy": selectors.policy_of(student.school),
            "alerts": selectors.student_alerts(student),
            "period_form": period_form,
            "start": start,
            "end": end,
            "term_name": term_name,
            "patterns": selectors.absence_patterns(student, start, end),
        },
    )


# ---------------------------------------------------------------- a school


@access.staff_view
@require_GET
def school_overview(request: HttpRequest, unit_code: str) -> HttpResponse:
    """Students per step in a month, filtered and sorted, and steps per month of the term."""
    school = access.access_school(request.user, unit_code)
    today = timezone.localdate()
    policy = selectors.policy_of(school)
    groups = list(access.groups_visible_to(request.user).filter(school=school).order_by("name"))
    form = OverviewFilterForm(request.GET or None, today=today, groups=groups, policy=policy)
    month = form.chosen_month()
    students = selectors.school_students(request.user, school)
    if grade := form.value("grade"):
        students = students.filter(grade=grade)
    if group := form.value("group"):
        students = students.filter(mentor_group_id=group)
    term_name, months = selectors.term_months(month, today)
    counts = selectors.step_counts(students, months)
    listed = selectors.filter_step(selectors.with_month(students, month), form.value("step", ""))
    sort = form.value("sort", "absence")
    page = Paginator(
        listed.select_related("mentor_group").order_by(*selectors.SORTS[sort]), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = [(student, selectors.month_row(student, month)) for student in page.object_list]
    month_counts = counts.counts.get(month, {})
    total = students.count()
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.STUDENT_ABSENCE,
        object_id=school.unit_code,
        detail={
            "page": "school_overview",
            "count": len(rows),
            "month": f"{month:%Y-%m}",
            "filters": {k: v for k, v in request.GET.items() if k != "page"},
        },
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "attendance/school_overview.html",
        {
            "school": school,
            "form": form,
            "month": month,
            "month_end": min(today, _month_end(month)),
            "is_current_month": month == month_start(today),
            "page": page,
            "rows": rows,
            "counts": counts,
            "month_counts": month_counts,
            "month_steps": [
                (step, month_counts.get(step, 0), _with(request, step=str(step)))
                for step in selectors.STEPS
            ],
            "without_lessons_query": _with(request, step=selectors.NO_DATA),
            "total": total,
            "without_lessons": total - sum(month_counts.values()),
            "term_name": term_name,
            "policy": policy,
            "query": query.urlencode(),
            "export_query": f"month={month:%Y-%m}",
        },
    )


def _with(request: HttpRequest, **changes: str) -> str:
    """The current query string with some parameters changed (and the page number reset)."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def _month_end(month: datetime.date) -> datetime.date:
    return selectors.next_month(month) - datetime.timedelta(days=1)


@access.staff_view
@require_GET
def school_export(request: HttpRequest, unit_code: str) -> HttpResponse:
    """The month's absence of the school's students the user may see, as CSV (see export)."""
    school = access.access_school(request.user, unit_code)
    try:
        month = month_start(request.GET.get("month") or timezone.localdate())
    except ValueError:
        month = month_start(timezone.localdate())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{export.file_name(school.unit_code, month)}"'
    )
    response["Cache-Control"] = "no-store"
    response.write(export.BOM)
    count = export.write_absence_csv(
        response, month=month, students=selectors.school_students(request.user, school)
    )
    audit.record(
        user=request.user,
        action=audit.AuditAction.EXPORT,
        object_type=audit.AuditObjectType.STUDENT_ABSENCE,
        object_id=school.unit_code,
        detail={"count": count, "month": f"{month:%Y-%m}", "format": "csv"},
    )
    return response


# ---------------------------------------------------------------- alerts


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("sst:desk")


@access.staff_view
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: str) -> HttpResponse:
    """Acknowledge the user's own tasks of one alert (the student's absence page)."""
    recipient = selectors.alert_recipient_for_user(request.user, alert_id)
    services.alert_acknowledge(recipient=recipient, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("The alert is marked as acknowledged."))
    return HttpResponseRedirect(_safe_next(request))


class InboxAcknowledgeForm(forms.Form):
    """The inbox's bulk acknowledge: the students chosen and one reason for all of them."""

    elev = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Students"), coerce=str, required=True, choices=()
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"), choices=AcknowledgeReason.choices, initial=""
    )

    def __init__(self, data: Any, *, student_ids: list[str] | None = None) -> None:
        super().__init__(data)
        # Any well-formed ids: the selector keeps only the user's own open tasks.
        chosen = student_ids if student_ids is not None else (data.getlist("elev") if data else [])
        self.fields["elev"].choices = [(i, i) for i in chosen if _is_uuid(i)]  # type: ignore[attr-defined]
        self.fields["reason"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose a reason")),
            *AcknowledgeReason.choices,
        ]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@access.staff_view
@require_POST
def inbox_acknowledge(request: HttpRequest) -> HttpResponse:
    """Acknowledge the user's open tasks about the chosen students, with a reason."""
    chosen = [i for i in request.POST.getlist("elev") if _is_uuid(i)]
    # Students named that are not among the user's own open tasks: another school's student,
    # or one already dealt with. Refused before anything else is looked at.
    recipients = inbox.open_tasks_for_students(request.user, chosen) if chosen else []
    if chosen and not recipients:
        raise access.refuse(request.user, audit.AuditObjectType.ABSENCE_ALERT, "inbox")
    form = InboxAcknowledgeForm(request.POST, student_ids=chosen)
    if not form.is_valid():
        messages.error(request, _("Choose at least one student and a reason."))
        return HttpResponseRedirect(_safe_next(request))
    done = services.inbox_acknowledge(
        recipients=recipients,
        by=request.user,  # type: ignore[arg-type]
        reason=form.cleaned_data["reason"],
    )
    students = len({r.alert.student_id for r in done})
    messages.success(
        request,
        ngettext(
            "The tasks about %(count)d student are acknowledged.",
            "The tasks about %(count)d students are acknowledged.",
            students,
        )
        % {"count": students},
    )
    return HttpResponseRedirect(_safe_next(request))


# ---------------------------------------------------------------- panels on "my desk"

INBOX_PAGE_PARAMETER = "inkorg"


def inbox_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The inbox: one row per student with the user's open tasks, most urgent first."""
    found = inbox.inbox(request.user, page=request.GET.get(INBOX_PAGE_PARAMETER))
    if not found.rows and not found.done:
        return None
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.ABSENCE_ALERT,
        detail={
            "page": "desk",
            "students": [str(row.student.public_id) for row in found.rows],
            "done": len(found.done),
        },
    )
    query = request.GET.copy()
    query.pop(INBOX_PAGE_PARAMETER, None)
    return "attendance/panel_inbox.html", {
        "inbox": found,
        "next": request.get_full_path(),
        "form": InboxAcknowledgeForm(None, student_ids=[]),
        "page_parameter": INBOX_PAGE_PARAMETER,
        "show_all": inbox.SHOW_ALL,
        "query": query.urlencode(),
    }


def mentor_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The mentor's groups: each student's absence this and last month, step, term trend."""
    desk = selectors.mentor_desk(request.user, timezone.localdate())
    if desk is None:
        return None
    if desk.student_count:
        audit.record(
            user=request.user,
            action=audit.AuditAction.LIST,
            object_type=audit.AuditObjectType.STUDENT_ABSENCE,
            role="mentor",
            detail={"page": "desk", "count": desk.student_count},
        )
    return "attendance/panel_mentor.html", {"desk": desk, "today": timezone.localdate()}


def schools_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """School staff: students per step this month at each school, with the overview link."""
    today = timezone.localdate()
    summaries = selectors.school_summaries(request.user, month_start(today))
    if not summaries:
        return None
    return "attendance/panel_schools.html", {
        "summaries": summaries,
        "month": month_start(today),
        "today": today,
    }
