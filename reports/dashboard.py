"""The manager's dashboard: this month's staircase, the term's trend, the places below.

Aggregates only, through the same figures and the same small-count rule as the term report.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from attendance.rollup import month_start
from attendance.selectors import previous_month

from . import case_report, charts, figures
from .case_report import overview_table
from .scope import Scope
from .suppression import Count, PlaceTree, Share, hidden_below, line, percent2, total
from .tables import Column, Table
from .term_report import absence_shares, chart_value, staircase_table
from .terms import Term, term_containing


@dataclass
class Dashboard:
    scope: Scope
    term: Term
    month: datetime.date
    staircase: Table
    trend: Table
    trend_chart: charts.Chart | None
    places: Table | None
    cases: Table
    place_links: list[tuple[str, str]]  # (label, scope key) beside the places' rows


def _month(month: datetime.date) -> str:
    return date_format(month, "F Y")


def _places_table(
    scope: Scope,
    children: list[Scope],
    tree: PlaceTree,
    months: list[datetime.date],
    term: Term,
) -> Table:
    """The places below, each column a line that adds up to the scope's figure (so a hidden
    place takes the next smallest with it), and a district hidden also where its own schools
    would give it away (rule 4)."""
    by_school = figures.figures_by_school(scope.schools(), months)
    level = children[0].kind
    if level == "district":
        members: dict[int, list[int]] = {}
        for school_id, district_id in tree.district_of.items():
            members.setdefault(district_id, []).append(school_id)
    else:
        members = {child.place.pk: [child.place.pk] for child in children}
    found = [
        figures.added(
            [by_school[s] for s in members.get(child.place.pk, []) if s in by_school],
            child.place.pk,
        )
        for child in children
    ]

    def below(child: Scope, value: Callable[[figures.PlaceFigures], int]) -> bool:
        if child.kind != "district":
            return False
        schools = members.get(child.place.pk, [])
        return hidden_below(
            {s: value(by_school[s]) for s in schools if s in by_school},
            PlaceTree("district", {s: child.place.pk for s in schools}),
        )

    def column(value: Callable[[figures.PlaceFigures], int]) -> list[Count]:
        return line([value(f) for f in found], hidden=[below(child, value) for child in children])

    students = column(lambda f: f.minutes.students)
    above = column(lambda f: f.above_15)
    step4 = column(lambda f: f.step_4)
    table = Table(
        name="per_stadsdel" if level == "district" else "per_skola",
        title=(_("Per district, %(term)s") if level == "district" else _("Per school, %(term)s"))
        % {"term": term.code},
        columns=[
            Column("plats", _("District") if level == "district" else _("School"), False),
            Column("elever", _("Students")),
            Column("franvaro_procent", _("Absence %")),
            Column("over_15_antal", _("Above 15 %")),
            Column("over_15_procent", _("Above 15 %, share %")),
            Column("steg_4_senaste_manad", _("At step 4, latest month")),
        ],
    )
    for child, f, n, over, at4 in zip(children, found, students, above, step4, strict=True):
        m = f.minutes
        over = over if not n.suppressed else over.hidden()
        table.rows.append(
            [
                child.label,
                n,
                Share(percent2(m.absent_min, m.scheduled_min), suppressed=n.suppressed),
                over,
                Share(percent2(over.value, m.students), suppressed=over.suppressed),
                at4 if not n.suppressed else at4.hidden(),
            ]
        )
    return table


def build_dashboard(scope: Scope, *, today: datetime.date) -> Dashboard:
    schools = scope.schools()
    tree = scope.tree()
    term = term_containing(today, municipality_id=scope.municipality_id)
    this_month = month_start(today)
    months_so_far = [m for m in term.months if m <= this_month]

    step_months = figures.steps_per_month(schools, [previous_month(this_month), this_month])
    staircase = staircase_table(
        list(reversed(step_months)),
        tree=tree,
        name="trappan_denna_manad",
        title=_("The staircase this month and last month"),
    )

    trend_rows = figures.absence_per_month(schools, months_so_far)
    trend = Table(
        name="franvaro_per_manad",
        title=_("Absence month by month, %(term)s") % {"term": term.code},
        columns=[
            Column("manad", _("Month"), numeric=False),
            Column("elever", _("Students")),
            Column("franvaro_procent", _("Absence %")),
            Column("giltig_procent", _("Of which valid %")),
        ],
    )
    for row in trend_rows:
        m = row.minutes
        students = total(m.students, hidden=hidden_below(row.students_by_school, tree))
        trend.rows.append([_month(row.month), students, *absence_shares(m, students)])
    trend_chart = None
    if trend.rows:
        trend_chart = charts.lines(
            title=trend.title,
            alt=_(
                "Line chart of the absence %% and the valid absence %% month by month in "
                "%(term)s. The figures are in the table “%(table)s”."
            )
            % {"term": term.code, "table": trend.title},
            table=trend.name,
            labels=[str(row[0]) for row in trend.rows],
            series=[
                (_("Absence %"), [chart_value(row[2]) for row in trend.rows]),
                (_("Of which valid %"), [chart_value(row[3]) for row in trend.rows]),
            ],
            y_title=_("Absence %"),
        )

    children = scope.children()
    places: Table | None = None
    links: list[tuple[str, str]] = []
    if children:
        places = _places_table(scope, children, tree, months_so_far, term)
        links = [(child.label, child.key) for child in children]
    cases = overview_table(case_report.figures_for(scope, term, today), term)
    return Dashboard(
        cases=cases,
        scope=scope,
        term=term,
        month=this_month,
        staircase=staircase,
        trend=trend,
        trend_chart=trend_chart,
        places=places,
        place_links=links,
    )
