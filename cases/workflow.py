"""The case flow: opening, one named service per transition, the chronology and notes.

Every transition asks the transition table (``transitions.py``): the person's capability,
the state it starts from, its guards (STYLE.md §4). It is saved with an optimistic version
check, so two people changing the same case at once cannot silently overwrite each other:
the second gets ``ConcurrentChange`` and must reload.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from sst import access, audit, textlimits
from sst.models import Student, StudentMove, User

from . import transitions
from .models import (
    CLOSURE_DETAIL_REQUIRED,
    ENDED_STATES,
    Case,
    CaseEvent,
    CaseOpening,
    CaseState,
    ClosureReason,
    EventKind,
    Note,
)


class TransitionRefused(ValidationError):
    """The case is not in a state this transition starts from, or a guard does not hold."""


class ConcurrentChange(ValidationError):
    """Someone else changed the record since it was read."""


class CapabilityMissing(PermissionDenied):
    """The person lacks the capability the transition needs (the page answers 404)."""


def chronicle(
    *,
    case: Case,
    kind: str,
    summary: str,
    by: User | None,
    happened_at: datetime.datetime | None = None,
    restricted_to: str = "",
    ref: Any = None,
) -> CaseEvent:
    """Add an entry to the case's chronology (the only way entries are written)."""
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        summary=summary[:300],
        recorded_by=by,
        happened_at=happened_at or timezone.now(),
        restricted_to=restricted_to,
        ref_type=ref._meta.model_name if ref is not None else "",
        ref_id=str(getattr(ref, "public_id", "") or getattr(ref, "pk", "")) if ref else "",
    )


def _audit(case: Case, by: User | None, action: audit.AuditAction, **detail: Any) -> None:
    audit.record(
        user=by,
        action=action,
        object_type=audit.AuditObjectType.CASE,
        object_id=str(case.public_id),
        student_id=case.student.public_id,
        detail=detail,
    )


@transaction.atomic
def case_open(
    *, student: Student, opening: str, by: User | None, previous_case: Case | None = None
) -> Case:
    """Open a case for the student; refused while another case is open."""
    if (
        Case.objects.select_for_update()
        .filter(student=student)
        .exclude(state__in=ENDED_STATES)
        .exists()
    ):
        raise TransitionRefused(_("The student already has an open case."), code="open_case")
    if previous_case is not None and previous_case.student_id != student.pk:
        raise ValidationError(_("The previous case belongs to another student."))
    if previous_case is not None and previous_case.school_id != student.school_id:
        raise ValidationError(_("The previous case belongs to another school."))
    case = Case.objects.create(
        student=student,
        school_id=student.school_id,
        opening=opening,
        opened_by=by,
        previous_case=previous_case,
    )
    chronicle(
        case=case,
        kind=EventKind.STATE_CHANGE,
        summary=_("Case opened: %(reason)s") % {"reason": CaseOpening(opening).label},
        by=by,
    )
    _audit(case, by, audit.AuditAction.CREATE, opening=opening)
    return case


def case_for_staircase_work(*, student: Student, by: User | None) -> Case:
    """The student's open case, opened now if the first staircase work starts."""
    case = Case.objects.filter(student=student).exclude(state__in=ENDED_STATES).first()
    if case is not None:
        return case
    previous = (
        Case.objects.filter(student=student, school_id=student.school_id)
        .order_by("-opened_at")
        .first()
    )
    return case_open(
        student=student,
        opening=CaseOpening.STAIRCASE,
        by=by,
        previous_case=previous
        if previous is not None and not hasattr(previous, "next_case")
        else None,
    )


def _move(
    case: Case,
    *,
    to: str,
    by: User | None,
    reason: str = "",
    closure_reason: str = "",
    closure_detail: str = "",
) -> Case:
    """Change the state if nobody changed the case since it was read; chronicle and audit."""
    before = case.state
    changed = Case.objects.filter(pk=case.pk, version=case.version, state=before).update(
        state=to,
        version=F("version") + 1,
        closed_at=timezone.now() if to in ENDED_STATES else None,
        closure_reason=closure_reason,
        closure_detail=closure_detail,
    )
    if not changed:
        raise ConcurrentChange(
            _("Someone else changed the case just now. Reload the page and try again."),
            code="concurrent",
        )
    case.refresh_from_db(
        fields=["state", "version", "closed_at", "closure_reason", "closure_detail"]
    )
    summary = _("State: %(before)s → %(after)s") % {
        "before": CaseState(before).label,
        "after": CaseState(to).label,
    }
    if reason:
        summary += " – " + reason
    chronicle(case=case, kind=EventKind.STATE_CHANGE, summary=summary, by=by)
    _audit(
        case,
        by,
        audit.AuditAction.UPDATE,
        before=before,
        after=to,
        reason=bool(reason),
        closure_reason=closure_reason,
    )
    return case


def _refuse_unless_allowed(transition: transitions.Transition, case: Case, by: User) -> None:
    """Apply the table: the capability first, then the state, then the guards."""
    verdict = transitions.judge(transition, case, access.case_capabilities(by, case))
    if verdict.refusal is transitions.Refusal.CAPABILITY:
        raise CapabilityMissing(transition.capability)
    if verdict.refusal is transitions.Refusal.STATE:
        raise TransitionRefused(
            _("A case that is “%(state)s” cannot become “%(to)s”.")
            % {"state": case.get_state_display(), "to": transition.target.label},
            code="state",
        )
    if verdict.refusal is transitions.Refusal.GUARD:
        raise TransitionRefused([str(guard.missing) for guard in verdict.missing], code="guard")


def _make(name: str, case: Case, by: User, reason: str = "") -> Case:
    transition = transitions.BY_NAME[name]
    _refuse_unless_allowed(transition, case, by)
    if transition.asks is transitions.Asks.REASON:
        reason = _required_reason(reason)
    return _move(case, to=transition.target, by=by, reason=reason)


@transaction.atomic
def case_refer(*, case: Case, by: User) -> Case:
    """The school submits the referral to the school social team."""
    return _make("refer", case, by)


@transaction.atomic
def case_withdraw(*, case: Case, reason: str, by: User) -> Case:
    """The school takes its referral back before the forum has decided."""
    return _make("withdraw", case, by, reason)


@transaction.atomic
def case_register_referral(*, case: Case, by: User) -> Case:
    """The coordinator registers a referral from the student, a guardian or social services."""
    return _make("register_referral", case, by)


@transaction.atomic
def case_queue(*, case: Case, by: User) -> Case:
    return _make("queue", case, by)


@transaction.atomic
def case_accept(*, case: Case, by: User) -> Case:
    return _make("accept", case, by)


@transaction.atomic
def case_reject(*, case: Case, reason: str, by: User) -> Case:
    return _make("reject", case, by, reason)


@transaction.atomic
def case_redirect(*, case: Case, reason: str, by: User) -> Case:
    return _make("redirect", case, by, reason)


@transaction.atomic
def case_request_consent(*, case: Case, by: User) -> Case:
    return _make("request_consent", case, by)


@transaction.atomic
def case_start_plan(*, case: Case, by: User) -> Case:
    return _make("start_plan", case, by)


@transaction.atomic
def case_start_implementation(*, case: Case, by: User) -> Case:
    return _make("start_implementation", case, by)


@transaction.atomic
def case_enter_maintenance(*, case: Case, by: User) -> Case:
    return _make("enter_maintenance", case, by)


@transaction.atomic
def case_close(*, case: Case, reason: str, detail: str = "", by: User) -> Case:
    """Close an open case with a reason from the fixed list (some need a few words more)."""
    _refuse_unless_allowed(transitions.BY_NAME["close"], case, by)
    if reason not in ClosureReason.values:
        raise ValidationError(_("Choose why the case is closed."), code="closure_reason")
    detail = detail.strip()
    textlimits.check_fields(Case, {"closure_detail": detail})
    if reason in CLOSURE_DETAIL_REQUIRED and not detail:
        raise ValidationError(
            _("Say in a few words: %(reason)s.") % {"reason": ClosureReason(reason).label},
            code="closure_detail",
        )
    label = str(ClosureReason(reason).label)
    return _move(
        case,
        to=CaseState.CLOSED,
        by=by,
        reason=f"{label}: {detail}" if detail else label,
        closure_reason=reason,
        closure_detail=detail,
    )


def close_cases_on_move(move: StudentMove, *, by: User | None) -> None:
    """A student moved to another school: the previous school's open case is not handed over
    but closed with the reason "moved" (a move hook, ``sst.services.register_move_hook``).

    Not a transition a person makes on the case page (the municipality administrator who
    recorded the move does not work the school's cases): the consequence of a recorded move,
    chronicled and audited like every closure."""
    for case in (
        Case.objects.select_for_update()
        .select_related("student")
        .filter(student_id=move.student_id, school_id=move.from_school_id)
        .exclude(state__in=ENDED_STATES)
    ):
        _move(
            case,
            to=CaseState.CLOSED,
            by=by,
            reason=str(ClosureReason.MOVED.label),
            closure_reason=ClosureReason.MOVED,
        )


# Moves that follow from a record another service has already authorised, whoever recorded
# it: booking the information meeting asks for consent, and "the family said no" closes the
# case as declined. The assigned social worker may record both before any consent lets them
# read the case (so they hold no capability on it yet): the calling service checks that
# person's part; here the table's states and guards still apply.
FOLLOWS_RECORD = frozenset({"request_consent", "close"})


@transaction.atomic
def case_follow_record(*, case: Case, name: str, by: User | None, closure_reason: str = "") -> Case:
    """Make the transition ``name`` because a record says so (see ``FOLLOWS_RECORD``)."""
    if name not in FOLLOWS_RECORD:
        raise ValueError(f"{name} does not follow from a record")
    transition = transitions.BY_NAME[name]
    verdict = transitions.judge(transition, case, {transition.capability})
    if verdict.refusal is transitions.Refusal.STATE:
        raise TransitionRefused(
            _("A case that is “%(state)s” cannot become “%(to)s”.")
            % {"state": case.get_state_display(), "to": transition.target.label},
            code="state",
        )
    if verdict.refusal is transitions.Refusal.GUARD:
        raise TransitionRefused([str(guard.missing) for guard in verdict.missing], code="guard")
    if name == "close":
        if closure_reason not in ClosureReason.values or closure_reason in CLOSURE_DETAIL_REQUIRED:
            raise ValueError("a closure that follows a record needs a reason without detail")
        label = str(ClosureReason(closure_reason).label)
        return _move(case, to=CaseState.CLOSED, by=by, reason=label, closure_reason=closure_reason)
    return _move(case, to=transition.target, by=by)


# The service of each transition of the table (tests keep the two in step).
SERVICES: dict[str, Callable[..., Case]] = {
    "refer": case_refer,
    "withdraw": case_withdraw,
    "register_referral": case_register_referral,
    "queue": case_queue,
    "accept": case_accept,
    "reject": case_reject,
    "redirect": case_redirect,
    "request_consent": case_request_consent,
    "start_plan": case_start_plan,
    "start_implementation": case_start_implementation,
    "enter_maintenance": case_enter_maintenance,
    "close": case_close,
}


@transaction.atomic
def case_skip_to(*, case: Case, to: str, reason: str, by: User) -> Case:
    """Jump forward past one or more of the school's own steps; the reason is recorded."""
    if transitions.SKIP_CAPABILITY not in access.case_capabilities(by, case):
        raise CapabilityMissing(transitions.SKIP_CAPABILITY)
    reason = _required_reason(reason)
    if not transitions.skip_allowed(case, to, {transitions.SKIP_CAPABILITY}):
        raise TransitionRefused(
            _("Only the school's own steps can be skipped, and only forward past a step."),
            code="state",
        )
    return _move(case, to=to, by=by, reason=reason)


def _required_reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError(_("Give a reason."), code="reason")
    textlimits.limit(textlimits.REASON)(reason.strip())
    return reason.strip()


@transaction.atomic
def note_add(*, case: Case, text: str, restricted_to: str, by: User) -> Note:
    """A free-text note; when restricted, only that profession at the school reads it."""
    if not text.strip():
        raise ValidationError(_("The note is empty."), code="empty")
    textlimits.check_fields(Note, {"text": text})
    note = Note.objects.create(case=case, author=by, text=text, restricted_to=restricted_to)
    chronicle(
        case=case,
        kind=EventKind.NOTE,
        summary=_("Note"),
        by=by,
        restricted_to=restricted_to,
        ref=note,
    )
    _audit(case, by, audit.AuditAction.CREATE, note=str(note.public_id))
    return note
