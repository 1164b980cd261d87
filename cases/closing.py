"""The page that closes a case, when a later app keeps a closure record for it.

The case page's "Close the case" step asks only for a reason. A later app (followup: the
closure record with absence, goals met and the satisfaction survey) registers a provider in
its ``AppConfig.ready``; for the cases it takes, the step leads to its page instead::

    closing.register(page=closure_page_for)

A provider takes the case and returns the URL of its closing page, or None for a case it
does not take (that case keeps the simple closure on the case page).
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Case

ClosingPage = Callable[[Case], str | None]

_pages: list[ClosingPage] = []


def register(*, page: ClosingPage) -> None:
    if page not in _pages:
        _pages.append(page)


def page_for(case: Case) -> str | None:
    """The closing page of the first provider that takes the case, or None."""
    for page in _pages:
        url = page(case)
        if url:
            return url
    return None
