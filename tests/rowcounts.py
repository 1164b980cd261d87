"""Row counts of every table, to prove that a request changed nothing.

``snapshot()`` counts the rows of every installed model (one query each);
``changed(before, after)`` names the tables whose count differs, leaving out the ones a
read may legitimately write (the audit trail, sessions, sign-in bookkeeping).
"""

from __future__ import annotations

from django.apps import apps

# A request that reads may still write these: every read is audited, the session is saved,
# django-axes records sign-in attempts.
READ_MAY_WRITE = frozenset({"sst.AuditEvent", "sessions.Session", "axes.AccessLog"})


def snapshot() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def changed(
    before: dict[str, int], after: dict[str, int], *, allowed: frozenset[str] = READ_MAY_WRITE
) -> dict[str, tuple[int, int]]:
    return {
        label: (before.get(label, 0), count)
        for label, count in after.items()
        if label not in allowed and before.get(label, 0) != count
    }
