"""Term report files made in the background: request, generate, download, delete.

A manager asks for the PDF of a scope and a term; ``report_run_request`` records the request
(audited) and queues ``reports.tasks.generate_report`` after commit. The task claims the run,
builds the report with progress written to the run, renders the PDF and keeps it in the
private store for ``REPORT_KEEP_DAYS``. Only the requester can download it, and only while
they still may see reports for that scope; every download is audited. A beat task deletes
files past their keeping time.

Caps: the task stops past ``REPORT_TIME_LIMIT_SECONDS`` (Celery's soft time limit on the task,
and a check between the steps when tasks run in-process) and when the process's resident
memory has grown more than ``REPORT_MEMORY_CAP_MB`` since the run started (checked between
the steps); the run is then failed with a message saying which cap it met.
"""

from __future__ import annotations

import datetime
import logging
import time
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sst import access, audit
from sst.models import User

from .models import ReportRun, RunStatus
from .scope import Scope, may_see, parse_scope
from .terms import Term, parse_term

logger = logging.getLogger(__name__)


class CapExceeded(Exception):
    """The run met its time or memory cap."""


def report_run_request(*, by: User, scope: Scope, term: Term) -> ReportRun:
    """Record the request and queue its generation once committed."""
    run = ReportRun.objects.create(
        requested_by=by, scope_key=scope.key, scope_label=scope.label, term_code=term.code
    )
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.REPORT_RUN,
        object_id=str(run.public_id),
        detail={"scope": scope.key, "term": term.code, "format": run.format},
    )
    run_id = run.pk

    def queue() -> None:
        from .tasks import generate_report

        generate_report.delay(run_id)

    transaction.on_commit(queue)
    return run


def _resident_mb() -> float:
    """The process's resident memory now (Linux ``/proc``; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    import resource

    return pages * resource.getpagesize() / 2**20


def _claim(run_id: int) -> ReportRun | None:
    claimed = ReportRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress=5
    )
    return ReportRun.objects.select_related("requested_by").get(pk=run_id) if claimed else None


def _fail(run: ReportRun, message: str) -> None:
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, error=message[:300], finished_at=timezone.now()
    )


def report_run_generate(run_id: int) -> str:
    """The task's body: make the run's PDF. Idempotent: a run already claimed (a second
    delivery) or finished is left alone."""
    from .outputs import report_filename, term_report_pdf
    from .term_report import build_term_report

    run = _claim(run_id)
    if run is None:
        return "not queued"
    started, start_mb = time.monotonic(), _resident_mb()

    def check(progress: int) -> None:
        if time.monotonic() - started > settings.REPORT_TIME_LIMIT_SECONDS:
            raise CapExceeded(_("The report took longer than the time limit and was stopped."))
        if _resident_mb() - start_mb > settings.REPORT_MEMORY_CAP_MB:
            raise CapExceeded(_("The report needed more memory than allowed and was stopped."))
        ReportRun.objects.filter(pk=run.pk).update(progress=progress)

    try:
        scope = parse_scope(run.scope_key)
        if not may_see(run.requested_by, scope):
            _fail(run, _("You may no longer see reports for this scope."))
            return "refused"
        term = parse_term(run.term_code, municipality_id=scope.municipality_id)
        report = build_term_report(scope, term, progress=check)
        check(70)
        pdf = term_report_pdf(report)
        check(95)
        name = f"reports/{run.public_id}.pdf"
        storage = storages["private"]
        if storage.exists(name):
            storage.delete(name)
        stored = storage.save(name, ContentFile(pdf))
        now = timezone.now()
        # Only a run still running becomes done: one the purge gave up on stays failed.
        ReportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.DONE,
            progress=100,
            stored_path=stored,
            file_name=report_filename(report, "pdf"),
            file_size=len(pdf),
            finished_at=now,
            expires_at=now + datetime.timedelta(days=settings.REPORT_KEEP_DAYS),
        )
    except CapExceeded as exc:
        _fail(run, str(exc))
        return "capped"
    except SoftTimeLimitExceeded:
        raise  # the task fails the run with the time limit's own message
    except Exception as exc:
        # The message names no data; the exception goes to the log by type only.
        logger.error("report run %s failed: %s", run.public_id, type(exc).__name__)
        _fail(run, _("The report could not be made. Try again, or ask your administrator."))
        if settings.DEBUG:
            raise
        return "failed"
    return "done"


def report_run_time_out(run_id: int) -> None:
    """Called when Celery's soft time limit stops the task."""
    run = ReportRun.objects.filter(pk=run_id).first()
    if run is not None and not run.is_finished:
        _fail(run, _("The report took longer than the time limit and was stopped."))


def report_runs_of(user: access.AnyUser) -> QuerySet[ReportRun]:
    """The user's own recent runs (a manager never sees another's)."""
    if not getattr(user, "is_authenticated", False):
        return ReportRun.objects.none()
    return ReportRun.objects.filter(requested_by_id=user.pk).order_by("-created_at")


def report_run_for(user: access.AnyUser, public_id: uuid.UUID | str) -> ReportRun:
    """The user's own run; 404 (audited) for anyone else's, or when they may no longer see
    reports for its scope."""
    run = report_runs_of(user).filter(public_id=public_id).first()
    if run is None:
        raise access.refuse(user, audit.AuditObjectType.REPORT_RUN, public_id)
    try:
        scope = parse_scope(run.scope_key)
    except ValidationError:  # the place is gone
        raise access.refuse(user, audit.AuditObjectType.REPORT_RUN, public_id) from None
    if not may_see(user, scope):
        raise access.refuse(user, audit.AuditObjectType.REPORT_RUN, public_id, scope=run.scope_key)
    return run


def report_run_file(*, run: ReportRun, by: User) -> bytes:
    """The finished file's bytes, audited as an export."""
    storage = storages["private"]
    if run.status != RunStatus.DONE or not run.stored_path or not storage.exists(run.stored_path):
        raise access.refuse(by, audit.AuditObjectType.REPORT_RUN, run.public_id, state=run.status)
    with storage.open(run.stored_path, "rb") as handle:
        data: bytes = handle.read()
    audit.record(
        user=by,
        action=audit.AuditAction.EXPORT,
        object_type=audit.AuditObjectType.REPORT_RUN,
        object_id=str(run.public_id),
        detail={"scope": run.scope_key, "term": run.term_code, "bytes": len(data)},
    )
    return data


def report_runs_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the files past their keeping time; the runs stay, marked as deleted."""
    now = now or timezone.now()
    storage = storages["private"]
    expired = list(
        ReportRun.objects.filter(status=RunStatus.DONE, expires_at__lte=now).only(
            "pk", "stored_path"
        )
    )
    for run in expired:
        if run.stored_path and storage.exists(run.stored_path):
            storage.delete(run.stored_path)
    ReportRun.objects.filter(pk__in=[run.pk for run in expired]).update(
        status=RunStatus.EXPIRED, stored_path=""
    )
    # Runs whose worker died: stopped well past the time limit.
    stale = now - datetime.timedelta(seconds=2 * settings.REPORT_TIME_LIMIT_SECONDS + 60)
    stopped = ReportRun.objects.filter(
        Q(status=RunStatus.QUEUED, created_at__lt=stale)
        | Q(status=RunStatus.RUNNING, started_at__lt=stale)
    ).update(
        status=RunStatus.FAILED,
        error=_("The report was not finished in time. Ask for it again."),
        finished_at=now,
    )
    return len(expired) + stopped
