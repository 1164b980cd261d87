"""The consent rule (referrals/consent.py) as the social worker meets it: before, during,
after withdrawal, at expiry, for one guardian of two, for the student's own consent from
the municipality's age, for a closed case and for a scope without school ↔ social services."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import CaseState
from referrals import consent as rule
from referrals import consent_services as services
from referrals.models import Consent, ConsentGiving, TeamPolicy

from ..factories import GuardianFactory, StudentFactory, fake_personnummer, give_custody
from .consent_setup import accepted_case, give, valid_consent

pytestmark = pytest.mark.django_db


def _valid(case, today=None) -> bool:
    return rule.consent_valid(case, today)


def test_no_consent_is_not_valid(world):
    team = accepted_case(world)
    assert not _valid(team.case)
    assert rule.status(team.case)["state"] == "none"


def test_every_guardian_with_custody_gives_it(world):
    team = accepted_case(world)
    second = GuardianFactory(first_name="Per", last_name="Ekholmsson")
    give_custody(world.student_a1, second)
    consent = services.consent_record(case=team.case, by=world.counsellor_a)
    give(consent, guardian=world.guardian_a1, by=world.counsellor_a, witness=world.principal_a)
    assert not _valid(team.case)
    assert rule.status(team.case) | {"consent": None} == {
        "state": "waiting",
        "consent": None,
        "missing_guardians": 1,
        "missing_student": False,
    }
    give(consent, guardian=second, by=world.counsellor_a, witness=world.principal_a)
    assert _valid(team.case)


def test_a_guardian_without_custody_is_not_asked(world):
    team = accepted_case(world)
    give_custody(world.student_a1, GuardianFactory(), has_custody=False)
    valid_consent(world, team.case)
    assert _valid(team.case)


def test_a_student_without_any_recorded_custody_is_never_covered(world):
    """The hole fixed: with no guardian with custody in the register, a consent nobody
    gave used to count as valid."""
    team = accepted_case(world, student=world.student_a2)
    services.consent_record(case=team.case, by=world.counsellor_a)
    assert not _valid(team.case)


def test_withdrawal_ends_it_and_it_stays_withdrawn(world):
    team = accepted_case(world)
    consent = valid_consent(world, team.case)
    giving = consent.givings.get()
    services.consent_withdraw(
        giving=giving, withdrawn_on=timezone.localdate(), by=world.principal_a
    )
    assert not _valid(team.case)
    assert rule.status(team.case)["state"] == "withdrawn"
    with pytest.raises(ValidationError):
        give(consent, by_student=True, by=world.counsellor_a, witness=world.principal_a)
    # A new consent record is needed.
    valid_consent(world, team.case)
    assert _valid(team.case)


def test_expiry(world):
    team = accepted_case(world)
    today = timezone.localdate()
    consent = valid_consent(world, team.case, valid_until=today)
    assert _valid(team.case, today)
    assert not _valid(team.case, today + datetime.timedelta(days=1))
    Consent.objects.filter(pk=consent.pk).update(valid_until=today - datetime.timedelta(days=1))
    assert not _valid(team.case)
    assert rule.status(team.case)["state"] == "expired"


def test_a_closed_case_is_not_covered(world):
    team = accepted_case(world)
    valid_consent(world, team.case)
    team.case.state = CaseState.CLOSED
    team.case.save(update_fields=["state"])
    assert not _valid(team.case)


def test_scope_without_school_and_social_services_is_not_valid(world):
    team = accepted_case(world)
    valid_consent(world, team.case, scope_school_social_services=False, scope_student_health=True)
    assert not _valid(team.case)
    assert rule.status(team.case)["state"] == "out_of_scope"


def _student_born(world, born: datetime.date):
    student = StudentFactory(
        mentor_group=world.group_a1, personnummer=fake_personnummer(7, born=born)
    )
    guardian = GuardianFactory()
    give_custody(student, guardian)
    return student, guardian


@pytest.mark.parametrize(("age", "required"), [(15, True), (14, False)])
def test_the_students_own_consent_from_the_municipalitys_age(world, age, required):
    today = timezone.localdate()
    born = today.replace(year=today.year - age) - datetime.timedelta(days=1)
    student, guardian = _student_born(world, born)
    team = accepted_case(world, student=student)
    consent = services.consent_record(case=team.case, by=world.counsellor_a)
    give(consent, guardian=guardian, by=world.counsellor_a, witness=world.principal_a)
    assert _valid(team.case) is not required
    assert rule.status(team.case)["missing_student"] is required
    give(consent, by_student=True, by=world.counsellor_a, witness=world.principal_a)
    assert _valid(team.case)


def test_the_age_is_the_municipalitys_setting(world):
    TeamPolicy.objects.create(municipality=world.municipality, student_consent_age=13)
    today = timezone.localdate()
    student, guardian = _student_born(world, today.replace(year=today.year - 14))
    team = accepted_case(world, student=student)
    consent = services.consent_record(case=team.case, by=world.counsellor_a)
    give(consent, guardian=guardian, by=world.counsellor_a, witness=world.principal_a)
    assert not _valid(team.case)


def test_unknown_birth_date_asks_for_the_students_consent(world):
    team = accepted_case(world)
    type(world.student_a1).objects.filter(pk=world.student_a1.pk).update(earliest_birth_date=None)
    consent = services.consent_record(case=team.case, by=world.counsellor_a)
    give(consent, guardian=world.guardian_a1, by=world.counsellor_a, witness=world.principal_a)
    assert not _valid(team.case)
    give(consent, by_student=True, by=world.counsellor_a, witness=world.principal_a)
    assert _valid(team.case)


def test_givings_rules(world):
    team = accepted_case(world)
    consent = services.consent_record(case=team.case, by=world.counsellor_a)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError):  # in the future
        give(
            consent,
            guardian=world.guardian_a1,
            by=world.counsellor_a,
            witness=world.principal_a,
            on=tomorrow,
        )
    with pytest.raises(ValidationError):  # one witness only
        give(consent, guardian=world.guardian_a1, by=world.counsellor_a, witness=world.counsellor_a)
    with pytest.raises(ValidationError):  # not a guardian with custody
        give(consent, guardian=GuardianFactory(), by=world.counsellor_a, witness=world.principal_a)
    with pytest.raises(ValidationError):  # a signed form needs its scan
        services.consent_giving_add(
            consent=consent,
            guardian=world.guardian_a1,
            given_on=timezone.localdate(),
            method="signed_form",
            by=world.counsellor_a,
        )
    give(consent, guardian=world.guardian_a1, by=world.counsellor_a, witness=world.principal_a)
    with pytest.raises(ValidationError):  # twice
        give(consent, guardian=world.guardian_a1, by=world.counsellor_a, witness=world.principal_a)
    assert ConsentGiving.objects.count() == 1


def test_lead_time_and_chronology_name_no_one(world):
    team = accepted_case(world)
    valid_consent(world, team.case)
    team.referral.refresh_from_db()
    assert team.referral.consent_valid_at is not None
    summaries = " ".join(team.case.events.values_list("summary", flat=True))
    assert "(1 of 1)" in summaries or "(1 av 1)" in summaries
    assert "Ekholmsson" not in summaries and "Karin" not in summaries


def test_status_for_many_cases_in_constant_queries(world, django_assert_max_num_queries):
    cases = [accepted_case(world).case]
    valid_consent(world, cases[0])
    other = accepted_case(world, student=world.student_a2).case
    services.consent_record(case=other, by=world.counsellor_a)
    with django_assert_max_num_queries(4):
        found = rule.consent_status_for_cases([cases[0].pk, other.pk])
    assert found == {cases[0].pk: "valid", other.pk: "waiting"}
