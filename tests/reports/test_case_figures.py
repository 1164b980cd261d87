"""The cases part of the term report against the hand-made cases of ``case_setup`` (the
table there gives every date; each expected number is worked out here)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import override

from reports.case_figures import Median, Window, case_figures, last_12_months, median
from sst.models import School

from ..factories import SchoolFactory
from .case_setup import END, START, TODAY, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(world):
    build(world)
    with override("en"):
        return case_figures(
            schools=School.objects.filter(pk=world.school_a.pk), start=START, end=END, today=TODAY
        )


def test_windows():
    assert last_12_months(TODAY) == Window(datetime.date(2025, 11, 21), TODAY)
    assert last_12_months(datetime.date(2028, 2, 29)) == Window(
        datetime.date(2027, 3, 1), datetime.date(2028, 2, 29)
    )


def test_median_is_exact_and_counts_its_values():
    assert median([]) == Median(None, 0)
    assert median([3]) == Median(Decimal("3.0"), 1)
    assert median([19, 2, 10, 5]) == Median(Decimal("7.5"), 4)


def test_snapshot_of_open_cases(figures):
    """Team phases open now: c1 (implementation) and c2 (maintenance); c3 waits in the queue;
    school B's c8 is outside."""
    assert figures.ongoing == 2
    assert figures.in_maintenance == 1
    assert figures.queued == 1
    assert figures.open_by_state == [
        ("Investigated by the school", 0),
        ("Referred to the school social team", 0),
        ("Accepted, waiting in queue", 1),
        ("Accepted", 0),
        ("Awaiting consent", 0),
        ("Action plan being made", 0),
        ("Implementation", 1),
        ("Maintenance", 1),
    ]


def test_opened_and_closed_in_the_period_and_the_last_12_months(figures):
    """Period 1 Aug – 31 Dec 2026, days in Swedish time. Opened: c1 (1 Aug, 00:30), c6, c7,
    c9. Closed (state closed): c4, c6 (31 Dec, 23:50), c9; not c5 (31 Jul, 23:30) nor the
    rejected c7. Last 12 months (21 Nov 2025 – 20 Nov 2026): opened c1, c2 (21 Nov 2025,
    00:10), c4, c5, c6, c7, c9 — not c3 (20 Nov 2025, 23:30); closed c4, c5, c9 — not c6."""
    assert (figures.opened, figures.closed) == (4, 3)
    assert (figures.opened_12_months, figures.closed_12_months) == (7, 3)
    assert figures.period == Window(START, END)
    assert figures.last_12_months == Window(datetime.date(2025, 11, 21), TODAY)


def test_referrals(figures):
    """Received in the period: r1, r3, r4, r6 (the draft and school B's do not count).
    Decided: accepted r1, r4; rejected r3; redirected r6. In the last 12 months also r2
    (received and accepted) and r5 (accepted on 25 Nov 2025, received on 20 Nov 2025: out)."""
    assert figures.referrals.__dict__ == {
        "received": 4,
        "accepted": 2,
        "rejected": 1,
        "redirected": 1,
    }
    assert figures.referrals_12_months.__dict__ == {
        "received": 5,
        "accepted": 4,
        "rejected": 1,
        "redirected": 1,
    }


def test_lead_times(figures):
    """Alert → checklist: 7 and 4 days (the July one is outside). Submitted → decided, for
    decisions in the period: r1 10, r3 19, r4 2, r6 5 → median of 2, 5, 10, 19 = 7.5.
    Decision → start-up: r1 11, r4 8 → 9.5; submitted → start-up: 21, 10 → 15.5."""
    times = figures.lead_times
    assert times.alert_to_checklist == Median(Decimal("5.5"), 2)
    assert times.referral_to_decision == Median(Decimal("7.5"), 4)
    assert times.decision_to_startup == Median(Decimal("9.5"), 2)
    assert times.referral_to_startup == Median(Decimal("15.5"), 2)


def test_closure_reasons_and_goals(figures):
    """Closed in the period: c4 goals met, c6 other support, c9 declined. Closure records: c4
    (yes), c6 (partly), c9 (no plan: not assessed)."""
    assert figures.closure_reasons == [
        ("Goals met", 1),
        ("Needs other support", 1),
        ("The student or guardian ended it", 0),
        ("Moved", 0),
        ("Declined the offer", 1),
        ("Other", 0),
    ]
    assert figures.closure_records == 3
    assert figures.goals == [("Yes", 1), ("Partly", 1), ("No", 0)]
    assert (figures.goals_met, figures.goals_assessed) == (1, 2)
    assert figures.goals_met_share == Decimal("50.0")


def test_absence_at_intake_and_at_closure(figures):
    """Intake: c4 150/1000 = 15.0 % (exactly 15: first band), c6 250/1000 = 25.0 % (second
    band); c9 had no scheduled time and is left out. Median 20.0.
    Closure: c4 2.0 %, c6 800/2000 = 40.0 % (third band), c9 250/500 = 50.0 %. Median 40.0."""
    intake, closure = figures.intake, figures.at_closure
    assert (intake.span, intake.label) == ("intake", "At intake")
    assert (intake.measured, intake.median_pct) == (2, Decimal("20.0"))
    assert intake.bands == [
        ("0–15 %", 1),
        ("over 15–25 %", 1),
        ("over 25–40 %", 0),
        ("over 40 %", 0),
    ]
    assert intake.months == (2,)
    assert (intake.earliest, intake.latest) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 7, 31),
    )
    assert (closure.span, closure.measured, closure.median_pct) == ("closure", 3, Decimal("40.0"))
    assert [n for _label, n in closure.bands] == [1, 0, 1, 1]
    assert (closure.earliest, closure.latest) == (
        datetime.date(2026, 7, 1),
        datetime.date(2026, 11, 30),
    )


def test_satisfaction(figures):
    """Students: (5, 4, 5) and (4, 4, 4); the guardian: (3, 3, 4); school B's not counted."""
    student, guardian = figures.satisfaction
    assert (student.respondent, student.answers) == ("student", 2)
    assert student.satisfied == [("1", 0), ("2", 0), ("3", 0), ("4", 1), ("5", 1)]
    assert student.helped == [("1", 0), ("2", 0), ("3", 0), ("4", 2), ("5", 0)]
    assert (student.satisfied_mean, student.helped_mean, student.listened_to_mean) == (
        Decimal("4.5"),
        Decimal("4.0"),
        Decimal("4.5"),
    )
    assert (guardian.respondent, guardian.answers, guardian.satisfied_mean) == (
        "guardian",
        1,
        Decimal("3.0"),
    )


def test_who_the_cases_are_and_what_was_worked_on(figures):
    """Active in the period: c1, c2, c3, c4, c6, c7, c9 (c5 ended the day before it)."""
    assert figures.active_cases == 7
    assert figures.gender == [("Girl", 4), ("Boy", 2), ("Other / not recorded", 1)]
    assert dict(figures.grade) == {
        "Preschool class (F)": 0,
        "1": 0,
        "2": 0,
        "3": 0,
        "4": 0,
        "5": 0,
        "6": 1,
        "7": 2,
        "8": 2,
        "9": 2,
    }
    assert figures.causes == [("School-related: Mobbning", 2), ("Individual: Oro", 1)]
    assert figures.interventions == [("Mentorsstöd", 2), ("Samtal", 2), ("Läxhjälp", 1)]


def test_top_n(world):
    build(world)
    figures = case_figures(
        schools=School.objects.filter(pk=world.school_a.pk),
        start=START,
        end=END,
        today=TODAY,
        top=1,
    )
    assert [n for _label, n in figures.interventions] == [2]
    assert [n for _label, n in figures.causes] == [2]


def _count_queries(schools) -> int:
    with CaptureQueriesContext(connection) as queries:
        case_figures(schools=schools, start=START, end=END, today=TODAY)
    return len(queries)


def test_every_count_is_a_plain_int_and_nothing_identifies(figures, world):
    def walk(value):
        if isinstance(value, bool):
            raise AssertionError("a bool where a count belongs")
        if isinstance(value, int):
            assert type(value) is int
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                walk(getattr(value, name))

    walk(figures)
    text = repr(figures)
    for student in (world.student_a1, world.student_a2):
        assert student.last_name not in text


def test_a_constant_number_of_queries(world):
    """The same queries for the school with all the cases and for a school with none."""
    build(world)
    full = _count_queries(School.objects.filter(pk=world.school_a.pk))
    empty = _count_queries(School.objects.filter(pk=SchoolFactory(district=world.district_s).pk))
    assert full == empty
    assert full <= 25
