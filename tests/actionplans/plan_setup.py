"""A case at the plan step with a valid consent and the social worker assigned, and a plan
made through the service: the starting point of the action plan tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from actionplans import catalogue
from actionplans import plan_services as services
from actionplans.models import ActionPlan, Side, ToolboxItem
from cases import workflow
from cases.models import Case, CaseState

from ..referrals.consent_setup import Team, accepted_case, valid_consent


@dataclass
class PlanTeam:
    team: Team

    @property
    def case(self) -> Case:
        return Case.objects.get(pk=self.team.case.pk)


def consent_case(world) -> Team:
    """Accepted, consent asked for and valid: the case is at "consent"."""
    team = accepted_case(world, state=CaseState.CONSENT)
    valid_consent(world, team.case)
    catalogue.catalogue_ensure(world.municipality)
    return team


def plan_case(world) -> Case:
    """The social worker has started the plan step."""
    team = consent_case(world)
    case = Case.objects.get(pk=team.case.pk)
    return workflow.case_start_plan(case=case, by=world.social_worker_n)


def item(world, name: str = "Incheckning och utcheckning") -> ToolboxItem:
    return ToolboxItem.objects.get(category__municipality=world.municipality, name=name)


def goal(text: str = "Närvara på alla måndagslektioner", target_on=None, **kw):
    today = timezone.localdate()
    return services.GoalInput(
        text=text,
        measure=kw.pop("measure", "Närvaron i skolans system"),
        target_on=target_on or today + datetime.timedelta(days=60),
        **kw,
    )


def intervention(world, name: str = "Incheckning och utcheckning", **kw):
    return services.InterventionInput(
        item=item(world, name),
        side=kw.pop("side", Side.SCHOOL),
        responsible=kw.pop("responsible", world.counsellor_a),
        how_often=kw.pop("how_often", "Varje morgon"),
        starts_on=kw.pop("starts_on", timezone.localdate()),
        **kw,
    )


def make_plan(world, case: Case | None = None, *, by=None, **kw) -> ActionPlan:
    case = case or plan_case(world)
    today = timezone.localdate()
    arguments = {
        "starts_on": today,
        "ends_on": services.default_ends_on(today),
        "goals": [goal()],
        "interventions": [intervention(world)],
        **kw,
    }
    return services.plan_create(case=case, by=by or world.social_worker_n, **arguments)


def current_rows(plan: ActionPlan, base: int | None = None, **kw) -> dict:
    """The revise arguments that keep the plan as it is (tests change one thing)."""
    plan.refresh_from_db()
    goals = [
        services.GoalInput(
            text=g.text,
            measure=g.measure,
            target_on=g.target_on,
            perspective=g.perspective,
            public_id=g.public_id,
        )
        for g in plan.goals.filter(ended_in__isnull=True)
    ]
    interventions = [
        services.InterventionInput(
            item=r.item,
            side=r.side,
            responsible=r.responsible,
            how_often=r.how_often,
            starts_on=r.starts_on,
            public_id=r.public_id,
        )
        for r in plan.interventions.filter(ended_on__isnull=True)
    ]
    return {
        "plan": plan,
        "base_version": plan.version if base is None else base,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "longer_reason": plan.longer_reason,
        "school_measures": plan.school_measures,
        "sip": plan.sip,
        "sip_on": plan.sip_on,
        "goals": goals,
        "interventions": interventions,
        **kw,
    }
