"""The absence staircase: steps per month and rule hits, turned into alerts.

``evaluate_month`` sets each student's step for the month (one UPDATE per policy), finds the
rule hits with a handful of aggregate queries, and creates alerts unique per
(student, rule, period) for the people who must act. Re-running it changes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Min, OuterRef, Subquery, Sum

from sst import access
from sst.access import Capability
from sst.models import Municipality

from . import queue
from .calendar import calendar_for
from .locks import lock_absence_writes
from .models import (
    Alert,
    AlertRecipient,
    DueKind,
    MonthlyAbsence,
    Rule,
    StaircasePolicy,
    next_month,
    percent,
)
from .rollup import month_start, term_of

# What each rule makes due (the alert's headline) and who is alerted: the capabilities whose
# holders (sst/capabilities.py says which roles, at which places) each get their own task.
RULE_DUE: dict[str, DueKind] = {
    Rule.STEP_2: DueKind.CHECKLIST,
    Rule.STEP_3: DueKind.EHT_MAPPING,
    Rule.STEP_4: DueKind.ESCALATION,
    Rule.SINGLE_MONTH: DueKind.ESCALATION,
    Rule.TWO_MONTHS: DueKind.ESCALATION,
    Rule.INVALID_STREAK: DueKind.REPORT,
    Rule.TERM: DueKind.INTENSIVE,
    Rule.LATE: DueKind.GUARDIAN_CONTACT,
    Rule.LATE_CONTINUED: DueKind.LATE_REPORT,
}
RULE_ALERTED: dict[str, tuple[Capability, ...]] = {
    Rule.STEP_2: (Capability.ALERTED_CHECKLIST,),
    # 004 step 4: the mentor informs the principal, who gives the counsellor the mapping; the
    # special educator maps the school work; the nurse holds a health talk if it is illness.
    Rule.STEP_3: (
        Capability.ALERTED_EHT_MAPPING,
        Capability.ALERTED_SOCIAL_MAPPING,
        Capability.ALERTED_PEDAGOGICAL_MAPPING,
        Capability.ALERTED_HEALTH_TALK,
        Capability.ALERTED_STEP_3,
    ),
    Rule.STEP_4: (Capability.ALERTED_ESCALATION,),
    Rule.SINGLE_MONTH: (Capability.ALERTED_ESCALATION,),
    Rule.TWO_MONTHS: (Capability.ALERTED_ESCALATION,),
    Rule.INVALID_STREAK: (Capability.ALERTED_REPORT,),
    Rule.TERM: (Capability.ALERTED_INTENSIVE,),
    Rule.LATE: (Capability.ALERTED_GUARDIAN_CONTACT,),
    # 004, late arrivals: if they continue, the mentor reports it to the principal and the EHT.
    Rule.LATE_CONTINUED: (Capability.ALERTED_LATE_ARRIVALS,),
}
# The task each alerted capability gives its holder (AlertRecipient.task).
TASK_OF: dict[Capability, DueKind] = {
    Capability.ALERTED_CHECKLIST: DueKind.CHECKLIST,
    Capability.ALERTED_EHT_MAPPING: DueKind.REPORT_TO_EHT,
    Capability.ALERTED_SOCIAL_MAPPING: DueKind.SOCIAL_MAPPING,
    Capability.ALERTED_PEDAGOGICAL_MAPPING: DueKind.PEDAGOGICAL_MAPPING,
    Capability.ALERTED_HEALTH_TALK: DueKind.HEALTH_TALK,
    Capability.ALERTED_STEP_3: DueKind.ASSIGN_MAPPING,
    Capability.ALERTED_ESCALATION: DueKind.ESCALATION,
    Capability.ALERTED_REPORT: DueKind.REPORT,
    Capability.ALERTED_INTENSIVE: DueKind.INTENSIVE,
    Capability.ALERTED_GUARDIAN_CONTACT: DueKind.GUARDIAN_CONTACT,
    Capability.ALERTED_LATE_ARRIVALS: DueKind.LATE_REPORT,
}


def alerted_by(policy: StaircasePolicy, rule: str) -> tuple[Capability, ...]:
    """The capabilities alerted by ``rule`` under the municipality's policy."""
    alerted = RULE_ALERTED[rule]
    if rule == Rule.STEP_3 and not policy.principal_at_step_3:
        alerted = tuple(c for c in alerted if c != Capability.ALERTED_STEP_3)
    return alerted


STEP_RULES = {2: Rule.STEP_2, 3: Rule.STEP_3, 4: Rule.STEP_4}


@dataclass(frozen=True)
class RuleHit:
    student_id: int
    rule: str
    period_start: datetime.date
    period_end: datetime.date
    value_pct: Decimal | None = None
    value_count: int | None = None


def policy_for(municipality: Municipality) -> StaircasePolicy:
    policy, _created = StaircasePolicy.objects.get_or_create(municipality=municipality)
    return policy


_STUDENTS_OF_MUNICIPALITY = """
    SELECT s.id FROM sst_student s
    JOIN sst_school sc ON sc.id = s.school_id
    JOIN sst_district d ON d.id = sc.district_id
    WHERE d.municipality_id = %s
"""


# What the raw queries below are given: dates, ids and the policy's thresholds.
_SqlParam = int | Decimal | datetime.date


def _rows(sql: str, params: Sequence[_SqlParam]) -> list[tuple[Any, ...]]:
    """The query's rows. Their values are whatever the database driver returns (an aggregate
    may come back as an int or a Decimal, a date as a date or a string), so callers convert."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def set_steps(policy: StaircasePolicy, month: datetime.date) -> None:
    """Step per student for the month: ≥ step 2, ≥ step 3, > step 4 (minutes-exact).

    Only rows whose step changes are written (a nightly re-evaluation rewrites a few rows,
    not every student's)."""
    step = """CASE
        WHEN (valid_min + invalid_min) * 100 > %s * scheduled_min THEN 4
        WHEN (valid_min + invalid_min) * 100 >= %s * scheduled_min THEN 3
        WHEN (valid_min + invalid_min) * 100 >= %s * scheduled_min THEN 2
        ELSE 0 END"""
    thresholds = [policy.step4_pct, policy.step3_pct, policy.step2_pct]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE attendance_monthlyabsence SET step = {step}
            WHERE month = %s AND scheduled_min > 0 AND step <> {step}
              AND student_id IN ({_STUDENTS_OF_MUNICIPALITY})
            """,
            [*thresholds, month, *thresholds, policy.municipality_id],
        )


def find_hits(policy: StaircasePolicy, month: datetime.date) -> list[RuleHit]:
    """Every rule hit for the month (and the periods that end in it)."""
    month = month_start(month)
    month_end = next_month(month) - datetime.timedelta(days=1)
    municipality = policy.municipality_id
    hits: list[RuleHit] = []

    previous = month_start(month - datetime.timedelta(days=1))
    monthly = (
        MonthlyAbsence.objects.filter(
            month=month, scheduled_min__gt=0, student__school__district__municipality=municipality
        )
        .annotate(
            previous_step=Subquery(
                MonthlyAbsence.objects.filter(
                    student_id=OuterRef("student_id"), month=previous, scheduled_min__gt=0
                ).values("step")[:1]
            )
        )
        .values_list(
            "student_id",
            "step",
            "valid_min",
            "invalid_min",
            "scheduled_min",
            "late_count",
            "previous_step",
        )
    )
    for student_id, step, valid, invalid, scheduled, late, previous_step in monthly:
        pct = percent(valid + invalid, scheduled)
        if step in STEP_RULES:
            hits.append(RuleHit(student_id, STEP_RULES[step], month, month_end, value_pct=pct))
            # "Continued" (004): each step follows the one before. A student who enters
            # above step 2 also gets the work of the steps they skipped, unless they were at
            # that step (or higher) the month before, when that work was given already.
            if policy.lower_steps_on_entry:
                for lower in range(max(2, (previous_step or 0) + 1), step):
                    hits.append(
                        RuleHit(student_id, STEP_RULES[lower], month, month_end, value_pct=pct)
                    )
        if (
            policy.single_month_enabled
            and (valid + invalid) * 100 >= policy.single_month_pct * scheduled
        ):
            hits.append(RuleHit(student_id, Rule.SINGLE_MONTH, month, month_end, value_pct=pct))
        if policy.late_enabled and late >= policy.late_count:
            hits.append(RuleHit(student_id, Rule.LATE, month, month_end, value_count=late))

    if policy.late_enabled and policy.late_continued_enabled:
        hits.extend(late_continued(policy, month))

    if policy.two_months_enabled:
        for student_id, absent, scheduled in _rows(
            f"""
            SELECT cur.student_id, cur.valid_min + cur.invalid_min + prev.valid_min
                   + prev.invalid_min, cur.scheduled_min + prev.scheduled_min
            FROM attendance_monthlyabsence cur
            JOIN attendance_monthlyabsence prev
              ON prev.student_id = cur.student_id AND prev.month = %s
            WHERE cur.month = %s AND cur.scheduled_min > 0 AND prev.scheduled_min > 0
              AND (cur.valid_min + cur.invalid_min) * 100 >= %s * cur.scheduled_min
              AND (prev.valid_min + prev.invalid_min) * 100 >= %s * prev.scheduled_min
              AND cur.student_id IN ({_STUDENTS_OF_MUNICIPALITY})
            """,
            [previous, month, policy.two_months_pct, policy.two_months_pct, municipality],
        ):
            hits.append(
                RuleHit(
                    int(student_id),
                    Rule.TWO_MONTHS,
                    previous,
                    month_end,
                    value_pct=percent(int(absent), int(scheduled)),
                )
            )

    if policy.term_enabled:
        _name, term_start, term_end = term_of(month)
        for student_id, absent, scheduled in _rows(
            f"""
            SELECT student_id, SUM(valid_min + invalid_min), SUM(scheduled_min)
            FROM attendance_monthlyabsence
            WHERE month >= %s AND month <= %s AND student_id IN ({_STUDENTS_OF_MUNICIPALITY})
            GROUP BY student_id
            HAVING SUM(scheduled_min) > 0
               AND SUM(valid_min + invalid_min) * 100 >= %s * SUM(scheduled_min)
            """,
            [term_start, month, municipality, policy.term_pct],
        ):
            hits.append(
                RuleHit(
                    int(student_id),
                    Rule.TERM,
                    term_start,
                    term_end,
                    value_pct=percent(int(absent), int(scheduled)),
                )
            )

    if policy.invalid_streak_enabled:
        hits.extend(invalid_streaks(policy, month))
    return hits


def late_continued(policy: StaircasePolicy, month: datetime.date) -> list[RuleHit]:
    """Students with repeated late arrivals (at least ``late_count`` in a month) in each of
    the last ``late_continued_months`` months up to ``month``: the mentor has contacted the
    guardian and the late arrivals continue (004), so the principal and the EHT are told.

    The period runs from the first of those months to the end of ``month``; one query."""
    months = max(2, policy.late_continued_months)
    first = month
    for _i in range(months - 1):
        first = month_start(first - datetime.timedelta(days=1))
    month_end = next_month(month) - datetime.timedelta(days=1)
    rows = (
        MonthlyAbsence.objects.filter(
            month__gte=first,
            month__lte=month,
            late_count__gte=policy.late_count,
            student__school__district__municipality=policy.municipality_id,
        )
        .values("student_id")
        .annotate(months=Count("pk"), late=Sum("late_count"))
        .filter(months=months)
        .values_list("student_id", "late")
        .order_by()
    )
    return [
        RuleHit(student_id, Rule.LATE_CONTINUED, first, month_end, value_count=int(late))
        for student_id, late in rows
    ]


def invalid_streaks(policy: StaircasePolicy, month: datetime.date) -> list[RuleHit]:
    """Runs of consecutive school days with invalid absence, longer than the policy allows.

    A school day is a day the student had lessons that is a school day in the
    municipality's school calendar (``attendance.calendar``). Weekends, holidays and breaks
    have no lessons, so they neither count nor break a run; and a day with lessons that the
    calendar says is no school day (lessons recorded in höstlov, on a study day, on a
    public holiday) is left out the same way: it neither counts nor breaks a run. A day
    counts when its invalid minutes (late arrivals included) reach the policy's share of
    its scheduled minutes. Looks at the month and the one before, so a run across the month
    boundary is seen whole, and further back for a run that was alerted and is still open.

    Still one query: the calendar's non-school days in the window go in as a parameter list.
    """
    window_start = month_start(month_start(month) - datetime.timedelta(days=1))
    window_end = next_month(month_start(month))
    # A run already alerted and still open at the window's start began earlier: look back to
    # its start, so a run longer than a month keeps its one alert (keyed by its first day).
    open_since = Alert.objects.filter(
        rule=Rule.INVALID_STREAK,
        period_start__lt=window_start,
        period_end__gte=window_start,
        student__school__district__municipality=policy.municipality_id,
    ).aggregate(since=Min("period_start"))["since"]
    if open_since is not None:
        window_start = open_since
    no_school = calendar_for(policy.municipality_id).non_school_days(
        window_start, window_end - datetime.timedelta(days=1)
    )
    # Placeholders only ("%s, %s, …"), one per day; the days themselves are parameters.
    not_on_days = f"AND date NOT IN ({', '.join(['%s'] * len(no_school))})" if no_school else ""
    rows = _rows(
        f"""
        WITH days AS (
            SELECT student_id, date, SUM(scheduled_min) AS scheduled,
                   SUM(CASE WHEN absence_type IN ('invalid', 'late')
                            THEN absent_min ELSE 0 END) AS invalid
            FROM attendance_lesson
            WHERE date >= %s AND date < %s {not_on_days}
              AND student_id IN ({_STUDENTS_OF_MUNICIPALITY})
            GROUP BY student_id, date
        ), numbered AS (
            SELECT student_id, date,
                   CASE WHEN invalid * 100 >= %s * scheduled THEN 1 ELSE 0 END AS bad,
                   ROW_NUMBER() OVER (PARTITION BY student_id ORDER BY date) AS day_no
            FROM days
        ), runs AS (
            SELECT student_id, date,
                   day_no - ROW_NUMBER() OVER (PARTITION BY student_id ORDER BY date) AS run
            FROM numbered WHERE bad = 1
        )
        SELECT student_id, MIN(date), MAX(date), COUNT(*)
        FROM runs GROUP BY student_id, run HAVING COUNT(*) > %s
        """,
        [
            window_start,
            window_end,
            *no_school,
            policy.municipality_id,
            policy.invalid_day_share_pct,
            policy.invalid_streak_school_days,
        ],
    )
    return [
        RuleHit(
            int(student_id),
            Rule.INVALID_STREAK,
            _as_date(first),
            _as_date(last),
            value_count=int(days),
        )
        for student_id, first, last, days in rows
    ]


def _as_date(value: object) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Evaluation:
    hits: int
    new_alerts: int
    new_recipients: int


def evaluate_month(month: datetime.date) -> Evaluation:
    """Steps, rule hits and alerts for every municipality's students, for one month."""
    month = month_start(month)
    totals = [0, 0, 0]
    for municipality in Municipality.objects.all():
        policy = policy_for(municipality)
        with transaction.atomic():
            lock_absence_writes()
            set_steps(policy, month)
            hits = find_hits(policy, month)
            created, recipients = create_alerts(hits, policy)
        totals = [totals[0] + len(hits), totals[1] + created, totals[2] + recipients]
    if totals[2]:
        queue.alert_notices_after_commit()
    return Evaluation(*totals)


def create_alerts(hits: list[RuleHit], policy: StaircasePolicy) -> tuple[int, int]:
    """Alerts for hits not alerted before, and their recipients; returns counts created."""
    if not hits:
        return 0, 0
    student_ids = {hit.student_id for hit in hits}
    existing = {
        (student_id, rule, start): (pk, end)
        for pk, student_id, rule, start, end in Alert.objects.filter(
            student_id__in=student_ids
        ).values_list("pk", "student_id", "rule", "period_start", "period_end")
    }
    new, grown = [], []
    for hit in hits:
        key = (hit.student_id, hit.rule, hit.period_start)
        if key not in existing:
            new.append(hit)
        elif existing[key][1] < hit.period_end:  # a continuing run: the period grows
            grown.append((existing[key][0], hit))
    for pk, hit in grown:
        Alert.objects.filter(pk=pk).update(period_end=hit.period_end, value_count=hit.value_count)
    Alert.objects.bulk_create(
        [
            Alert(
                student_id=hit.student_id,
                rule=hit.rule,
                period_start=hit.period_start,
                period_end=hit.period_end,
                value_pct=hit.value_pct,
                value_count=hit.value_count,
                due=RULE_DUE[hit.rule],
            )
            for hit in new
        ],
        ignore_conflicts=True,  # a concurrent evaluation may have created the same alert
    )
    recipients = _recipients_for(new, policy)
    before = AlertRecipient.objects.filter(alert__student_id__in=student_ids).count()
    AlertRecipient.objects.bulk_create(recipients, ignore_conflicts=True)
    after = AlertRecipient.objects.filter(alert__student_id__in=student_ids).count()
    return len(new), after - before


def _recipients_for(hits: list[RuleHit], policy: StaircasePolicy) -> list[AlertRecipient]:
    """The people who hold an alerted capability today, for each new alert's student: one
    task each per capability (a person holding two gets both tasks)."""
    if not hits:
        return []
    student_ids = {h.student_id for h in hits}
    wanted = {c for h in hits for c in alerted_by(policy, h.rule)}
    held = access.holders_of_students(student_ids, wanted)
    alerts = {
        (a.student_id, a.rule, a.period_start): a.pk
        for a in Alert.objects.filter(student_id__in=student_ids).only(
            "pk", "student_id", "rule", "period_start"
        )
    }
    rows = []
    for hit in hits:
        alert_id = alerts[(hit.student_id, hit.rule, hit.period_start)]
        for capability in alerted_by(policy, hit.rule):
            for holder in held.get((hit.student_id, capability), []):
                rows.append(
                    AlertRecipient(
                        alert_id=alert_id,
                        user_id=holder.user_id,
                        role=holder.role,
                        task=TASK_OF[capability],
                    )
                )
    return rows
