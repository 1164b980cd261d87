"""A case the team has worked (consent valid, a plan with goals), ready to close, and the
lessons to measure its absence by."""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext, override

from actionplans.models import ActionPlan, Goal
from cases.models import Case, CaseState
from referrals.models import Consent, Referral

from ..attendance.lessons import INVALID, PRESENT, VALID, school_day
from ..referrals.consent_setup import accepted_case, valid_consent

# Friday 20 November 2026, mid-morning: closing today measures September–October; the
# referral was submitted in June, so intake is April–May.
NOW = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
SUBMITTED = datetime.datetime(2026, 6, 10, 9, 0, tzinfo=datetime.UTC)


@dataclass
class Worked:
    case: Case
    referral: Referral
    consent: Consent | None
    plan: ActionPlan | None


def worked_case(
    world,
    *,
    state: str = CaseState.IMPLEMENTATION,
    plan: bool = True,
    student=None,
    consent: bool = True,
) -> Worked:
    team = accepted_case(world, student=student)
    Referral.objects.filter(pk=team.referral.pk).update(submitted_at=SUBMITTED)
    given = valid_consent(world, team.case) if consent else None
    Case.objects.filter(pk=team.case.pk).update(state=state)
    team.case.refresh_from_db()
    made = None
    if plan:
        today = timezone.localdate()
        made = ActionPlan.objects.create(
            case=team.case, starts_on=today, ends_on=today + datetime.timedelta(days=90)
        )
        Goal.objects.create(
            plan=made,
            text="Närvara på morgonlektionerna",
            measure="Närvaron i Skola24",
            target_on=today + datetime.timedelta(days=60),
        )
    return Worked(team.case, team.referral, given, made)


def absence_fixture(student) -> None:
    """Lessons in April–May (intake) and September–October (closure), some absent."""
    for day, kind, absent in (
        ("2026-04-07", VALID, 2),
        ("2026-04-08", INVALID, 1),
        ("2026-05-12", PRESENT, 0),
        ("2026-05-13", INVALID, 2),
        ("2026-09-08", PRESENT, 0),
        ("2026-09-09", VALID, 1),
        ("2026-10-06", PRESENT, 0),
        ("2026-10-07", PRESENT, 0),
    ):
        school_day(student, day, lessons=2, kind=kind, absent_lessons=absent)


def sv(message: str) -> str:
    with override("sv"):
        return gettext(message)


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))
