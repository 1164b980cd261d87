"""The Celery application. Without CELERY_BROKER_URL tasks run eagerly, in-process."""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sst.settings")

app = Celery("sst")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs: Any) -> None:
    """Workers log like the web app: request ids, personnummer-shaped strings masked."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


app.conf.beat_schedule = {
    # Memberships start and end by date: re-grant object permissions just after midnight.
    "sync-role-permissions-nightly": {
        "task": "sst.tasks.sync_all_role_permissions",
        "schedule": crontab(hour=0, minute=5),
    },
    "rollup-current-month-nightly": {
        "task": "attendance.tasks.rollup_and_evaluate",
        "schedule": crontab(hour=1, minute=0),
    },
    "close-previous-month": {
        "task": "attendance.tasks.close_previous_month",
        "schedule": crontab(day_of_month="1", hour=1, minute=30),
    },
    "checklist-follow-up-reminders-daily": {
        "task": "cases.tasks.send_checklist_follow_up_reminders",
        "schedule": crontab(hour=6, minute=30),
    },
}
