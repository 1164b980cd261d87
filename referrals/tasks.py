"""Thin, idempotent tasks of the forum's part: they call the services."""

from __future__ import annotations

from celery import shared_task

from . import forum_services


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def plan_forum_meetings(weeks: int = 8) -> int:
    """Daily: every forum's meetings planned ``weeks`` ahead from its schedule."""
    return forum_services.forums_plan_all(weeks=weeks)


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def prepare_forum_agendas() -> int:
    """Daily: agendas whose closing time has passed are placed and sent (once)."""
    return forum_services.agendas_prepare_due()
