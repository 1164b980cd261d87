"""Thin, idempotent tasks for the school's steps: they call the services."""

from __future__ import annotations

import datetime

from celery import shared_task

from .checklist import services as checklists


@shared_task
def send_checklist_follow_up_reminders(today: str | None = None) -> int:
    """Remind mentors of checklist follow-ups that are due (each checklist once)."""
    day = datetime.date.fromisoformat(today) if today else None
    return checklists.follow_up_reminders_send(today=day)
