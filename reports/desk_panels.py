"""The manager's desk: where their reports are, and this month's staircase in brief."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from attendance.rollup import month_start
from sst import access

from . import figures
from .scope import scopes_of
from .suppression import line, total


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
        cells = line([row.steps[step] for step in figures.STEPS], row.students)
        steps = {"students": total(row.students), "cells": cells}
    return "reports/desk_panel.html", {
        "scopes": scopes,
        "first": first,
        "steps": steps,
        "month": month,
    }
