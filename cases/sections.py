"""Sections later apps add to the case page, so ``cases`` never imports them.

An app registers a section in its ``AppConfig.ready``::

    sections.register(order=10, section=referral_section)

A section takes the request, the case and the capabilities the user holds on it, and returns
``(template_name, context)``, or ``None`` when it has nothing for this user. It reads
through the access policy like any view.

Read details work the same way: ``register_read_detail`` adds to the audit event of every
read of the case page (the referrals app names the consent a social worker's read relied on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from sst import access, audit

from .models import Case

Section = Callable[[HttpRequest, Case, access.Granted], tuple[str, dict[str, Any]] | None]
ReadDetail = Callable[[access.AnyUser, Case, access.Granted], dict[str, Any]]

_sections: list[tuple[int, Section]] = []
_read_details: list[ReadDetail] = []


def register(*, order: int, section: Section) -> None:
    if any(existing is section for _, existing in _sections):
        return
    _sections.append((order, section))
    _sections.sort(key=lambda entry: entry[0])


def render_sections(request: HttpRequest, case: Case, granted: access.Granted) -> list[SafeString]:
    rendered = []
    for _order, section in _sections:
        result = section(request, case, granted)
        if result is not None:
            template, context = result
            rendered.append(
                mark_safe(  # noqa: S308 - a template rendered with autoescape
                    render_to_string(template, {**context, "case": case}, request=request)
                )
            )
    return rendered


def register_read_detail(detail: ReadDetail) -> None:
    if detail not in _read_details:
        _read_details.append(detail)


def read_detail(user: access.AnyUser, case: Case, granted: access.Granted) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for detail in _read_details:
        found.update(detail(user, case, granted))
    return found


def audit_read(
    request: HttpRequest,
    case: Case,
    granted: access.Granted,
    *,
    object_type: audit.AuditObjectType,
    object_id: Any,
    action: audit.AuditAction = audit.AuditAction.VIEW,
    **detail: Any,
) -> None:
    """Audit a read of one of the case's records (a page of a later app), with the case, its
    student and the registered read details (the consent a social worker's read relied on)."""
    audit.record(
        user=request.user,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        student_id=case.student.public_id,
        detail={
            "case": str(case.public_id),
            **detail,
            **read_detail(request.user, case, granted),
        },
    )
