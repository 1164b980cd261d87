"""The chronology: case entries and absence alerts merged newest first, filtered by kind,
restricted entries blanked for other professions (page and print), constant queries."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attendance.models import Alert, DueKind, Rule
from cases import chronology, workflow
from cases.models import Case, CaseEvent, CaseOpening, CaseState, EventKind
from sst.models import Role

from ..conftest import verified_login

NOW = timezone.now()


def make_case(student, state=CaseState.SCHOOL_INVESTIGATION, **extra) -> Case:
    return Case.objects.create(student=student, state=state, opening=CaseOpening.PRINCIPAL, **extra)


def event(case, kind, summary, *, days_ago, by=None, restricted_to="") -> CaseEvent:
    return workflow.chronicle(
        case=case,
        kind=kind,
        summary=summary,
        by=by,
        happened_at=NOW - datetime.timedelta(days=days_ago),
        restricted_to=restricted_to,
    )


_alert_months = iter(range(1, 1000))


def alert(student, *, days_ago, rule=Rule.STEP_2, pct="12.5", period_end=None) -> Alert:
    """An alert computed ``days_ago``; by default about a period that ended the day after (so
    it stands at the time it was computed), unique per call."""
    n = next(_alert_months)
    end = period_end or (NOW - datetime.timedelta(days=days_ago)).date() + datetime.timedelta(
        days=1
    )
    start = end - datetime.timedelta(days=27 + n)
    made = Alert.objects.create(
        student=student,
        rule=rule,
        period_start=start,
        period_end=end,
        value_pct=pct,
        due=DueKind.CHECKLIST,
    )
    Alert.objects.filter(pk=made.pk).update(created_at=NOW - datetime.timedelta(days=days_ago))
    made.refresh_from_db()
    return made


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def case(world):
    case = make_case(world.student_a1)
    event(case, EventKind.CONVERSATION, "Samtal med eleven", days_ago=10, by=world.counsellor_a)
    alert(world.student_a1, days_ago=7)
    event(case, EventKind.MEETING, "Möte med vårdnadshavare", days_ago=3, by=world.principal_a)
    alert(world.student_a1, days_ago=1, rule=Rule.STEP_3, pct="16.0")
    alert(world.student_b1, days_ago=2)  # another student's alert never shows
    return case


# ---------------------------------------------------------------- merging and order


def test_events_and_alerts_merged_newest_first(world, case):
    entries = chronology.chronology(world.principal_a, case).entries
    assert [e.kind for e in entries] == [
        EventKind.ALERT,
        EventKind.MEETING,
        EventKind.ALERT,
        EventKind.CONVERSATION,
    ]
    assert entries[1].who == world.principal_a.get_full_name()
    assert entries[3].summary == "Samtal med eleven"
    times = [e.happened_at for e in entries]
    assert times == sorted(times, reverse=True)


def test_alert_entries_say_what_and_when(client, world, case):
    verified_login(client, world.counsellor_a)
    text = _text(client.get(reverse("cases:case_detail", args=[case.public_id])))
    assert "16,0 %" in text and "12,5 %" in text
    assert timezone.localtime(NOW - datetime.timedelta(days=3)).strftime("%Y-%m-%d") in text
    assert world.principal_a.get_full_name() in text


def test_alerts_of_an_earlier_case_stay_with_it(world):
    old = make_case(world.student_a1, CaseState.CLOSED)
    Case.objects.filter(pk=old.pk).update(closed_at=NOW - datetime.timedelta(days=20))
    old.refresh_from_db()
    before = alert(world.student_a1, days_ago=30)
    after = alert(world.student_a1, days_ago=5)
    new = make_case(world.student_a1, previous_case=old)

    def alerts_in(c):
        return [
            e.happened_at
            for e in chronology.chronology(world.principal_a, c).entries
            if e.kind == EventKind.ALERT
        ]

    assert alerts_in(new) == [after.created_at]
    assert alerts_in(old) == [before.created_at]


# ---------------------------------------------------------------- filtering by kind


def test_filter_by_kind_in_the_selector(world, case):
    only_alerts = chronology.chronology(world.principal_a, case, kinds=[EventKind.ALERT])
    assert {e.kind for e in only_alerts.entries} == {EventKind.ALERT}
    assert len(only_alerts.entries) == 2
    meetings = chronology.chronology(world.principal_a, case, kinds=[EventKind.MEETING])
    assert [e.summary for e in meetings.entries] == ["Möte med vårdnadshavare"]
    both = chronology.chronology(
        world.principal_a, case, kinds=[EventKind.MEETING, EventKind.CONVERSATION]
    )
    assert len(both.entries) == 2


@pytest.mark.parametrize("view", ["cases:case_detail", "cases:case_print"])
def test_filter_by_kind_on_the_page(client, world, case, view):
    verified_login(client, world.principal_a)
    url = reverse(view, args=[case.public_id])
    text = _text(client.get(url, {"kind": EventKind.MEETING}))
    assert "Möte med vårdnadshavare" in text
    assert "Samtal med eleven" not in text and "16,0 %" not in text
    # an unknown kind is ignored: everything is shown
    text = _text(client.get(url, {"kind": "nonsense"}))
    assert "Möte med vårdnadshavare" in text and "Samtal med eleven" in text


def test_the_print_link_keeps_the_filter(client, world, case):
    verified_login(client, world.principal_a)
    page = client.get(
        reverse("cases:case_detail", args=[case.public_id]), {"kind": EventKind.ALERT}
    ).content.decode()
    assert reverse("cases:case_print", args=[case.public_id]) + "?kind=alert" in page


# ---------------------------------------------------------------- restricted entries


@pytest.mark.parametrize("view", ["cases:case_detail", "cases:case_print"])
@pytest.mark.parametrize(
    "person, sees", [("nurse_a", True), ("principal_a", False), ("counsellor_a", False)]
)
def test_restricted_entry_shows_only_that_it_exists(client, world, view, person, sees):
    case = make_case(world.student_a1)
    event(
        case,
        EventKind.HEALTH_TALK,
        "Hälsosamtal: magont varje måndag",
        days_ago=1,
        by=world.nurse_a,
        restricted_to=Role.SCHOOL_NURSE,
    )
    verified_login(client, getattr(world, person))
    response = client.get(reverse(view, args=[case.public_id]))
    assert response.status_code == 200
    text = _text(response)
    assert ("magont varje måndag" in text) == sees
    if not sees:
        assert chronology.restricted_label(Role.SCHOOL_NURSE) in text
    else:
        assert chronology.visible_only_to_label(Role.SCHOOL_NURSE) in text


def test_hidden_entries_are_blank_in_the_selector(world):
    case = make_case(world.student_a1)
    event(
        case,
        EventKind.MAPPING,
        "Kartläggning: oro hemma",
        days_ago=1,
        restricted_to=Role.COUNSELLOR,
    )
    [entry] = chronology.chronology(world.principal_a, case).entries
    assert entry.hidden and entry.summary == "" and entry.text == ""
    assert entry.kind == EventKind.MAPPING  # the kind is not personal data
    [entry] = chronology.chronology(world.counsellor_a, case).entries
    assert not entry.hidden and entry.summary == "Kartläggning: oro hemma"


def test_a_restriction_to_another_school_role_does_not_open_it(world):
    """counsellor_b is a counsellor, but not at the student's school."""
    case = make_case(world.student_a1)
    event(case, EventKind.NOTE, "x", days_ago=1, restricted_to=Role.COUNSELLOR)
    assert chronology.chronology(world.counsellor_b, case).entries[0].hidden


def test_unknown_profession_still_has_a_label():
    assert "psychiatrist" in chronology.restricted_label("psychiatrist")


# ---------------------------------------------------------------- print view


def test_print_view_has_no_navigation_and_no_forms(client, world, case):
    verified_login(client, world.principal_a)
    page = client.get(reverse("cases:case_print", args=[case.public_id])).content.decode()
    assert "<nav" not in page and "navbar" not in page
    assert "<form" not in page
    assert "Samtal med eleven" in page
    assert world.principal_a.get_full_name() in page  # printed by


# ---------------------------------------------------------------- query counts


@pytest.mark.parametrize("view", ["cases:case_detail", "cases:case_print"])
def test_chronology_query_count_does_not_grow(client, world, view, django_assert_num_queries):
    previous = make_case(world.student_a1, CaseState.CLOSED)
    case = make_case(world.student_a1, previous_case=previous)
    workflow.note_add(case=case, text="En", restricted_to="", by=world.counsellor_a)
    alert(world.student_a1, days_ago=1)
    url = reverse(view, args=[case.public_id])
    verified_login(client, world.counsellor_a)
    client.get(url)  # the first request of a session does some one-off work
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for day in range(10):
        event(case, EventKind.MEETING, f"Möte {day}", days_ago=day, by=world.principal_a)
        workflow.note_add(
            case=case, text=f"Anteckning {day}", restricted_to=Role.COUNSELLOR, by=world.nurse_a
        )
        workflow.note_add(
            case=case, text=f"Hemlig {day}", restricted_to=Role.SCHOOL_NURSE, by=world.nurse_a
        )
        alert(world.student_a1, days_ago=day + 2)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    text = _text(response)
    assert "Anteckning 9" in text and "Hemlig 9" not in text


def test_an_alert_stands_at_its_period_not_when_it_was_computed(client, world):
    """The demo computes every month's alerts at once: August's must not look newest."""
    case = make_case(world.student_a1)

    def month_alert(rule: str, first: datetime.date, last: datetime.date) -> Alert:
        # Computed now, as the demo computes a whole term's alerts in one go.
        return Alert.objects.create(
            student=world.student_a1,
            rule=rule,
            period_start=first,
            period_end=last,
            value_pct="16.0",
            due=DueKind.CHECKLIST,
        )

    august = month_alert(Rule.STEP_2, datetime.date(2025, 8, 1), datetime.date(2025, 8, 31))
    october = month_alert(Rule.STEP_3, datetime.date(2025, 10, 1), datetime.date(2025, 10, 31))
    event(case, EventKind.CONVERSATION, "Samtal i september", days_ago=0, by=world.counsellor_a)
    CaseEvent.objects.filter(case=case).update(
        happened_at=timezone.make_aware(datetime.datetime(2025, 9, 15, 10, 0))
    )
    entries = chronology.chronology(world.principal_a, case).entries
    order = [(e.kind, e.happened_at.date()) for e in entries]
    assert order == [
        (EventKind.ALERT, october.period_end),
        (EventKind.CONVERSATION, datetime.date(2025, 9, 15)),
        (EventKind.ALERT, august.period_end),
    ]
    verified_login(client, world.principal_a)
    page = _text(client.get(reverse("cases:case_detail", args=[case.public_id])))
    assert "augusti 2025" in page and "oktober 2025" in page
