"""Writes of the action plan (DOMAIN.md §4.7): making it, revising it, its signatures and the
six-month continuation decision.

Who may write: the social worker assigned to the case (``SOCIAL_WORK`` on the case, which
holds only while assigned and a valid consent covers it) and the school's case staff
(``WORK_CASES``). Everyone who reads the case reads the plan.

Duration: three months by default; up to six without more; longer needs a written reason
(``longer_reason``), shown on the case and the plan. Six months after the start the team
records whether the support continues (and why) or closes.

Versions: the plan's ``version`` is the number of its latest revision. An edit names the
version it started from; ``plan_revise`` moves the plan on with ``UPDATE … WHERE version =
base`` and refuses (``PlanConflict``, nothing changed) when someone saved in between. Goals
and interventions are ended, never deleted, and every save writes a ``PlanRevision`` listing
what changed, the same list in one chronology entry, and history rows (django-simple-history)
that name who made them, so every earlier version is rebuilt with ``history.as_of``.

Signatures: the student, every guardian with custody (at least one: a plan the family signs
needs a guardian), a school representative and the social worker, each on the current
revision. A party who signed on paper at the meeting is recorded by staff; a staff member
may sign in the app only for themselves (their own party: the school's case staff as the
school representative, the assigned social worker as the social worker). A revision needs
signing again.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import workflow
from cases.models import ENDED_STATES, Case, CaseState, EventKind
from sst import access, audit, textlimits
from sst.access import Capability
from sst.models import Custody, Guardian, User

from . import catalogue, plan_hooks
from .models import (
    ActionPlan,
    Continuation,
    ContinuationDecision,
    Goal,
    Party,
    Perspective,
    PlanIntervention,
    PlanRevision,
    Side,
    Signature,
    SignedHow,
    ToolboxItem,
)

DEFAULT_MONTHS = 3
LONGEST_WITHOUT_REASON = 6  # months
DECISION_AFTER = 6  # months from the start: the continuation decision


class NotAllowed(PermissionDenied):
    """The person may not write the plan (the page answers 404, audited)."""


class PlanConflict(workflow.ConcurrentChange):
    """Someone saved the plan after this edit began: nothing was changed."""


# ---------------------------------------------------------------- what a form hands over


@dataclass
class GoalInput:
    text: str
    measure: str
    target_on: datetime.date
    perspective: str = ""
    public_id: uuid.UUID | None = None  # an existing goal, or None for a new one


@dataclass
class InterventionInput:
    item: ToolboxItem
    side: str
    responsible: User | None
    how_often: str
    starts_on: datetime.date
    public_id: uuid.UUID | None = None


@dataclass
class PlanInput:
    starts_on: datetime.date
    ends_on: datetime.date
    longer_reason: str = ""
    school_measures: str = ""
    sip: bool = False
    sip_on: datetime.date | None = None
    goals: Sequence[GoalInput] = field(default_factory=list)
    interventions: Sequence[InterventionInput] = field(default_factory=list)


# ---------------------------------------------------------------- who may


def _require_writer(user: User, case: Case) -> None:
    if not access.works_team_case(user, case):
        raise NotAllowed(Capability.SOCIAL_WORK)


def _require_open(case: Case) -> None:
    if case.state in ENDED_STATES:
        raise ValidationError(_("The case is closed."), code="closed")


def responsible_choices(case: Case) -> QuerySet[User]:
    """Who may be named responsible for an intervention: the school's case staff and the
    social worker assigned to the case."""
    school = access.holders(Capability.WORK_CASES, case.school)
    return (
        User.objects.filter(
            Q(pk__in=school.values("pk"))
            | Q(assignments__case=case, assignments__ended_at__isnull=True),
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def custody_guardians(case: Case) -> list[Guardian]:
    return [
        custody.guardian
        for custody in Custody.objects.filter(student_id=case.student_id, has_custody=True)
        .select_related("guardian")
        .order_by("pk")
    ]


# ---------------------------------------------------------------- the duration rule


def _months_after(day: datetime.date, months: int) -> datetime.date:
    later: datetime.date = day + relativedelta(months=months)
    return later


def default_ends_on(starts_on: datetime.date) -> datetime.date:
    return _months_after(starts_on, DEFAULT_MONTHS)


def longest_without_reason(starts_on: datetime.date) -> datetime.date:
    return _months_after(starts_on, LONGEST_WITHOUT_REASON)


def needs_reason(starts_on: datetime.date, ends_on: datetime.date) -> bool:
    return ends_on > longest_without_reason(starts_on)


def _check_period(data: PlanInput) -> None:
    if data.ends_on <= data.starts_on:
        raise ValidationError({"ends_on": _("The plan must end after it starts.")}, code="period")
    if needs_reason(data.starts_on, data.ends_on) and not data.longer_reason.strip():
        raise ValidationError(
            {
                "longer_reason": _(
                    "The plan runs longer than six months (until %(day)s is allowed without "
                    "a reason). Write why it needs longer, or shorten it."
                )
                % {"day": longest_without_reason(data.starts_on).isoformat()}
            },
            code="longer_reason",
        )


# ---------------------------------------------------------------- checking the rows


def _clean_plan_fields(data: PlanInput) -> dict[str, Any]:
    values = {
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "longer_reason": data.longer_reason.strip()
        if needs_reason(data.starts_on, data.ends_on)
        else "",
        "school_measures": data.school_measures.strip(),
        "sip": data.sip,
        "sip_on": data.sip_on if data.sip else None,
    }
    if data.sip and data.sip_on is None:
        raise ValidationError({"sip_on": _("Give the date of the SIP.")}, code="sip_on")
    _check_period(data)
    textlimits.check_fields(
        ActionPlan,
        {"longer_reason": values["longer_reason"], "school_measures": values["school_measures"]},
    )
    return values


def _check_goals(data: PlanInput) -> None:
    if not data.goals:
        raise ValidationError(_("Write at least one goal."), code="no_goals")
    for goal in data.goals:
        if not goal.text.strip() or not goal.measure.strip():
            raise ValidationError(
                _("Every goal needs its text and how it is measured."), code="goal"
            )
        if goal.perspective and goal.perspective not in Perspective.values:
            raise ValidationError(_("Choose a perspective from the list."), code="perspective")
        if not data.starts_on <= goal.target_on <= data.ends_on:
            raise ValidationError(
                _("The target date of “%(goal)s” must fall within the plan's period.")
                % {"goal": goal.text.strip()[:60]},
                code="target_on",
            )
        Goal(text=goal.text.strip(), measure=goal.measure.strip()).clean_fields(
            exclude=["plan", "target_on", "perspective", "order", "ended_in"]
        )


def _check_interventions(case: Case, data: PlanInput, keep: Sequence[int] = ()) -> None:
    offered = set(
        catalogue.offered_items(case.school.district.municipality_id, keep=keep).values_list(
            "pk", flat=True
        )
    )
    people = set(responsible_choices(case).values_list("pk", flat=True))
    for row in data.interventions:
        if row.item.pk not in offered:
            raise ValidationError(
                _("Choose the intervention from the municipality's toolbox."), code="item"
            )
        if row.side not in Side.values:
            raise ValidationError(
                _("Say whether the school or social services is responsible."), code="side"
            )
        if row.responsible is None or row.responsible.pk not in people:
            raise ValidationError(
                _("Name the person responsible for “%(item)s”.") % {"item": row.item.name},
                code="responsible",
            )
        if not row.how_often.strip():
            raise ValidationError(
                _("Say how often for “%(item)s”.") % {"item": row.item.name}, code="how_often"
            )
        if row.starts_on > data.ends_on:
            raise ValidationError(
                _("“%(item)s” must start before the plan ends.") % {"item": row.item.name},
                code="starts_on",
            )
        PlanIntervention(how_often=row.how_often.strip()).clean_fields(
            exclude=["plan", "item", "side", "responsible", "starts_on", "ended_on", "order"]
        )


# ---------------------------------------------------------------- history, chronology, audit


def _stamp(obj: Any, by: User, reason: str) -> Any:
    """Who and why, for the history row django-simple-history writes on ``save``."""
    obj._history_user = by
    obj._change_reason = reason
    return obj


def _audit(by: User, plan: ActionPlan, action: audit.AuditAction, **detail: Any) -> None:
    audit.record_of(
        by=by,
        action=action,
        object_type=audit.AuditObjectType.ACTION_PLAN,
        obj=plan,
        case=plan.case,
        **detail,
    )


CHANGE_LABELS = {
    "created": gettext_lazy("plan made"),
    "saved": gettext_lazy("saved without changes"),
    "period": gettext_lazy("period changed"),
    "longer_reason": gettext_lazy("reason for a longer plan changed"),
    "school_measures": gettext_lazy("the school's own measures changed"),
    "sip": gettext_lazy("SIP changed"),
    "goal_added": gettext_lazy("goal added"),
    "goal_changed": gettext_lazy("goal changed"),
    "goal_target_moved": gettext_lazy("target date moved"),
    "goal_ended": gettext_lazy("goal removed"),
    "intervention_added": gettext_lazy("intervention added"),
    "intervention_changed": gettext_lazy("intervention changed"),
    "intervention_ended": gettext_lazy("intervention ended"),
}


def describe(change: dict[str, str]) -> str:
    """One change in words: "target date moved 2027-01-15 → 2027-02-01 (Närvara …)"."""
    text = str(CHANGE_LABELS.get(change.get("change", ""), change.get("change", "")))
    if change.get("from") or change.get("to"):
        text += f" {change.get('from', '')} → {change.get('to', '')}"
    if change.get("what"):
        text += f" ({change['what']})"
    return text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _write_revision(
    plan: ActionPlan, number: int, by: User, changes: list[dict[str, str]]
) -> PlanRevision:
    revision = PlanRevision.objects.create(
        plan=plan, number=number, made_at=timezone.now(), made_by=by, changes=changes
    )
    if number == 1:
        summary = _("Action plan made (version 1)")
    else:
        listed = "; ".join(describe(change) for change in changes)
        summary = _("Action plan revised (version %(number)s): %(changes)s") % {
            "number": number,
            "changes": listed,
        }
    if len(summary) > 300:
        summary = summary[:299] + "…"
    workflow.chronicle(case=plan.case, kind=EventKind.DOCUMENT, summary=summary, by=by, ref=plan)
    return revision


# ---------------------------------------------------------------- making the plan


def _new_goal(plan: ActionPlan, row: GoalInput, order: int, by: User, reason: str) -> Goal:
    goal = Goal(
        plan=plan,
        perspective=row.perspective,
        text=row.text.strip(),
        measure=row.measure.strip(),
        target_on=row.target_on,
        order=order,
    )
    _stamp(goal, by, reason).save()
    return goal


def _new_intervention(
    plan: ActionPlan, row: InterventionInput, order: int, by: User, reason: str
) -> PlanIntervention:
    intervention = PlanIntervention(
        plan=plan,
        item=row.item,
        side=row.side,
        responsible=row.responsible,
        how_often=row.how_often.strip(),
        starts_on=row.starts_on,
        order=order,
    )
    _stamp(intervention, by, reason).save()
    return intervention


@transaction.atomic
def plan_create(
    *,
    case: Case,
    by: User,
    starts_on: datetime.date,
    ends_on: datetime.date,
    longer_reason: str = "",
    school_measures: str = "",
    sip: bool = False,
    sip_on: datetime.date | None = None,
    goals: Sequence[GoalInput],
    interventions: Sequence[InterventionInput] = (),
) -> ActionPlan:
    """The case's action plan, version 1. The case must be in the plan state (the assigned
    social worker starts it, ``cases.workflow.case_start_plan``)."""
    case = (
        Case.objects.select_for_update()
        .select_related("student", "school__district")
        .get(pk=case.pk)
    )
    _require_writer(by, case)
    _require_open(case)
    if case.state != CaseState.PLAN:
        raise ValidationError(
            _("The action plan is made when the case is at the plan step."), code="state"
        )
    if ActionPlan.objects.filter(case=case).exists():
        raise ValidationError(_("The case already has an action plan."), code="exists")
    catalogue.catalogue_ensure(case.school.district.municipality)
    data = PlanInput(
        starts_on=starts_on,
        ends_on=ends_on,
        longer_reason=longer_reason,
        school_measures=school_measures,
        sip=sip,
        sip_on=sip_on,
        goals=goals,
        interventions=interventions,
    )
    values = _clean_plan_fields(data)
    _check_goals(data)
    _check_interventions(case, data)
    reason = "version 1"
    plan = ActionPlan(case=case, created_by=by, version=1, **values)
    _stamp(plan, by, reason).save()
    for order, goal_row in enumerate(goals, start=1):
        _new_goal(plan, goal_row, order, by, reason)
    for order, intervention_row in enumerate(interventions, start=1):
        _new_intervention(plan, intervention_row, order, by, reason)
    _write_revision(plan, 1, by, [{"change": "created"}])
    _audit(
        by,
        plan,
        audit.AuditAction.CREATE,
        version=1,
        goals=len(goals),
        interventions=len(interventions),
    )
    plan_hooks.plan_created(plan, by)
    return plan


# ---------------------------------------------------------------- revising it


def _plan_changes(plan: ActionPlan, values: dict[str, Any]) -> list[dict[str, str]]:
    changes: list[dict[str, str]] = []
    if (plan.starts_on, plan.ends_on) != (values["starts_on"], values["ends_on"]):
        changes.append(
            {
                "change": "period",
                "from": f"{plan.starts_on} – {plan.ends_on}",
                "to": f"{values['starts_on']} – {values['ends_on']}",
            }
        )
    if plan.longer_reason != values["longer_reason"]:
        changes.append({"change": "longer_reason"})
    if plan.school_measures != values["school_measures"]:
        changes.append({"change": "school_measures"})
    if (plan.sip, plan.sip_on) != (values["sip"], values["sip_on"]):
        changes.append({"change": "sip"})
    return changes


def _revise_goals(
    plan: ActionPlan, rows: Sequence[GoalInput], number: int, by: User, reason: str
) -> list[dict[str, str]]:
    changes: list[dict[str, str]] = []
    current = {goal.public_id: goal for goal in plan.goals.filter(ended_in__isnull=True)}
    kept: set[uuid.UUID] = set()
    for order, row in enumerate(rows, start=1):
        goal = current.get(row.public_id) if row.public_id else None
        if goal is None:
            _new_goal(plan, row, order, by, reason)
            changes.append({"change": "goal_added", "what": _short(row.text)})
            continue
        kept.add(goal.public_id)
        text, measure = row.text.strip(), row.measure.strip()
        if goal.target_on != row.target_on:
            changes.append(
                {
                    "change": "goal_target_moved",
                    "what": _short(text),
                    "from": goal.target_on.isoformat(),
                    "to": row.target_on.isoformat(),
                }
            )
        if (goal.text, goal.measure, goal.perspective) != (text, measure, row.perspective):
            changes.append({"change": "goal_changed", "what": _short(text)})
        if (goal.text, goal.measure, goal.perspective, goal.target_on, goal.order) != (
            text,
            measure,
            row.perspective,
            row.target_on,
            order,
        ):
            goal.text, goal.measure, goal.perspective = text, measure, row.perspective
            goal.target_on, goal.order = row.target_on, order
            _stamp(goal, by, reason).save(
                update_fields=["text", "measure", "perspective", "target_on", "order"]
            )
    for public_id, goal in current.items():
        if public_id not in kept:
            goal.ended_in = number
            _stamp(goal, by, reason).save(update_fields=["ended_in"])
            changes.append({"change": "goal_ended", "what": _short(goal.text)})
    return changes


def _revise_interventions(
    plan: ActionPlan,
    rows: Sequence[InterventionInput],
    by: User,
    reason: str,
    today: datetime.date,
) -> list[dict[str, str]]:
    changes: list[dict[str, str]] = []
    current = {
        row.public_id: row
        for row in plan.interventions.filter(ended_on__isnull=True).select_related(
            "item", "responsible"
        )
    }
    kept: set[uuid.UUID] = set()
    for order, row in enumerate(rows, start=1):
        existing = current.get(row.public_id) if row.public_id else None
        if existing is None:
            _new_intervention(plan, row, order, by, reason)
            changes.append({"change": "intervention_added", "what": _short(row.item.name)})
            continue
        kept.add(existing.public_id)
        new = (row.item.pk, row.side, row.responsible, row.how_often.strip(), row.starts_on)
        old = (
            existing.item_id,
            existing.side,
            existing.responsible,
            existing.how_often,
            existing.starts_on,
        )
        if new != old:
            changes.append({"change": "intervention_changed", "what": _short(row.item.name)})
        if new != old or existing.order != order:
            existing.item = row.item
            existing.side = row.side
            existing.responsible = row.responsible
            existing.how_often = row.how_often.strip()
            existing.starts_on = row.starts_on
            existing.order = order
            _stamp(existing, by, reason).save(
                update_fields=["item", "side", "responsible", "how_often", "starts_on", "order"]
            )
    for public_id, existing in current.items():
        if public_id not in kept:
            existing.ended_on = today
            _stamp(existing, by, reason).save(update_fields=["ended_on"])
            changes.append({"change": "intervention_ended", "what": _short(existing.item.name)})
    return changes


@transaction.atomic
def plan_revise(
    *,
    plan: ActionPlan,
    by: User,
    base_version: int,
    starts_on: datetime.date,
    ends_on: datetime.date,
    longer_reason: str = "",
    school_measures: str = "",
    sip: bool = False,
    sip_on: datetime.date | None = None,
    goals: Sequence[GoalInput],
    interventions: Sequence[InterventionInput] = (),
    today: datetime.date | None = None,
) -> ActionPlan:
    """A new version of the plan, if nobody saved one since ``base_version``; otherwise
    ``PlanConflict`` and nothing changes. Goals and interventions left out are ended."""
    today = today or timezone.localdate()
    case = Case.objects.select_related("student", "school__district").get(pk=plan.case_id)
    _require_writer(by, case)
    _require_open(case)
    data = PlanInput(
        starts_on=starts_on,
        ends_on=ends_on,
        longer_reason=longer_reason,
        school_measures=school_measures,
        sip=sip,
        sip_on=sip_on,
        goals=goals,
        interventions=interventions,
    )
    values = _clean_plan_fields(data)
    _check_goals(data)
    keep = list(plan.interventions.filter(ended_on__isnull=True).values_list("item_id", flat=True))
    _check_interventions(case, data, keep=keep)
    number = base_version + 1
    moved = ActionPlan.objects.filter(pk=plan.pk, version=base_version).update(version=number)
    if not moved:
        raise PlanConflict(
            _("Someone else saved the plan after you began. Nothing was changed."),
            code="conflict",
        )
    plan = ActionPlan.objects.select_related("case__student").get(pk=plan.pk)
    reason = f"version {number}"
    changes = _plan_changes(plan, values)
    for name, value in values.items():
        setattr(plan, name, value)
    _stamp(plan, by, reason).save(update_fields=[*values, "version"])
    changes += _revise_goals(plan, goals, number, by, reason)
    changes += _revise_interventions(plan, interventions, by, reason, today)
    if not changes:
        changes = [{"change": "saved"}]
    _write_revision(plan, number, by, changes)
    _audit(
        by,
        plan,
        audit.AuditAction.UPDATE,
        version=number,
        changes=[change["change"] for change in changes],
    )
    return plan


# ---------------------------------------------------------------- signatures


def signatures_of(plan: ActionPlan, revision: int | None = None) -> list[Signature]:
    found = (
        Signature.objects.filter(plan=plan, revision=revision or plan.version)
        .select_related("guardian", "signer", "recorded_by")
        .order_by("pk")
    )
    # In the order the parties sign: student, guardians, school, social worker.
    return sorted(found, key=lambda signature: Party.values.index(signature.party))


@dataclass(frozen=True)
class Missing:
    party: str
    guardian: Guardian | None = None

    def __str__(self) -> str:
        if self.guardian is not None:
            return _("Guardian: %(name)s") % {"name": self.guardian.full_name}
        return str(Party(self.party).label)


def missing_signatures(plan: ActionPlan) -> list[Missing]:
    """Who has not signed the current version (the student's guardians with custody named)."""
    signed = signatures_of(plan)
    parties = {signature.party for signature in signed}
    signed_guardians = {signature.guardian_id for signature in signed if signature.guardian_id}
    missing: list[Missing] = []
    if Party.STUDENT not in parties:
        missing.append(Missing(Party.STUDENT))
    guardians = custody_guardians(plan.case)
    if not guardians and not signed_guardians:
        missing.append(Missing(Party.GUARDIAN))
    for guardian in guardians:
        if guardian.pk not in signed_guardians:
            missing.append(Missing(Party.GUARDIAN, guardian))
    for party in (Party.SCHOOL, Party.SOCIAL_WORKER):
        if party not in parties:
            missing.append(Missing(party))
    return missing


def plan_signed(case: Case) -> bool:
    """The guard ``plan_signed``: the case's plan, at its current version, is signed by all."""
    plan = ActionPlan.objects.filter(case=case).select_related("case").first()
    return plan is not None and not missing_signatures(plan)


@transaction.atomic
def signature_record(
    *,
    plan: ActionPlan,
    by: User,
    party: str,
    signed_on: datetime.date,
    how: str,
    guardian: Guardian | None = None,
    signer: User | None = None,
    version: int,
    today: datetime.date | None = None,
) -> Signature:
    """A party's signature on the version the person saw (``version``): recorded by staff
    from paper, or a staff member's own signature in the app."""
    today = today or timezone.localdate()
    plan = ActionPlan.objects.select_for_update().select_related("case__student").get(pk=plan.pk)
    case = Case.objects.select_related("student", "school").get(pk=plan.case_id)
    granted = access.case_capabilities(by, case)
    if not access.works_team_case(by, case, granted):
        raise NotAllowed(Capability.SOCIAL_WORK)
    _require_open(case)
    if version != plan.version:
        raise PlanConflict(
            _("The plan has a newer version; sign that one. Nothing was recorded."),
            code="conflict",
        )
    if party not in Party.values:
        raise ValidationError(_("Say who signs."), code="party")
    if how not in SignedHow.values:
        raise ValidationError(_("Say how the plan was signed."), code="how")
    if signed_on > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")
    if signed_on < plan.starts_on - datetime.timedelta(days=90):
        raise ValidationError(_("The date is long before the plan starts."), code="past")
    existing = Signature.objects.filter(plan=plan, revision=plan.version, party=party)
    if party == Party.GUARDIAN:
        if guardian is None or guardian.pk not in {g.pk for g in custody_guardians(case)}:
            raise ValidationError(
                _("Choose a guardian with custody of the student."), code="guardian"
            )
        existing = existing.filter(guardian=guardian)
    else:
        guardian = None
    if existing.exists():
        raise ValidationError(_("This signature is already recorded."), code="twice")
    staff_party = party in (Party.SCHOOL, Party.SOCIAL_WORKER)
    if not staff_party:
        signer = None
        if how != SignedHow.PAPER:
            raise ValidationError(
                _("The student and the guardians sign on paper; staff record it."),
                code="in_app",
            )
    else:
        side = Capability.WORK_CASES if party == Party.SCHOOL else Capability.SOCIAL_WORK
        if how == SignedHow.IN_APP:
            if signer is not None and signer.pk != by.pk:
                raise ValidationError(
                    _("In the app, staff sign only for themselves."), code="in_app_other"
                )
            if side not in granted:
                raise ValidationError(
                    _("You can sign in the app only as your own party."), code="in_app_party"
                )
            signer = by
        elif signer is None:
            raise ValidationError(_("Name who signed on paper."), code="signer")
        elif signer.pk not in set(responsible_choices(case).values_list("pk", flat=True)):
            raise ValidationError(_("Choose a staff member of the case."), code="signer")
    signature = Signature.objects.create(
        plan=plan,
        revision=plan.version,
        party=party,
        guardian=guardian,
        signer=signer,
        signed_on=signed_on,
        how=how,
        recorded_by=by,
    )
    workflow.chronicle(
        case=case,
        kind=EventKind.DOCUMENT,
        summary=_("Action plan version %(number)s signed: %(party)s (%(how)s)")
        % {
            "number": plan.version,
            "party": Party(party).label,
            "how": _("on paper") if how == SignedHow.PAPER else _("in the app"),
        },
        by=by,
        ref=plan,
    )
    _audit(
        by,
        plan,
        audit.AuditAction.UPDATE,
        signature=party,
        how=how,
        version=plan.version,
    )
    return signature


# ---------------------------------------------------------------- the six-month decision


def decision_due_on(plan: ActionPlan) -> datetime.date:
    """When the next continuation decision is due: six months from the start, and six
    months after each decision to continue."""
    count = plan.continuations.count()
    return _months_after(plan.starts_on, DECISION_AFTER * (count + 1))


def decision_due(plan: ActionPlan, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    if not plan.case.is_open:
        return False
    if plan.continuations.filter(decision=Continuation.CLOSE).exists():
        return False
    return today >= decision_due_on(plan)


@transaction.atomic
def continuation_decide(
    *,
    plan: ActionPlan,
    by: User,
    decision: str,
    reason: str,
    decided_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> ContinuationDecision:
    """The team's decision six months after the start: continue (and why) or close."""
    today = today or timezone.localdate()
    decided_on = decided_on or today
    plan = ActionPlan.objects.select_for_update().select_related("case__student").get(pk=plan.pk)
    case = Case.objects.select_related("student", "school").get(pk=plan.case_id)
    _require_writer(by, case)
    _require_open(case)
    if not decision_due(plan, today):
        raise ValidationError(
            _("The continuation decision is due on %(day)s.")
            % {"day": decision_due_on(plan).isoformat()},
            code="not_due",
        )
    if decision not in Continuation.values:
        raise ValidationError(_("Choose continue or close."), code="decision")
    if decided_on > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why.")}, code="reason")
    made = ContinuationDecision(
        plan=plan, decision=decision, reason=reason, decided_on=decided_on, decided_by=by
    )
    made.full_clean()
    made.save()
    workflow.chronicle(
        case=case,
        kind=EventKind.DECISION,
        summary=_("Six-month decision on the action plan: %(decision)s")
        % {"decision": Continuation(decision).label},
        by=by,
        ref=plan,
    )
    _audit(by, plan, audit.AuditAction.UPDATE, continuation=decision)
    return made


# ---------------------------------------------------------------- reading a version


@dataclass
class PlanVersion:
    """The plan as it stood at one revision (rebuilt from the history tables)."""

    number: int
    revision: PlanRevision
    plan: Any
    goals: list[Any]
    interventions: list[Any]
    items: dict[int, ToolboxItem]
    people: dict[int, User]

    def item_name(self, intervention: Any) -> str:
        item = self.items.get(intervention.item_id)
        return item.name if item else ""


def version_as_of(plan: ActionPlan, revision: PlanRevision) -> PlanVersion:
    at = revision.made_at
    as_plan = plan.history.as_of(at)
    goals = [
        goal for goal in Goal.history.as_of(at).filter(plan_id=plan.pk) if goal.ended_in is None
    ]
    goals.sort(key=lambda goal: (goal.order, goal.pk))
    interventions = [
        row
        for row in PlanIntervention.history.as_of(at).filter(plan_id=plan.pk)
        if row.ended_on is None
    ]
    interventions.sort(key=lambda row: (row.order, row.pk))
    items = ToolboxItem.objects.in_bulk({row.item_id for row in interventions})
    people = User.objects.in_bulk(
        {row.responsible_id for row in interventions if row.responsible_id}
    )
    return PlanVersion(revision.number, revision, as_plan, goals, interventions, items, people)
