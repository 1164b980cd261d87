"""The cases part of the term report (issue 12, item 4): aggregate figures only.

A pure read module: ``case_figures`` returns plain counts (``int``), distributions as lists of
``(label, count)`` and medians with the number of values they are over, so that the report's
small-count suppression can wrap every count. Nothing identifying is returned: no names, no
ids, no dates of single cases.

Definitions (the report's definitions page says the same):

- A case belongs to its school (``Case.school``: the school whose case it is, whatever school
  the student is at now); the scope is a set of schools.
- *Ongoing*, *in maintenance*, *waiting in the queue* and the open cases per phase are a
  snapshot of the cases' state when the figures are computed (no history of states is kept
  per day): ongoing = the team's open cases (accepted, consent, plan, implementation,
  maintenance); the queue = accepted and waiting for a social worker.
- *Opened* / *closed* in a window: the day (Swedish time) the case was opened / closed
  (closed = the state "closed", not a rejected or redirected referral), both ends included.
  The last 12 months: from the day after the same date a year before ``today`` up to and
  including ``today``.
- Referrals: *received* = versions submitted in the window (a revised referral is received
  again); *accepted* / *rejected* / *redirected* = the forum's decisions dated in the window.
- Lead times in whole days (Swedish dates), over the steps completed in the window: alert →
  mentor checklist (the checklist written for an alert), referral submitted → decision,
  decision → start-up meeting, submitted → start-up. The median of an even number of values
  is the mean of the middle two.
- Closure reasons: the cases closed in the window. Goals met, absence at intake and at
  closure, satisfaction: the closure records dated in the window. Absence is what the closure
  record stores (``followup.ClosureAbsence``): the full months before the referral was
  submitted (intake) and before the closure, minutes-weighted; a record without scheduled
  time is left out. Bands: 0–15 %, over 15–25 %, over 25–40 %, over 40 % (the upper bound
  included, so exactly 15.0 % is in the first band, as "above 15 %" means strictly more).
- Causes, interventions, gender and grade: the cases active at some time in the window
  (opened by its end, not ended before its start). A cause counts once per case (from the
  case's school-social mappings), an intervention once per plan (running in the window);
  gender and grade are the student's as recorded in the register now.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from actionplans.models import PlanIntervention
from cases.models import (
    ENDED_STATES,
    CaseState,
    CauseFactor,
    CauseGroup,
    ClosureReason,
    MentorChecklist,
)
from cases.models import Case as CaseModel
from followup.models import Closure, ClosureAbsence, Respondent, Satisfied, SurveyAnswer
from referrals.models import Decision, DecisionKind, Referral, ReferralState
from sst.models import Gender, Grade, School

Distribution = list[tuple[str, int]]

# The team's open phases (the case is the team's once the forum accepted it).
TEAM_STATES = (
    CaseState.ACCEPTED,
    CaseState.CONSENT,
    CaseState.PLAN,
    CaseState.IMPLEMENTATION,
    CaseState.MAINTENANCE,
)
OPEN_STATES = tuple(state for state in CaseState if state not in ENDED_STATES)
# Upper bounds (included) of the absence bands, in percent; the last band is open.
BAND_LIMITS = (15, 25, 40)
SURVEY_SCALE = (1, 2, 3, 4, 5)
SURVEY_QUESTIONS = ("satisfied", "helped", "listened_to")
TOP = 5


@dataclass(frozen=True)
class Window:
    """A span of days, both ends included."""

    start: datetime.date
    end: datetime.date


@dataclass(frozen=True)
class Median:
    """A median in days (or percent) and how many values it is over (None when none)."""

    value: Decimal | None
    count: int


@dataclass(frozen=True)
class ReferralFigures:
    received: int
    accepted: int
    rejected: int
    redirected: int


@dataclass(frozen=True)
class LeadTimes:
    """Median days between the steps, each over the steps completed in the window."""

    alert_to_checklist: Median
    referral_to_decision: Median
    decision_to_startup: Median
    referral_to_startup: Median


@dataclass(frozen=True)
class AbsenceAt:
    """Absence at intake or at closure, over the closure records of the window."""

    span: str  # "intake" or "closure" (ClosureAbsence.Span)
    label: str
    measured: int  # records with scheduled time in their period
    median_pct: Decimal | None  # one decimal, like every absence percentage
    bands: Distribution
    months: tuple[int, ...]  # the lengths (full months) of the periods the records name
    earliest: datetime.date | None  # the first day of the earliest period
    latest: datetime.date | None  # the last day of the latest period


@dataclass(frozen=True)
class SurveyFigures:
    """The satisfaction answers of one kind of respondent (scores 1–5)."""

    respondent: str
    label: str
    answers: int
    satisfied: Distribution  # ("1", n) … ("5", n)
    helped: Distribution
    listened_to: Distribution
    satisfied_mean: Decimal | None
    helped_mean: Decimal | None
    listened_to_mean: Decimal | None


@dataclass(frozen=True)
class CaseFigures:
    period: Window
    last_12_months: Window
    today: datetime.date
    # Snapshot on ``today``.
    ongoing: int
    in_maintenance: int
    queued: int
    open_by_state: Distribution
    # Opened and closed.
    opened: int
    closed: int
    opened_12_months: int
    closed_12_months: int
    # Referrals and lead times.
    referrals: ReferralFigures
    referrals_12_months: ReferralFigures
    lead_times: LeadTimes
    # Closures in the period.
    closure_reasons: Distribution
    closure_records: int
    goals: Distribution  # yes / partly / no, over the records of cases with a plan
    goals_met: int
    goals_assessed: int
    intake: AbsenceAt
    at_closure: AbsenceAt
    satisfaction: tuple[SurveyFigures, ...]
    # The cases active in the period.
    active_cases: int
    causes: Distribution
    interventions: Distribution
    gender: Distribution
    grade: Distribution

    @property
    def goals_met_share(self) -> Decimal | None:
        """Percent of the assessed closures whose goals were met (one decimal)."""
        if not self.goals_assessed:
            return None
        return (Decimal(self.goals_met) * 100 / self.goals_assessed).quantize(Decimal("0.1"))


# ---------------------------------------------------------------- helpers


def _moment(day: datetime.date) -> datetime.datetime:
    """The start of ``day`` in the site's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _in(field: str, window: Window) -> Q:
    """``field`` (a datetime) falls on a day of the window."""
    return Q(**{f"{field}__gte": _moment(window.start)}) & Q(
        **{f"{field}__lt": _moment(window.end + datetime.timedelta(days=1))}
    )


def _on(field: str, window: Window) -> Q:
    """``field`` (a date) is a day of the window."""
    return Q(**{f"{field}__gte": window.start, f"{field}__lte": window.end})


def last_12_months(today: datetime.date) -> Window:
    """From the day after the same date a year before (29 February: the 28th) to today."""
    try:
        year_before = today.replace(year=today.year - 1)
    except ValueError:
        year_before = today.replace(year=today.year - 1, day=28)
    return Window(year_before + datetime.timedelta(days=1), today)


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def median(values: Iterable[int | Fraction]) -> Median:
    """The median (the mean of the middle two for an even count), exact, to one decimal."""
    ordered = sorted(Fraction(value) for value in values)
    count = len(ordered)
    if not count:
        return Median(None, 0)
    middle = count // 2
    value = ordered[middle] if count % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return Median(_decimal(value).quantize(Decimal("0.1")), count)


def _days(
    pairs: Iterable[tuple[datetime.datetime | None, datetime.datetime | None]],
) -> list[int]:
    return [
        (timezone.localdate(end) - timezone.localdate(start)).days
        for start, end in pairs
        if start is not None and end is not None
    ]


def _counts(rows: Iterable[tuple[Any, int]]) -> dict[Any, int]:
    return {key: int(n) for key, n in rows}


def _labelled(choices: Sequence[tuple[str, Any]], counts: dict[Any, int]) -> Distribution:
    return [(str(label), counts.get(value, 0)) for value, label in choices]


def _top(rows: Iterable[tuple[str, int]], top: int) -> Distribution:
    return sorted(((str(label), int(n)) for label, n in rows), key=lambda r: (-r[1], r[0]))[:top]


# ---------------------------------------------------------------- the parts


def _cases(schools: QuerySet[School]) -> QuerySet[CaseModel]:
    return CaseModel.objects.filter(school__in=schools)


def referral_figures(*, schools: QuerySet[School], window: Window) -> ReferralFigures:
    """Referrals received and the forum's decisions in the window: two queries."""
    received = (
        Referral.objects.filter(school__in=schools, submitted_at__isnull=False)
        .exclude(state=ReferralState.DRAFT)
        .filter(_in("submitted_at", window))
        .count()
    )
    decided = _counts(
        Decision.objects.filter(referral__school__in=schools)
        .filter(_on("decided_on", window))
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    return ReferralFigures(
        received=int(received),
        accepted=decided.get(DecisionKind.ACCEPTED, 0),
        rejected=decided.get(DecisionKind.REJECTED, 0),
        redirected=decided.get(DecisionKind.REDIRECTED, 0),
    )


def lead_times(*, schools: QuerySet[School], window: Window) -> LeadTimes:
    """Median lead times over the steps completed in the window: four queries."""
    checklists = MentorChecklist.objects.filter(
        case__school__in=schools, alert__isnull=False
    ).filter(_in("created_at", window))
    referrals = Referral.objects.filter(school__in=schools, submitted_at__isnull=False)
    decided = referrals.filter(decided_at__isnull=False).filter(_in("decided_at", window))
    started = referrals.filter(startup_at__isnull=False).filter(_in("startup_at", window))
    started_rows = list(started.values_list("submitted_at", "decided_at", "startup_at"))
    return LeadTimes(
        alert_to_checklist=median(_days(checklists.values_list("alert__created_at", "created_at"))),
        referral_to_decision=median(_days(decided.values_list("submitted_at", "decided_at"))),
        decision_to_startup=median(_days((d, s) for _sub, d, s in started_rows)),
        referral_to_startup=median(_days((sub, s) for sub, _d, s in started_rows)),
    )


def _absence_at(closures: QuerySet[Closure], span: ClosureAbsence.Span) -> AbsenceAt:
    rows = ClosureAbsence.objects.filter(closure__in=closures, span=span, scheduled_min__gt=0)
    absent = F("valid_min") + F("invalid_min")
    # Bands in SQL with whole-number arithmetic: absent × 100 ≤ limit × scheduled.
    bands = rows.alias(absent100=absent * 100).aggregate(
        **{
            f"b{limit}": Count("pk", filter=Q(absent100__lte=F("scheduled_min") * limit))
            for limit in BAND_LIMITS
        },
        total=Count("pk"),
    )
    cumulative = [int(bands[f"b{limit}"]) for limit in BAND_LIMITS] + [int(bands["total"])]
    counts = [cumulative[0]] + [b - a for a, b in itertools.pairwise(cumulative)]
    labels = [
        _("0–15 %"),
        _("over 15–25 %"),
        _("over 25–40 %"),
        _("over 40 %"),
    ]
    values = list(rows.values_list("valid_min", "invalid_min", "scheduled_min"))
    middle = median(Fraction((v + i) * 100, s) for v, i, s in values)
    periods = set(rows.values_list("period_start", "period_end").distinct())
    months = sorted(
        {(end.year - start.year) * 12 + end.month - start.month + 1 for start, end in periods}
    )
    return AbsenceAt(
        span=str(span.value),
        label=str(span.label),
        measured=middle.count,
        median_pct=middle.value,
        bands=list(zip(labels, counts, strict=True)),
        months=tuple(months),
        earliest=min((start for start, _end in periods), default=None),
        latest=max((end for _start, end in periods), default=None),
    )


def _mean(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"))


def satisfaction(closures: QuerySet[Closure]) -> tuple[SurveyFigures, ...]:
    """The answers per kind of respondent: counts per score and the means, one query."""
    counts: dict[str, Any] = {"answers": Count("pk")}
    for question in SURVEY_QUESTIONS:
        counts[f"{question}_mean"] = Avg(question)
        for score in SURVEY_SCALE:
            counts[f"{question}_{score}"] = Count("pk", filter=Q(**{question: score}))
    rows = {
        row["respondent"]: row
        for row in SurveyAnswer.objects.filter(closure__in=closures)
        .values("respondent")
        .annotate(**counts)
    }
    figures = []
    for value, label in Respondent.choices:
        row = rows.get(value, {})

        def scores(question: str, row: dict[str, Any] = row) -> Distribution:
            return [(str(score), int(row.get(f"{question}_{score}", 0))) for score in SURVEY_SCALE]

        figures.append(
            SurveyFigures(
                respondent=value,
                label=str(label),
                answers=int(row.get("answers", 0)),
                satisfied=scores("satisfied"),
                helped=scores("helped"),
                listened_to=scores("listened_to"),
                satisfied_mean=_mean(row.get("satisfied_mean")),
                helped_mean=_mean(row.get("helped_mean")),
                listened_to_mean=_mean(row.get("listened_to_mean")),
            )
        )
    return tuple(figures)


def _active_in(window: Window) -> Q:
    """Opened by the window's end and not ended before its start."""
    return Q(opened_at__lt=_moment(window.end + datetime.timedelta(days=1))) & (
        Q(closed_at__isnull=True) | Q(closed_at__gte=_moment(window.start))
    )


# ---------------------------------------------------------------- the figures


def case_figures(
    *,
    schools: QuerySet[School],
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    top: int = TOP,
) -> CaseFigures:
    """The cases part of the term report for the cases of ``schools``: the period
    [start, end] and the last 12 months before ``today`` (see the module's docstring for
    every definition). A constant number of aggregate queries, whatever the number of
    cases."""
    period = Window(start, end)
    year = last_12_months(today)
    cases = _cases(schools)

    by_state = _counts(
        cases.filter(state__in=OPEN_STATES)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    opened_closed = cases.aggregate(
        opened=Count("pk", filter=_in("opened_at", period)),
        closed=Count("pk", filter=Q(state=CaseState.CLOSED) & _in("closed_at", period)),
        opened_12=Count("pk", filter=_in("opened_at", year)),
        closed_12=Count("pk", filter=Q(state=CaseState.CLOSED) & _in("closed_at", year)),
        active=Count("pk", filter=_active_in(period)),
    )
    reasons = _counts(
        cases.filter(state=CaseState.CLOSED)
        .filter(_in("closed_at", period))
        .values_list("closure_reason")
        .annotate(n=Count("pk"))
        .values_list("closure_reason", "n")
    )
    closure_reasons = _labelled(ClosureReason.choices, reasons)
    if reasons.get("", 0):
        closure_reasons.append((_("Not stated"), reasons[""]))

    closures = Closure.objects.filter(case__school__in=schools).filter(_on("closed_on", period))
    goals = _counts(
        closures.exclude(goals_met="")
        .values_list("goals_met")
        .annotate(n=Count("pk"))
        .values_list("goals_met", "n")
    )
    closure_records = closures.count()

    active = cases.filter(_active_in(period))
    causes = (
        CauseFactor.objects.filter(schoolsocialmapping__case__in=active)
        .values_list("group", "label")
        .annotate(n=Count("schoolsocialmapping__case", distinct=True))
    )
    groups = dict(CauseGroup.choices)
    interventions = (
        PlanIntervention.objects.filter(plan__case__in=active, starts_on__lte=end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=start))
        .values_list("item_id", "item__name")
        .annotate(n=Count("plan", distinct=True))
    )
    gender = _counts(
        active.values_list("student__gender")
        .annotate(n=Count("pk"))
        .values_list("student__gender", "n")
    )
    grade = _counts(
        active.values_list("student__grade")
        .annotate(n=Count("pk"))
        .values_list("student__grade", "n")
    )

    return CaseFigures(
        period=period,
        last_12_months=year,
        today=today,
        ongoing=sum(by_state.get(state, 0) for state in TEAM_STATES),
        in_maintenance=by_state.get(CaseState.MAINTENANCE, 0),
        queued=by_state.get(CaseState.QUEUED, 0),
        open_by_state=[(str(state.label), by_state.get(state, 0)) for state in OPEN_STATES],
        opened=int(opened_closed["opened"]),
        closed=int(opened_closed["closed"]),
        opened_12_months=int(opened_closed["opened_12"]),
        closed_12_months=int(opened_closed["closed_12"]),
        referrals=referral_figures(schools=schools, window=period),
        referrals_12_months=referral_figures(schools=schools, window=year),
        lead_times=lead_times(schools=schools, window=period),
        closure_reasons=closure_reasons,
        closure_records=int(closure_records),
        goals=_labelled(Satisfied.choices, goals),
        goals_met=goals.get(Satisfied.YES, 0),
        goals_assessed=sum(goals.values()),
        intake=_absence_at(closures, ClosureAbsence.Span.INTAKE),
        at_closure=_absence_at(closures, ClosureAbsence.Span.CLOSURE),
        satisfaction=satisfaction(closures),
        active_cases=int(opened_closed["active"]),
        causes=_top(((f"{groups[g]}: {label}", n) for g, label, n in causes), top),
        interventions=_top(((name, n) for _pk, name, n in interventions), top),
        gender=_labelled(Gender.choices, gender),
        grade=_labelled(Grade.choices, grade),
    )
