"""Consent as an access rule (ARCHITECTURE.md rule 2): when a consent is valid, asked in the
query on every request.

A consent is valid on a day when
- it lets the school and social services share (its scope),
- it has not expired (``valid_until``; empty means until the case is closed) and the case is
  open,
- every guardian with custody of the student has given it, and the register names at
  least one (a student whose custody is not recorded cannot be covered by nobody's consent),
- the student has given it too, from the age the municipality sets (``TeamPolicy``); when
  the personnummer leaves the birth date open the earliest possible date counts, so an
  unknown age asks for the student's consent rather than skipping it,
- and nobody has withdrawn their part.

Nothing of this is stored as a flag that a job would have to keep up to date: a withdrawal,
a new guardian with custody, a birthday or an expiry changes the answer of the next query.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import ENDED_STATES, Case
from sst import access
from sst.capabilities import Capability
from sst.models import Custody, User

from .models import (
    MAX_STUDENT_CONSENT_AGE,
    MIN_STUDENT_CONSENT_AGE,
    Assignment,
    Consent,
    ConsentGiving,
    TeamPolicy,
)

DEFAULT_STUDENT_CONSENT_AGE = TeamPolicy._meta.get_field("student_consent_age").get_default()
CONSENT_AGES = range(MIN_STUDENT_CONSENT_AGE, MAX_STUDENT_CONSENT_AGE + 1)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _student_old_enough(today: datetime.date) -> Q:
    """Over consent rows annotated with ``policy_age``: the case's student is at least the
    municipality's consent age, or their age is not known. No query of its own: one clause
    per age the policy allows."""
    student = "case__student__earliest_birth_date"
    q = Q(**{f"{student}__isnull": True})
    for age in CONSENT_AGES:
        q |= Q(policy_age=age, **{f"{student}__lte": _years_before(today, age)})
    return q


def _with_policy_age(consents: QuerySet[Consent]) -> QuerySet[Consent]:
    policy = TeamPolicy.objects.filter(
        municipality_id=OuterRef("case__school__district__municipality_id")
    ).values("student_consent_age")[:1]
    return consents.annotate(
        policy_age=Coalesce(Subquery(policy), Value(DEFAULT_STUDENT_CONSENT_AGE))
    )


def valid_consents(today: datetime.date | None = None) -> QuerySet[Consent]:
    """The consents valid today (see the module's docstring). Build it once per request."""
    today = today or timezone.localdate()
    givings = ConsentGiving.objects.filter(consent=OuterRef("pk"), given_on__lte=today)
    withdrawn = ConsentGiving.objects.filter(consent=OuterRef("pk"), withdrawn_on__isnull=False)
    guardian_missing = Custody.objects.filter(
        student_id=OuterRef("case__student_id"), has_custody=True
    ).exclude(
        guardian_id__in=ConsentGiving.objects.filter(
            consent=OuterRef(OuterRef("pk")), guardian__isnull=False, given_on__lte=today
        ).values("guardian_id")
    )
    custody_recorded = Custody.objects.filter(
        student_id=OuterRef("case__student_id"), has_custody=True
    )
    student_gave = givings.filter(by_student=True)
    return (
        _with_policy_age(Consent.objects.filter(scope_school_social_services=True))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .exclude(case__state__in=[state.value for state in ENDED_STATES])
        .exclude(Exists(withdrawn))
        .filter(Exists(custody_recorded))
        .exclude(Exists(guardian_missing))
        .exclude(_student_old_enough(today) & ~Q(Exists(student_gave)))
    )


def covered(today: datetime.date | None = None) -> Q:
    """Over case rows: a valid consent covers the case."""
    return Q(Exists(valid_consents(today).filter(case=OuterRef("pk"))))


def assigned_to(user: User) -> Q:
    """Over case rows: the user is assigned to the case now."""
    return Q(
        Exists(
            Assignment.objects.filter(
                case=OuterRef("pk"), social_worker=user, ended_at__isnull=True
            )
        )
    )


def assigned_cases(user: User) -> QuerySet[Case]:
    """The cases the user is assigned to now, at schools where they still do social work
    (before any consent: the anonymous referral page and the worker's own notes)."""
    return Case.objects.filter(
        assigned_to(user), school__in=access.schools_where(user, Capability.SOCIAL_WORK)
    )


def identified_for(user: User) -> Q:
    """The case condition registered for social-services staff: assigned, and consented."""
    return assigned_to(user) & covered()


def consent_valid(case: Case, today: datetime.date | None = None) -> bool:
    return Case.objects.filter(covered(today), pk=case.pk).exists()


def relied_on(case: Case, today: datetime.date | None = None) -> Consent | None:
    """The valid consent an identified read relies on (named in its audit event)."""
    return valid_consents(today).filter(case=case).order_by("-recorded_at").first()


def status(case: Case, today: datetime.date | None = None) -> dict[str, Any]:
    """What the pages say about a case's consent: valid, withdrawn, or who is missing.

    Names no one: it counts guardians, so the anonymous side can show it too."""
    today = today or timezone.localdate()
    # A valid consent counts even when a newer one (a renewal) is still being gathered:
    # the page says what the access rule says.
    valid = relied_on(case, today)
    if valid is not None:
        return {
            "state": "valid",
            "consent": valid,
            "missing_guardians": 0,
            "missing_student": False,
        }
    latest = Consent.objects.filter(case=case).order_by("-recorded_at").first()
    if latest is None:
        return {"state": "none", "consent": None, "missing_guardians": 0, "missing_student": False}
    givings = list(latest.givings.all())
    if any(g.withdrawn_on for g in givings):
        state = "withdrawn"
    elif latest.valid_until is not None and latest.valid_until < today:
        state = "expired"
    elif case.state in ENDED_STATES:
        state = "ended"
    elif not latest.scope_school_social_services:
        state = "out_of_scope"
    else:
        state = "waiting"
    custody = set(
        Custody.objects.filter(student_id=case.student_id, has_custody=True).values_list(
            "guardian_id", flat=True
        )
    )
    given = {g.guardian_id for g in givings if g.guardian_id and g.given_on <= today}
    needs_student = (
        _with_policy_age(Consent.objects.filter(pk=latest.pk))
        .filter(_student_old_enough(today))
        .exists()
    )
    return {
        "state": state,
        "consent": latest,
        "missing_guardians": len(custody - given),
        "missing_student": needs_student and not any(g.by_student for g in givings),
    }


def consent_status_for_cases(
    case_ids: list[int], today: datetime.date | None = None
) -> dict[int, str]:
    """case id → "valid", "withdrawn", "expired", "ended", "waiting" or "none", for a list
    (the social worker's desk). Three queries whatever the number of cases; names no one."""
    today = today or timezone.localdate()
    ids = list(case_ids)
    if not ids:
        return {}
    valid = set(Case.objects.filter(covered(today), pk__in=ids).values_list("pk", flat=True))
    withdrawn = ConsentGiving.objects.filter(consent=OuterRef("pk"), withdrawn_on__isnull=False)
    latest: dict[int, tuple[bool, datetime.date | None, str]] = {}
    for case_id, has_withdrawal, valid_until, state in (
        Consent.objects.filter(case_id__in=ids)
        .annotate(has_withdrawal=Exists(withdrawn))
        .order_by("case_id", "-recorded_at")
        .values_list("case_id", "has_withdrawal", "valid_until", "case__state")
    ):
        latest.setdefault(case_id, (has_withdrawal, valid_until, state))
    found: dict[int, str] = {}
    for case_id in ids:
        if case_id in valid:
            found[case_id] = "valid"
        elif case_id not in latest:
            found[case_id] = "none"
        else:
            has_withdrawal, valid_until, state = latest[case_id]
            if has_withdrawal:
                found[case_id] = "withdrawn"
            elif valid_until is not None and valid_until < today:
                found[case_id] = "expired"
            elif state in ENDED_STATES:
                found[case_id] = "ended"
            else:
                found[case_id] = "waiting"
    return found
