"""Import pages: upload a register or attendance file, follow the import, read the history.

Only school and municipality administrators reach them (404 for anyone else). The upload is
size-checked before its body is read; ``imports.jobs.import_upload`` stores it under
``IMPORT_UPLOAD_DIR`` and queues the ``run_import`` task (in-process when no broker is
configured); the result page polls a small partial with htmx until the import is done.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from sst import access, audit
from sst.access import Capability, import_runs_visible_to, import_scopes_of
from sst.models import User

from .import_forms import ImportUploadForm, max_upload_bytes, too_large_message
from .imports import jobs, runs
from .imports.runs import import_run_progress_pct
from .models import ImportRun, ImportStatus

PAGE_SIZE = 50
POLL_SECONDS = 2
POLL_DEADLINE = datetime.timedelta(minutes=30)
# Room for the form's other fields and the multipart boundaries around the file.
_ENVELOPE_BYTES = 64 * 1024
# htmx stops polling when the answer has this status.
HTMX_STOP_POLLING = 286


# School and municipality administrators import; everyone else gets an audited 404.
import_admin_view = access.capability_view(Capability.IMPORT_FOR_SCHOOL)


def _run_for_user(request: HttpRequest, public_id: Any) -> ImportRun:
    run = import_runs_visible_to(request.user).filter(public_id=public_id).first()
    if run is None:
        raise access.refuse(request.user, audit.AuditObjectType.IMPORT_RUN, public_id)
    return run


# ---------------------------------------------------------------- history


@import_admin_view
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    whole_municipality, _schools = import_scopes_of(request.user)
    runs = import_runs_visible_to(request.user).order_by("-created_at", "-pk")
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(
        user=request.user,
        action=audit.AuditAction.LIST,
        object_type=audit.AuditObjectType.IMPORT_RUN,
        detail={"count": len(page.object_list), "page": page.number},
    )
    return render(
        request,
        "attendance/imports/history.html",
        {"page": page, "whole_municipality": whole_municipality},
    )


# ---------------------------------------------------------------- upload


class SizeLimitUploadHandler(FileUploadHandler):
    """Stop reading an upload as soon as a file grows past the limit (nothing is kept)."""

    def __init__(self, request: HttpRequest | None = None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _clean_file_name(name: str) -> str:
    """The base name only (never a client's folders), without control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return (base or "import.csv")[:255]


@import_admin_view
@csrf_exempt  # the token is checked by csrf_protect below, after the size check
@never_cache
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    whole_municipality, schools = import_scopes_of(request.user)

    def form_page(
        form: ImportUploadForm | None = None, *, status: int = 200, refusal: str = ""
    ) -> HttpResponse:
        form = form or ImportUploadForm(whole_municipality=whole_municipality, schools=schools)
        return render(
            request,
            "attendance/imports/upload.html",
            {"form": form, "refusal": refusal, "max_mb": max_upload_bytes() // (1024 * 1024)},
            status=status,
        )

    if request.method == "POST" and _declared_length(request) > max_upload_bytes() + (
        _ENVELOPE_BYTES
    ):
        # Refused from the request's declared length, before a byte of the body is read.
        return _refused_too_large(form_page)
    limiter = SizeLimitUploadHandler(request, limit=max_upload_bytes())
    if request.method == "POST":
        request.upload_handlers = [limiter, TemporaryFileUploadHandler(request)]
    return _upload_checked(request, whole_municipality, schools, limiter, form_page)


def _refused_too_large(form_page: Callable[..., HttpResponse]) -> HttpResponse:
    # The rest of the body is not read; the server closes the connection after this answer
    # (a hop-by-hop "Connection" header is the server's to set, not the application's).
    return form_page(status=413, refusal=too_large_message())


@csrf_protect
def _upload_checked(
    request: HttpRequest,
    whole_municipality: bool,
    schools: Any,
    limiter: SizeLimitUploadHandler,
    form_page: Callable[..., HttpResponse],
) -> HttpResponse:
    if request.method != "POST":
        return form_page()
    form = ImportUploadForm(
        request.POST, request.FILES, whole_municipality=whole_municipality, schools=schools
    )
    if limiter.exceeded:
        return _refused_too_large(form_page)
    if not form.is_valid():
        return form_page(form)
    upload = form.cleaned_data["file"]
    run = _store_and_enqueue(
        request,
        kind=form.cleaned_data["kind"],
        school=form.cleaned_data.get("school"),
        upload=upload,
    )
    return redirect("imports:result", public_id=run.public_id)


def _store_and_enqueue(request: HttpRequest, *, kind: str, school: Any, upload: Any) -> ImportRun:
    user = request.user
    assert isinstance(user, User)  # import_admin_view let only signed-in staff through
    return jobs.import_upload(
        kind=kind,
        file_name=_clean_file_name(upload.name),
        file_size=upload.size,
        chunks=upload.chunks(1 << 20),
        school=school,
        by=user,
    )


# ---------------------------------------------------------------- result


def _status_context(run: ImportRun) -> dict[str, Any]:
    finished = run.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}
    now = timezone.now()
    stale = runs.stale_before(now)
    # A run whose worker died shows it, and the attempt the retry will be.
    lost = run.status == ImportStatus.RUNNING and (
        run.heartbeat_at is None or run.heartbeat_at < stale
    )
    attempt = min(run.attempts + 1, runs.max_attempts()) if lost else run.attempts
    # Polling ends when nothing has happened for this long (the watchdog has ended such a
    # run long before): the page says so and offers to update by hand.
    last_sign = max(filter(None, [run.created_at, run.heartbeat_at, run.requeued_at]))
    gave_up = not finished and now - last_sign > POLL_DEADLINE
    return {
        "run": run,
        "finished": finished,
        "succeeded": run.status == ImportStatus.SUCCEEDED,
        "interrupted": not finished and (lost or run.attempts > 1),
        "attempt": attempt,
        "max_attempts": runs.max_attempts(),
        "polling": not finished and not gave_up,
        "pct": import_run_progress_pct(run),
        "poll_seconds": POLL_SECONDS,
    }


def _audit_result(request: HttpRequest, run: ImportRun) -> None:
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.IMPORT_RUN,
        object_id=str(run.public_id),
        detail={"status": run.status},
    )


@import_admin_view
@never_cache
@require_GET
def result(request: HttpRequest, public_id: Any) -> HttpResponse:
    run = _run_for_user(request, public_id)
    _audit_result(request, run)
    return render(request, "attendance/imports/result.html", _status_context(run))


@import_admin_view
@never_cache
@require_GET
def status(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The status partial the result page polls; it stops the polling once the run is done."""
    run = _run_for_user(request, public_id)
    context = _status_context(run)
    context["polled"] = True
    if context["finished"]:
        _audit_result(request, run)  # the outcome is shown now: once per finished poll
    response = render(request, "attendance/imports/_status.html", context)
    if not context["polling"] and request.headers.get("HX-Request"):
        response.status_code = HTMX_STOP_POLLING
    return response
