"""Thin, idempotent tasks: they take ids or months and call the services."""

from __future__ import annotations

import datetime
from typing import Any

from celery import shared_task
from django.utils import timezone

from . import notices, services
from .imports.jobs import import_runs_watchdog, run_stored_import


@shared_task
def rollup_and_evaluate(month: str | None = None) -> dict[str, int]:
    """Recompute a month (default: the current one) and evaluate the staircase for it."""
    day = datetime.date.fromisoformat(month) if month else timezone.localdate()
    return services.absence_month_refresh(month=day)


@shared_task
def close_previous_month() -> dict[str, int]:
    """On the 1st: the last recomputation of the month that just ended."""
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return services.absence_month_refresh(month=last_month)


@shared_task
def send_alert_notices() -> int:
    return notices.send_alert_notices()


@shared_task
def refresh_pending_months() -> list[str]:
    """Every few minutes: recompute the months imports marked, until none is left."""
    return services.absence_pending_months_refresh()


@shared_task(bind=True)
def run_import(self: Any, import_run_id: int) -> str:
    delivery = self.request.delivery_info or {}
    return run_stored_import(
        import_run_id,
        task_id=self.request.id or "",
        redelivered=bool(delivery.get("redelivered")),
    )


@shared_task
def watch_import_runs() -> dict[str, int]:
    """Every two minutes: re-queue or fail runs whose worker died; delete leftover files."""
    return import_runs_watchdog()
