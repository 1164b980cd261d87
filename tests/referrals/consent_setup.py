"""A case the team has accepted, with its referral and the social worker assigned: the
starting point of the consent tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.utils import timezone

from cases.models import Case, CaseOpening, CaseState
from referrals import consent_services as services
from referrals.models import (
    Assignment,
    Consent,
    ConsentGiving,
    ConsentMethod,
    Forum,
    Referral,
    ReferralState,
)

_numbers = itertools.count(1)


@dataclass
class Team:
    case: Case
    referral: Referral
    assignment: Assignment


def accepted_case(world, student=None, state=CaseState.ACCEPTED) -> Team:
    student = student or world.student_a1
    case = Case.objects.create(student=student, state=state, opening=CaseOpening.PRINCIPAL)
    forum, _ = Forum.objects.get_or_create(
        municipality=world.municipality, district=world.district_n, defaults={"name": "Norra"}
    )
    referral = Referral.objects.create(
        case=case,
        number=f"2026-{next(_numbers):03d}",
        forum=forum,
        state=ReferralState.ASSIGNED,
        school=case.school,
        grade="7",
        gender="girl",
        submitted_at=timezone.now(),
        expected_help="Stöd kring skolgången.",
    )
    assignment = Assignment.objects.create(
        case=case, referral=referral, social_worker=world.social_worker_n
    )
    return Team(case, referral, assignment)


def give(
    consent: Consent, *, guardian=None, by_student=False, by, witness, on=None
) -> ConsentGiving:
    return services.consent_giving_add(
        consent=consent,
        guardian=guardian,
        by_student=by_student,
        given_on=on or timezone.localdate(),
        method=ConsentMethod.IN_PERSON,
        witnesses=[by, witness],
        by=by,
    )


def valid_consent(world, case: Case, **scope) -> Consent:
    consent = services.consent_record(case=case, by=world.counsellor_a, **scope)
    give(consent, guardian=world.guardian_a1, by=world.counsellor_a, witness=world.principal_a)
    return consent
