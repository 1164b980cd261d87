"""The head of schools' monthly step-4 report: a page, its PDF and a panel on "my desk".

Only holders of ``READ_STEP4_MONTHLY_REPORT`` reach these (everyone else gets a 404, and the
refusal is audited by ``access.capability_view``); the students come only through
``reports.head_selectors``, for the schools the capability covers. Each page view and each
download is audited with the month, the schools and the students listed.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from attendance import selectors as absence_selectors
from cases.models import EscalationKind
from sst import access, audit, desk, printing

from . import head_selectors as selectors
from .head_selectors import CAPABILITY


def _month_of(request: HttpRequest, today: datetime.date) -> tuple[datetime.date, bool]:
    """The chosen month (the last full month by default) and whether a given value was
    refused."""
    text = request.GET.get("month", "")
    if not text:
        return selectors.last_full_month(today), False
    month = selectors.parse_month(text, today)
    if month is None:
        return selectors.last_full_month(today), True
    return month, False


def _report(request: HttpRequest, *, page: str) -> tuple[selectors.HeadReport, bool]:
    user = access.staff_user(request)
    today = timezone.localdate()
    month, refused = _month_of(request, today)
    report = selectors.monthly_report(user, month=month, today=today)
    audit.record(
        user=user,
        action=audit.AuditAction.EXPORT if page.endswith("_pdf") else audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.STEP4_REPORT,
        object_id=f"{report.month:%Y-%m}",
        role=",".join(sorted(access.roles_giving_anywhere(user, CAPABILITY))),
        detail={
            "page": page,
            "month": f"{report.month:%Y-%m}",
            "schools": report.unit_codes,
            "count": report.count,
            "students": report.student_ids,
        },
    )
    return report, refused


def _context(report: selectors.HeadReport, today: datetime.date) -> dict[str, Any]:
    first = report.schools[0].school if report.schools else None
    return {
        "report": report,
        "policy": absence_selectors.policy_of(first) if first is not None else None,
        "municipality": first.district.municipality if first is not None else None,
        "kinds": EscalationKind,
        "today": today,
    }


@access.capability_view(CAPABILITY)
@never_cache
@require_GET
def head_monthly(request: HttpRequest) -> HttpResponse:
    """The month's step-4 students of the head of schools' schools, grouped by school."""
    today = timezone.localdate()
    report, refused = _report(request, page="head_monthly")
    return render(
        request,
        "reports/head_monthly.html",
        {
            **_context(report, today),
            "refused_month": request.GET.get("month", "")[:20] if refused else "",
            "months": selectors.month_choices(today, report.month),
            "month_query": f"month={report.month:%Y-%m}",
        },
    )


@access.capability_view(CAPABILITY)
@never_cache
@require_GET
def head_monthly_pdf(request: HttpRequest) -> HttpResponse:
    """The same list as a PDF (a neutral file name and title: no names in the metadata)."""
    today = timezone.localdate()
    report, _refused = _report(request, page="head_monthly_pdf")
    return printing.render_pdf(
        request,
        "reports/head_monthly_pdf.html",
        _context(report, today),
        filename=f"manadsrapport-steg4-{report.month:%Y-%m}.pdf",
    )


# ---------------------------------------------------------------- the panel on "my desk"


def head_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """The head of schools: last month's number of step-4 students per school, with the way
    to the identified list (counts only on the desk)."""
    month = selectors.last_full_month(timezone.localdate())
    counts = selectors.step4_counts(request.user, month=month)
    if counts is None:
        return None
    return "reports/panel_head.html", {
        "counts": counts,
        "month": month,
        "total": sum(entry.count for entry in counts),
    }


def register_panels() -> None:
    desk.register(order=20, panel=head_panel)
