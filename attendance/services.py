"""Writes for attendance: the monthly refresh, acknowledging alerts, the policy."""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone

from sst import audit
from sst.models import Student, User

from . import rollup, staircase
from .locks import lock_absence_writes
from .models import AcknowledgeReason, AlertRecipient, DueKind, StaircasePolicy


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
def alert_acknowledge(
    *, recipient: AlertRecipient, by: User, reason: str = AcknowledgeReason.SEEN
) -> AlertRecipient:
    if recipient.acknowledged_at is None:
        recipient.acknowledged_at = timezone.now()
        recipient.acknowledged_reason = reason
        recipient.save(update_fields=["acknowledged_at", "acknowledged_reason"])
        audit.record(
            user=by,
            action=audit.AuditAction.ACKNOWLEDGE,
            object_type=audit.AuditObjectType.ABSENCE_ALERT,
            object_id=str(recipient.alert.public_id),
            student_id=recipient.alert.student.public_id,
            role=recipient.role,
            detail={"reason": reason, "task": recipient.task},
        )
    return recipient


@transaction.atomic
def inbox_acknowledge(
    *, recipients: list[AlertRecipient], by: User, reason: str
) -> list[AlertRecipient]:
    """Acknowledge a person's open tasks (the inbox's bulk acknowledge) with one reason: one
    update, and one audit row per student naming the alerts and the reason."""
    if reason not in AcknowledgeReason.values:
        raise ValueError(reason)
    open_rows = [r for r in recipients if r.is_open and r.user_id == by.pk]
    if not open_rows:
        return []
    now = timezone.now()
    AlertRecipient.objects.filter(pk__in=[r.pk for r in open_rows]).update(
        acknowledged_at=now, acknowledged_reason=reason
    )
    by_student: dict[int, list[AlertRecipient]] = {}
    for row in open_rows:
        row.acknowledged_at, row.acknowledged_reason = now, reason
        by_student.setdefault(row.alert.student_id, []).append(row)
    for rows in by_student.values():
        student = rows[0].alert.student
        audit.record(
            user=by,
            action=audit.AuditAction.ACKNOWLEDGE,
            object_type=audit.AuditObjectType.ABSENCE_ALERT,
            object_id=str(student.public_id),
            student_id=student.public_id,
            role=",".join(sorted({r.role for r in rows})),
            detail={
                "reason": reason,
                "alerts": sorted({str(r.alert.public_id) for r in rows}),
                "tasks": sorted({r.task for r in rows}),
            },
        )
    return open_rows


def tasks_done(*, student: Student, tasks: list[DueKind], by: User) -> int:
    """Mark the student's open tasks of these kinds done, for everyone who had them: the work
    was done (a checklist, a mapping, a health talk, the principal's decision). Called by the
    services that record that work; returns how many tasks were closed."""
    done = AlertRecipient.objects.filter(
        alert__student_id=student.pk,
        task__in=tasks,
        done_at__isnull=True,
        acknowledged_at__isnull=True,
    ).update(done_at=timezone.now())
    if done:
        audit.record(
            user=by,
            action=audit.AuditAction.UPDATE,
            object_type=audit.AuditObjectType.ABSENCE_ALERT,
            object_id=str(student.public_id),
            student_id=student.public_id,
            detail={"tasks_done": sorted(str(t) for t in tasks), "count": done},
        )
    return done


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
