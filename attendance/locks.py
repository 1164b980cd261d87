"""Transaction-level advisory locks that keep the attendance tables consistent (PostgreSQL).

Lessons and monthly rows carry no foreign-key constraints in the database (a check per row
was a third of the import's time and a fifth of the rollup's, docs/PERFORMANCE.md). What
those constraints would guard — no row for a student who no longer exists — is kept by
these locks instead: imports and rollups hold the student register *shared* while they
write, and deleting a student takes it *exclusively*, so a deletion waits for them to end
and they wait for it. Django's CASCADE then removes the student's rows after the lock is
taken, so none can be written in between. SQLite serialises writers anyway; there the
functions do nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

# Rollups and staircase evaluations write the same monthly rows (the rollup's upsert, the
# step UPDATE) and alerts, each in its own row order; two at once could deadlock. They take
# this lock first, so they run one after the other.
ABSENCE_WRITE_LOCK = 7_301_001
STUDENT_REGISTER_LOCK = 7_301_002


def _lock(function: str, key: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [key])


def lock_absence_writes() -> None:
    """Wait for any other rollup or evaluation; held until the current transaction ends."""
    _lock("pg_advisory_xact_lock", ABSENCE_WRITE_LOCK)


def hold_student_register() -> None:
    """No student is deleted until the current transaction ends (imports, rollups)."""
    _lock("pg_advisory_xact_lock_shared", STUDENT_REGISTER_LOCK)


def lock_student_register(**_kwargs: Any) -> None:
    """Wait for running imports and rollups before deleting students (a pre_delete receiver:
    Django sends it inside the deletion's transaction, before the cascades run)."""
    _lock("pg_advisory_xact_lock", STUDENT_REGISTER_LOCK)
