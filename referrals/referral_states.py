"""The referral's states and the named moves between them.

A minimal version written for the forum's part (branch wt-forum); the referral helper's
module with the same names replaces it at merge. ``move`` checks the state the move starts
from and the row's version (someone else's change in between is refused, never
overwritten), saves, and audits.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.translation import gettext as _

from sst import audit
from sst.models import User

from .models import Referral, ReferralState

S = ReferralState


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[str]
    target: str


MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move("submit", frozenset({S.DRAFT}), S.SUBMITTED),
        Move("place_on_agenda", frozenset({S.SUBMITTED}), S.ON_AGENDA),
        Move("take_off_agenda", frozenset({S.ON_AGENDA}), S.SUBMITTED),
        Move("accept_queue", frozenset({S.ON_AGENDA}), S.QUEUED),
        Move("accept_assign", frozenset({S.ON_AGENDA}), S.ASSIGNED),
        Move("assign_from_queue", frozenset({S.QUEUED}), S.ASSIGNED),
        Move("reject", frozenset({S.ON_AGENDA}), S.REJECTED),
        Move("redirect", frozenset({S.ON_AGENDA}), S.REDIRECTED),
        Move("withdraw", frozenset({S.SUBMITTED, S.ON_AGENDA}), S.WITHDRAWN),
        Move("revise", frozenset({S.REJECTED}), S.REVISED),
    )
}


class ReferralChanged(ValidationError):
    """Someone else changed the referral since it was read."""


def move(referral: Referral, name: str, *, by: User | None) -> Referral:
    """Move the referral by the named move, if nobody changed it since it was read."""
    step = MOVES[name]
    before = referral.state
    if before not in step.sources:
        raise ValidationError(
            _("A referral that is “%(state)s” cannot become “%(to)s”.")
            % {"state": referral.get_state_display(), "to": ReferralState(step.target).label},
            code="state",
        )
    changed = Referral.objects.filter(
        pk=referral.pk, version=referral.version, state=before
    ).update(state=step.target, version=F("version") + 1)
    if not changed:
        raise ReferralChanged(
            _("Someone else changed the referral just now. Reload the page and try again."),
            code="concurrent",
        )
    referral.refresh_from_db(fields=["state", "version", "updated_at"])
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.REFERRAL,
        object_id=str(referral.public_id),
        detail={"move": name, "before": before, "after": step.target},
    )
    return referral
