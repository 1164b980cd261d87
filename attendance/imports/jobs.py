"""Driving an import run: the upload that stores the file and queues the run, the background
task's body, and the dispatch to the importer of the run's kind.

Every import is one transaction (all rows or none); the run's status is written outside it
(``runs``), so a refused file leaves a failed run with the reasons and no rows.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from django.db import transaction
from django.utils.translation import gettext as _

from sst import access, audit
from sst.models import Municipality, School, User

from .. import queue
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
    run: ImportRun, stream: IO[bytes], *, municipality: Municipality | None = None
) -> ImportRun:
    """Run an import and record its outcome on ``run`` (outside the import's transaction)."""
    runs.import_run_start(run=run)
    try:
        if run.kind == ImportKind.SCHOOLS:
            municipality = municipality or _municipality_of(run)
            result = registers.import_schools(
                stream, municipality=municipality, by=run.uploaded_by, run=run
            )
        else:
            result = IMPORTERS[run.kind](
                stream, by=run.uploaded_by, school_scope=run.school_scope, run=run
            )
    except reader.ImportRefused as refused:
        return runs.import_run_fail(run=run, errors=refused.errors)
    except Exception:
        # A bug must not leave the run "running" for ever; the details go to the log only.
        logger.exception("Import %s stopped on an unexpected error", run.public_id)
        return runs.import_run_fail(
            run=run, errors=[_("The import stopped on an unexpected error. Nothing was imported.")]
        )
    runs.import_run_succeed(run=run, result=result)
    if run.kind == ImportKind.ATTENDANCE:
        # The months the file touched are recomputed, oldest first (rules look back a month).
        queue.month_refreshes_after_commit(sorted(result.months))
    return run


def _municipality_of(run: ImportRun) -> Municipality:
    """The municipality a whole-register import is for: the uploader's (the only one, for a
    run started from the command line)."""
    municipality = access.import_municipality_of(run.uploaded_by) if run.uploaded_by else None
    return municipality if municipality is not None else Municipality.objects.get()


def run_stored_import(import_run_id: int) -> str:
    """The background task's body: import the uploaded file, then delete it."""
    run = ImportRun.objects.select_related("uploaded_by", "school_scope").get(pk=import_run_id)
    if run.status not in {ImportStatus.QUEUED, ImportStatus.RUNNING}:
        return run.status  # already done: running it twice changes nothing
    path = runs.stored_file(run)
    if not path.exists():
        runs.import_run_fail(run=run, errors=[_("The uploaded file is gone.")])
        return run.status
    try:
        with path.open("rb") as stream:
            run_import(run, io.BufferedReader(stream, buffer_size=1 << 20))  # type: ignore[arg-type]
    finally:
        path.unlink(missing_ok=True)
    return run.status
