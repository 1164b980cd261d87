"""What later apps do when a plan is made, without actionplans importing them.

The follow-up app registers from its ``AppConfig.ready``::

    plan_hooks.on_plan_created(first_followup_book)

``plan_created`` runs the hooks inside the transaction that created the plan, so the plan and
what the hooks book are saved together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable

from sst.models import User

from .models import ActionPlan

PlanHook = Callable[[ActionPlan, User], None]

_created: list[PlanHook] = []


def on_plan_created(hook: PlanHook) -> None:
    if hook not in _created:
        _created.append(hook)


def plan_created(plan: ActionPlan, by: User) -> None:
    for hook in _created:
        hook(plan, by)
