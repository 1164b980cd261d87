"""Thin, idempotent tasks of the follow-ups: they call the services."""

from __future__ import annotations

import datetime

from celery import shared_task

from . import aftercare_services, followup_services


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def notify_followups(today: str | None = None) -> int:
    """Daily: "a follow-up is due" and "a follow-up is overdue", each once per follow-up."""
    day = datetime.date.fromisoformat(today) if today else None
    return followup_services.notices_send(today=day)


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def notify_aftercare_due() -> int:
    """Daily: a content-free notice to the school's case staff when an after-care check
    falls due (once per check)."""
    return aftercare_services.aftercare_notify_due()
