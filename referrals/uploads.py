"""Checking an uploaded consent scan before it is stored.

The type is decided by the file's CONTENT (its magic bytes, read with ``filetype``: pure
Python, no libmagic to install, and it knows the three formats we accept), never by the name
or the content type the browser sent. PDF, JPEG and PNG only; the size is limited by the
setting ``CONSENT_SCAN_MAX_MB`` (default 10). The uploaded name is kept as display text only,
with any path removed; the stored file gets a generated name (``models.scan_name``).

A PDF that carries JavaScript (``/JavaScript`` or ``/JS`` actions) is accepted — a scanner
may add it — but marked, and the serving view only ever sends scans as attachments anyway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}
DEFAULT_MAX_MB = 10
_PDF_SCRIPT = re.compile(rb"/(JavaScript|JS|OpenAction|AA|Launch)\b")
_UNSAFE = re.compile(r"[^\w .()-]+", re.UNICODE)


@dataclass(frozen=True)
class CheckedScan:
    content_type: str
    size: int
    display_name: str
    has_script: bool


def max_bytes() -> int:
    megabytes = getattr(settings, "CONSENT_SCAN_MAX_MB", DEFAULT_MAX_MB)
    return int(float(megabytes) * 1024 * 1024)


def display_name(uploaded: str) -> str:
    """The uploaded name as text to show: no directories, no control characters, short."""
    name = unicodedata.normalize("NFC", uploaded or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or _("scan")


def pdf_has_script(data: bytes) -> bool:
    return bool(_PDF_SCRIPT.search(data))


def check_scan(upload: UploadedFile) -> CheckedScan:
    """The scan's real type, size and display name; ``ValidationError`` if refused."""
    size = upload.size or 0
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
            code="too_large",
        )
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    content_type = kind.mime if kind is not None else ""
    if content_type not in ALLOWED_TYPES:
        raise ValidationError(
            _("Only PDF, JPEG and PNG files can be uploaded (the file's content was checked)."),
            code="type",
        )
    has_script = False
    if content_type == "application/pdf":
        upload.seek(0)
        has_script = pdf_has_script(upload.read())
    upload.seek(0)
    return CheckedScan(
        content_type=content_type,
        size=size,
        display_name=display_name(upload.name or ""),
        has_script=has_script,
    )
