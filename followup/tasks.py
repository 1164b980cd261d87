"""Thin, idempotent tasks of the follow-ups: they call the services."""

from __future__ import annotations

import datetime

from celery import shared_task

from . import followup_services


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def notify_followups(today: str | None = None) -> int:
    """Daily: "a follow-up is due" and "a follow-up is overdue", each once per follow-up."""
    day = datetime.date.fromisoformat(today) if today else None
    return followup_services.notices_send(today=day)
