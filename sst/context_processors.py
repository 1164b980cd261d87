from typing import Any

from django.http import HttpRequest

from . import access


def shell(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's roles and places, for the page header: one query per request
    (``access.role_facts`` keeps the answer on the request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "held_roles": [],
            "can_administer": False,
            "reads_audit_log": False,
            "can_import": False,
            "works_cases": False,
            "sees_students": False,
            "meets_in_forum": False,
            "coordinates": False,
            "sees_reports": False,
        }
    facts = access.role_facts(request)
    return {
        "held_roles": facts.held_roles,
        "can_administer": facts.can_administer,
        "reads_audit_log": facts.reads_audit_log,
        "can_import": facts.can_import,
        "works_cases": facts.works_cases,
        "sees_students": facts.sees_students,
        "meets_in_forum": facts.meets_in_forum,
        "coordinates": facts.coordinates,
        "sees_reports": facts.sees_reports,
    }
