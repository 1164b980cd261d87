"""Every staircase rule at its boundaries, and the policy that switches and tunes them."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from attendance.models import Alert, MonthlyAbsence, Rule
from attendance.rollup import rollup_month
from attendance.staircase import evaluate_month, find_hits, policy_for
from tests.factories import (
    DistrictFactory,
    MentorGroupFactory,
    MunicipalityFactory,
    SchoolFactory,
    StudentFactory,
)

from .lessons import INVALID, LATE, PRESENT, VALID, lesson, month_absence, school_day

AUG = datetime.date(2025, 8, 1)
SEP = datetime.date(2025, 9, 1)
OCT = datetime.date(2025, 10, 1)
NOV = datetime.date(2025, 11, 1)
HT25 = (datetime.date(2025, 8, 1), datetime.date(2025, 12, 31))


# A student's first month at step 3 or 4 also gives the lower steps' alerts (the default
# StaircasePolicy.lower_steps_on_entry; tests/attendance/test_staircase_continued.py).
ENTERS_3 = {Rule.STEP_2, Rule.STEP_3}
ENTERS_4 = {Rule.STEP_2, Rule.STEP_3, Rule.STEP_4}


def refresh(*months: datetime.date) -> None:
    for month in months:
        rollup_month(month)
        evaluate_month(month)


def step(student, month=OCT) -> int:
    return MonthlyAbsence.objects.get(student=student, month=month).step


def rules(student) -> set[str]:
    return set(Alert.objects.filter(student=student).values_list("rule", flat=True))


def alert(student, rule: str) -> Alert:
    return Alert.objects.get(student=student, rule=rule)


def days(first: str, last: str, *, skip: tuple[str, ...] = ()) -> list[datetime.date]:
    """Weekdays from first to last, inclusive, less ``skip`` (holidays without lessons)."""
    day, end, out = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last), []
    while day <= end:
        if day.weekday() < 5 and day.isoformat() not in skip:
            out.append(day)
        day += datetime.timedelta(days=1)
    return out


def invalid_days(student, dates: list[datetime.date]) -> None:
    for day in dates:
        school_day(student, day, lessons=2, kind=INVALID)


def present_day(student, day: str) -> None:
    school_day(student, day, lessons=2, kind=PRESENT)


# ---------------------------------------------------------------- steps, minutes-exact


@pytest.mark.parametrize(
    ("absent_per_mille", "expected_step", "expected_rules"),
    [
        (0, 0, set()),
        (99, 0, set()),  # 9.9 %
        (100, 2, {Rule.STEP_2}),  # exactly 10.0 %: "at least"
        (149, 2, {Rule.STEP_2}),  # 14.9 %
        # A first month at step 3 or 4 brings the lower steps' work too ("continued", 004).
        (150, 3, ENTERS_3),  # exactly 15.0 %: "at least"
        (199, 3, ENTERS_3),
        (200, 3, ENTERS_3),  # exactly 20.0 %: the top step is "more than"
        (201, 4, ENTERS_4),  # 20.1 %
        (399, 4, ENTERS_4),  # 39.9 %: not yet a high month
        (400, 4, ENTERS_4 | {Rule.SINGLE_MONTH}),  # 40 % in one month
        (1000, 4, ENTERS_4 | {Rule.SINGLE_MONTH, Rule.TERM}),  # and 100 % of the term
    ],
)
def test_monthly_step_at_its_boundaries(world, absent_per_mille, expected_step, expected_rules):
    s = world.student_a1
    month_absence(s, OCT, scheduled=1000, absent=absent_per_mille)
    refresh(OCT)
    assert step(s) == expected_step
    assert rules(s) == expected_rules
    for a in Alert.objects.filter(student=s).exclude(rule=Rule.TERM):
        assert (a.period_start, a.period_end) == (OCT, datetime.date(2025, 10, 31))
        assert a.value_pct == Decimal(absent_per_mille) / 10


def test_valid_and_invalid_absence_both_count_towards_the_step(world):
    s = world.student_a1
    for n, day in enumerate(days("2025-10-01", "2025-10-10")):  # 8 days × 2 lessons × 60
        kind = VALID if n < 2 else (INVALID if n < 3 else PRESENT)
        school_day(s, day, lessons=2, kind=kind, absent_lessons=1)
    refresh(OCT)  # 180 of 960 = 18.75 %
    assert step(s) == 3
    assert alert(s, Rule.STEP_3).value_pct == Decimal("18.8")


def test_step_and_due_of_each_step_alert(world):
    month_absence(world.student_a1, OCT, absent=120)
    month_absence(world.student_a2, OCT, absent=170)
    month_absence(world.student_b1, OCT, absent=230)
    refresh(OCT)
    assert alert(world.student_a1, Rule.STEP_2).due == "checklist"
    assert alert(world.student_a2, Rule.STEP_3).due == "eht_mapping"
    assert alert(world.student_b1, Rule.STEP_4).due == "escalation"


def test_a_student_without_lessons_has_no_step_and_no_alert(world):
    month_absence(world.student_a1, OCT, absent=500)
    refresh(OCT)
    assert not MonthlyAbsence.objects.filter(student=world.student_a2).exists()
    assert rules(world.student_a2) == set()


# ---------------------------------------------------------------- two consecutive months


@pytest.mark.parametrize(
    ("sep", "oct_", "hit"),
    [
        (200, 200, True),  # 20 % in each: "each at least"
        (250, 400, True),
        (199, 200, False),  # 19.9 % in the first month
        (200, 199, False),  # 19.9 % in the second month
    ],
)
def test_two_consecutive_months(world, sep, oct_, hit):
    s = world.student_a1
    month_absence(s, SEP, absent=sep)
    month_absence(s, OCT, absent=oct_)
    refresh(SEP, OCT)
    if hit:
        a = alert(s, Rule.TWO_MONTHS)
        assert (a.period_start, a.period_end) == (SEP, datetime.date(2025, 10, 31))
        assert a.value_pct == Decimal(sep + oct_) / 20
        assert a.due == "escalation"
    else:
        assert Rule.TWO_MONTHS not in rules(s)


def test_two_high_months_with_a_low_one_between_are_not_consecutive(world):
    s = world.student_a1
    month_absence(s, AUG, absent=300)
    month_absence(s, SEP, absent=0)
    month_absence(s, OCT, absent=300)
    refresh(AUG, SEP, OCT)
    assert Rule.TWO_MONTHS not in rules(s)


def test_two_months_needs_the_previous_month_to_have_lessons(world):
    month_absence(world.student_a1, OCT, absent=300)
    refresh(SEP, OCT)
    assert rules(world.student_a1) == ENTERS_4


# ---------------------------------------------------------------- over the term


@pytest.mark.parametrize(
    ("sep", "oct_", "hit"),
    [
        (450, 550, True),  # 1000 of 2000: exactly 50 %
        (450, 549, False),  # 999 of 2000: 49.95 %, below 50 by a minute
        (0, 1000, True),
    ],
)
def test_term_rule_at_fifty_percent_over_the_term(world, sep, oct_, hit):
    s = world.student_a1
    month_absence(s, SEP, absent=sep)
    month_absence(s, OCT, absent=oct_)
    refresh(SEP)
    assert Rule.TERM not in rules(s)  # September alone is below 50 %
    refresh(OCT)
    if hit:
        a = alert(s, Rule.TERM)
        assert (a.period_start, a.period_end) == HT25
        assert a.value_pct == Decimal("50.0")
        assert a.due == "intensive"
    else:
        assert Rule.TERM not in rules(s)


def test_term_rule_in_the_spring_term_starts_in_january(world):
    s = world.student_a1
    month_absence(s, datetime.date(2025, 12, 1), absent=1000)  # autumn: another term
    month_absence(s, datetime.date(2026, 1, 1), absent=400)
    month_absence(s, datetime.date(2026, 2, 1), absent=600)
    refresh(datetime.date(2025, 12, 1), datetime.date(2026, 1, 1), datetime.date(2026, 2, 1))
    periods = set(
        Alert.objects.filter(student=s, rule=Rule.TERM).values_list("period_start", "period_end")
    )
    assert periods == {
        (datetime.date(2025, 8, 1), datetime.date(2025, 12, 31)),
        (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)),
    }


# ---------------------------------------------------------------- late arrivals


@pytest.mark.parametrize(("late", "hit"), [(5, True), (4, False), (9, True)])
def test_repeated_late_arrivals_at_the_policy_count(world, late, hit):
    s = world.student_a1
    month_absence(s, OCT, absent=0, late=late)
    refresh(OCT)
    assert MonthlyAbsence.objects.get(student=s).late_count == late
    if hit:
        a = alert(s, Rule.LATE)
        assert (a.value_count, a.due) == (late, "guardian_contact")
    else:
        assert Rule.LATE not in rules(s)


# ---------------------------------------------------------------- continuous invalid absence

# October 2025: Monday 13 is a holiday (no lessons), as are the weekends.
HOLIDAY = ("2025-10-13",)


def test_eleven_school_days_across_a_weekend_and_a_holiday_are_a_run(world):
    s = world.student_a1
    present_day(s, "2025-10-03")
    run = days("2025-10-06", "2025-10-21", skip=HOLIDAY)
    assert len(run) == 11
    invalid_days(s, run)
    present_day(s, "2025-10-22")
    refresh(OCT)
    a = alert(s, Rule.INVALID_STREAK)
    assert (a.period_start, a.period_end, a.value_count) == (
        datetime.date(2025, 10, 6),
        datetime.date(2025, 10, 21),
        11,
    )
    assert a.due == "report"


def test_exactly_ten_school_days_are_not_more_than_two_weeks(world):
    s = world.student_a1
    present_day(s, "2025-10-03")
    run = days("2025-10-06", "2025-10-20", skip=HOLIDAY)
    assert len(run) == 10
    invalid_days(s, run)
    present_day(s, "2025-10-21")
    refresh(OCT)
    assert Rule.INVALID_STREAK not in rules(s)


def test_a_present_day_breaks_the_run(world):
    s = world.student_a1
    run = days("2025-10-06", "2025-10-22", skip=HOLIDAY)  # 12 days
    invalid_days(s, [d for d in run if d != datetime.date(2025, 10, 14)])
    present_day(s, "2025-10-14")
    refresh(OCT)
    assert Rule.INVALID_STREAK not in rules(s)


def test_a_day_of_valid_absence_breaks_the_run(world):
    s = world.student_a1
    run = days("2025-10-06", "2025-10-22", skip=HOLIDAY)
    invalid_days(s, [d for d in run if d != datetime.date(2025, 10, 14)])
    school_day(s, "2025-10-14", lessons=2, kind=VALID)
    refresh(OCT)
    assert Rule.INVALID_STREAK not in rules(s)


@pytest.mark.parametrize(
    ("lessons", "invalid_lessons", "hit"),
    [(2, 1, True), (3, 1, False)],  # half the day's minutes count; a third does not
)
def test_a_day_counts_from_the_policy_share_of_its_minutes(world, lessons, invalid_lessons, hit):
    s = world.student_a1
    run = days("2025-10-06", "2025-10-21", skip=HOLIDAY)
    invalid_days(s, [d for d in run if d != datetime.date(2025, 10, 14)])
    school_day(s, "2025-10-14", lessons=lessons, kind=INVALID, absent_lessons=invalid_lessons)
    refresh(OCT)
    assert (Rule.INVALID_STREAK in rules(s)) is hit


def test_late_minutes_count_as_invalid_in_a_run(world):
    s = world.student_a1
    run = days("2025-10-06", "2025-10-21", skip=HOLIDAY)
    invalid_days(s, [d for d in run if d != datetime.date(2025, 10, 14)])
    lesson(s, "2025-10-14", "08:00", absent=30, kind=LATE)
    lesson(s, "2025-10-14", "10:00", absent=30, kind=LATE)  # 60 of 120: half the day
    refresh(OCT)
    assert alert(s, Rule.INVALID_STREAK).value_count == 11


def test_a_run_across_the_month_boundary_is_seen_whole(world):
    s = world.student_a1
    present_day(s, "2025-09-22")
    september, october = days("2025-09-23", "2025-09-30"), days("2025-10-01", "2025-10-07")
    assert (len(september), len(october)) == (6, 5)
    invalid_days(s, september + october)
    present_day(s, "2025-10-08")
    refresh(SEP)
    assert Rule.INVALID_STREAK not in rules(s)  # six days in September
    refresh(OCT)
    a = alert(s, Rule.INVALID_STREAK)
    assert (a.period_start, a.period_end, a.value_count) == (
        datetime.date(2025, 9, 23),
        datetime.date(2025, 10, 7),
        11,
    )


def test_a_continuing_run_keeps_its_one_alert_and_grows(world):
    s = world.student_a1
    present_day(s, "2025-10-03")
    invalid_days(s, days("2025-10-06", "2025-10-21", skip=HOLIDAY))
    refresh(OCT)
    invalid_days(s, days("2025-10-22", "2025-10-24"))
    refresh(OCT)
    a = alert(s, Rule.INVALID_STREAK)
    assert (a.period_start, a.period_end, a.value_count) == (
        datetime.date(2025, 10, 6),
        datetime.date(2025, 10, 24),
        14,
    )
    assert Alert.objects.filter(student=s, rule=Rule.INVALID_STREAK).count() == 1


def test_a_run_longer_than_a_month_keeps_its_one_alert(world):
    """Evaluated month by month, as the nightly task does: one run, one alert."""
    s = world.student_a1
    present_day(s, "2025-09-12")
    run = days("2025-09-15", "2025-11-12")
    invalid_days(s, run)
    present_day(s, "2025-11-13")
    refresh(SEP, OCT, NOV)
    streaks = Alert.objects.filter(student=s, rule=Rule.INVALID_STREAK)
    # The five lesson days in höstlov (week 44, the built-in calendar) are no school days:
    # they neither count nor break the run.
    assert list(streaks.values_list("period_start", "period_end", "value_count")) == [
        (datetime.date(2025, 9, 15), datetime.date(2025, 11, 12), len(run) - 5)
    ]


def test_two_separate_runs_are_two_alerts(world):
    s = world.student_a1
    invalid_days(s, days("2025-09-01", "2025-09-15"))  # 11 days
    present_day(s, "2025-09-16")
    invalid_days(s, days("2025-09-17", "2025-10-01"))  # 11 days
    present_day(s, "2025-10-02")
    refresh(SEP, OCT)
    assert sorted(
        Alert.objects.filter(student=s, rule=Rule.INVALID_STREAK).values_list(
            "period_start", "period_end", "value_count"
        )
    ) == [
        (datetime.date(2025, 9, 1), datetime.date(2025, 9, 15), 11),
        (datetime.date(2025, 9, 17), datetime.date(2025, 10, 1), 11),
    ]


# ---------------------------------------------------------------- policy: switches


def _high_month(world):
    month_absence(world.student_a1, OCT, absent=450)


def _two_months(world):
    month_absence(world.student_a1, SEP, absent=250)
    month_absence(world.student_a1, OCT, absent=250)


def _streak(world):
    invalid_days(world.student_a1, days("2025-10-06", "2025-10-21", skip=HOLIDAY))


def _term(world):
    month_absence(world.student_a1, SEP, absent=600)
    month_absence(world.student_a1, OCT, absent=600)


def _late(world):
    month_absence(world.student_a1, OCT, absent=0, late=6)


SWITCHES = [
    ("single_month_enabled", Rule.SINGLE_MONTH, _high_month, ENTERS_4),
    ("two_months_enabled", Rule.TWO_MONTHS, _two_months, ENTERS_4),
    # Eleven whole days away are all of October's lessons: 100 %.
    (
        "invalid_streak_enabled",
        Rule.INVALID_STREAK,
        _streak,
        ENTERS_4 | {Rule.SINGLE_MONTH, Rule.TERM},
    ),
    ("term_enabled", Rule.TERM, _term, ENTERS_4 | {Rule.SINGLE_MONTH, Rule.TWO_MONTHS}),
    ("late_enabled", Rule.LATE, _late, set()),  # six minutes of 1000: no step
]


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize(
    ("field", "rule", "scenario", "others"), SWITCHES, ids=[s[0] for s in SWITCHES]
)
def test_a_switched_off_rule_makes_no_alert(world, field, rule, scenario, others, enabled):
    policy = policy_for(world.municipality)
    assert getattr(policy, field) is True  # on by default
    setattr(policy, field, enabled)
    policy.save()
    scenario(world)
    refresh(SEP, OCT)
    assert rules(world.student_a1) == (others | {rule} if enabled else others)


# ---------------------------------------------------------------- policy: thresholds


@pytest.mark.parametrize(
    ("field", "value", "absent", "default_step", "new_step"),
    [
        ("step2_pct", "5.0", 60, 0, 2),
        ("step2_pct", "12.5", 120, 2, 0),
        ("step3_pct", "12.0", 120, 2, 3),
        ("step3_pct", "18.0", 170, 3, 2),
        ("step4_pct", "30.0", 250, 4, 3),
        ("step4_pct", "30.0", 301, 4, 4),
        ("step4_pct", "17.5", 176, 3, 4),
    ],
)
def test_changing_a_threshold_changes_the_step(world, field, value, absent, default_step, new_step):
    s = world.student_a1
    month_absence(s, OCT, absent=absent)
    refresh(OCT)
    assert step(s) == default_step
    policy = policy_for(world.municipality)
    setattr(policy, field, Decimal(value))
    policy.save()
    evaluate_month(OCT)
    assert step(s) == new_step
    if new_step:
        assert f"step_{new_step}" in rules(s)


def _month_at_30(world):
    month_absence(world.student_a1, OCT, absent=300)


def _two_months_at(absent: int):
    def scenario(world):
        for month in (SEP, OCT):
            month_absence(world.student_a1, month, absent=absent)

    return scenario


def _three_late(world):
    month_absence(world.student_a1, OCT, late=3)


def _six_invalid_days(world):
    invalid_days(world.student_a1, days("2025-10-06", "2025-10-13"))


def _quarter_invalid_days(world):
    for day in days("2025-10-01", "2025-10-20"):  # 14 days, a quarter of each invalid
        school_day(world.student_a1, day, lessons=4, kind=INVALID, absent_lessons=1)


RULE_THRESHOLDS = [
    ("single_month_pct", Decimal("30.0"), _month_at_30, Rule.SINGLE_MONTH),
    ("two_months_pct", Decimal("15.0"), _two_months_at(150), Rule.TWO_MONTHS),
    ("term_pct", Decimal("30.0"), _two_months_at(300), Rule.TERM),
    ("late_count", 3, _three_late, Rule.LATE),
    ("invalid_streak_school_days", 5, _six_invalid_days, Rule.INVALID_STREAK),
    ("invalid_day_share_pct", Decimal("25.0"), _quarter_invalid_days, Rule.INVALID_STREAK),
]


@pytest.mark.parametrize(
    ("field", "value", "scenario", "rule"), RULE_THRESHOLDS, ids=[t[0] for t in RULE_THRESHOLDS]
)
def test_changing_a_rule_threshold_makes_a_hit(world, field, value, scenario, rule):
    scenario(world)
    policy = policy_for(world.municipality)
    for month in (SEP, OCT):
        rollup_month(month)
    assert rule not in {h.rule for h in find_hits(policy, OCT)}
    setattr(policy, field, value)
    policy.save()
    refresh(SEP, OCT)
    assert rule in rules(world.student_a1)


def test_each_municipality_uses_its_own_policy(world):
    other = MunicipalityFactory(name="Grannkommun", code="9902")
    school = SchoolFactory(district=DistrictFactory(municipality=other))
    neighbour = StudentFactory(mentor_group=MentorGroupFactory(school=school))
    strict = policy_for(other)
    strict.step2_pct = Decimal("5.0")
    strict.save()
    month_absence(world.student_a1, OCT, absent=60)
    month_absence(neighbour, OCT, absent=60)
    refresh(OCT)
    assert (step(world.student_a1), step(neighbour)) == (0, 2)
    assert rules(world.student_a1) == set()
    assert rules(neighbour) == {Rule.STEP_2}


def test_a_municipality_administrator_edits_the_policy_and_steps_follow(
    client, world, django_capture_on_commit_callbacks
):
    """The policy is data, edited on the administration site; saving re-evaluates."""
    from django.urls import reverse
    from django.utils import timezone

    from attendance.models import MonthlyAbsence, StaircasePolicy
    from attendance.services import absence_month_refresh
    from attendance.staircase import policy_for
    from sst.models import AuditEvent

    from ..conftest import verified_login
    from .lessons import month_absence

    this_month = timezone.localdate().replace(day=1)
    month_absence(world.student_a1, this_month, scheduled=1000, absent=110)  # 11.0 %
    absence_month_refresh(month=this_month)
    row = MonthlyAbsence.objects.get(student=world.student_a1, month=this_month)
    assert row.step == 2

    policy = policy_for(world.municipality)
    verified_login(client, world.admin_m)
    url = reverse("admin:attendance_staircasepolicy_change", args=[policy.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else "" if v is False else v) for k, v in data.items()}
    data["step2_pct"] = "12.5"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {k: v for k, v in data.items() if v != ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StaircasePolicy.objects.get(pk=policy.pk).step2_pct == Decimal("12.5")
    assert AuditEvent.objects.filter(object_type="staircase_policy").exists()
    row.refresh_from_db()
    assert row.step == 0  # 11.0 % is now below the first step


def test_others_cannot_edit_the_policy(client, world):
    from django.urls import reverse

    from attendance.staircase import policy_for

    from ..conftest import verified_login

    policy = policy_for(world.municipality)
    verified_login(client, world.principal_a)
    url = reverse("admin:attendance_staircasepolicy_change", args=[policy.pk])
    assert client.get(url, follow=True).status_code == 404
