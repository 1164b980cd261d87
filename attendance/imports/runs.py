"""The import run's lifecycle as services: create, start, progress, finish, fail.

A run (``ImportRun``) is the record the upload page, the result page and the administrators'
list read. Its status is written outside the import's own transaction, so the result page
sees it while the rows are still being read; progress lives in the cache for the same
reason. The import itself is in ``registers`` and ``lessons``; ``jobs`` drives a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from sst import audit
from sst.models import School, User

from ..models import ImportKind, ImportRun, ImportStatus
from . import reader

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


def import_run_start(*, run: ImportRun) -> None:
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING)


def import_run_succeed(*, run: ImportRun, result: reader.ImportResult) -> ImportRun:
    run.status = ImportStatus.SUCCEEDED
    run.rows_total = run.rows_done = result.rows
    run.created_count, run.updated_count = result.created, result.updated
    run.warnings = result.warnings[: reader.MAX_ERRORS]
    return _finish(run)


def import_run_fail(*, run: ImportRun, errors: list[str]) -> ImportRun:
    run.status, run.errors = ImportStatus.FAILED, errors
    return _finish(run)


def _finish(run: ImportRun) -> ImportRun:
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "status",
            "errors",
            "warnings",
            "rows_total",
            "rows_done",
            "created_count",
            "updated_count",
            "finished_at",
        ]
    )
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


def import_run_progress_pct(run: ImportRun) -> int:
    """How far the import has read its file, in per cent.

    Kept in the cache: the import's own transaction is not visible to others until it ends.
    """
    if run.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}:
        return 100
    if not run.file_size:
        return 0
    return min(99, int(int(cache.get(_progress_key(run)) or 0) * 100 / run.file_size))


def stored_file(run: ImportRun) -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR) / f"{run.public_id}.csv"
