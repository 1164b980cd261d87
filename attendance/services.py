"""Writes for attendance: the monthly refresh, acknowledging alerts, the policy."""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone

from sst import audit
from sst.models import User

from . import rollup, staircase
from .models import AlertRecipient, StaircasePolicy


def absence_month_refresh(*, month: datetime.date) -> dict[str, int]:
    """Roll up a month and evaluate the staircase for it. Idempotent."""
    rows = rollup.rollup_month(month)
    result = staircase.evaluate_month(month)
    if connection.vendor == "postgresql":
        # Fresh statistics at once: a new month's rows have none until autovacuum comes, and
        # the school overview's plan over them is then several times slower (PERFORMANCE.md).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE attendance_monthlyabsence")
    return {"rows": rows, "hits": result.hits, "new_alerts": result.new_alerts}


@transaction.atomic
def alert_acknowledge(*, recipient: AlertRecipient, by: User) -> AlertRecipient:
    if recipient.acknowledged_at is None:
        recipient.acknowledged_at = timezone.now()
        recipient.save(update_fields=["acknowledged_at"])
        audit.record(
            user=by,
            action=audit.AuditAction.UPDATE,
            object_type=audit.AuditObjectType.ABSENCE_ALERT,
            object_id=str(recipient.alert.public_id),
            student_id=recipient.alert.student.public_id,
            role=recipient.role,
        )
    return recipient


@transaction.atomic
def policy_save(*, policy: StaircasePolicy, by: User | None) -> StaircasePolicy:
    policy.full_clean()
    policy.save()
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.STAIRCASE_POLICY,
        object_id=str(policy.pk),
    )
    return policy
