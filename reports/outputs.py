"""The term report's files: the PDF, the CSV files and the XLSX workbook.

Every output prints the same ``Table`` objects of ``reports.term_report`` (cells already
suppressed, ``tables.cell_text``), so the CSV tables equal the PDF's by construction. The
renderers are generic: a section is its intro, its charts (each followed by its text
alternative) and its tables, whatever the section is about — the case sections print the
same way as the absence ones.

The PDF goes through ``sst.printing`` (``print/base.html``): A4, "Sida X av Y", and a neutral
title in the file's metadata ("Terminsrapport HT2025") — a place and a term, never a person.
The charts are inline SVG: WeasyPrint draws an inline ``<svg>`` as vector graphics, while the
``<img src="data:…">`` the web page uses would go through the print URL fetcher, which
refuses everything but the static files.

    term_report_pdf(report) -> bytes
    term_report_csv(report) -> {"franvaro_per_arskurs.csv": "termin;arskurs;…", …}
    write_csv_dir(report, path) -> [written paths]
    term_report_xlsx(report) -> bytes
    report_filename(report, "pdf") -> "terminsrapport-HT2025-skola-77000001.pdf"
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from sst import printing

from .charts import Chart
from .suppression import suppressed_label
from .tables import Table, cell_text, xlsx_bytes
from .term_report import Section, TermReport

PDF_TEMPLATE = "reports/print/term_report.html"

# The same neutral names ``sst.printing`` accepts for a PDF, for every extension we write.
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.(pdf|csv|xlsx|zip)$")
_SCOPE_WORD = {"municipality": "kommun", "district": "stadsdel", "school": "skola"}


def report_filename(report: TermReport, ext: str) -> str:
    """A neutral file name: the term and the place's code, never a name.

    ``terminsrapport-HT2025-skola-77000001.pdf``, ``terminsrapport-HT2025-stadsdel-7.pdf``,
    ``terminsrapport-HT2025-kommun.pdf``.
    """
    scope = report.scope
    stem = f"terminsrapport-{report.term.code}-{_SCOPE_WORD[scope.kind]}"
    if scope.kind == "school":
        stem += f"-{scope.key.partition(':')[2]}"
    elif scope.kind == "district":
        stem += f"-{scope.place.pk}"
    name = f"{stem}.{ext.lstrip('.').lower()}"
    if not _SAFE_FILENAME.match(name):
        raise ValueError(f"not a neutral file name: {name!r}")
    return name


def csv_filename(table: Table) -> str:
    return f"{table.name}.csv"


# ----------------------------------------------------------------------------------- PDF


# A table this short is kept on one page together with its heading and chart.
KEEP_TOGETHER_ROWS = 14
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
# The legend's ids are for pygal's JavaScript, which the report does not use; several charts
# in one document would define them twice.
_LEGEND_ID = re.compile(r'\s+id="activate-serie-\d+"')


def inline_svg(chart: Chart) -> SafeString:
    """The chart as an inline ``<svg>`` without pygal's script element (its configuration
    for the tooltips, which a PDF has no use for) or the legend's ids."""
    svg = _LEGEND_ID.sub("", _SCRIPT.sub("", chart.svg))
    # pygal builds the SVG with an XML library, which escapes every label in it; the
    # script element is removed above. Nothing else from outside reaches it.
    return mark_safe(svg)  # noqa: S308


def _section_blocks(section: Section) -> list[dict[str, Any]]:
    """The section's tables in order, each with the charts drawn from it just above; charts
    that name no table of the section come last."""
    names = {table.name for table in section.tables}
    blocks: list[dict[str, Any]] = []
    for table in section.tables:
        blocks.append(
            {
                "charts": [
                    {"chart": chart, "svg": inline_svg(chart)}
                    for chart in section.charts
                    if chart.table == table.name
                ],
                "table": _table_context(table),
                "keep": len(table.all_rows()) <= KEEP_TOGETHER_ROWS,
            }
        )
    loose = [chart for chart in section.charts if chart.table not in names]
    if loose:
        blocks.append(
            {
                "charts": [{"chart": chart, "svg": inline_svg(chart)} for chart in loose],
                "table": None,
                "keep": True,
            }
        )
    return blocks


def _table_context(table: Table) -> dict[str, Any]:
    numeric = [column.numeric for column in table.columns]
    return {
        "table": table,
        "columns": table.columns,
        "rows": [list(zip(row, numeric, strict=False)) for row in _text_rows(table.rows)],
        "total": list(zip(_text_rows([table.total])[0], numeric, strict=False))
        if table.total is not None
        else None,
    }


def _text_rows(rows: list[Any]) -> list[list[str]]:
    return [[cell_text(cell) for cell in row] for row in rows]


def pdf_context(report: TermReport) -> dict[str, Any]:
    place = report.scope.place
    municipality = getattr(place, "municipality", None) or getattr(
        getattr(place, "district", None), "municipality", None
    )
    return {
        "report": report,
        "scope": report.scope,
        "term": report.term,
        "municipality": municipality or place,
        "definitions": report.definitions(),
        "suppressed_label": suppressed_label(report.threshold),
        "sections": [
            {"section": section, "blocks": _section_blocks(section)} for section in report.sections
        ],
    }


def term_report_pdf(report: TermReport) -> bytes:
    """The term report as a print-ready PDF (cover, definitions, the sections)."""
    return printing.pdf_bytes(PDF_TEMPLATE, pdf_context(report))


# ----------------------------------------------------------------------------- CSV / XLSX


def term_report_csv(report: TermReport) -> dict[str, str]:
    """One CSV text per table: ``{"franvaro_per_arskurs.csv": "termin;arskurs;…\\n…"}``."""
    return {csv_filename(table): table.csv_text() for table in report.tables()}


def write_csv_dir(report: TermReport, path: str | Path) -> list[Path]:
    """Write every table as ``<name>.csv`` (UTF-8, no byte order mark) into ``path``,
    creating it; returns the files written."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in term_report_csv(report).items():
        target = directory / name
        target.write_text(text, encoding="utf-8", newline="")
        written.append(target)
    return written


def term_report_xlsx(report: TermReport) -> bytes:
    """Every table on a sheet of its own; the workbook's title is the report's (a place and a
    term)."""
    return xlsx_bytes(report.tables(), title=report.title)
