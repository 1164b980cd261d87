"""The manager's dashboard: this month's staircase, the term's trend, the places below.

Aggregates only, through the same figures and the same small-count rule as the term report.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from attendance.rollup import month_start
from attendance.selectors import previous_month

from . import case_report, charts, figures
from .case_report import overview_table
from .scope import Scope
from .suppression import Share, count_of_group, percent2, total
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


def build_dashboard(scope: Scope, *, today: datetime.date) -> Dashboard:
    schools = scope.schools()
    term = term_containing(today, municipality_id=scope.municipality_id)
    this_month = month_start(today)
    months_so_far = [m for m in term.months if m <= this_month]

    step_months = figures.steps_per_month(schools, [previous_month(this_month), this_month])
    staircase = staircase_table(
        list(reversed(step_months)),
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
        students = total(m.students)
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
        level = children[0].kind
        by_place = figures.figures_by_place(schools, months_so_far, level=level)
        places = Table(
            name="per_stadsdel" if level == "district" else "per_skola",
            title=(
                _("Per district, %(term)s") if level == "district" else _("Per school, %(term)s")
            )
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
        for child in children:
            found = by_place.get(child.place.pk)
            if found is None:
                students = total(0)
                places.rows.append([child.label, students, None, None, None, None])
            else:
                m = found.minutes
                students = total(m.students)
                above = count_of_group(found.above_15, m.students)
                step4 = count_of_group(found.step_4, m.students)
                places.rows.append(
                    [
                        child.label,
                        students,
                        Share(
                            percent2(m.absent_min, m.scheduled_min), suppressed=students.suppressed
                        ),
                        above,
                        Share(percent2(above.value, m.students), suppressed=above.suppressed),
                        step4,
                    ]
                )
            links.append((child.label, child.key))
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
