"""Rows of a referral's filled-in parts (absence, what the school has done) for templates:
the anonymous fragment needs only the referral in its context."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from cases.models import EhtDecisionKind

register = template.Library()

ACTION_LABELS = {
    "mentor_checklist": _("Mentor checklist"),
    "mapping": _("School-social mapping"),
    "eht_decision": _("Student health team decision"),
}


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def _pct(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.simple_tag
def absence_rows(referral: Any) -> list[dict[str, Any]]:
    return [
        {
            "month": _date(entry.get("month")),
            "start": _date(entry.get("start")),
            "end": _date(entry.get("end")),
            "total": _pct(entry.get("total_pct")),
            "valid": _pct(entry.get("valid_pct")),
            "invalid": _pct(entry.get("invalid_pct")),
        }
        for entry in referral.absence or []
    ]


@register.simple_tag
def school_action_rows(referral: Any) -> list[dict[str, Any]]:
    rows = []
    for action in referral.school_actions or []:
        kind = action.get("kind", "")
        label = str(ACTION_LABELS.get(kind, kind))
        decision = action.get("decision")
        known = decision in EhtDecisionKind.values
        detail = str(EhtDecisionKind(decision).label) if known else ""
        rows.append({"date": _date(action.get("date")), "label": label, "detail": detail})
    return rows


@register.filter
def gender_label(value: str) -> str:
    from sst.models import Gender

    return str(Gender(value).label) if value in Gender.values else value
