"""The staircase's "continued" (004): each step follows the one before.

A student who enters high still gets the lower steps' work; the principal is told at step
3; late arrivals that continue reach the principal and the student health team. Each rule at
its boundaries, and each switch of the municipality's policy."""

from __future__ import annotations

import datetime

import pytest

from attendance.models import Alert, AlertRecipient, DueKind, Rule, StaircasePolicy
from attendance.rollup import rollup_month
from attendance.staircase import evaluate_month
from sst.models import Role
from tests.factories import UserFactory, grant

from .lessons import month_absence

SEP = datetime.date(2025, 9, 1)
OCT = datetime.date(2025, 10, 1)
NOV = datetime.date(2025, 11, 1)
STEP_RULES = {Rule.STEP_2, Rule.STEP_3, Rule.STEP_4}


@pytest.fixture
def team(world):
    grant(UserFactory(username="special_educator_a"), Role.SPECIAL_EDUCATOR, world.school_a)
    grant(UserFactory(username="psychologist_a"), Role.SCHOOL_PSYCHOLOGIST, world.school_a)
    return world


def refresh(*months: datetime.date) -> None:
    for month in months:
        rollup_month(month)
        evaluate_month(month)


def step_alerts(student, month: datetime.date) -> set[str]:
    return set(
        Alert.objects.filter(student=student, period_start=month, rule__in=STEP_RULES).values_list(
            "rule", flat=True
        )
    )


def tasks_of(student) -> dict[str, set[str]]:
    """{username: the tasks they were given} over all the student's alerts."""
    found: dict[str, set[str]] = {}
    for username, task in AlertRecipient.objects.filter(alert__student=student).values_list(
        "user__username", "task"
    ):
        found.setdefault(username, set()).add(task)
    return found


def policy(world, **changes) -> StaircasePolicy:
    saved, _created = StaircasePolicy.objects.get_or_create(municipality=world.municipality)
    for name, value in changes.items():
        setattr(saved, name, value)
    saved.save()
    return saved


# ---------------------------------------------------------------- entering high


@pytest.mark.parametrize(
    ("absent", "expected"),
    [
        (99, set()),  # 9.9 %: below step 2
        (100, {Rule.STEP_2}),  # 10.0 %: step 2 is "at least"
        (149, {Rule.STEP_2}),
        (150, {Rule.STEP_2, Rule.STEP_3}),  # 15.0 %: step 3, and the checklist before it
        (200, {Rule.STEP_2, Rule.STEP_3}),  # 20.0 %: step 4 is "more than"
        (201, {Rule.STEP_2, Rule.STEP_3, Rule.STEP_4}),
        (230, {Rule.STEP_2, Rule.STEP_3, Rule.STEP_4}),  # the first month at 23 %
    ],
)
def test_a_first_month_gives_every_step_up_to_it(team, absent, expected):
    month_absence(team.student_a1, OCT, absent=absent)
    refresh(OCT)
    assert step_alerts(team.student_a1, OCT) == expected


def test_entering_at_23_percent_the_mentor_gets_the_checklist_and_the_principal_the_decision(
    team,
):
    month_absence(team.student_a1, OCT, absent=230)
    refresh(OCT)
    tasks = tasks_of(team.student_a1)
    assert tasks["mentor_a1"] == {DueKind.CHECKLIST, DueKind.REPORT_TO_EHT}
    assert tasks["principal_a"] == {DueKind.ASSIGN_MAPPING, DueKind.ESCALATION}
    assert tasks["counsellor_a"] == {DueKind.SOCIAL_MAPPING}
    assert tasks["special_educator_a"] == {DueKind.PEDAGOGICAL_MAPPING}
    assert tasks["nurse_a"] == {DueKind.HEALTH_TALK}
    assert "psychologist_a" not in tasks  # no step-3 task of their own in 004


def test_a_step_reached_the_month_before_is_not_given_again_when_the_student_climbs(team):
    month_absence(team.student_a1, SEP, absent=120)  # step 2 in September
    month_absence(team.student_a1, OCT, absent=160)  # continued: step 3 in October
    refresh(SEP, OCT)
    assert step_alerts(team.student_a1, SEP) == {Rule.STEP_2}
    assert step_alerts(team.student_a1, OCT) == {Rule.STEP_3}


def test_climbing_from_step_3_to_step_4_adds_only_step_4(team):
    month_absence(team.student_a1, SEP, absent=160)
    month_absence(team.student_a1, OCT, absent=250)
    refresh(SEP, OCT)
    assert step_alerts(team.student_a1, SEP) == {Rule.STEP_2, Rule.STEP_3}
    assert step_alerts(team.student_a1, OCT) == {Rule.STEP_4}


def test_after_a_month_below_the_staircase_the_steps_begin_again(team):
    month_absence(team.student_a1, SEP, absent=160)
    month_absence(team.student_a1, OCT, absent=0)
    month_absence(team.student_a1, NOV, absent=160)
    refresh(SEP, OCT, NOV)
    assert step_alerts(team.student_a1, NOV) == {Rule.STEP_2, Rule.STEP_3}


def test_the_lower_steps_on_entry_can_be_switched_off(team):
    policy(team, lower_steps_on_entry=False)
    month_absence(team.student_a1, OCT, absent=230)
    refresh(OCT)
    assert step_alerts(team.student_a1, OCT) == {Rule.STEP_4}


def test_re_evaluating_changes_nothing(team):
    month_absence(team.student_a1, OCT, absent=230)
    refresh(OCT)
    before = AlertRecipient.objects.count(), Alert.objects.count()
    refresh(OCT)
    assert (AlertRecipient.objects.count(), Alert.objects.count()) == before


# ---------------------------------------------------------------- the principal at step 3


def test_the_principal_is_told_at_step_3(team):
    month_absence(team.student_a1, SEP, absent=120)
    month_absence(team.student_a1, OCT, absent=150)
    refresh(SEP, OCT)
    step_3 = Alert.objects.get(student=team.student_a1, rule=Rule.STEP_3)
    assert set(step_3.recipients.values_list("user__username", "task")) == {
        ("mentor_a1", DueKind.REPORT_TO_EHT),
        ("principal_a", DueKind.ASSIGN_MAPPING),
        ("counsellor_a", DueKind.SOCIAL_MAPPING),
        ("special_educator_a", DueKind.PEDAGOGICAL_MAPPING),
        ("nurse_a", DueKind.HEALTH_TALK),
    }


def test_telling_the_principal_at_step_3_can_be_switched_off(team):
    policy(team, principal_at_step_3=False)
    month_absence(team.student_a1, OCT, absent=160)
    refresh(OCT)
    step_3 = Alert.objects.get(student=team.student_a1, rule=Rule.STEP_3)
    assert "principal_a" not in set(step_3.recipients.values_list("user__username", flat=True))


# ---------------------------------------------------------------- late arrivals continue


def late_months(world, *counts: int) -> None:
    for month, late in zip((SEP, OCT, NOV), counts, strict=False):
        month_absence(world.student_a1, month, late=late)


@pytest.mark.parametrize(
    ("counts", "continued"),
    [
        ((5, 5), True),  # repeated (≥ 5) in two consecutive months
        ((5, 4), False),  # the second month one short
        ((4, 5), False),  # the first month one short: only this month's guardian contact
        ((0, 9), False),
    ],
)
def test_late_arrivals_that_continue_reach_the_principal_and_the_team(team, counts, continued):
    late_months(team, *counts)
    refresh(SEP, OCT)
    alert = Alert.objects.filter(student=team.student_a1, rule=Rule.LATE_CONTINUED).first()
    assert (alert is not None) is continued
    if alert is not None:
        assert (alert.period_start, alert.period_end) == (SEP, datetime.date(2025, 10, 31))
        assert alert.value_count == sum(counts)
        recipients = set(alert.recipients.values_list("user__username", flat=True))
        assert recipients == {
            "principal_a",
            "counsellor_a",
            "nurse_a",
            "special_educator_a",
            "psychologist_a",
        }
        assert set(alert.recipients.values_list("task", flat=True)) == {DueKind.LATE_REPORT}
    # The mentor contacts the guardian each month the late arrivals are repeated.
    late_alerts = Alert.objects.filter(student=team.student_a1, rule=Rule.LATE)
    assert late_alerts.count() == sum(1 for c in counts if c >= 5)


def test_how_many_months_of_late_arrivals_is_a_setting(team):
    policy(team, late_continued_months=3)
    late_months(team, 5, 5, 5)
    refresh(SEP, OCT)
    assert not Alert.objects.filter(rule=Rule.LATE_CONTINUED).exists()
    refresh(NOV)
    alert = Alert.objects.get(rule=Rule.LATE_CONTINUED)
    assert (alert.period_start, alert.period_end) == (SEP, datetime.date(2025, 11, 30))


def test_continued_late_arrivals_can_be_switched_off(team):
    policy(team, late_continued_enabled=False)
    late_months(team, 6, 6)
    refresh(SEP, OCT)
    assert not Alert.objects.filter(rule=Rule.LATE_CONTINUED).exists()
    assert Alert.objects.filter(rule=Rule.LATE).count() == 2
