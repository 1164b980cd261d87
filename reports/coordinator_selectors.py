"""The coordinator's dashboard (issue 12): referrals and lead times, caseload per social
worker, overdue follow-ups, for the schools where the coordinator holds ``COORDINATE``
(their district, or the whole municipality).

What it shows of cases is what the coordinator's other pages show (the queue, the caseload):
the anonymous referral's number and school, never the student. Coordinators do not read
case pages (``access.cases_visible_to`` gives them none), so nothing here links to one.

A constant number of queries, whatever the number of cases (aggregates and subqueries; the
one list is capped at ``OVERDUE_LISTED`` rows).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from cases.models import ENDED_STATES, CaseState
from followup.models import FollowUp
from referrals.models import Assignment, Referral, ReferralState
from sst import access
from sst.access import AnyUser, Capability
from sst.models import District, School, User

from .case_figures import (
    LeadTimes,
    ReferralFigures,
    Window,
    last_12_months,
    lead_times,
    referral_figures,
)
from .terms import term_containing

Distribution = list[tuple[str, int]]
OVERDUE_LISTED = 100
ENDED = [state.value for state in ENDED_STATES]


def term_of(today: datetime.date, municipality_id: int | None) -> tuple[str, Window]:
    """The term ``today`` falls in, as the municipality's school calendar has it (whole
    months, ``reports.terms``): its code and days."""
    term = term_containing(today, municipality_id=municipality_id)
    return term.code, Window(term.start, term.end)


@dataclass(frozen=True)
class WorkerLoad:
    """One social worker's open cases (by phase) and overdue follow-ups.

    Counts of a named staff member's cases are about the worker's workload, not about
    identifiable children: they are shown as they are, without small-count suppression."""

    name: str
    open_cases: int
    by_state: Distribution
    overdue: int


@dataclass(frozen=True)
class OverdueRow:
    referral_number: str
    school: str
    planned_on: datetime.date
    days_overdue: int
    social_worker: str


@dataclass(frozen=True)
class Dashboard:
    districts: list[str]
    term_code: str
    term: Window
    year: Window
    referrals_term: ReferralFigures
    referrals_year: ReferralFigures
    lead_times_term: LeadTimes
    lead_times_year: LeadTimes
    queued: int
    workers: list[WorkerLoad]
    overdue_total: int
    overdue_unassigned: int
    overdue: list[OverdueRow]


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _overdue(schools: QuerySet[School], today: datetime.date) -> QuerySet[FollowUp]:
    """Booked follow-ups of open cases of the schools, planned before today, not held."""
    return FollowUp.objects.filter(
        case__school__in=schools,
        held_on__isnull=True,
        cancelled=False,
        planned_on__lt=today,
    ).exclude(case__state__in=ENDED)


def dashboard_of(user: AnyUser, *, today: datetime.date) -> Dashboard:
    schools = access.schools_where(user, Capability.COORDINATE)
    districts = list(District.objects.filter(schools__in=schools).distinct().order_by("name", "pk"))
    term_code, term = term_of(today, districts[0].municipality_id if districts else None)
    year = last_12_months(today)

    active = Assignment.objects.filter(ended_at__isnull=True, referral__school__in=schools)
    # The social workers of the coordinator's districts, and anyone still assigned a case of
    # their schools: one query.
    holding = Q(pk__in=[])
    for district in districts:
        holding |= Q(pk__in=access.holders(Capability.SOCIAL_WORK, district).values("pk"))
    workers = list(
        User.objects.filter(holding | Q(pk__in=active.values("social_worker_id")))
        .distinct()
        .order_by("last_name", "first_name", "username", "pk")
    )

    loads: dict[int, dict[str, int]] = {}
    for worker_id, state, n in (
        active.exclude(case__state__in=ENDED)
        .values_list("social_worker_id", "case__state")
        .annotate(n=Count("case", distinct=True))
        .values_list("social_worker_id", "case__state", "n")
    ):
        loads.setdefault(worker_id, {})[state] = int(n)

    overdue = _overdue(schools, today)
    overdue_by_worker: dict[int, int] = {
        worker_id: int(n)
        for worker_id, n in overdue.filter(case__assignments__ended_at__isnull=True)
        .values_list("case__assignments__social_worker_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("case__assignments__social_worker_id", "n")
    }
    assigned = Assignment.objects.filter(case=OuterRef("case_id"), ended_at__isnull=True)
    rows = list(
        overdue.annotate(
            referral_number=Subquery(
                Referral.objects.filter(case=OuterRef("case_id"))
                .exclude(state__in=[ReferralState.DRAFT, ReferralState.WITHDRAWN])
                .order_by("-submitted_at", "-pk")
                .values("number")[:1]
            ),
            worker_id=Subquery(
                assigned.order_by("assigned_at", "pk").values("social_worker_id")[:1],
                output_field=IntegerField(),
            ),
        )
        .order_by("planned_on", "pk")
        .values_list("referral_number", "case__school__name", "planned_on", "worker_id")[
            :OVERDUE_LISTED
        ]
    )
    counted = overdue.aggregate(
        total=Count("pk"),
        unassigned=Count(
            "pk",
            filter=~Q(case__in=Assignment.objects.filter(ended_at__isnull=True).values("case")),
        ),
    )
    names = {worker.pk: _name(worker) for worker in workers}
    labels = dict(CaseState.choices)
    queued = Referral.objects.filter(school__in=schools, state=ReferralState.QUEUED).count()

    def load_of(worker: User) -> WorkerLoad:
        states = loads.get(worker.pk, {})
        return WorkerLoad(
            name=names[worker.pk],
            open_cases=sum(states.values()),
            by_state=[
                (str(labels[state]), states[state]) for state in CaseState if state in states
            ],
            overdue=overdue_by_worker.get(worker.pk, 0),
        )

    def row_of(row: tuple[Any, ...]) -> OverdueRow:
        number, school, planned_on, worker_id = row
        return OverdueRow(
            referral_number=number or "–",
            school=school,
            planned_on=planned_on,
            days_overdue=(today - planned_on).days,
            social_worker=names.get(worker_id, _("Not assigned")),
        )

    return Dashboard(
        districts=[district.name for district in districts],
        term_code=term_code,
        term=term,
        year=year,
        referrals_term=referral_figures(schools=schools, window=term),
        referrals_year=referral_figures(schools=schools, window=year),
        lead_times_term=lead_times(schools=schools, window=term),
        lead_times_year=lead_times(schools=schools, window=year),
        queued=int(queued),
        workers=[load_of(worker) for worker in workers],
        overdue_total=int(counted["total"]),
        overdue_unassigned=int(counted["unassigned"]),
        overdue=[row_of(row) for row in rows],
    )
