"""Thin tasks: load by id, call the service."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import runs


@shared_task(  # type: ignore[untyped-decorator]  # celery ships no type hints
    soft_time_limit=settings.REPORT_TIME_LIMIT_SECONDS,
    time_limit=settings.REPORT_TIME_LIMIT_SECONDS + 30,
)
def generate_report(run_id: int) -> str:
    try:
        return runs.report_run_generate(run_id)
    except SoftTimeLimitExceeded:
        runs.report_run_time_out(run_id)
        return "timed out"


@shared_task  # type: ignore[untyped-decorator]  # celery ships no type hints
def purge_report_files() -> int:
    """Nightly: delete report files past their keeping time."""
    return runs.report_runs_purge()
