"""Reading closure records: who may read which, the periods their absence figures name,
and the municipality's closure and survey rules.

After closure a social worker no longer reads the case (the consent rule needs an open
case); they keep reading the closure record they wrote. The school's case staff read the
closure of every case they read.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from cases.models import Case, CaseState
from referrals.models import Referral
from sst import access
from sst.access import Capability

from .absence import full_months_before
from .models import Closure, FollowUpPolicy, Respondent, SurveyAnswer

# The states of a case the team has worked: its closure is recorded with absence, goals
# and the satisfaction survey (followup's closing page). Earlier states keep the case
# page's simple closure.
TEAM_STATES = frozenset(
    {
        CaseState.ACCEPTED,
        CaseState.CONSENT,
        CaseState.PLAN,
        CaseState.IMPLEMENTATION,
        CaseState.MAINTENANCE,
    }
)

DEFAULT_CLOSURE_MONTHS = FollowUpPolicy._meta.get_field("closure_period_months").get_default()
DEFAULT_SURVEY_LINK_DAYS = FollowUpPolicy._meta.get_field("survey_link_days").get_default()


def _policy(municipality_id: int) -> FollowUpPolicy | None:
    return FollowUpPolicy.objects.filter(municipality_id=municipality_id).first()


def municipality_of(case: Case) -> int:
    return int(case.school.district.municipality_id)


def closure_months(case: Case) -> int:
    policy = _policy(municipality_of(case))
    return policy.closure_period_months if policy else int(DEFAULT_CLOSURE_MONTHS)


def survey_link_days(case: Case) -> int:
    policy = _policy(municipality_of(case))
    return policy.survey_link_days if policy else int(DEFAULT_SURVEY_LINK_DAYS)


def intake_day(case: Case) -> datetime.date:
    """The day intake counts back from: the case's latest submitted referral, else the day
    the case was opened."""
    submitted = (
        Referral.objects.filter(case=case, submitted_at__isnull=False)
        .order_by("-submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    moment = submitted or case.opened_at
    return timezone.localdate(moment)


@dataclass(frozen=True)
class Periods:
    intake: tuple[datetime.date, datetime.date]
    closure: tuple[datetime.date, datetime.date]
    months: int


def periods(case: Case, closed_on: datetime.date) -> Periods:
    """The two named periods a closure measures absence over."""
    months = closure_months(case)
    return Periods(
        intake=full_months_before(intake_day(case), months),
        closure=full_months_before(closed_on, months),
        months=months,
    )


def takes(case: Case) -> bool:
    """Whether closing this case makes a closure record (the team has worked it)."""
    return case.state in TEAM_STATES


def closures_readable_by(user: access.AnyUser) -> QuerySet[Closure]:
    """The closures the user may read: those of the cases they read (the school's case
    staff; the assigned social worker only while the case is open, so never after closure),
    and the ones they wrote while they still work at the case's school's district."""
    if not user.is_authenticated:
        return Closure.objects.none()
    wrote = Q(closed_by_id=user.pk) & (
        Q(case__school__in=access.schools_where(user, Capability.SOCIAL_WORK))
        | Q(case__school__in=access.schools_where(user, Capability.WORK_CASES))
    )
    return Closure.objects.filter(Q(case__in=access.cases_visible_to(user)) | wrote)


def reads_case(user: access.AnyUser, closure: Closure) -> bool:
    """Whether the user reads the closure's case itself (not only the closure record)."""
    return access.cases_visible_to(user).filter(pk=closure.case_id).exists()


@dataclass(frozen=True)
class SurveySummary:
    respondent: str
    label: str
    count: int
    satisfied: float | None
    helped: float | None
    listened_to: float | None


def survey_summary(closure: Closure) -> list[SurveySummary]:
    """The answers per kind of respondent: how many, and the mean of each question."""
    rows = {
        row["respondent"]: row
        for row in SurveyAnswer.objects.filter(closure=closure)
        .values("respondent")
        .annotate(n=Count("id"), s=Avg("satisfied"), h=Avg("helped"), listened=Avg("listened_to"))
    }
    summary = []
    for value, label in Respondent.choices:
        row = rows.get(value)
        summary.append(
            SurveySummary(
                respondent=value,
                label=str(label),
                count=row["n"] if row else 0,
                satisfied=row["s"] if row else None,
                helped=row["h"] if row else None,
                listened_to=row["listened"] if row else None,
            )
        )
    return summary
