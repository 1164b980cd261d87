"""Writes for attendance: the monthly refresh, acknowledging alerts, the policy."""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone

from sst import audit
from sst.models import User

from . import rollup, staircase
from .locks import lock_absence_writes
from .models import AlertRecipient, StaircasePolicy


def absence_month_refresh(*, month: datetime.date) -> dict[str, int]:
    """Roll up a month and evaluate the staircase for it, in one transaction, and take the
    month off the pending list. Idempotent; a worker killed half-way leaves nothing written,
    and the month stays pending until a run completes.
    """
    with transaction.atomic():
        # Rollups and evaluations run one at a time; the pending mark is read after the lock,
        # before the lessons are aggregated, so an import that commits later keeps it.
        lock_absence_writes()
        generation = rollup.pending_generation(month)
        rows = rollup.rollup_month(month)
        result = staircase.evaluate_month(month)
        rollup.month_done(month, generation)
    if connection.vendor == "postgresql":
        # Fresh statistics at once: a new month's rows have none until autovacuum comes, and
        # the school overview's plan over them is then several times slower (PERFORMANCE.md).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE attendance_monthlyabsence")
    return {"rows": rows, "hits": result.hits, "new_alerts": result.new_alerts}


def absence_pending_months_refresh() -> list[str]:
    """Recompute every month on the pending list, oldest first, until it is empty (a month an
    import marks again meanwhile is done again); returns the months done."""
    done: list[str] = []
    for _round in range(3):  # imports that keep marking months are left to the next run
        months = rollup.months_pending()
        if not months:
            break
        for month in months:
            absence_month_refresh(month=month)
            done.append(month.isoformat()[:7])
    return done


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
