"""Writing the audit trail. Every read or write of personal data calls ``record``.

Actions and object types are ``TextChoices`` (``AuditAction``, ``AuditObjectType``), never
free strings, so the audit log page can name every event in Swedish.

An event holds identifiers only (opaque ids, usernames of staff, role names), never the
content it is about. The request id, address and page name come from the request context
set by ``sst.middleware.RequestIdMiddleware``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser

from . import requestid
from .models import AuditAction, AuditEvent, AuditObjectType, User

__all__ = ["AuditAction", "AuditObjectType", "record", "record_of"]

logger = logging.getLogger(__name__)


def record(
    *,
    user: User | AnonymousUser | None,
    action: AuditAction,
    object_type: AuditObjectType | Literal[""] = "",
    object_id: str = "",
    student_id: uuid.UUID | None = None,
    role: str = "",
    detail: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    context = requestid.current_context()
    actor = user if user is not None and user.is_authenticated else None
    event = AuditEvent.objects.create(
        actor_id=actor.pk if actor else None,
        actor_username=actor.get_username() if actor else username[:150],
        role=role[:200],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        student_id=student_id,
        request_id=context.request_id,
        ip_address=context.ip_address,
        path_name=context.path_name[:120],
        detail=detail or {},
    )
    logger.info("audit %s %s %s", action, object_type, event.public_id)
    return event


def record_of(
    *,
    by: User | AnonymousUser | None,
    action: AuditAction,
    object_type: AuditObjectType,
    obj: Any,
    case: Any | None = None,
    **detail: Any,
) -> AuditEvent:
    """An event about one record, named by its public id. A record that belongs to a case
    names the case's student and the case too, so the log answers "who read or changed what
    about this child" whatever the record."""
    if case is not None:
        detail = {"case": str(case.public_id), **detail}
    return record(
        user=by,
        action=action,
        object_type=object_type,
        object_id=str(obj.public_id),
        student_id=case.student.public_id if case is not None else None,
        detail=detail,
    )
