"""The term report and the dashboard never let one report give another's hidden figure away
(tests/reports/report_setup.py: school A has 8 students, school B 1, both in Norr; school
C, alone in Söder, 1)."""

from __future__ import annotations

import datetime

import pytest

from reports.dashboard import build_dashboard
from reports.scope import Scope
from reports.term_report import build_term_report
from reports.terms import parse_term

from .report_setup import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _texts(report, name):
    return report.table(name).text_rows()


def test_the_district_hides_what_would_give_its_small_school_away(world):
    term = parse_term("HT2025")
    school_a = build_term_report(Scope("school", world.school_a), term)
    north = build_term_report(Scope("district", world.north), term)
    # School A shows its 8 students in all; Norr's 9 would then give school B's one student
    # (and with its absence %, that student's absence) away: Norr's total is hidden.
    assert _texts(school_a, "franvaro_per_arskurs")[-1][2:] == ["8", "21,45", "7,87"]
    assert _texts(north, "franvaro_per_arskurs")[-1][2:] == ["< 5", "< 5", "< 5"]
    # The municipality's total is shown: Norr and Söder are both hidden, 10 students together.
    town = build_term_report(Scope("municipality", world.municipality), term)
    assert _texts(town, "franvaro_per_arskurs")[-1][2:] == ["10", "25,39", "9,39"]


def test_nested_share_counts_never_leave_a_small_band_between_them(world, monkeypatch):
    from reports import figures

    real = figures.term_figures

    def shares(schools, terms, thresholds=figures.SHARE_THRESHOLDS):
        # 40 students: 12 above 15 %, 9 above 25 %, 6 above 40 % (all at school A).
        school = world.school_a.pk
        above = {150: 12, 250: 9, 400: 6}
        made = [
            figures.TermShares(
                t, 40, above, {school: 40}, {k: {school: v} for k, v in above.items()}
            )
            for t in terms
        ]
        return figures.TermFigures(real(schools, terms).grades, made)

    monkeypatch.setattr(figures, "term_figures", shares)
    report = build_term_report(Scope("school", world.school_a), parse_term("HT2025"))
    row = _texts(report, "andel_over_grans")[-1]
    # 12 − 9 = 3 between 15 and 25 %: the 9 is hidden (with its share); the 6 above 40 % is
    # then checked against the 12, the last count shown above it (6 between): shown.
    assert row[1:] == ["40", "12", "30,00", "< 5", "< 5", "6", "15,00"]


def test_the_dashboard_places_hide_a_lone_small_school_with_the_next(world):
    board = build_dashboard(Scope("district", world.north), today=datetime.date(2025, 10, 20))
    rows = board.places.text_rows()
    assert [row[0] for row in rows] == ["Askskolan", "Björkskolan"]
    # Björkskolan has one student; Askskolan's 8 would give it away from the staircase's 9.
    assert [row[1] for row in rows] == ["< 5", "< 5"]
    assert all(cell == "< 5" for row in rows for cell in row[2:] if cell != "–")
