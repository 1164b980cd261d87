"""The case flow: opening, one named service per transition, the chronology and notes.

Every transition checks the state it starts from (STYLE.md §4) and is saved with an
optimistic version check, so two people changing the same case at once cannot silently
overwrite each other: the second gets ``ConcurrentChange`` and must reload.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from sst import audit
from sst.models import Student, User

from .models import FLOW_ORDER, Case, CaseEvent, CaseOpening, CaseState, EventKind, Note


class TransitionRefused(ValidationError):
    """The case is not in a state this transition starts from."""


class ConcurrentChange(ValidationError):
    """Someone else changed the record since it was read."""


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


def _audit(case: Case, by: User | None, action: str, **detail: Any) -> None:
    audit.record(
        user=by,
        action=action,
        object_type="case",
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
        .exclude(state__in=[CaseState.CLOSED, CaseState.REJECTED, CaseState.REDIRECTED])
        .exists()
    ):
        raise TransitionRefused(_("The student already has an open case."), code="open_case")
    if previous_case is not None and previous_case.student_id != student.pk:
        raise ValidationError(_("The previous case belongs to another student."))
    case = Case.objects.create(
        student=student, opening=opening, opened_by=by, previous_case=previous_case
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
    case = (
        Case.objects.filter(student=student)
        .exclude(state__in=[CaseState.CLOSED, CaseState.REJECTED, CaseState.REDIRECTED])
        .first()
    )
    if case is not None:
        return case
    previous = Case.objects.filter(student=student).order_by("-opened_at").first()
    return case_open(
        student=student,
        opening=CaseOpening.STAIRCASE,
        by=by,
        previous_case=previous
        if previous is not None and not hasattr(previous, "next_case")
        else None,
    )


def _move(
    case: Case, *, to: str, allowed_from: set[str], by: User | None, reason: str = ""
) -> Case:
    if case.state not in allowed_from:
        raise TransitionRefused(
            _("A case that is “%(state)s” cannot become “%(to)s”.")
            % {"state": case.get_state_display(), "to": CaseState(to).label},
            code="state",
        )
    changed = Case.objects.filter(pk=case.pk, version=case.version, state=case.state).update(
        state=to,
        version=F("version") + 1,
        closed_at=timezone.now() if to in {"closed", "rejected", "redirected"} else None,
    )
    if not changed:
        raise ConcurrentChange(
            _("Someone else changed the case just now. Reload the page and try again."),
            code="concurrent",
        )
    before = case.state
    case.refresh_from_db(fields=["state", "version", "closed_at"])
    summary = _("State: %(before)s → %(after)s") % {
        "before": CaseState(before).label,
        "after": CaseState(to).label,
    }
    if reason:
        summary += " – " + reason
    chronicle(case=case, kind=EventKind.STATE_CHANGE, summary=summary, by=by)
    _audit(case, by, audit.AuditAction.UPDATE, before=before, after=to, reason=bool(reason))
    return case


@transaction.atomic
def case_refer(*, case: Case, by: User | None) -> Case:
    return _move(case, to=CaseState.REFERRED, allowed_from={CaseState.SCHOOL_INVESTIGATION}, by=by)


@transaction.atomic
def case_queue(*, case: Case, by: User | None) -> Case:
    return _move(case, to=CaseState.QUEUED, allowed_from={CaseState.REFERRED}, by=by)


@transaction.atomic
def case_accept(*, case: Case, by: User | None) -> Case:
    return _move(
        case, to=CaseState.ACCEPTED, allowed_from={CaseState.REFERRED, CaseState.QUEUED}, by=by
    )


@transaction.atomic
def case_reject(*, case: Case, reason: str, by: User | None) -> Case:
    _require_reason(reason)
    return _move(
        case,
        to=CaseState.REJECTED,
        allowed_from={CaseState.REFERRED, CaseState.QUEUED},
        by=by,
        reason=reason,
    )


@transaction.atomic
def case_redirect(*, case: Case, reason: str, by: User | None) -> Case:
    _require_reason(reason)
    return _move(
        case,
        to=CaseState.REDIRECTED,
        allowed_from={CaseState.REFERRED, CaseState.QUEUED},
        by=by,
        reason=reason,
    )


@transaction.atomic
def case_request_consent(*, case: Case, by: User | None) -> Case:
    return _move(case, to=CaseState.CONSENT, allowed_from={CaseState.ACCEPTED}, by=by)


@transaction.atomic
def case_start_plan(*, case: Case, by: User | None) -> Case:
    return _move(case, to=CaseState.PLAN, allowed_from={CaseState.CONSENT}, by=by)


@transaction.atomic
def case_start_implementation(*, case: Case, by: User | None) -> Case:
    return _move(
        case,
        to=CaseState.IMPLEMENTATION,
        allowed_from={CaseState.PLAN, CaseState.MAINTENANCE},
        by=by,
    )


@transaction.atomic
def case_enter_maintenance(*, case: Case, by: User | None) -> Case:
    return _move(case, to=CaseState.MAINTENANCE, allowed_from={CaseState.IMPLEMENTATION}, by=by)


@transaction.atomic
def case_close(*, case: Case, reason: str, by: User | None) -> Case:
    _require_reason(reason)
    return _move(
        case,
        to=CaseState.CLOSED,
        allowed_from={CaseState.IMPLEMENTATION, CaseState.MAINTENANCE},
        by=by,
        reason=reason,
    )


@transaction.atomic
def case_skip_to(*, case: Case, to: str, reason: str, by: User | None) -> Case:
    """Jump forward past one or more steps of the flow; the reason is recorded."""
    _require_reason(reason)
    if case.state not in FLOW_ORDER or to not in FLOW_ORDER:
        raise TransitionRefused(_("Only steps of the normal flow can be skipped."), code="state")
    if FLOW_ORDER.index(to) <= FLOW_ORDER.index(case.state) + 1:
        raise TransitionRefused(
            _("That is not a skip: use the step's own action."), code="not_a_skip"
        )
    return _move(case, to=to, allowed_from={case.state}, by=by, reason=reason)


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise ValidationError(_("Give a reason."), code="reason")


@transaction.atomic
def note_add(*, case: Case, text: str, restricted_to: str, by: User) -> Note:
    """A free-text note; when restricted, only that profession at the school reads it."""
    if not text.strip():
        raise ValidationError(_("The note is empty."), code="empty")
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
