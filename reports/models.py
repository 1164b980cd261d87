"""The reports app's own rows: term reports made in the background for a manager.

Reports only read the other apps' data; a ``ReportRun`` records a request for a report file,
its progress and where the finished file is kept (the private store, never the web root).
It names the scope and the term — places and a term, never a child.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being made")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted after the keeping time")


class RunFormat(models.TextChoices):
    PDF = "pdf", "PDF"


class ReportRun(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_runs"
    )
    scope_key = models.CharField(_("scope"), max_length=64)
    scope_label = models.CharField(_("scope"), max_length=200)
    term_code = models.CharField(_("term"), max_length=6)
    format = models.CharField(max_length=8, choices=RunFormat.choices, default=RunFormat.PDF)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    file_name = models.CharField(max_length=120, blank=True)
    stored_path = models.CharField(max_length=300, blank=True, editable=False)
    file_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.term_code} {self.scope_label}"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.DONE, RunStatus.FAILED, RunStatus.EXPIRED}
