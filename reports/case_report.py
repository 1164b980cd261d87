"""The cases part of the term report: ``case_figures`` → suppressed tables and a chart.

Every count of cases goes through the small-count rule like the students' counts: a count
below the threshold shows as "< 5"; lines that add up to a total (the closure reasons, the
goals, the absence bands, gender and grade) also get the secondary rule; a median over fewer
cases than the threshold is not shown, nor a survey mean over fewer answers.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import charts
from .case_figures import AbsenceAt, CaseFigures, Distribution, Median, case_figures
from .scope import Scope
from .suppression import Count, count_of_group, line, median_label, threshold, total
from .tables import Cell, Column, Table
from .terms import Term


def figures_for(scope: Scope, term: Term, today: datetime.date) -> CaseFigures:
    return case_figures(schools=scope.schools(), start=term.start, end=term.end, today=today)


def _distribution_table(
    name: str, title: str, label: str, counts: Distribution, *, adds_up: bool, note: str = ""
) -> Table:
    table = Table(
        name=name,
        title=title,
        columns=[Column("varde", label, numeric=False), Column("antal", _("Cases"))],
        note=note,
    )
    values = [n for _label, n in counts]
    cells = line(values) if adds_up else [total(n) for n in values]
    for (text, _n), cell in zip(counts, cells, strict=True):
        table.rows.append([text, cell])
    if adds_up and counts:
        table.total = [_("In all"), total(sum(values))]
    return table


def overview_table(figures: CaseFigures, term: Term) -> Table:
    """Ongoing, the queue, opened and closed, referrals: the term and the last 12 months."""
    year = figures.last_12_months
    table = Table(
        name="arenden",
        title=_("Cases and referrals"),
        columns=[
            Column("matt", _("Measure"), numeric=False),
            Column("terminen", term.code),
            Column(
                "senaste_12_manader",
                _("Last 12 months (%(start)s–%(end)s)")
                % {
                    "start": date_format(year.start, "j M Y"),
                    "end": date_format(year.end, "j M Y"),
                },
            ),
        ],
        note=_("Ongoing, in maintenance and waiting in the queue are the cases' state on %(day)s.")
        % {"day": date_format(figures.today, "j F Y")},
    )
    now = "–"

    def row(label: str, in_term: int | None, in_year: int | None) -> None:
        cells: list[Cell] = [label]
        cells.append(total(in_term) if in_term is not None else now)
        cells.append(total(in_year) if in_year is not None else now)
        table.rows.append(cells)

    row(_("Ongoing cases (now)"), figures.ongoing, None)
    # Of the ongoing cases: hidden also when few are not in maintenance (rule 2).
    table.rows.append(
        [
            _("of which in maintenance"),
            count_of_group(figures.in_maintenance, figures.ongoing),
            now,
        ]
    )
    row(_("Waiting in the queue (now)"), figures.queued, None)
    row(_("Cases opened"), figures.opened, figures.opened_12_months)
    row(_("Cases closed"), figures.closed, figures.closed_12_months)
    term_refs, year_refs = figures.referrals, figures.referrals_12_months
    row(_("Referrals received"), term_refs.received, year_refs.received)
    # The forum's decisions add up to the referrals decided: a lone small kind of decision
    # takes the next smallest with it (rule 3).
    decided = [
        (_("Referrals accepted"), term_refs.accepted, year_refs.accepted),
        (_("Referrals rejected"), term_refs.rejected, year_refs.rejected),
        (_("Referrals redirected"), term_refs.redirected, year_refs.redirected),
    ]
    in_term = line([n for _label, n, _y in decided])
    in_year = line([y for _label, _n, y in decided])
    for (label, _n, _y), a, b in zip(decided, in_term, in_year, strict=True):
        table.rows.append([label, a, b])
    return table


def _lead_table(figures: CaseFigures) -> Table:
    table = Table(
        name="ledtider",
        title=_("Median lead times in days"),
        columns=[
            Column("steg", _("Step"), numeric=False),
            Column("median_dagar", _("Median, days")),
            Column("antal", _("Cases")),
        ],
        note=_("Over the steps completed in the term."),
    )
    lead = figures.lead_times
    steps: list[tuple[str, Median]] = [
        (_("Alert → mentor checklist"), lead.alert_to_checklist),
        (_("Referral → forum decision"), lead.referral_to_decision),
        (_("Forum decision → start-up meeting"), lead.decision_to_startup),
        (_("Referral → start-up meeting"), lead.referral_to_startup),
    ]
    for label, found in steps:
        table.rows.append([label, median_label(found.value, found.count), total(found.count)])
    return table


def _period_note(at: AbsenceAt) -> str:
    if not at.measured or at.earliest is None or at.latest is None:
        return ""
    months = sorted(set(at.months))
    return _("%(label)s: the %(months)s full months before, between %(start)s and %(end)s.") % {
        "label": at.label,
        "months": "/".join(str(m) for m in months),
        "start": date_format(at.earliest, "F Y"),
        "end": date_format(at.latest, "F Y"),
    }


def _absence_table(figures: CaseFigures) -> tuple[Table, charts.Chart | None]:
    intake, closure = figures.intake, figures.at_closure
    table = Table(
        name="franvaro_intag_avslut",
        title=_("Absence at intake and at closure"),
        columns=[
            Column("franvaro", _("Absence"), numeric=False),
            Column("vid_intag", _("At intake")),
            Column("vid_avslut", _("At closure")),
        ],
        note=" ".join(filter(None, [_period_note(intake), _period_note(closure)])),
    )
    intake_cells = line([n for _label, n in intake.bands])
    closure_cells = line([n for _label, n in closure.bands])
    for (label, _n), a, b in zip(intake.bands, intake_cells, closure_cells, strict=True):
        table.rows.append([label, a, b])
    table.total = [
        _("Median absence %"),
        median_label(intake.median_pct, intake.measured),
        median_label(closure.median_pct, closure.measured),
    ]
    if not intake.measured and not closure.measured:
        return table, None

    def value(cell: Count) -> float | None:
        return None if cell.suppressed else float(cell.value)

    chart = charts.bars(
        title=table.title,
        alt=_(
            "Bar chart of the number of closed cases in each absence band at intake and at "
            "closure. The figures are in the table “%(table)s”."
        )
        % {"table": table.title},
        table=table.name,
        labels=[label for label, _n in intake.bands],
        series=[
            (_("At intake"), [value(c) for c in intake_cells]),
            (_("At closure"), [value(c) for c in closure_cells]),
        ],
        y_title=_("Cases"),
    )
    return table, chart


def _survey_table(figures: CaseFigures) -> Table:
    k = threshold()
    table = Table(
        name="nojdhet",
        title=_("Satisfaction at closure (1–5)"),
        columns=[
            Column("svarande", _("Respondent"), numeric=False),
            Column("svar", _("Answers")),
            Column("nojd", _("Satisfied, mean")),
            Column("hjalp", _("Helped, mean")),
            Column("lyssnad", _("Listened to, mean")),
        ],
        note=_("A mean over fewer than %(k)d answers is not shown.") % {"k": k},
    )

    def mean(value: Decimal | None, answers: int) -> str:
        return median_label(value, answers)

    for survey in figures.satisfaction:
        table.rows.append(
            [
                survey.label,
                total(survey.answers),
                mean(survey.satisfied_mean, survey.answers),
                mean(survey.helped_mean, survey.answers),
                mean(survey.listened_to_mean, survey.answers),
            ]
        )
    return table


def case_sections(
    scope: Scope, term: Term, today: datetime.date
) -> list[tuple[str, list[Table], list[charts.Chart]]]:
    """(title, tables, charts) of the report's case sections."""
    figures = figures_for(scope, term, today)
    absence, absence_chart = _absence_table(figures)
    goals_note = _("Over the %(n)s closure records of cases with a plan in the term.") % {
        "n": total(figures.goals_assessed).label()
    }
    return [
        (
            _("The team's cases"),
            [
                overview_table(figures, term),
                _lead_table(figures),
                _distribution_table(
                    "avslutsorsaker",
                    _("Closure reasons"),
                    _("Reason"),
                    figures.closure_reasons,
                    adds_up=True,
                ),
                _distribution_table(
                    "mal_uppfyllda",
                    _("Goals met at closure"),
                    _("Goals"),
                    figures.goals,
                    adds_up=True,
                    note=goals_note,
                ),
            ],
            [],
        ),
        (
            _("Results, causes and interventions"),
            [
                absence,
                _distribution_table(
                    "orsaker",
                    _("Causes most often mapped"),
                    _("Cause"),
                    figures.causes,
                    adds_up=False,
                    note=_("A case with several causes counts once for each."),
                ),
                _distribution_table(
                    "insatser",
                    _("Interventions most often planned"),
                    _("Intervention"),
                    figures.interventions,
                    adds_up=False,
                ),
                _survey_table(figures),
                _distribution_table(
                    "kon",
                    _("Gender of the cases' students"),
                    _("Gender"),
                    figures.gender,
                    adds_up=True,
                ),
                _distribution_table(
                    "arskurs_arenden",
                    _("Grade of the cases' students"),
                    _("Grade"),
                    figures.grade,
                    adds_up=True,
                ),
            ],
            [absence_chart] if absence_chart else [],
        ),
    ]
