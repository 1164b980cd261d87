"""The print layout, built once: every PDF the product makes goes through here.

Templates extend ``templates/print/base.html`` (A4, DejaVu Sans embedded from
``static/fonts``, "Sida X av Y" from CSS counters, the municipality's name and the date of
printing on every page) and fill ``{% block body %}``. The file's metadata carries a neutral
title and nothing else: the base template writes only ``<title>`` from the ``doc_title``
block (e.g. "Samtyckesblankett") and no author, description, keywords or generator, so no
name of a student or guardian ever reaches the file's properties.

Resources are fetched without the network: ``/static/`` URLs are served from the static
files finders (the same files ``collectstatic`` would copy), anything else is refused.

    render_pdf(request, "referrals/consent/form_pdf.html", context, filename="samtycke.pdf")
    pdf_bytes("print/base.html", context)  # tests and tasks
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

# WeasyPrint resolves relative URLs against this base; nothing is ever fetched from it.
BASE_URL = "https://print.invalid/"
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.pdf$")


class ExternalResourceRefused(ValueError):
    """A print template asked for something outside the static files."""


def static_file_for(url: str) -> tuple[bytes, str]:
    """The bytes and content type of a static file named by its URL on the print base."""
    prefix = BASE_URL.rstrip("/") + settings.STATIC_URL
    if not url.startswith(prefix):
        raise ExternalResourceRefused(url)
    relative = url[len(prefix) :].split("?", 1)[0].split("#", 1)[0]
    if not relative or ".." in relative.split("/"):
        raise ExternalResourceRefused(url)
    found = finders.find(relative)
    if not found or isinstance(found, list):
        raise ExternalResourceRefused(url)
    content_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
    with open(found, "rb") as handle:
        return handle.read(), content_type


def _fetcher() -> Any:
    from weasyprint import urls

    fetcher_class = getattr(urls, "URLFetcher", None)
    if fetcher_class is None:  # WeasyPrint before the URLFetcher class: a function

        def fetch(url: str) -> dict[str, Any]:
            body, content_type = static_file_for(url)
            return {"string": body, "mime_type": content_type, "redirected_url": url}

        return fetch

    class StaticOnlyFetcher(fetcher_class):  # type: ignore[misc,valid-type]
        def fetch(self, url: str, headers: Any = None) -> Any:
            body, content_type = static_file_for(url)
            return urls.URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticOnlyFetcher()


def pdf_bytes(
    template_name: str, context: dict[str, Any], *, request: HttpRequest | None = None
) -> bytes:
    """Render ``template_name`` (extending ``print/base.html``) to a PDF."""
    from weasyprint import HTML

    html = render_to_string(
        template_name, {"printed_at": timezone.localtime(), **context}, request=request
    )
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher())
    pdf: bytes = document.write_pdf()
    return pdf


def render_pdf(
    request: HttpRequest, template_name: str, context: dict[str, Any], *, filename: str
) -> HttpResponse:
    """The PDF as a download. ``filename`` is neutral ("samtyckesblankett.pdf"): no names."""
    if not _SAFE_FILENAME.match(filename):
        raise ValueError(f"not a neutral PDF file name: {filename!r}")
    response = HttpResponse(
        pdf_bytes(template_name, context, request=request), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
