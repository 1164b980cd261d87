from typing import Any

from django.http import HttpRequest

from . import access


def shell(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's roles and places, for the page header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "held_roles": [],
            "can_administer": False,
            "can_import": False,
            "works_cases": False,
        }
    return {
        "held_roles": access.roles_of(user),
        "can_administer": access.can_administer(user),
        "can_import": access.can_import(user),
        "works_cases": access.has_case_role(user),
    }
