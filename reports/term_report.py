"""The term report: figures → suppressed tables and charts, built once for every output.

``build_term_report(scope, term, today=...)`` runs the aggregate queries of
``reports.figures`` (and the case figures), applies the small-count rule of
``reports.suppression`` and returns a ``TermReport`` the page, the PDF, the CSV files and the
XLSX workbook all print from.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import charts, figures
from .case_report import case_sections
from .scope import Scope
from .suppression import (
    Count,
    PlaceTree,
    Share,
    count_of_group,
    hidden_below,
    line,
    percent2,
    share,
    threshold,
    total,
)
from .tables import Cell, Column, Table
from .terms import Term, like_terms


@dataclass
class Section:
    title: str
    tables: list[Table]
    charts: list[charts.Chart] = field(default_factory=list)
    intro: str = ""


@dataclass
class TermReport:
    scope: Scope
    term: Term
    like_terms: list[Term]
    data_until: datetime.date | None
    made_at: datetime.datetime
    sections: list[Section]
    threshold: int

    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]

    def table(self, name: str) -> Table:
        return next(table for table in self.tables() if table.name == name)

    @property
    def title(self) -> str:
        return _("Term report %(term)s: %(scope)s") % {
            "term": self.term.code,
            "scope": self.scope.label,
        }

    def definitions(self) -> list[tuple[str, str]]:
        k = self.threshold
        return [
            (
                _("Absence %"),
                _(
                    "The absent minutes of all the group's students divided by their "
                    "scheduled minutes over the period (minutes-weighted, not a mean of the "
                    "students' percentages). Late arrivals count as invalid absence."
                ),
            ),
            (
                _("Of which valid %"),
                _("The valid absent minutes divided by the same scheduled minutes."),
            ),
            (
                _("Students"),
                _(
                    "Students with scheduled time in the period, counted at the school and "
                    "in the grade the student register gave them in those months. A student "
                    "who changed school during the term is counted at each school, with the "
                    "months there."
                ),
            ),
            (
                _("Share above 15 %"),
                _(
                    "Students whose own absence over the term is strictly greater than "
                    "15.0 % (exactly 15.0 % is not above), divided by the students with "
                    "scheduled time in the term. Likewise for 25 % and 40 %."
                ),
            ),
            (
                _("Term"),
                _(
                    "%(example)s covers the months %(months)s: the months of the "
                    "municipality's school calendar term. Figures are summed from the "
                    "monthly absence of each student, computed from the lessons."
                )
                % {"example": self.term.code, "months": _month_span(self.term)},
            ),
            (
                _("Staircase step"),
                _(
                    "The step the municipality's staircase gave the student for the month: "
                    "step 2 from 10 %, step 3 from 15 %, step 4 above 20 % (Trosa's "
                    "defaults; the municipality's own thresholds where set). Below step 2 "
                    "means under the first threshold."
                ),
            ),
            (
                _("Small counts"),
                _(
                    "A count of fewer than %(k)d students or cases shows as “< %(k)d”, and "
                    "so does its percentage. A count is hidden too when fewer than %(k)d "
                    "of the group are outside it, and when the hidden cells of a row could "
                    "be worked out from its total, the next smallest cell is hidden as well. "
                    "A district's or the municipality's figure is hidden when, together "
                    "with the figures of its schools or districts, it would give a hidden "
                    "one away."
                )
                % {"k": k},
            ),
        ]


def _month_name(month: datetime.date) -> str:
    return date_format(month, "F Y")


def _month_span(term: Term) -> str:
    first, last = term.months[0], term.months[-1]
    return f"{date_format(first, 'F')}–{date_format(last, 'F Y')}"


def chart_value(cell: Cell) -> float | None:
    """A shown count or share as a chart's point; a suppressed one is a gap."""
    if isinstance(cell, Count | Share) and not cell.suppressed and cell.value is not None:
        return float(cell.value)
    return None


def _grade_label(grade: str) -> str:
    return _("Preschool class") if grade == "F" else grade


def _absence_section(scope: Scope, term: Term, terms: list[Term], tree: PlaceTree) -> Section:
    schools = scope.schools()
    both = figures.term_figures(schools, terms)
    per_grade = both.grades
    whole = figures.absence_total(per_grade)
    counts = line(
        [g.minutes.students for g in per_grade],
        whole.students,
        hidden=[hidden_below(g.students_by_school, tree) for g in per_grade],
    )
    grade_table = Table(
        name="franvaro_per_arskurs",
        title=_("Absence per grade, %(term)s") % {"term": term.code},
        columns=[
            Column("termin", _("Term"), numeric=False),
            Column("arskurs", _("Grade"), numeric=False),
            Column("elever", _("Students")),
            Column("franvaro_procent", _("Absence %")),
            Column("giltig_procent", _("Of which valid %")),
        ],
    )
    for row, count in zip(per_grade, counts, strict=True):
        m = row.minutes
        grade_table.rows.append(
            [term.code, _grade_label(row.grade), count, *absence_shares(m, count)]
        )
    whole_count = total(
        whole.students, hidden=hidden_below(figures.students_by_school(per_grade), tree)
    )
    grade_table.total = [
        term.code,
        _("All grades"),
        whole_count,
        *absence_shares(whole, whole_count),
    ]

    shares = both.shares
    share_table = Table(
        name="andel_over_grans",
        title=_("Share of students above 15 %, 25 % and 40 % absence"),
        columns=[
            Column("termin", _("Term"), numeric=False),
            Column("elever", _("Students")),
            *[
                column
                for limit in figures.SHARE_THRESHOLDS
                for column in (
                    Column(f"over_{limit // 10}_antal", _("Above %(p)d %%") % {"p": limit // 10}),
                    Column(
                        f"over_{limit // 10}_procent",
                        _("Above %(p)d %%, share %%") % {"p": limit // 10},
                    ),
                )
            ],
        ],
    )
    series: dict[int, list[float | None]] = {limit: [] for limit in figures.SHARE_THRESHOLDS}
    for term_shares in shares:
        students = total(
            term_shares.students, hidden=hidden_below(term_shares.students_by_school, tree)
        )
        cells: list[Cell] = [term_shares.term.code, students]
        # The counts are nested (above 40 % is within above 25 %, within above 15 %): each is
        # checked against the last one shown above it, so that no difference between two
        # shown counts (the students between 15 and 25 %) is a small count either.
        group = term_shares.students
        for limit in figures.SHARE_THRESHOLDS:
            above = count_of_group(
                term_shares.above[limit],
                group,
                hidden=hidden_below(term_shares.above_by_school[limit], tree),
            )
            if not above.suppressed:
                group = above.value
            part = share(above, term_shares.students, group_suppressed=students.suppressed)
            cells += [above, part]
            series[limit].append(chart_value(part))
        share_table.rows.append(cells)

    grade_chart = charts.bars(
        title=grade_table.title,
        alt=_(
            "Bar chart of the absence %% and the valid absence %% per grade in %(term)s. "
            "The figures are in the table “%(table)s”."
        )
        % {"term": term.code, "table": grade_table.title},
        table=grade_table.name,
        labels=[str(row[1]) for row in grade_table.rows],
        series=[
            (_("Absence %"), [chart_value(row[3]) for row in grade_table.rows]),
            (_("Of which valid %"), [chart_value(row[4]) for row in grade_table.rows]),
        ],
        y_title=_("Absence %"),
    )
    share_chart = charts.lines(
        title=share_table.title,
        alt=_(
            "Line chart of the share of students above 15 %%, 25 %% and 40 %% absence over "
            "%(terms)s. The figures are in the table “%(table)s”."
        )
        % {"terms": ", ".join(t.code for t in terms), "table": share_table.title},
        table=share_table.name,
        labels=[t.code for t in terms],
        series=[
            (_("Above %(p)d %%") % {"p": limit // 10}, series[limit])
            for limit in figures.SHARE_THRESHOLDS
        ],
        y_title=_("Share of students %"),
    )
    return Section(
        _("Absence"),
        [grade_table, share_table],
        [grade_chart, share_chart],
    )


def step_labels() -> dict[int, str]:
    return {0: _("Below step 2"), 2: _("Step 2"), 3: _("Step 3"), 4: _("Step 4")}


def staircase_table(
    months: list[figures.MonthSteps], *, tree: PlaceTree, name: str, title: str
) -> Table:
    """Students per step, a row per month: each row a line that adds up to its students."""
    labels = step_labels()
    table = Table(
        name=name,
        title=title,
        columns=[
            Column("manad", _("Month"), numeric=False),
            Column("elever", _("Students")),
            *[
                Column(f"steg_{step}" if step else "under_steg_2", labels[step])
                for step in figures.STEPS
            ],
        ],
    )
    for month in months:
        cells = line(
            [month.steps[step] for step in figures.STEPS],
            month.students,
            hidden=[hidden_below(month.steps_by_school[step], tree) for step in figures.STEPS],
        )
        students = total(month.students, hidden=hidden_below(month.students_by_school, tree))
        table.rows.append([_month_name(month.month), students, *cells])
    return table


def absence_shares(minutes: figures.Minutes, students: Count) -> list[Cell]:
    """Absence % and valid %, two decimals, suppressed with the students' count."""
    return [
        Share(percent2(minutes.absent_min, minutes.scheduled_min), suppressed=students.suppressed),
        Share(percent2(minutes.valid_min, minutes.scheduled_min), suppressed=students.suppressed),
    ]


def _staircase_section(scope: Scope, term: Term, tree: PlaceTree) -> Section:
    table = staircase_table(
        figures.steps_per_month(scope.schools(), term.months),
        tree=tree,
        name="trappan_per_manad",
        title=_("The staircase: students per step and month, %(term)s") % {"term": term.code},
    )
    labels = step_labels()
    first_step_column = 3  # month, students, below step 2, then steps 2, 3, 4
    series = [
        (labels[step], [chart_value(row[first_step_column + i]) for row in table.rows])
        for i, step in enumerate(figures.STEPS[1:])
    ]
    chart = charts.lines(
        title=table.title,
        alt=_(
            "Line chart of the number of students at steps 2, 3 and 4 month by month in "
            "%(term)s. The figures are in the table “%(table)s”."
        )
        % {"term": term.code, "table": table.title},
        table=table.name,
        labels=[str(row[0]) for row in table.rows],
        series=series,
        y_title=_("Students"),
    )
    return Section(_("The absence staircase"), [table], [chart] if table.rows else [])


def build_term_report(
    scope: Scope,
    term: Term,
    *,
    today: datetime.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> TermReport:
    today = today or timezone.localdate()
    terms = like_terms(term, count=3, municipality_id=scope.municipality_id)
    tree = scope.tree()  # one query for every table's rule 4
    sections = [_absence_section(scope, term, terms, tree)]
    if progress:
        progress(30)
    sections.append(_staircase_section(scope, term, tree))
    if progress:
        progress(45)
    for title, tables, drawn in case_sections(scope, term, today):
        sections.append(Section(title, tables, drawn))
    if progress:
        progress(60)
    return TermReport(
        scope=scope,
        term=term,
        like_terms=terms,
        data_until=figures.data_until(scope.schools(), term),
        made_at=timezone.localtime(),
        sections=sections,
        threshold=threshold(),
    )
