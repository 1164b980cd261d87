"""The coordinator's dashboard: their districts' referrals, lead times, caseloads and
overdue follow-ups; nobody else's, and a 404 for everyone who does not coordinate."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from cases.models import Case, CaseOpening, CaseState
from followup.models import FollowUp
from reports import coordinator_selectors as selectors
from sst.models import Role

from ..factories import StudentFactory, UserFactory, grant
from .case_setup import TODAY, _referral, assign, at, build, overdue_followup

pytestmark = pytest.mark.django_db
URL = "/rapporter/samordning/"


def _name(user) -> str:
    return user.get_full_name() or user.username


@pytest.fixture
def coordinators(world):
    north = UserFactory(username="coordinator_n", first_name="Nora", last_name="Norrsamordnare")
    grant(north, Role.COORDINATOR, world.district_n)
    south = UserFactory(username="coordinator_s", first_name="Sune", last_name="Södersamordnare")
    grant(south, Role.COORDINATOR, world.district_s)
    worker_s = UserFactory(username="social_worker_s", first_name="Siv", last_name="Socialsyd")
    grant(worker_s, Role.SOCIAL_WORKER, world.district_s)
    return north, south, worker_s


@pytest.fixture
def made(world, coordinators):
    made = build(world)
    _north, _south, worker_s = coordinators
    c, r = made.cases, made.referrals
    assign(c["c1"], r["r1"], world.social_worker_n)
    assign(c["c2"], r["r2"], world.social_worker_n)
    assign(c["c8"], r["r8"], worker_s)
    # Overdue on 20 Nov: c1's second (10 days) and the queued c3's (19 days, nobody
    # assigned). Not overdue: c1's held first, c2's in five days, the closed c4's.
    FollowUp.objects.create(
        case=c["c1"],
        number=1,
        planned_on=datetime.date(2026, 10, 1),
        held_on=datetime.date(2026, 10, 1),
    )
    overdue_followup(c["c1"], number=2, planned_on=datetime.date(2026, 11, 10))
    overdue_followup(c["c2"], number=1, planned_on=datetime.date(2026, 11, 25))
    overdue_followup(c["c3"], number=1, planned_on=datetime.date(2026, 11, 1))
    overdue_followup(c["c4"], number=1, planned_on=datetime.date(2026, 9, 1))
    overdue_followup(c["c8"], number=1, planned_on=datetime.date(2026, 11, 2))
    return made


def test_the_term_of_a_day():
    assert selectors.term_of(TODAY, None) == (
        "HT2026",
        selectors.Window(datetime.date(2026, 8, 1), datetime.date(2026, 12, 31)),
    )
    assert selectors.term_of(datetime.date(2026, 3, 5), None)[0] == "VT2026"
    assert selectors.term_of(datetime.date(2026, 7, 15), None)[0] == "VT2026"


def test_the_north_coordinator_sees_their_district(world, coordinators, made):
    """District N is school A: the figures of test_case_figures for the autumn term, and the
    referrals of the last 12 months; school B's referral r8 is not counted."""
    north, _south, _worker_s = coordinators
    with override("en"):
        board = selectors.dashboard_of(north, today=TODAY)
    assert board.districts == ["Norra"]
    assert board.term_code == "HT2026"
    assert board.referrals_term.__dict__ == {
        "received": 4,
        "accepted": 2,
        "rejected": 1,
        "redirected": 1,
    }
    assert board.referrals_year.received == 5
    assert board.lead_times_term.referral_to_decision.count == 4
    assert str(board.lead_times_term.referral_to_decision.value) == "7.5"
    assert board.queued == 1  # r5
    assert [(w.name, w.open_cases, w.by_state, w.overdue) for w in board.workers] == [
        (_name(world.social_worker_n), 2, [("Implementation", 1), ("Maintenance", 1)], 1)
    ]
    assert (board.overdue_total, board.overdue_unassigned) == (2, 1)
    assert [
        (row.referral_number, row.school, row.days_overdue, row.social_worker)
        for row in board.overdue
    ] == [
        ("2025-102", world.school_a.name, 19, "Not assigned"),
        ("2026-001", world.school_a.name, 10, _name(world.social_worker_n)),
    ]


def test_the_south_coordinator_sees_only_theirs(world, coordinators, made):
    _north, south, worker_s = coordinators
    board = selectors.dashboard_of(south, today=TODAY)
    assert board.districts == ["Södra"]
    assert [(w.name, w.open_cases, w.overdue) for w in board.workers] == [(_name(worker_s), 1, 1)]
    assert [row.referral_number for row in board.overdue] == ["2026-008"]
    assert board.referrals_term.received == 1


def test_the_page(client, world, coordinators, made):
    north, _south, _worker_s = coordinators
    assert reverse("reports:coordinator") == URL
    client.force_login(north)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert _name(world.social_worker_n) in page
    assert "Siv" not in page and "2026-008" not in page
    for case in made.cases.values():  # no child's name
        assert case.student.last_name not in page
    assert client.post(URL).status_code == 405


def test_the_south_page_shows_nothing_of_the_north(client, world, coordinators, made):
    _north, south, _worker_s = coordinators
    client.force_login(south)
    page = client.get(URL).content.decode()
    assert "Siv" in page
    assert _name(world.social_worker_n) not in page
    assert "2026-001" not in page and "2025-102" not in page


@pytest.mark.parametrize(
    "person", ["manager_m", "manager_a", "social_worker_n", "principal_a", "referral_forum_n"]
)
def test_everyone_else_gets_404(client, world, made, person):
    client.force_login(getattr(world, person))
    assert client.get(URL).status_code == 404


def test_the_desk_links_to_it_for_coordinators_only(client, world, coordinators):
    north, _south, _worker_s = coordinators
    client.force_login(north)
    assert URL in client.get("/").content.decode()
    client.force_login(world.social_worker_n)
    assert URL not in client.get("/").content.decode()


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def _worked_case(world, referral_number: str, planned_on: datetime.date) -> None:
    student = StudentFactory(mentor_group=world.group_a2)
    case = Case.objects.create(
        student=student, state=CaseState.IMPLEMENTATION, opening=CaseOpening.PRINCIPAL
    )
    referral = _referral(
        world,
        case,
        referral_number,
        submitted=at(2026, 9, 1),
        decided=at(2026, 9, 10),
        kind="accepted",
        startup=at(2026, 9, 20),
    )
    assign(case, referral, world.social_worker_n)
    overdue_followup(case, number=1, planned_on=planned_on)


def test_a_constant_number_of_queries(client, world, coordinators):
    north, _south, _worker_s = coordinators
    client.force_login(north)
    past = timezone.localdate() - datetime.timedelta(days=3)
    _worked_case(world, "2026-901", past)
    _queries(client)  # warm the caches (content types, sessions)
    one = _queries(client)
    for n in range(2, 8):
        _worked_case(world, f"2026-90{n}", past)
    many = _queries(client)
    assert one == many
