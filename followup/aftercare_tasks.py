"""Thin, idempotent tasks of after-care: they call the services."""

from __future__ import annotations

from celery import shared_task

from . import aftercare_services


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def notify_aftercare_due() -> int:
    """Daily: a content-free notice to the school's case staff when a check falls due
    (once per check)."""
    return aftercare_services.aftercare_notify_due()
