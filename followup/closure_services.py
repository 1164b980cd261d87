"""Closing a case the team has worked (DOMAIN.md §4.10): the closure record.

``closure_record`` does it all in one transaction: the case's closing transition (the
table's rules: the school's case staff, or the social worker assigned while a consent lets
them work the case), the ``Closure`` with the reason, the goals met and the summary, the
absence at intake and at closure from data with both periods named, the chronology and the
audit, the after-care checks at 3 and 6 months, the answers given at the meeting and the
one-time survey links asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from actionplans.models import ActionPlan
from cases import workflow
from cases.models import Case, ClosureReason, EventKind
from sst import audit, textlimits
from sst.models import User

from . import absence, aftercare_services, survey_services
from . import closure_selectors as selectors
from .models import Closure, ClosureAbsence, Satisfied

# A case closed with its goals met completed the support; every other reason ended it early.
COMPLETED_REASONS = frozenset({ClosureReason.GOALS_MET})


class AlreadyClosed(ValidationError):
    """The case already has its closure record."""


@dataclass
class ClosureResult:
    closure: Closure
    # respondent kind → the one-time link's token, shown once on the page that follows.
    tokens: dict[str, str] = field(default_factory=dict)


def has_plan(case: Case) -> bool:
    return ActionPlan.objects.filter(case=case).exists()


@transaction.atomic
def closure_record(
    *,
    case: Case,
    by: User,
    reason: str,
    detail: str = "",
    goals_met: str = "",
    summary: str = "",
    answers: Sequence[survey_services.Scores] = (),
    links: Sequence[str] = (),
) -> ClosureResult:
    """Close the case and write its closure record (see the module's docstring).

    ``case.version`` is the version the page was drawn from: the closing is refused if
    someone changed the case since (``workflow.ConcurrentChange``)."""
    if Closure.objects.filter(case=case).exists():
        raise AlreadyClosed(_("The case already has a closure record."), code="closed")
    if not selectors.takes(case):
        raise workflow.TransitionRefused(
            _("This case is closed on the case page."), code="closure_state"
        )
    summary = summary.strip()
    textlimits.check_fields(Closure, {"summary": summary})
    planned = has_plan(case)
    if planned and goals_met not in Satisfied.values:
        raise ValidationError(
            {"goals_met": _("Say whether the plan's goals were met.")}, code="goals_met"
        )
    if not planned:
        goals_met = ""
    closed_on = timezone.localdate()
    periods = selectors.periods(case, closed_on)
    # The table's rules (capability, state), the reason and its detail, the version check.
    case = workflow.case_close(case=case, reason=reason, detail=detail, by=by)
    closure = Closure.objects.create(
        case=case,
        goals_met=goals_met,
        other_support=case.closure_detail if reason == ClosureReason.OTHER_SUPPORT else "",
        summary=summary,
        closed_on=closed_on,
        closed_by=by,
        completed=reason in COMPLETED_REASONS,
    )
    for span, (start, end) in (
        (ClosureAbsence.Span.INTAKE, periods.intake),
        (ClosureAbsence.Span.CLOSURE, periods.closure),
    ):
        figures = absence.measure(case.student_id, start, end)
        ClosureAbsence.objects.create(
            closure=closure, span=span, **absence.snapshot_fields(figures)
        )
    aftercare_services.aftercare_schedule(closure=closure)
    workflow.chronicle(
        case=case,
        kind=EventKind.DOCUMENT,
        summary=_("Closure record written: %(reason)s") % {"reason": ClosureReason(reason).label},
        by=by,
        ref=closure,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.CLOSURE,
        object_id=str(closure.public_id),
        student_id=case.student.public_id,
        detail={
            "reason": reason,
            "goals_met": goals_met,
            "completed": closure.completed,
            "intake": [periods.intake[0].isoformat(), periods.intake[1].isoformat()],
            "closure": [periods.closure[0].isoformat(), periods.closure[1].isoformat()],
        },
    )
    if answers:
        survey_services.survey_meeting_record(closure=closure, answers=list(answers), by=by)
    tokens = {
        respondent: survey_services.survey_link_create(
            closure=closure, respondent=respondent, by=by
        )
        for respondent in dict.fromkeys(links)
    }
    return ClosureResult(closure, tokens)
