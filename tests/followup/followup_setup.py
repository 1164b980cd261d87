"""A case in implementation with a valid consent, the assigned social worker and an action
plan (goals and interventions), made with the ORM: the starting point of the follow-up
tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from actionplans.models import (
    ActionPlan,
    Catalogue,
    Goal,
    PlanIntervention,
    Side,
    ToolboxCategory,
    ToolboxItem,
)
from cases.models import Case, CaseState

from ..referrals.consent_setup import Team, accepted_case, give, valid_consent


@dataclass
class Planned:
    team: Team
    plan: ActionPlan
    goals: list[Goal]
    interventions: list[PlanIntervention]

    @property
    def case(self) -> Case:
        return self.team.case


def toolbox_item(world, name: str = "Motiverande samtal") -> ToolboxItem:
    category, _ = ToolboxCategory.objects.get_or_create(
        municipality=world.municipality, catalogue=Catalogue.TOOLBOX, name="Individ"
    )
    item, _ = ToolboxItem.objects.get_or_create(category=category, name=name)
    return item


def planned_case(
    world,
    *,
    starts_on: datetime.date = datetime.date(2026, 9, 25),
    consent: bool = True,
    student=None,
    goals: int = 2,
) -> Planned:
    team = accepted_case(world, student=student, state=CaseState.IMPLEMENTATION)
    if consent:
        given = valid_consent(world, team.case)
        # The student's own consent too: the clock of some tests passes their birthday.
        give(given, by_student=True, by=world.counsellor_a, witness=world.principal_a)
    plan = ActionPlan.objects.create(
        case=team.case,
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=90),
        created_by=world.social_worker_n,
    )
    made_goals = [
        Goal.objects.create(
            plan=plan,
            text=text,
            measure="Närvaro enligt schemat",
            target_on=starts_on + datetime.timedelta(days=60),
            order=index,
        )
        for index, text in enumerate(
            ["Går till skolan varje morgon", "Äter lunch i skolan", "Deltar i idrotten"][:goals]
        )
    ]
    interventions = [
        PlanIntervention.objects.create(
            plan=plan,
            item=toolbox_item(world, name),
            side=side,
            how_often="En gång i veckan",
            starts_on=starts_on,
            order=index,
        )
        for index, (name, side) in enumerate(
            [("Motiverande samtal", Side.SOCIAL_SERVICES), ("Mentorsstöd", Side.SCHOOL)]
        )
    ]
    return Planned(team, plan, made_goals, interventions)
