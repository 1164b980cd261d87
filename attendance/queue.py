"""Background work asked for after commit by modules that cannot import the tasks.

The tasks import the services, and the services import the modules that need work queued
(the staircase queues the alert notices, an import run queues the months it touched, the
upload queues its run), so those modules cannot import the tasks. They call the functions
here instead; ``AttendanceConfig.ready`` connects them to the Celery tasks. Until then (a
script that never loads the apps) nothing is queued.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from functools import partial

from django.db import transaction

_send_alert_notices: Callable[[], object] | None = None
_refresh_month: Callable[[str], object] | None = None
_run_import: Callable[[int], object] | None = None


def connect(
    *,
    send_alert_notices: Callable[[], object],
    refresh_month: Callable[[str], object],
    run_import: Callable[[int], object],
) -> None:
    global _send_alert_notices, _refresh_month, _run_import
    _send_alert_notices, _refresh_month, _run_import = (
        send_alert_notices,
        refresh_month,
        run_import,
    )


def alert_notices_after_commit() -> None:
    """E-mail the new alerts' recipients once their rows are committed."""
    if _send_alert_notices is not None:
        transaction.on_commit(_send_alert_notices)


def month_refreshes_after_commit(months: Iterable[datetime.date]) -> None:
    """Recompute these months after commit, in the order given (oldest first: rules look
    back a month)."""
    if _refresh_month is not None:
        refresh = _refresh_month
        for month in months:
            transaction.on_commit(partial(refresh, month.isoformat()))


def import_run_after_commit(run_id: int) -> None:
    """Run a stored import once its run is committed. ``robust``: an unexpected failure of an
    in-process (eager) import must not turn the upload into an error page; the run keeps
    its status and the result page shows it."""
    if _run_import is not None:
        run = _run_import
        transaction.on_commit(lambda: run(run_id), robust=True)
