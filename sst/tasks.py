"""Thin, idempotent tasks."""

from celery import shared_task

from . import access


@shared_task
def sync_all_role_permissions() -> int:
    """Re-grant everyone's object permissions from their memberships active today."""
    return access.sync_all_permissions()
