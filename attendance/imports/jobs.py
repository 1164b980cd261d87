"""Driving an import run: the upload that stores the file and queues the run, the background
task's body, and the dispatch to the importer of the run's kind.

Every import is one transaction (all rows or none) together with the run's success; a refusal
is written after the rollback, so a refused file leaves a failed run with the reasons and no
rows. A delivery works on a run only under its claim (``runs``); the watchdog picks up runs
whose worker died.
"""

from __future__ import annotations

import datetime
import io
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sst import access, audit
from sst.models import Municipality, School, User

from .. import queue, rollup
from ..models import ImportKind, ImportRun, ImportStatus
from . import lessons, reader, registers, runs

logger = logging.getLogger(__name__)

IMPORTERS: dict[str, Callable[..., reader.ImportResult]] = {
    ImportKind.SCHOOLS: registers.import_schools,
    ImportKind.STUDENTS: registers.import_students,
    ImportKind.ATTENDANCE: lessons.import_attendance,
}


@transaction.atomic
def import_upload(
    *,
    kind: str,
    file_name: str,
    file_size: int,
    chunks: Iterable[bytes],
    school: School | None,
    by: User,
) -> ImportRun:
    """Create the run, keep the file for the task, queue the run once it is committed."""
    path: Path | None = None
    try:
        run = runs.import_run_create(
            kind=kind, file_name=file_name, file_size=file_size, by=by, school_scope=school
        )
        path = runs.stored_file(run)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        run.stored_path = str(path)
        run.save(update_fields=["stored_path"])
        audit.record(
            user=by,
            action=audit.AuditAction.CREATE,
            object_type=audit.AuditObjectType.IMPORT_RUN,
            object_id=str(run.public_id),
            detail={"kind": kind, "bytes": file_size, "school": school.pk if school else None},
        )
        queue.import_run_after_commit(run.pk)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    return run


def run_import(
    run: ImportRun,
    stream: IO[bytes],
    *,
    municipality: Municipality | None = None,
    claim: runs.Claim | None = None,
) -> ImportRun:
    """Run an import and record its outcome on ``run``.

    Without a ``claim`` (the command line, tests) the run is claimed here. The rows, their
    audit event, the months to recompute and the run's success are one transaction, written
    only while this delivery holds the run; a refusal is written after the rollback.
    """
    if claim is None:
        claim = runs.import_run_claim(run=run)
        if claim is None:
            return run  # another delivery has it, or it has ended
        with runs.import_run_heartbeat(claim):
            return _run_claimed(run, stream, municipality, claim)
    return _run_claimed(run, stream, municipality, claim)


def _run_claimed(
    run: ImportRun, stream: IO[bytes], municipality: Municipality | None, claim: runs.Claim
) -> ImportRun:
    try:
        with transaction.atomic():
            result = _import(run, stream, municipality)
            runs.import_run_succeed(run=run, result=result, claim=claim)
            if run.kind == ImportKind.ATTENDANCE:
                # The months the file touched are recomputed, oldest first (rules look back a
                # month): queued after commit, and on the pending list in case the task is lost.
                rollup.months_mark_pending(result.months)
                queue.month_refreshes_after_commit(sorted(result.months))
    except runs.ClaimLost:
        logger.warning("Import %s: another delivery took the run over", run.public_id)
        return run
    except reader.ImportRefused as refused:
        return _fail(run, claim, refused.errors)
    except Exception:
        # A bug must not leave the run "running" for ever; the details go to the log only.
        logger.exception("Import %s stopped on an unexpected error", run.public_id)
        return _fail(
            run, claim, [_("The import stopped on an unexpected error. Nothing was imported.")]
        )
    return run


def _import(
    run: ImportRun, stream: IO[bytes], municipality: Municipality | None
) -> reader.ImportResult:
    if run.kind == ImportKind.SCHOOLS:
        return registers.import_schools(
            stream, municipality=municipality or _municipality_of(run), by=run.uploaded_by, run=run
        )
    return IMPORTERS[run.kind](stream, by=run.uploaded_by, school_scope=run.school_scope, run=run)


def _fail(run: ImportRun, claim: runs.Claim, errors: list[str]) -> ImportRun:
    try:
        return runs.import_run_fail(run=run, errors=errors, claim=claim)
    except runs.ClaimLost:
        # Another delivery owns the run (and may have imported it): its outcome stands.
        logger.warning("Import %s: another delivery took the run over", run.public_id)
        return run


def _municipality_of(run: ImportRun) -> Municipality:
    """The municipality a whole-register import is for: the uploader's (the only one, for a
    run started from the command line)."""
    municipality = access.import_municipality_of(run.uploaded_by) if run.uploaded_by else None
    return municipality if municipality is not None else Municipality.objects.get()


def run_stored_import(import_run_id: int, *, task_id: str = "", redelivered: bool = False) -> str:
    """The background task's body: claim the run, import the uploaded file, delete it.

    A delivery that cannot claim the run (another one works on it, or it has ended) leaves
    it alone. The file is kept while the run may still be retried, and deleted once this
    delivery has written the outcome.
    """
    run = ImportRun.objects.select_related("uploaded_by", "school_scope").get(pk=import_run_id)
    claim = runs.import_run_claim(run=run, task_id=task_id, redelivered=redelivered)
    if claim is None:
        return run.status
    path = runs.stored_file(run)
    with runs.import_run_heartbeat(claim):
        if not path.exists():
            _fail(run, claim, [_("The uploaded file is gone.")])
        else:
            with path.open("rb") as stream:
                run_import(run, io.BufferedReader(stream, buffer_size=1 << 20), claim=claim)  # type: ignore[arg-type]
    if run.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}:
        path.unlink(missing_ok=True)
    return run.status


def import_runs_watchdog(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The scheduled check for runs no worker is working on. Idempotent.

    A run queued or running without a heartbeat for ``IMPORT_HEARTBEAT_STALE_SECONDS`` (its
    worker died, or its message was lost) is queued again while it has attempts and its
    file left (at most once per that period), and otherwise failed with a message and its
    file deleted. Upload files that belong to no queued or running run are deleted.
    """
    now = now or timezone.now()
    stale = runs.stale_before(now)
    stuck = ImportRun.objects.filter(
        Q(status=ImportStatus.QUEUED, created_at__lt=stale)
        | Q(status=ImportStatus.RUNNING)
        & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale))
    ).filter(Q(requeued_at__isnull=True) | Q(requeued_at__lt=stale))
    requeued = failed = 0
    for run in stuck:
        if run.attempts < runs.max_attempts() and runs.stored_file(run).exists():
            ImportRun.objects.filter(pk=run.pk).update(requeued_at=now)
            queue.import_run_after_commit(run.pk)
            requeued += 1
        elif runs.import_run_abandon(run=run, now=now):
            logger.warning("Import %s abandoned: no worker, attempts or file left", run.public_id)
            failed += 1
    return {"requeued": requeued, "failed": failed, "files_deleted": _delete_leftover_files(now)}


def _delete_leftover_files(now: datetime.datetime) -> int:
    """Upload files of no queued or running run; only old ones (an upload being stored has a
    run that is not committed yet)."""
    folder = Path(settings.IMPORT_UPLOAD_DIR)
    if not folder.is_dir():
        return 0
    live = {
        str(public_id)
        for public_id in ImportRun.objects.filter(
            status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
        ).values_list("public_id", flat=True)
    }
    old = runs.stale_before(now).timestamp()
    deleted = 0
    for path in folder.glob("*.csv"):
        try:
            if path.stem not in live and path.stat().st_mtime < old:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    return deleted
