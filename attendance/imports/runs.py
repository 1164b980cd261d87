"""The import run's lifecycle as services: create, claim, heartbeat, progress, finish, fail.

A run (``ImportRun``) is the record the upload page, the result page and the administrators'
list read. "Running" is written outside the import's own transaction, so the result page
sees it while the rows are still being read; progress lives in the cache for the same
reason (and in the run's heartbeat, which outlives the cache entry). The import itself is in
``registers`` and ``lessons``; ``jobs`` drives a run.

A delivery of the import task works on a run only after claiming it: one conditional UPDATE
(queued, or running with a stale heartbeat, or running under this very message when the
broker redelivers it because its worker died) sets a fresh claim token and counts the
attempt. Every later write names the token, so a delivery that lost the run writes nothing:
its success write happens inside the import's transaction and rolls the rows back with it.
"""

from __future__ import annotations

import datetime
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sst import audit
from sst.models import School, User

from ..models import ImportKind, ImportRun, ImportStatus
from . import reader

logger = logging.getLogger(__name__)

# The audit's name for each kind of import.
IMPORT_OBJECT_TYPES: dict[ImportKind, audit.AuditObjectType] = {
    ImportKind.SCHOOLS: audit.AuditObjectType.IMPORT_SCHOOLS,
    ImportKind.STUDENTS: audit.AuditObjectType.IMPORT_STUDENTS,
    ImportKind.ATTENDANCE: audit.AuditObjectType.IMPORT_ATTENDANCE,
}


def import_run_create(
    *,
    kind: str,
    file_name: str,
    file_size: int,
    by: User | None,
    school_scope: School | None = None,
    status: str = ImportStatus.QUEUED,
) -> ImportRun:
    return ImportRun.objects.create(
        kind=kind,
        file_name=file_name,
        file_size=file_size,
        uploaded_by=by,
        school_scope=school_scope,
        status=status,
    )


@dataclass
class Claim:
    """One delivery's hold on a run: the token its writes name, and what it has read."""

    run_id: int
    token: uuid.UUID
    attempt: int
    bytes_read: int = 0


class ClaimLost(Exception):
    """Another delivery took the run over; this one's writes are not made."""


def max_attempts() -> int:
    return int(settings.IMPORT_MAX_ATTEMPTS)


def stale_before(now: datetime.datetime) -> datetime.datetime:
    """A running run whose last heartbeat is older than this has lost its worker."""
    return now - datetime.timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)


def interrupted_message() -> str:
    return _("The import was interrupted — nothing was imported, upload the file again.")


def _claimable(now: datetime.datetime, *, task_id: str = "", redelivered: bool = False) -> Q:
    running_stale = Q(status=ImportStatus.RUNNING) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before(now))
    )
    claimable = Q(status=ImportStatus.QUEUED) | running_stale
    if redelivered and task_id:
        # The broker redelivers a message only when the worker holding it died (late
        # acknowledgement, reject on worker lost, or the visibility timeout, which is longer
        # than the task's time limit): the run's owner under this message is gone.
        claimable |= Q(status=ImportStatus.RUNNING, claim_task_id=task_id)
    return claimable


def import_run_claim(
    *,
    run: ImportRun,
    task_id: str = "",
    redelivered: bool = False,
    now: datetime.datetime | None = None,
) -> Claim | None:
    """Claim the run for this delivery, or answer None (another delivery works on it, it is
    done, or it has used up its attempts — then it is failed here and its file deleted)."""
    now = now or timezone.now()
    claimable = _claimable(now, task_id=task_id, redelivered=redelivered)
    token = uuid.uuid4()
    claimed = ImportRun.objects.filter(claimable, pk=run.pk, attempts__lt=max_attempts()).update(
        status=ImportStatus.RUNNING,
        claim_token=token,
        claim_task_id=task_id[:64],
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        bytes_read=0,
    )
    if claimed:
        run.refresh_from_db()
        return Claim(run_id=run.pk, token=token, attempt=run.attempts)
    # Claimable but out of attempts: the file stopped every worker that read it.
    gave_up = ImportRun.objects.filter(claimable, pk=run.pk, attempts__gte=max_attempts()).update(
        status=ImportStatus.FAILED,
        errors=[interrupted_message()],
        finished_at=now,
        claim_token=None,
    )
    if gave_up:
        logger.warning("Import %s failed after %d attempts", run.public_id, max_attempts())
        stored_file(run).unlink(missing_ok=True)
    run.refresh_from_db()
    return None


def import_run_abandon(*, run: ImportRun, now: datetime.datetime | None = None) -> bool:
    """Fail a run stuck without a live worker (the watchdog, when no attempt or no file is
    left) and delete its file; False when a worker claimed it meanwhile."""
    now = now or timezone.now()
    abandoned = ImportRun.objects.filter(_claimable(now), pk=run.pk).update(
        status=ImportStatus.FAILED,
        errors=[interrupted_message()],
        finished_at=now,
        claim_token=None,
    )
    if abandoned:
        stored_file(run).unlink(missing_ok=True)
        run.refresh_from_db()
    return bool(abandoned)


# The claims held in this process, for the progress callback to report to the heartbeat.
_held_claims: dict[int, Claim] = {}


@contextmanager
def import_run_heartbeat(claim: Claim) -> Iterator[None]:
    """While the body runs, a thread stamps the run's heartbeat (and bytes read) every
    ``IMPORT_HEARTBEAT_SECONDS`` on its own connection, outside the import's transaction.

    On SQLite (tasks in-process, no second worker) there is nothing to guard against, and a
    second writer would wait for the import's lock; the heartbeat is left out.
    """
    _held_claims[claim.run_id] = claim
    if connection.vendor == "sqlite":
        try:
            yield
        finally:
            _held_claims.pop(claim.run_id, None)
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.IMPORT_HEARTBEAT_SECONDS):
                try:
                    ImportRun.objects.filter(
                        pk=claim.run_id, claim_token=claim.token, status=ImportStatus.RUNNING
                    ).update(heartbeat_at=timezone.now(), bytes_read=claim.bytes_read)
                except Exception:  # the next beat tries again; the import goes on
                    logger.warning("Import heartbeat not written", exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"import-heartbeat-{claim.run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        _held_claims.pop(claim.run_id, None)


def import_run_succeed(*, run: ImportRun, result: reader.ImportResult, claim: Claim) -> ImportRun:
    """Record the outcome; raises ClaimLost (rolling the caller's transaction back) when the
    run is no longer this delivery's."""
    run.status = ImportStatus.SUCCEEDED
    run.rows_total = run.rows_done = result.rows
    run.created_count, run.updated_count = result.created, result.updated
    run.warnings = result.warnings[: reader.MAX_ERRORS]
    return _finish(run, claim)


def import_run_fail(*, run: ImportRun, errors: list[str], claim: Claim) -> ImportRun:
    run.status, run.errors = ImportStatus.FAILED, errors
    return _finish(run, claim)


def _finish(run: ImportRun, claim: Claim) -> ImportRun:
    run.finished_at = timezone.now()
    fields = {
        name: getattr(run, name)
        for name in (
            "status",
            "errors",
            "warnings",
            "rows_total",
            "rows_done",
            "created_count",
            "updated_count",
            "finished_at",
        )
    }
    written = ImportRun.objects.filter(
        pk=run.pk, claim_token=claim.token, status=ImportStatus.RUNNING
    ).update(**fields)
    if not written:
        run.refresh_from_db()
        raise ClaimLost(str(run.public_id))
    return run


def audit_import(
    by: User | None,
    kind: ImportKind,
    result: reader.ImportResult,
    run: ImportRun | None,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=IMPORT_OBJECT_TYPES[kind],
        object_id=str(run.public_id) if run else "",
        detail={
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            **(detail or {}),
        },
    )


def _progress_key(run: ImportRun) -> str:
    return f"attendance-import-progress:{run.public_id}"


def import_run_progress(run: ImportRun, bytes_read: int) -> None:
    cache.set(_progress_key(run), bytes_read, timeout=3600)
    claim = _held_claims.get(run.pk)
    if claim is not None:
        claim.bytes_read = bytes_read


def import_run_progress_pct(run: ImportRun) -> int:
    """How far the import has read its file, in per cent.

    Kept in the cache: the import's own transaction is not visible to others until it ends.
    """
    if run.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}:
        return 100
    if not run.file_size:
        return 0
    done = max(int(cache.get(_progress_key(run)) or 0), run.bytes_read)
    return min(99, int(done * 100 / run.file_size))


def stored_file(run: ImportRun) -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR) / f"{run.public_id}.csv"
