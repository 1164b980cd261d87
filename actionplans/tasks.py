"""Thin, idempotent tasks of the action plan's side: they call the services."""

from __future__ import annotations

import datetime

from celery import shared_task

from . import maintenance_services


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def remind_boosters(today: str | None = None) -> int:
    """The content-free reminder of each booster meeting a few days ahead (each once)."""
    day = datetime.date.fromisoformat(today) if today else None
    return maintenance_services.boosters_remind(today=day)
