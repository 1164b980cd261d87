"""The action plan's answer to the case transition table's guard ``plan_signed``
(``cases.transitions``): implementation starts only on a plan whose current version the
student, every guardian with custody, the school and the social worker have signed."""

from __future__ import annotations

from cases import transitions


def register() -> None:
    from .plan_services import plan_signed

    transitions.register_guard(transitions.PLAN_SIGNED.name, plan_signed)
