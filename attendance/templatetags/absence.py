"""Absence figures on pages: percentages, periods and server-side SVG charts.

Numbers follow the active language (Swedish: decimal comma, "12,5 %"); every chart is an
inline SVG with a title and a description, and the same figures are always in a table next
to it, so nothing depends on seeing the picture or on JavaScript.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Rule, next_month

register = template.Library()

VALID_COLOUR = "#3b6ea5"
INVALID_COLOUR = "#b3401e"
STEP_COLOURS = {0: "#6c757d", 2: "#b58100", 3: "#c55a11", 4: "#a4161a"}
EMPTY = "–"


@register.filter
def pct(value: Decimal | float | int | None) -> str:
    """12.5 → "12,5 %" in Swedish, "12.5 %" in English; no value → "–"."""
    if value is None:
        return EMPTY
    return f"{formats.number_format(Decimal(value), decimal_pos=1, use_l10n=True)} %"


@register.filter
def minutes(value: int | None) -> str:
    if value is None:
        return EMPTY
    return formats.number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


@register.filter
def month_label(month: datetime.date) -> str:
    """A month by name: "oktober 2026"."""
    return formats.date_format(month, "F Y")


def _is_whole_month(start: datetime.date, end: datetime.date) -> bool:
    return start.day == 1 and end == next_month(start) - datetime.timedelta(days=1)


@register.simple_tag
def period(start: datetime.date, end: datetime.date) -> str:
    """A calendar month by name, any other period as "2026-08-01–2026-11-23"."""
    if _is_whole_month(start, end):
        return month_label(start)
    return f"{start:%Y-%m-%d}–{end:%Y-%m-%d}"


@register.filter
def weekday_name(iso_weekday: int) -> str:
    """1 → "Måndag" (ISO weekday numbers, Monday = 1)."""
    return capfirst(formats.date_format(datetime.date(2024, 1, iso_weekday), "l"))


@register.filter
def step_label(step: int | None) -> str:
    if not step:
        return EMPTY
    return str(step)


@register.filter
def alert_value(alert: Any) -> str:
    """What the rule measured: a percentage, a number of late arrivals or of school days."""
    if alert.value_pct is not None:
        return pct(alert.value_pct)
    if alert.value_count is None:
        return EMPTY
    if alert.rule == Rule.INVALID_STREAK:
        return ngettext("%(count)d school day", "%(count)d school days", alert.value_count) % {
            "count": alert.value_count
        }
    return ngettext("%(count)d late arrival", "%(count)d late arrivals", alert.value_count) % {
        "count": alert.value_count
    }


def _short_month(month: datetime.date) -> str:
    return formats.date_format(month, "b")


@register.simple_tag
def sparkline(trend: list[tuple[datetime.date, Any]], label: str = "") -> SafeString:
    """A small bar per month of the term (absence %), coloured by step; months with no
    lessons show as a thin grey line. The accessible name lists every value."""
    if not trend:
        return format_html("{}", EMPTY)
    bar, gap, height = 10, 4, 24
    top = max([30.0] + [float(row.absent_pct) for _m, row in trend if row is not None])
    parts = []
    spoken = []
    for index, (month, row) in enumerate(trend):
        x = index * (bar + gap)
        if row is None:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="1" fill="#adb5bd"></rect>',
                    x,
                    height - 1,
                    bar,
                )
            )
            spoken.append(_("%(month)s: no lessons") % {"month": month_label(month)})
            continue
        value = float(row.absent_pct)
        h = max(2.0, round(value / top * (height - 2), 1))
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>',
                x,
                round(height - h, 1),
                bar,
                h,
                STEP_COLOURS.get(row.step, STEP_COLOURS[4]),
            )
        )
        spoken.append(f"{month_label(month)}: {pct(row.absent_pct)}")
    width = len(trend) * (bar + gap) - gap
    name = f"{label}: {'; '.join(spoken)}" if label else "; ".join(spoken)
    return format_html(
        '<svg class="absence-sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        name,
        name,
        SafeString("".join(parts)),
    )


@register.simple_tag
def absence_chart(history: list[Any], policy: Any, chart_id: str = "absence-chart") -> SafeString:
    """Monthly absence as stacked bars (valid below, invalid above) with the staircase's
    thresholds as dashed lines. ``history`` holds ``MonthlyAbsence`` rows, oldest first."""
    if not history:
        return SafeString("")
    width, height = 720, 280
    left, right, top_margin, bottom = 48, 72, 16, 44
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    highest = max(float(row.absent_pct) for row in history)
    thresholds = [
        (2, float(policy.step2_pct)),
        (3, float(policy.step3_pct)),
        (4, float(policy.step4_pct)),
    ]
    y_max = min(100, max(10 * math.ceil(highest / 10), 10 * math.ceil(thresholds[-1][1] / 10) + 10))

    def y(value: float) -> float:
        return round(top_margin + plot_h - value / y_max * plot_h, 1)

    grid = []
    for tick in range(0, y_max + 1, 10):
        grid.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#dee2e6"></line>'
                '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="#495057">{}</text>',
                left,
                left + plot_w,
                y(tick),
                y(tick),
                left - 6,
                y(tick) + 4,
                f"{tick} %",
            )
        )
    band = plot_w / len(history)
    bar_w = round(min(44.0, band * 0.62), 1)
    bars = []
    for index, row in enumerate(history):
        x = round(left + index * band + (band - bar_w) / 2, 1)
        valid, invalid = float(row.valid_pct), float(row.absent_pct) - float(row.valid_pct)
        tip = _("%(month)s: absence %(total)s (valid %(valid)s, invalid %(invalid)s)") % {
            "month": month_label(row.month),
            "total": pct(row.absent_pct),
            "valid": pct(row.valid_pct),
            "invalid": pct(row.invalid_pct),
        }
        label = capfirst(_short_month(row.month))
        year = f"{row.month:%Y}" if index == 0 or row.month.month == 1 else ""
        centre = round(x + bar_w / 2, 1)
        bars.append(
            format_html(
                "<g><title>{}</title>"
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#212529">{}</text>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#212529">{}</text>'
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#495057">{}</text>'
                "</g>",
                tip,
                x,
                y(valid),
                bar_w,
                round(y(0) - y(valid), 1),
                VALID_COLOUR,
                x,
                y(valid + invalid),
                bar_w,
                round(y(valid) - y(valid + invalid), 1),
                INVALID_COLOUR,
                centre,
                y(valid + invalid) - 4,
                pct(row.absent_pct),
                centre,
                height - bottom + 16,
                label,
                centre,
                height - bottom + 31,
                year,
            )
        )
    lines = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1.5" '
        'stroke-dasharray="6 4"></line>'
        '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>',
        (
            (
                left,
                left + plot_w,
                y(value),
                y(value),
                STEP_COLOURS[step],
                left + plot_w + 6,
                y(value) + 4,
                STEP_COLOURS[step],
                _("Step %(step)d") % {"step": step},
            )
            for step, value in thresholds
            if value <= y_max
        ),
    )
    first, last = history[0].month, history[-1].month
    title = _("Absence per month, %(first)s–%(last)s") % {
        "first": month_label(first),
        "last": month_label(last),
    }
    desc = _(
        "Stacked bars: valid absence at the bottom, invalid absence (late arrivals included) "
        "on top, as a percentage of scheduled time. Dashed lines mark the staircase's steps. "
        "The same figures are in the table below."
    )
    return format_html(
        '<svg id="{}" class="absence-chart mw-100 h-auto" viewBox="0 0 {} {}" width="{}" '
        'height="{}" role="img" aria-labelledby="{}-title {}-desc" '
        'preserveAspectRatio="xMinYMin meet">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#212529"></line>'
        "{}{}{}</svg>",
        chart_id,
        width,
        height,
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
        left,
        left + plot_w,
        y(0),
        y(0),
        SafeString("".join(grid)),
        SafeString("".join(bars)),
        lines,
    )


@register.simple_tag
def legend_swatch(kind: str) -> SafeString:
    colour = {"valid": VALID_COLOUR, "invalid": INVALID_COLOUR}.get(kind, "#6c757d")
    return format_html(
        '<svg width="14" height="14" aria-hidden="true" focusable="false">'
        '<rect width="14" height="14" fill="{}"></rect></svg>',
        colour,
    )
