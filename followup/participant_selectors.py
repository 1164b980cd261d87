"""The participant follow-up (deltagaruppföljning, DOMAIN.md §5): one de-identified row per
case that reached the team in a district and period, produced from the case records —
nobody retypes it.

A case "reached the team" when the referral forum accepted its referral (the referral is in
an accepted state: queued or assigned); its intake day is the day of that decision
(``Referral.decided_at``; the day it was submitted when no decision time is recorded). The
period selects cases by their intake day.

What a row holds, and where it comes from:

- gender and grade: as the referral recorded them when it was written (``Referral``);
- age at intake: whole years from ``Student.earliest_birth_date`` to the intake day;
- school: the case's school, by name;
- intake month, closure month (never a day);
- absence at intake and at closure with their periods: the closure record's snapshots
  (``ClosureAbsence``); before closure, intake is measured with the same code
  (``followup.absence``) over the same period (the full months before the referral was
  submitted);
- causes: the cause-factor groups of the school-social mapping the student approved for
  sharing (an unshared mapping stays with the counsellor and is not read);
- interventions given: sessions and hours per toolbox category, summed from the weekly
  check-off (``Delivery``, given);
- the result per goal: the last review of each goal of the plan, counted met / partly /
  not met / not reviewed;
- whether the goals were met, the closure reason, completed or ended early (``Closure``);
- satisfaction: the mean of the survey's scores (1–5) per kind of respondent.

Never in a row: names, personnummer, public ids, referral numbers, dates of birth, exact
dates, or any free text (closure detail, other support, comments, notes).
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.text import slugify

from actionplans.models import Catalogue, Goal, ToolboxCategory
from attendance.rollup import AbsenceFigures
from cases.models import CauseGroup, ClosureReason, MappingApproval, SchoolSocialMapping
from referrals.models import ACCEPTED_STATES, Referral
from sst import access
from sst.access import Capability
from sst.models import District, Gender

from . import absence
from .models import (
    Closure,
    ClosureAbsence,
    Delivery,
    FollowUpPolicy,
    GoalResult,
    GoalReview,
    Respondent,
    Satisfied,
    SurveyAnswer,
)

# The columns that could single someone out together, the most identifying first (the order
# the suppression gives them up in when a combination is still rare).
QUASI_IDENTIFIERS = ("skola", "alder_vid_intag", "arskurs", "kon")

DAY = datetime.timedelta(days=1)

CAUSE_COLUMNS = {
    CauseGroup.SCHOOL: "orsak_skola",
    CauseGroup.INDIVIDUAL: "orsak_individ",
    CauseGroup.FAMILY: "orsak_familj",
    CauseGroup.OTHER: "orsak_annan",
}


@dataclass
class Table:
    """The export's columns and rows (values are str, int, Decimal or None)."""

    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)


# The export is a Swedish data file: its values are Swedish words, like its column names.
YES, NO = "ja", "nej"
CLOSED, ONGOING = "avslutat", "pågående"
COMPLETED, ENDED_EARLY = "genomförd", "avbruten i förtid"
GOALS_MET: dict[str, str] = {Satisfied.YES: YES, Satisfied.PARTLY: "delvis", Satisfied.NO: NO}


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return YES if value else NO


def _month(day: datetime.date | None) -> str:
    return day.strftime("%Y-%m") if day else ""


def _period(start: datetime.date | None, end: datetime.date | None) -> str:
    """A period of full months, by month: "2026-08–2026-09"."""
    if start is None or end is None:
        return ""
    return f"{start:%Y-%m}–{end:%Y-%m}"


def _pct(figures: Any) -> tuple[Decimal | None, Decimal | None]:
    if figures is None or not figures.scheduled_min:
        return None, None
    return figures.absent_pct, figures.valid_pct


def _mean(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def age_on(born: datetime.date | None, day: datetime.date) -> int | None:
    """Whole years on ``day`` (the earliest possible birth date when the number left it open)."""
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def intake_day(referral: Referral) -> datetime.date:
    moment = referral.decided_at or referral.submitted_at or referral.created_at
    return timezone.localdate(moment)


def accepted_referrals(
    district: District, start: datetime.date, end: datetime.date
) -> list[Referral]:
    """The accepted referral of each case of the district's schools whose intake day falls
    in [start, end] (one per case: the latest accepted version)."""
    # A day's margin either side for time zones; the exact day is compared below.
    low = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min)) - DAY
    high = timezone.make_aware(datetime.datetime.combine(end, datetime.time.max)) + DAY
    candidates = (
        Referral.objects.filter(
            Q(decided_at__range=(low, high))
            | Q(decided_at__isnull=True, submitted_at__range=(low, high))
            | Q(decided_at__isnull=True, submitted_at__isnull=True),
            state__in=[state.value for state in ACCEPTED_STATES],
            case__school__district=district,
        )
        .select_related("case__student", "case__school")
        .order_by("case_id", "-decided_at", "-pk")
    )
    chosen: dict[int, Referral] = {}
    for referral in candidates:
        chosen.setdefault(referral.case_id, referral)
    return [r for r in chosen.values() if start <= intake_day(r) <= end]


def _closures(case_ids: list[int]) -> dict[int, Closure]:
    return {
        closure.case_id: closure
        for closure in Closure.objects.filter(case_id__in=case_ids).prefetch_related(
            Prefetch("absences", queryset=ClosureAbsence.objects.all()),
            Prefetch("answers", queryset=SurveyAnswer.objects.all()),
        )
    }


def _causes(case_ids: list[int]) -> dict[int, set[str]]:
    """The cause groups of each case's latest mapping the student approved for sharing."""
    found: dict[int, set[str]] = {}
    mappings = (
        SchoolSocialMapping.objects.filter(case_id__in=case_ids, approval=MappingApproval.APPROVED)
        .order_by("case_id", "-created_at", "-pk")
        .prefetch_related("causes")
    )
    for mapping in mappings:
        if mapping.case_id in found:
            continue
        found[mapping.case_id] = {factor.group for factor in mapping.causes.all()}
    return found


def _deliveries(case_ids: list[int]) -> dict[int, dict[int, tuple[int, int]]]:
    """(sessions, minutes) given per case and toolbox category."""
    sums: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    rows = (
        Delivery.objects.filter(intervention__plan__case_id__in=case_ids, given=True)
        .values("intervention__plan__case_id", "intervention__item__category_id")
        .annotate(sessions=Sum("sessions"), minutes=Sum("minutes"))
        .order_by()
    )
    for row in rows:
        sums[row["intervention__plan__case_id"]][row["intervention__item__category_id"]] = (
            row["sessions"] or 0,
            row["minutes"] or 0,
        )
    return sums


def _goal_results(case_ids: list[int]) -> dict[int, Counter[str]]:
    """Per case: how many goals the last review found met, partly met, not met, or none."""
    goals = list(Goal.objects.filter(plan__case_id__in=case_ids).values_list("pk", "plan__case_id"))
    last: dict[int, str] = {}
    reviews = (
        GoalReview.objects.filter(goal_id__in=[pk for pk, _case in goals])
        .order_by("goal_id", "-followup__number", "-pk")
        .values_list("goal_id", "result")
    )
    for goal_id, result in reviews:
        last.setdefault(goal_id, result)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for goal_id, case_id in goals:
        counts[case_id][last.get(goal_id, "")] += 1
    return counts


def _intake_figures(
    referral: Referral, closure: Closure | None, months: int
) -> tuple[Any, datetime.date | None, datetime.date | None]:
    if closure is not None:
        for snapshot in closure.absences.all():
            if snapshot.span == ClosureAbsence.Span.INTAKE:
                return snapshot, snapshot.period_start, snapshot.period_end
    submitted = referral.submitted_at or referral.created_at
    start, end = absence.full_months_before(timezone.localdate(submitted), months)
    figures: AbsenceFigures = absence.measure(referral.case.student_id, start, end)
    return figures, start, end


def _closure_snapshot(closure: Closure | None) -> ClosureAbsence | None:
    if closure is None:
        return None
    for snapshot in closure.absences.all():
        if snapshot.span == ClosureAbsence.Span.CLOSURE:
            return snapshot
    return None


def _categories(district: District) -> list[ToolboxCategory]:
    return list(
        ToolboxCategory.objects.filter(municipality_id=district.municipality_id).order_by(
            "catalogue", "order", "name"
        )
    )


def _category_columns(categories: list[ToolboxCategory]) -> dict[int, tuple[str, str]]:
    columns: dict[int, tuple[str, str]] = {}
    for category in categories:
        prefix = "insats" if category.catalogue == Catalogue.TOOLBOX else "skolans_insats"
        slug = slugify(category.name).replace("-", "_") or str(category.pk)
        columns[category.pk] = (f"{prefix}_{slug}_tillfallen", f"{prefix}_{slug}_timmar")
    return columns


BASE_COLUMNS = [
    "lopnummer",
    "kon",
    "arskurs",
    "alder_vid_intag",
    "skola",
    "intag_manad",
    "status",
    "franvaro_intag_procent",
    "giltig_franvaro_intag_procent",
    "intag_period",
    "franvaro_avslut_procent",
    "giltig_franvaro_avslut_procent",
    "avslut_period",
    *CAUSE_COLUMNS.values(),
]
TAIL_COLUMNS = [
    "mal_antal",
    "mal_uppnadda",
    "mal_delvis",
    "mal_ej_uppnadda",
    "mal_ej_bedomda",
    "malen_uppnadda",
    "avslutsorsak",
    "avslut_manad",
    "genomford",
    "nojdhet_elev",
    "nojdhet_vardnadshavare",
]


def _gender_label(value: str) -> str:
    return str(Gender(value).label) if value in Gender.values else value


def _closure_reason_label(value: str) -> str:
    return str(ClosureReason(value).label) if value in ClosureReason.values else ""


def _order_key(case_public_id: Any) -> str:
    """Rows in an order that says nothing about when or which: a hash of the case id."""
    return hashlib.sha256(str(case_public_id).encode()).hexdigest()


def participant_table(district: District, start: datetime.date, end: datetime.date) -> Table:
    """The rows of the district's cases with intake in [start, end], before suppression
    (the caller applies ``participant_suppression``). A fixed number of queries, plus one
    per case still open (its intake absence is measured then)."""
    referrals = accepted_referrals(district, start, end)
    case_ids = [referral.case_id for referral in referrals]
    policy = FollowUpPolicy.objects.filter(municipality_id=district.municipality_id).first()
    months = policy.closure_period_months if policy else 2
    closures = _closures(case_ids)
    causes = _causes(case_ids)
    deliveries = _deliveries(case_ids)
    goal_counts = _goal_results(case_ids)
    categories = _categories(district)
    category_columns = _category_columns(categories)
    columns = [*BASE_COLUMNS]
    for sessions_column, hours_column in category_columns.values():
        columns += [sessions_column, hours_column]
    columns += TAIL_COLUMNS

    rows: list[tuple[str, dict[str, Any]]] = []
    for referral in referrals:
        case = referral.case
        closure = closures.get(case.pk)
        intake = intake_day(referral)
        intake_figures, intake_start, intake_end = _intake_figures(referral, closure, months)
        intake_total, intake_valid = _pct(intake_figures)
        closing = _closure_snapshot(closure)
        closing_total, closing_valid = _pct(closing)
        groups = causes.get(case.pk)
        results = goal_counts.get(case.pk, Counter())
        answers: dict[str, list[int]] = defaultdict(list)
        if closure is not None:
            for answer in closure.answers.all():
                answers[answer.respondent] += [answer.satisfied, answer.helped, answer.listened_to]
        closed_on = closure.closed_on if closure else None
        if closed_on is None and case.closed_at is not None:
            closed_on = timezone.localdate(case.closed_at)
        row: dict[str, Any] = {
            "kon": _gender_label(referral.gender),
            "arskurs": referral.grade,
            "alder_vid_intag": age_on(case.student.earliest_birth_date, intake),
            "skola": case.school.name,
            "intag_manad": _month(intake),
            "status": CLOSED if not case.is_open else ONGOING,
            "franvaro_intag_procent": intake_total,
            "giltig_franvaro_intag_procent": intake_valid,
            "intag_period": _period(intake_start, intake_end),
            "franvaro_avslut_procent": closing_total,
            "giltig_franvaro_avslut_procent": closing_valid,
            "avslut_period": _period(closing.period_start, closing.period_end) if closing else "",
        }
        for group, column in CAUSE_COLUMNS.items():
            row[column] = "" if groups is None else _yes_no(group in groups)
        given = deliveries.get(case.pk, {})
        for category_id, (sessions_column, hours_column) in category_columns.items():
            sessions, minutes = given.get(category_id, (0, 0))
            row[sessions_column] = sessions
            row[hours_column] = _hours(minutes)
        row.update(
            {
                "mal_antal": sum(results.values()),
                "mal_uppnadda": results[GoalResult.MET],
                "mal_delvis": results[GoalResult.PARTLY],
                "mal_ej_uppnadda": results[GoalResult.NOT_MET],
                "mal_ej_bedomda": results[""],
                "malen_uppnadda": GOALS_MET.get(closure.goals_met, "") if closure else "",
                "avslutsorsak": _closure_reason_label(case.closure_reason),
                "avslut_manad": _month(closed_on) if not case.is_open else "",
                "genomford": (COMPLETED if closure.completed else ENDED_EARLY) if closure else "",
                "nojdhet_elev": _mean(answers[Respondent.STUDENT]),
                "nojdhet_vardnadshavare": _mean(answers[Respondent.GUARDIAN]),
            }
        )
        rows.append((_order_key(case.public_id), row))
    rows.sort(key=lambda entry: entry[0])
    return Table(columns=columns, rows=[row for _key, row in rows])


def districts_for_coordinator(user: access.AnyUser) -> QuerySet[District]:
    """The districts the user coordinates (held at the district or its municipality)."""
    return District.objects.filter(
        pk__in=access.schools_where(user, Capability.COORDINATE).values("district_id")
    ).order_by("municipality__name", "name")
