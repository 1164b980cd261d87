"""The case's transition table: the one place that says how a case may move.

Each transition names the states it starts from, the state it leads to, the capability the
person needs (``sst.access``), the guards that must hold (preconditions read from records)
and what the person must give (nothing, a reason, or a closure reason). The services in
``workflow.py`` refuse whatever this table refuses, and the case page offers a button
exactly for what ``available`` returns, so the two cannot drift apart.

Guards that read records of later apps (the referral forum's decision, the consent, the
signed plan) cannot be imported here: apps depend forward only. The later app registers
the check in its ``AppConfig.ready`` with ``register_guard``; until it does, the guard does
not hold (fail closed) and the refusal says what is missing.

The school's own steps are the states the school moves by itself, with no forum decision or
consent between them: investigating the case and submitting the referral
(``SCHOOL_STEPS``). A skip forward with a recorded reason stays inside them, so nothing
skips a forum decision or a consent. With today's states those two steps are adjacent, so
there is nothing to skip; the rule stays for when the school's part gets more states.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sst.access import Capability

from .models import ENDED_STATES, Case, CaseState

OPEN_STATES = frozenset(state for state in CaseState if state not in ENDED_STATES)
SCHOOL_STEPS: tuple[CaseState, ...] = (CaseState.SCHOOL_INVESTIGATION, CaseState.REFERRED)


# ---------------------------------------------------------------- guards


@dataclass(frozen=True)
class Guard:
    """A precondition read from records; ``missing`` tells the user what is not there."""

    name: str
    missing: Promise
    # The step happens with a record made on another page (the referral's own: write and
    # submit it, or withdraw it): the case page does not list it as something waited for.
    made_elsewhere: bool = False


FORUM_ACCEPTED = Guard(
    "forum_accepted", _("No decision of the referral forum accepting the referral is recorded.")
)
FORUM_REJECTED = Guard(
    "forum_rejected", _("No decision of the referral forum rejecting the referral is recorded.")
)
FORUM_REDIRECTED = Guard(
    "forum_redirected",
    _("No decision of the referral forum redirecting the referral is recorded."),
)
CONSENT_REQUESTED = Guard(
    "consent_requested", _("No request for the guardians' consent is recorded.")
)
CONSENT_VALID = Guard("consent_valid", _("No valid consent covers the case."))
# The referral is written and submitted on its own pages (the referrals app); its submit
# service moves the case, so the case never counts as referred without a referral.
REFERRAL_SUBMITTED = Guard(
    "referral_submitted", _("No submitted referral is recorded."), made_elsewhere=True
)
REFERRAL_WITHDRAWN = Guard(
    "referral_withdrawn",
    _("No withdrawal of the submitted referral is recorded."),
    made_elsewhere=True,
)
PLAN_SIGNED = Guard("plan_signed", _("No signed action plan is recorded."))
MAINTENANCE_PLAN = Guard("maintenance_plan", _("No maintenance plan is recorded."))

GUARDS: dict[str, Guard] = {
    guard.name: guard
    for guard in (
        FORUM_ACCEPTED,
        FORUM_REJECTED,
        FORUM_REDIRECTED,
        CONSENT_REQUESTED,
        CONSENT_VALID,
        PLAN_SIGNED,
        MAINTENANCE_PLAN,
        REFERRAL_SUBMITTED,
        REFERRAL_WITHDRAWN,
    )
}

GuardCheck = Callable[[Case], bool]
# Filled by later apps in their AppConfig.ready; a guard without a check does not hold.
GUARD_CHECKS: dict[str, GuardCheck] = {}


def register_guard(name: str, check: GuardCheck) -> None:
    """Let a later app answer a guard of the table (from its ``AppConfig.ready``)."""
    if name not in GUARDS:
        raise ImproperlyConfigured(f"The case transition table has no guard {name!r}.")
    GUARD_CHECKS[name] = check


def guard_holds(guard: Guard, case: Case) -> bool:
    check = GUARD_CHECKS.get(guard.name)
    return check is not None and bool(check(case))


# ---------------------------------------------------------------- the table


class Asks(enum.Enum):
    """What the person must give with the transition."""

    NOTHING = "nothing"
    REASON = "reason"  # a few words, kept in the chronology
    CLOSURE = "closure"  # a closure reason from the fixed list, with detail where needed


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[CaseState]
    target: CaseState
    capability: Capability
    label: Promise
    slug: str  # its URL: /elever/arende/<case>/steg/<slug>/
    guards: tuple[Guard, ...] = ()
    asks: Asks = Asks.NOTHING
    style: str = "btn-primary"
    # What will happen, said on a confirmation page before a step that cannot simply be
    # taken back (the step view asks first: GET shows it, a POST with ``confirm`` does it).
    confirm: Promise | None = None
    # Further capabilities that may make the transition besides ``capability``: the
    # coordinator, who assigns a social worker to a referral the forum accepted into the
    # queue (the forum's recorded decision is still the guard).
    also_by: frozenset[Capability] = frozenset()

    def taken_by(self, capabilities: Iterable[Capability]) -> bool:
        held = set(capabilities)
        return self.capability in held or bool(self.also_by & held)


TRANSITIONS: tuple[Transition, ...] = (
    # The school's side: submit the referral, take it back, or close the case. The
    # referral's writers (the student's mentor, the counsellor, the principal) refer and
    # withdraw; both follow the referral's own record (written on the referral pages).
    Transition(
        "refer",
        frozenset({CaseState.SCHOOL_INVESTIGATION}),
        CaseState.REFERRED,
        Capability.WRITE_REFERRAL,
        _("Refer to the school social team"),
        "aktualisera",
        guards=(REFERRAL_SUBMITTED,),
        confirm=_(
            "The referral is sent to the school social team's referral forum, which decides "
            "whether the team takes the case. Until the forum has decided, the school can "
            "withdraw it."
        ),
    ),
    Transition(
        "withdraw",
        frozenset({CaseState.REFERRED}),
        CaseState.SCHOOL_INVESTIGATION,
        Capability.WRITE_REFERRAL,
        _("Withdraw the referral"),
        "aterkalla",
        guards=(REFERRAL_WITHDRAWN,),
        asks=Asks.REASON,
        style="btn-outline-secondary",
        confirm=_(
            "The referral is taken back from the referral forum and the case returns to the "
            "school's own investigation. The reason is kept in the chronology."
        ),
    ),
    # A referral from the student, a guardian or social services: the coordinator registers
    # it with the case it opens (the school's staff do not refer it).
    Transition(
        "register_referral",
        frozenset({CaseState.SCHOOL_INVESTIGATION}),
        CaseState.REFERRED,
        Capability.COORDINATE,
        _("Register a referral from outside the school"),
        "registrera",
        guards=(REFERRAL_SUBMITTED,),
    ),
    # The referral forum decides, and only on a recorded decision.
    Transition(
        "queue",
        frozenset({CaseState.REFERRED}),
        CaseState.QUEUED,
        Capability.DECIDE_REFERRALS,
        _("Accept and place in the queue"),
        "ko",
        guards=(FORUM_ACCEPTED,),
        style="btn-outline-primary",
    ),
    Transition(
        "accept",
        frozenset({CaseState.REFERRED, CaseState.QUEUED}),
        CaseState.ACCEPTED,
        Capability.DECIDE_REFERRALS,
        _("Accept"),
        "anta",
        guards=(FORUM_ACCEPTED,),
        # A queued referral is accepted for good when the coordinator assigns a social
        # worker from the queue (referrals.forum_services.referral_assign).
        also_by=frozenset({Capability.COORDINATE}),
    ),
    Transition(
        "reject",
        frozenset({CaseState.REFERRED, CaseState.QUEUED}),
        CaseState.REJECTED,
        Capability.DECIDE_REFERRALS,
        _("Reject the referral"),
        "avsla",
        guards=(FORUM_REJECTED,),
        asks=Asks.REASON,
        style="btn-outline-danger",
        confirm=_("The referral is rejected and the case ends. This cannot be undone."),
    ),
    Transition(
        "redirect",
        frozenset({CaseState.REFERRED, CaseState.QUEUED}),
        CaseState.REDIRECTED,
        Capability.DECIDE_REFERRALS,
        _("Redirect to other support"),
        "hanvisa",
        guards=(FORUM_REDIRECTED,),
        asks=Asks.REASON,
        style="btn-outline-secondary",
        confirm=_(
            "The student is redirected to other support and the case ends. This cannot be undone."
        ),
    ),
    # After the decision the team's side moves the case, each step on its records: the
    # coordinator asks for consent; the social worker assigned to the case (a capability
    # that holds only where a later app's conditions — assignment, a valid consent — hold)
    # starts the plan, the implementation and the maintenance. No school role holds either.
    Transition(
        "request_consent",
        frozenset({CaseState.ACCEPTED}),
        CaseState.CONSENT,
        Capability.COORDINATE,
        _("Ask for consent"),
        "samtycke",
        guards=(CONSENT_REQUESTED,),
    ),
    Transition(
        "start_plan",
        frozenset({CaseState.CONSENT}),
        CaseState.PLAN,
        Capability.SOCIAL_WORK,
        _("Start the action plan"),
        "handlingsplan",
        guards=(CONSENT_VALID,),
    ),
    Transition(
        "start_implementation",
        frozenset({CaseState.PLAN, CaseState.MAINTENANCE}),
        CaseState.IMPLEMENTATION,
        Capability.SOCIAL_WORK,
        _("Start implementation"),
        "genomforande",
        guards=(CONSENT_VALID, PLAN_SIGNED),
    ),
    Transition(
        "enter_maintenance",
        frozenset({CaseState.IMPLEMENTATION}),
        CaseState.MAINTENANCE,
        Capability.SOCIAL_WORK,
        _("Move to maintenance"),
        "vidmakthallande",
        guards=(CONSENT_VALID, MAINTENANCE_PLAN),
    ),
    # A family may decline or end the support at any time; the reason is from a fixed list.
    Transition(
        "close",
        OPEN_STATES,
        CaseState.CLOSED,
        Capability.WORK_CASES,
        _("Close the case"),
        "avsluta",
        asks=Asks.CLOSURE,
        style="btn-outline-danger",
        # The social worker assigned (while a valid consent lets them work the case) closes
        # it with the school; after closure they read only the closure record they wrote.
        also_by=frozenset({Capability.SOCIAL_WORK}),
        confirm=_(
            "The case is closed with the reason given. A closed case cannot be opened again: "
            "further work on the student starts a new case."
        ),
    ),
)
BY_NAME: dict[str, Transition] = {transition.name: transition for transition in TRANSITIONS}
BY_SLUG: dict[str, Transition] = {transition.slug: transition for transition in TRANSITIONS}

# Skipping forward (with a reason) needs the same capability as the school's own steps.
SKIP_CAPABILITY = Capability.WORK_CASES


# ---------------------------------------------------------------- asking the table


class Refusal(enum.Enum):
    CAPABILITY = "capability"
    STATE = "state"
    GUARD = "guard"


@dataclass(frozen=True)
class Verdict:
    """Why a transition is refused (``refusal`` is None when it is allowed)."""

    refusal: Refusal | None
    missing: tuple[Guard, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def judge(transition: Transition, case: Case, capabilities: Iterable[Capability]) -> Verdict:
    """Whether the holder of ``capabilities`` may make ``transition`` on ``case`` now.

    The capability is asked first, so someone without it learns nothing about the case's
    records; guards are read only when the state fits.
    """
    if not transition.taken_by(capabilities):
        return Verdict(Refusal.CAPABILITY)
    if case.state not in transition.sources:
        return Verdict(Refusal.STATE)
    missing = tuple(guard for guard in transition.guards if not guard_holds(guard, case))
    if missing:
        return Verdict(Refusal.GUARD, missing)
    return Verdict(None)


def available(case: Case, capabilities: Iterable[Capability]) -> list[Transition]:
    """The transitions the page offers: exactly those the services would accept now."""
    held = frozenset(capabilities)
    return [t for t in TRANSITIONS if judge(t, case, held).allowed]


def waiting_for(case: Case, capabilities: Iterable[Capability]) -> list[Guard]:
    """The missing records that hold back a step the user could otherwise take from here."""
    held = frozenset(capabilities)
    missing: list[Guard] = []
    for transition in TRANSITIONS:
        for guard in judge(transition, case, held).missing:
            if guard not in missing and not guard.made_elsewhere:
                missing.append(guard)
    return missing


def skip_targets(state: str) -> list[CaseState]:
    """The later steps a case in ``state`` may skip to: past at least one step, and only
    within the school's own steps, so no forum decision or consent is ever skipped."""
    steps = SCHOOL_STEPS
    if state not in steps:
        return []
    return list(steps[steps.index(CaseState(state)) + 2 :])


def skip_allowed(case: Case, to: str, capabilities: Iterable[Capability]) -> bool:
    return SKIP_CAPABILITY in set(capabilities) and to in skip_targets(case.state)
