"""The Celery application. Without CELERY_BROKER_URL tasks run eagerly, in-process."""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging, worker_init

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


def limit_worker_session(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """A worker's PostgreSQL session: the server checks every few seconds that the worker is
    still there while a statement runs (a killed worker's transaction rolls back and its
    locks go within seconds, not when the statement ends), and no statement or lock wait
    runs for ever."""
    from django.conf import settings

    if connection is None or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('client_connection_check_interval', %s, false),"
            " set_config('lock_timeout', %s, false),"
            " set_config('statement_timeout', %s, false),"
            " set_config('application_name', 'sst-worker', false)",
            [
                f"{settings.WORKER_CONNECTION_CHECK_SECONDS}s",
                f"{settings.WORKER_LOCK_TIMEOUT_SECONDS}s",
                f"{settings.WORKER_STATEMENT_TIMEOUT_SECONDS}s",
            ],
        )


@worker_init.connect
def _limit_worker_sessions(**kwargs: Any) -> None:
    """In a worker (the pool processes inherit it): every new database connection gets the
    limits above. The web processes keep the defaults."""
    from django.db.backends.signals import connection_created

    connection_created.connect(limit_worker_session, dispatch_uid="sst-worker-session")


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
    # A worker that died leaves its import run without a heartbeat: re-queue or fail it.
    "watch-import-runs": {
        "task": "attendance.tasks.watch_import_runs",
        "schedule": crontab(minute="*/2"),
    },
    # Months an import touched whose recomputation did not happen (its task was lost).
    "refresh-pending-months": {
        "task": "attendance.tasks.refresh_pending_months",
        "schedule": crontab(minute="*/5"),
    },
    # The referral forums: meetings planned ahead from each schedule, agendas sent once
    # they close.
    "plan-forum-meetings-daily": {
        "task": "referrals.tasks.plan_forum_meetings",
        "schedule": crontab(hour=2, minute=15),
    },
    "prepare-forum-agendas-daily": {
        "task": "referrals.tasks.prepare_forum_agendas",
        "schedule": crontab(hour=6, minute=0),
    },
    "followup-notices-daily": {
        "task": "followup.tasks.notify_followups",
        "schedule": crontab(hour=6, minute=45),
    },
    "aftercare-due-notices-daily": {
        "task": "followup.tasks.notify_aftercare_due",
        "schedule": crontab(hour=6, minute=50),
    },
    "checklist-follow-up-reminders-daily": {
        "task": "cases.tasks.send_checklist_follow_up_reminders",
        "schedule": crontab(hour=6, minute=30),
    },
    "booster-meeting-reminders-daily": {
        "task": "actionplans.tasks.remind_boosters",
        "schedule": crontab(hour=6, minute=40),
    },
    "report-files-purge-nightly": {
        "task": "reports.tasks.purge_report_files",
        "schedule": crontab(hour=2, minute=30),
    },
}
