"""The referral's own transition table: the one place that says how a referral may move.

A small table (name, sources, target) rather than a state-machine library: the case already
has its table in ``cases/transitions.py`` with the same shape, the referral's moves need no
capabilities or guards of their own (the services that call ``move`` check who may and what
must be recorded, usually through the case's table), and django-fsm-2 would hide the
optimistic version check inside a field descriptor where the services could not see it.

Every referral service moves the referral with ``move(referral, name, by=...)``: it checks
that the referral is in a state the transition starts from, saves the new state with an
optimistic version check (a concurrent change gets ``ConcurrentChange``, never a silent
overwrite) and records an audit event with identifiers only. The chronology entry is the
calling service's, which knows what to say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.workflow import ConcurrentChange
from sst import audit
from sst.models import User

from .models import Referral, ReferralState

__all__ = [
    "BY_NAME",
    "TRANSITIONS",
    "ConcurrentChange",
    "ReferralTransition",
    "StateRefused",
    "allowed",
    "check",
    "move",
]


class StateRefused(ValidationError):
    """The referral is not in a state the transition starts from."""


@dataclass(frozen=True)
class ReferralTransition:
    name: str
    sources: frozenset[ReferralState]
    target: ReferralState


_WAITING = frozenset({ReferralState.SUBMITTED, ReferralState.ON_AGENDA})

TRANSITIONS: tuple[ReferralTransition, ...] = (
    # The school (or the coordinator, for a referral from outside the school) submits.
    ReferralTransition("submit", frozenset({ReferralState.DRAFT}), ReferralState.SUBMITTED),
    # The forum puts it on a meeting's agenda, or takes it off again (a cancelled meeting).
    ReferralTransition(
        "place_on_agenda", frozenset({ReferralState.SUBMITTED}), ReferralState.ON_AGENDA
    ),
    ReferralTransition(
        "take_off_agenda", frozenset({ReferralState.ON_AGENDA}), ReferralState.SUBMITTED
    ),
    # The forum decides (the Decision row is the decision service's).
    ReferralTransition("accept_queue", _WAITING, ReferralState.QUEUED),
    ReferralTransition("accept_assign", _WAITING, ReferralState.ASSIGNED),
    ReferralTransition(
        "assign_from_queue", frozenset({ReferralState.QUEUED}), ReferralState.ASSIGNED
    ),
    ReferralTransition("reject", _WAITING, ReferralState.REJECTED),
    ReferralTransition("redirect", _WAITING, ReferralState.REDIRECTED),
    # The school takes it back before a decision (a draft may be discarded the same way).
    ReferralTransition("withdraw", _WAITING | {ReferralState.DRAFT}, ReferralState.WITHDRAWN),
    # A rejected referral is replaced by a new version (a new row, ``revision_of``).
    ReferralTransition("revise", frozenset({ReferralState.REJECTED}), ReferralState.REVISED),
)
BY_NAME: dict[str, ReferralTransition] = {t.name: t for t in TRANSITIONS}


def allowed(referral: Referral, name: str) -> bool:
    """Whether the transition starts from the referral's state now (for buttons)."""
    return referral.state in BY_NAME[name].sources


def check(referral: Referral, name: str) -> ReferralTransition:
    """The transition, or ``StateRefused`` with a message naming both states."""
    transition = BY_NAME[name]
    if referral.state not in transition.sources:
        raise StateRefused(
            _("A referral that is “%(state)s” cannot become “%(to)s”.")
            % {"state": ReferralState(referral.state).label, "to": transition.target.label},
            code="state",
        )
    return transition


def move(referral: Referral, name: str, *, by: User | None, **changes: Any) -> Referral:
    """Make transition ``name``: check the source state, save state + version (and any
    ``changes``, e.g. ``decided_at=...``, in the same UPDATE) only if nobody changed the
    referral since it was read, and audit it. Run it inside the calling service's
    transaction. Returns the referral with the saved fields refreshed."""
    transition = check(referral, name)
    before = referral.state
    updated = Referral.objects.filter(
        pk=referral.pk, version=referral.version, state=before
    ).update(
        state=transition.target,
        version=F("version") + 1,
        **{"updated_at": timezone.now(), **changes},
    )
    if not updated:
        raise ConcurrentChange(
            _("Someone else changed the referral just now. Reload the page and try again."),
            code="concurrent",
        )
    referral.refresh_from_db(fields=list({"state", "version", "updated_at", *changes}))
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.REFERRAL,
        object_id=str(referral.public_id),
        detail={"transition": name, "before": before, "after": transition.target.value},
    )
    return referral
