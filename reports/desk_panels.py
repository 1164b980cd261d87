"""The manager's desk: where their reports are, and this month's staircase in brief."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from attendance.rollup import month_start
from sst import access

from . import figures
from .scope import scopes_of
from .suppression import hidden_below, line, total


def reports_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    user = request.user
    if not access.role_facts(request).sees_reports:
        return None
    scopes = scopes_of(user)
    if not scopes:
        return None
    first = scopes[0]
    month = month_start(timezone.localdate())
    rows = figures.steps_per_month(first.schools(), [month])
    steps = None
    if rows:
        row = rows[0]
        tree = first.tree()
        cells = line(
            [row.steps[step] for step in figures.STEPS],
            row.students,
            hidden=[hidden_below(row.steps_by_school[step], tree) for step in figures.STEPS],
        )
        students = total(row.students, hidden=hidden_below(row.students_by_school, tree))
        steps = {"students": students, "cells": cells}
    return "reports/desk_panel.html", {
        "scopes": scopes,
        "first": first,
        "steps": steps,
        "month": month,
    }
