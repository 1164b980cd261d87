"""Panels on "my desk" contributed by later apps, so the core never imports them.

An app registers a panel in its ``AppConfig.ready``::

    desk.register(order=10, panel=absence_alerts_panel)

A panel takes the request and returns ``(template_name, context)`` or ``None`` when it has
nothing for this user. Panels read through the access policy and audit what they show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[[HttpRequest], tuple[str, dict[str, Any]] | None]


@dataclass(frozen=True)
class _Entry:
    order: int
    panel: Panel


_panels: list[_Entry] = []


def register(*, order: int, panel: Panel) -> None:
    if any(entry.panel is panel for entry in _panels):
        return
    _panels.append(_Entry(order, panel))
    _panels.sort(key=lambda entry: entry.order)


def render_panels(request: HttpRequest) -> list[SafeString]:
    rendered = []
    for entry in _panels:
        result = entry.panel(request)
        if result is not None:
            template, context = result
            # Rendered without the request's context processors: the desk page has already
            # run them once; panels get only what they need.
            context = {
                **context,
                "request": request,
                "user": request.user,
                "csrf_token": get_token(request),
            }
            rendered.append(mark_safe(render_to_string(template, context)))  # noqa: S308
    return rendered
