"""Writes to the organisation and people. Each change of a membership re-grants at once."""

from __future__ import annotations

import datetime

from django.db import transaction

from . import access, audit
from .models import MentorGroup, Role, RoleMembership, User


def _record(membership: RoleMembership, action: str, by: User | None) -> None:
    audit.record(
        user=by,
        action=action,
        object_type="role_membership",
        object_id=str(membership.pk),
        detail={
            "person": membership.user_id,
            "role": membership.role,
            "place_kind": membership.place_kind,
            "place": getattr(membership.place, "pk", None),
            "starts_on": membership.starts_on.isoformat(),
            "ends_on": membership.ends_on.isoformat() if membership.ends_on else None,
        },
    )


@transaction.atomic
def membership_save(*, membership: RoleMembership, by: User | None) -> RoleMembership:
    """Create or change a membership; the person's permissions follow on their next request."""
    membership.full_clean()
    creating = membership._state.adding
    membership.save()
    _record(membership, audit.AuditAction.CREATE if creating else audit.AuditAction.UPDATE, by)
    access.sync_user_permissions(membership.user)
    return membership


@transaction.atomic
def membership_end(
    *, membership: RoleMembership, ends_on: datetime.date, by: User | None
) -> RoleMembership:
    membership.ends_on = ends_on
    membership.full_clean()
    membership.save(update_fields=["ends_on"])
    _record(membership, audit.AuditAction.UPDATE, by)
    access.sync_user_permissions(membership.user)
    return membership


@transaction.atomic
def membership_delete(*, membership: RoleMembership, by: User | None) -> None:
    user = membership.user
    _record(membership, audit.AuditAction.DELETE, by)
    membership.delete()
    access.sync_user_permissions(user)


def mentor_assign(*, user: User, group: MentorGroup, by: User | None) -> RoleMembership | None:
    """Make ``user`` the mentor of ``group`` from today, unless they already are (the
    student register names mentors; importing it again changes nothing)."""
    if access.is_mentor_of(user, group):
        return None
    return membership_save(
        membership=RoleMembership(user=user, role=Role.MENTOR, mentor_group=group), by=by
    )
