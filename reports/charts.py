"""The reports' charts: SVG drawn on the server with pygal, the same on the page and in the PDF.

Why pygal: it is pure Python (no browser, no Node, no native binary such as vl-convert's
embedded Deno), draws plain SVG that WeasyPrint renders as it is, and is kept up by the
Kozea team that also keeps WeasyPrint. The charts are drawn without pygal's JavaScript
(``js=[]``): on the page the SVG is an ``<img>`` (a data URL, which the content security
policy allows for images) with a text alternative, and a table with the same figures
stands beside every chart — a chart alone is not accessible.

A suppressed figure is drawn as a gap (``None``), never as its value.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from django.utils.translation import gettext as _
from pygal.style import Style

# Colours with at least 3:1 contrast against white (WCAG 1.4.11 for graphics).
_STYLE = Style(
    font_family="DejaVu Sans, Arial, sans-serif",
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#1f4e79", "#b35900", "#2e7d32", "#6a1b9a", "#9c2323"),
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
    title_font_size=14,
    no_data_font_size=20,
)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    alt: str  # the text alternative; the table named ``table`` has the figures
    table: str

    @property
    def data_url(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


def _swedish_number(value: float | None) -> str:
    """Axis labels with a decimal comma (12,5), as every figure in the reports."""
    return "" if value is None else f"{value:g}".replace(".", ",")


def _common(y_title: str) -> dict[str, object]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "width": 720,
        "height": 320,
        "explicit_size": True,
        "style": _STYLE,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 4,
        "y_title": y_title,
        "decimal_separator": ",",
        "thousands_separator": " ",
        "print_values": False,
        "show_minor_x_labels": True,
        "truncate_label": -1,
        "truncate_legend": -1,
        "min_scale": 4,
        "include_x_axis": True,
        "value_formatter": _swedish_number,
        # Room for the last x label ("oktober 2025"), which is centred on the plot's edge.
        "margin_right": 40,
        # Every value hidden by the small-count rule (or none at all): said in the language
        # of the report, not pygal's English.
        "no_data_text": _("No figures to show"),
    }


def _render(chart: pygal.graph.graph.Graph) -> str:
    svg: str = chart.render(is_unicode=True)
    return svg


def bars(
    *,
    title: str,
    alt: str,
    table: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    y_title: str,
) -> Chart:
    chart = pygal.Bar(**_common(y_title))
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return Chart(title, _render(chart), alt, table)


def lines(
    *,
    title: str,
    alt: str,
    table: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    y_title: str,
) -> Chart:
    chart = pygal.Line(**_common(y_title), allow_interruptions=True, dots_size=4)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return Chart(title, _render(chart), alt, table)
