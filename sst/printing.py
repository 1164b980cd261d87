"""A minimal stand-in for the shared print layout (branch wt-forum only).

The consent helper builds the real one (Swedish fonts embedded, page numbers, the
municipality's name, date of printing); at merge their module replaces this. Same signature:
``render_pdf(request, template_name, context)`` returns a PDF download with no personal data
in the file's metadata.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def render_pdf(request: HttpRequest, template_name: str, context: dict[str, Any]) -> HttpResponse:
    from weasyprint import HTML

    html = render_to_string(template_name, context, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = context.get("filename", "document.pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
