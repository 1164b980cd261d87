"""The capability table (sst/capabilities.py): its storage as object permissions agrees
with it, and the policy's answers (require, access_*, holders, schools_where) follow it."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db.models import Exists, Q
from django.http import Http404

from sst import access, capabilities
from sst.access import Capability
from sst.audit import AuditAction
from sst.models import ROLE_PLACES, AuditEvent, PlaceKind, Role

PLACE_MODELS = {
    PlaceKind.MUNICIPALITY: "municipality",
    PlaceKind.DISTRICT: "district",
    PlaceKind.SCHOOL: "school",
    PlaceKind.MENTOR_GROUP: "mentorgroup",
}


def test_the_two_names_other_parts_rely_on():
    assert Capability.WORK_CASES == "work_cases"
    assert Capability.DECIDE_REFERRALS == "decide_referrals"
    assert capabilities.CAPABILITIES[Capability.WORK_CASES] == {
        PlaceKind.SCHOOL: {
            Role.PRINCIPAL,
            Role.COUNSELLOR,
            Role.SPECIAL_EDUCATOR,
            Role.SCHOOL_NURSE,
            Role.SCHOOL_PSYCHOLOGIST,
        }
    }
    assert set(capabilities.CAPABILITIES[Capability.DECIDE_REFERRALS]) == {
        PlaceKind.DISTRICT,
        PlaceKind.MUNICIPALITY,
    }


def test_every_capability_is_in_the_table_and_held_only_where_its_roles_can_be():
    assert set(capabilities.CAPABILITIES) == set(Capability)
    for capability, kinds in capabilities.CAPABILITIES.items():
        assert kinds, capability
        for kind, roles in kinds.items():
            assert roles, (capability, kind)
            for role in roles:
                assert kind in ROLE_PLACES[role], (capability, kind, role)


def test_every_role_holds_something():
    held = {
        role for kinds in capabilities.CAPABILITIES.values() for r in kinds.values() for role in r
    }
    assert held == set(Role)


def test_grants_are_derived_from_the_table():
    """The stored object permissions say exactly what the table says, for the capabilities
    stored: a role has a codename at a kind of place iff it holds the capability there."""
    for capability, kinds in capabilities.STORED_AS.items():
        for kind, codename in kinds.items():
            holding = {
                role for role, places in access.GRANTS.items() if codename in places.get(kind, ())
            }
            # Capabilities sharing a codename must be held by the same roles.
            assert holding == set(capabilities.CAPABILITIES[capability][kind]), (
                capability,
                kind,
            )
    for role, places in access.GRANTS.items():
        for kind, codenames in places.items():
            for codename in codenames:
                assert any(
                    stored.get(kind) == codename and role in capabilities.CAPABILITIES[c][kind]
                    for c, stored in capabilities.STORED_AS.items()
                ), (role, kind, codename)


@pytest.mark.django_db
def test_every_stored_codename_is_a_permission_of_its_place_model():
    for kinds in capabilities.STORED_AS.values():
        for kind, codename in kinds.items():
            assert Permission.objects.filter(
                content_type__app_label="sst",
                content_type__model=PLACE_MODELS[kind],
                codename=codename,
            ).exists(), (kind, codename)


def test_restrictions_name_one_profession():
    assert capabilities.restriction_for(Capability.READ_HEALTH_NOTES) == Role.SCHOOL_NURSE
    assert capabilities.restriction_for(Capability.READ_UNSHARED_MAPPINGS) == Role.COUNSELLOR
    with pytest.raises(ValueError):
        capabilities.restriction_for(Capability.WORK_CASES)


# ---------------------------------------------------------------- the policy's answers


def _denials(user):
    return AuditEvent.objects.filter(actor_id=user.pk, action=AuditAction.ACCESS_DENIED)


def test_require_returns_the_roles_that_give_it(world):
    assert access.require(
        world.counsellor_a, Capability.WRITE_SOCIAL_MAPPING, world.student_a1
    ) == ("counsellor")
    assert access.require(world.principal_a, Capability.WORK_CASES, world.school_a) == "principal"
    assert access.require(world.mentor_a1, Capability.WRITE_CHECKLIST, world.student_a1) == "mentor"
    # A right held at the municipality covers its schools.
    assert access.require(world.admin_m, Capability.IMPORT_FOR_SCHOOL, world.school_b) == (
        "administrator"
    )
    assert access.require(world.referral_forum_n, Capability.DECIDE_REFERRALS, world.school_a) == (
        "referral_forum"
    )


@pytest.mark.parametrize(
    "person, capability, place",
    [
        ("principal_a", Capability.WRITE_SOCIAL_MAPPING, "student_a1"),
        ("counsellor_b", Capability.WORK_CASES, "student_a1"),
        ("mentor_a1", Capability.WRITE_CHECKLIST, "student_a2"),
        ("manager_a", Capability.WORK_CASES, "school_a"),
        ("referral_forum_n", Capability.DECIDE_REFERRALS, "school_b"),
        ("nobody", Capability.VIEW_SCHOOL_STUDENTS, "school_a"),
    ],
)
def test_require_refuses_with_404_and_audits(world, person, capability, place):
    user = getattr(world, person)
    with pytest.raises(Http404):
        access.require(user, capability, getattr(world, place))
    event = _denials(user).get()
    assert event.detail == {"needs": str(capability)}


def test_access_case_returns_the_case_and_the_capabilities(world):
    case = apps.get_model("cases", "Case").objects.create(student=world.student_a1, opening="eht")
    found, granted = access.access_case(world.counsellor_a, case.public_id)
    assert found == case
    assert Capability.WORK_CASES in granted and Capability.WRITE_SOCIAL_MAPPING in granted
    assert Capability.WRITE_HEALTH_TALK not in granted
    assert granted.roles_for(Capability.WORK_CASES) == "counsellor"
    assert access.case_capabilities(world.nurse_a, case) >= {
        Capability.WORK_CASES,
        Capability.READ_HEALTH_NOTES,
    }
    for person in ("counsellor_b", "mentor_a1", "social_worker_n", "nobody"):
        user = getattr(world, person)
        with pytest.raises(Http404):
            access.access_case(user, case.public_id)
        assert _denials(user).filter(object_type="case", object_id=str(case.public_id)).exists()
    with pytest.raises(Http404):
        access.access_case(world.counsellor_a, uuid.uuid4())
    with pytest.raises(Http404):
        access.access_case(world.counsellor_a, "not-a-uuid")


def test_access_student_with_a_need(world):
    student, granted = access.access_student(
        world.principal_a, world.student_a1.public_id, need=Capability.RECORD_ESCALATIONS
    )
    assert student == world.student_a1 and Capability.RECORD_ESCALATIONS in granted
    with pytest.raises(Http404):
        access.access_student(
            world.counsellor_a, world.student_a1.public_id, need=Capability.RECORD_ESCALATIONS
        )
    assert _denials(world.counsellor_a).filter(object_type="student").exists()


def test_access_school_with_a_need(world):
    code = world.school_a.unit_code
    assert access.access_school(world.nurse_a, code, need=Capability.RECORD_EHT) == world.school_a
    with pytest.raises(Http404):
        access.access_school(world.nurse_a, code, need=Capability.RECORD_ESCALATIONS)
    with pytest.raises(Http404):
        access.access_school(world.counsellor_b, code)


def test_schools_where_is_one_function_for_every_capability(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert list(access.schools_where(world.counsellor_a, Capability.WORK_CASES)) == [
            world.school_a
        ]
    assert list(access.schools_where(world.mentor_a1, Capability.WRITE_CHECKLIST)) == [
        world.school_a
    ]
    assert set(access.schools_where(world.admin_m, Capability.IMPORT_FOR_SCHOOL)) == {
        world.school_a,
        world.school_b,
    }
    assert list(access.schools_where(world.referral_forum_n, Capability.DECIDE_REFERRALS)) == [
        world.school_a
    ]
    assert not access.schools_where(world.manager_a, Capability.WORK_CASES).exists()


def test_holders(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert list(access.holders(Capability.RECORD_EHT, world.school_a)) == sorted(
            [world.counsellor_a, world.principal_a, world.nurse_a],
            key=lambda u: (u.last_name, u.first_name, u.username),
        )
    assert list(access.holders(Capability.WRITE_CHECKLIST, world.student_a1)) == [world.mentor_a1]
    assert list(access.holders(Capability.WRITE_CHECKLIST, world.student_a2)) == []
    within = set(
        access.holders(Capability.BE_RESPONSIBLE_FOR_EHT_DECISIONS, world.school_a, within=True)
    )
    assert within == {world.counsellor_a, world.principal_a, world.nurse_a, world.mentor_a1}


def test_holders_of_students_is_set_based(world, django_assert_num_queries):
    ids = [world.student_a1.pk, world.student_a2.pk, world.student_b1.pk]
    with django_assert_num_queries(2):
        found = access.holders_of_students(
            ids,
            [
                Capability.ALERTED_EHT_MAPPING,
                Capability.ALERTED_SOCIAL_MAPPING,
                Capability.ALERTED_ESCALATION,
            ],
        )
    a1 = {(h.user_id, h.role) for h in found[(world.student_a1.pk, Capability.ALERTED_EHT_MAPPING)]}
    assert a1 == {(world.mentor_a1.pk, Role.MENTOR)}
    mapping = found[(world.student_a1.pk, Capability.ALERTED_SOCIAL_MAPPING)]
    assert {(h.user_id, h.role) for h in mapping} == {(world.counsellor_a.pk, Role.COUNSELLOR)}
    assert [h.user_id for h in found[(world.student_b1.pk, Capability.ALERTED_SOCIAL_MAPPING)]] == [
        world.counsellor_b.pk
    ]
    assert (world.student_b1.pk, Capability.ALERTED_ESCALATION) not in found


def test_import_and_mentor_questions_for_attendance(world):
    assert access.import_municipality_of(world.admin_m) == world.municipality
    assert access.import_municipality_of(world.counsellor_a) is None
    assert access.is_mentor_of(world.mentor_a1, world.group_a1)
    assert not access.is_mentor_of(world.mentor_a1, world.group_a2)
    assert not access.is_mentor_of(world.principal_a, world.group_a1)


# ---------------------------------------------------------------- conditions of later apps


@pytest.fixture
def assigned_condition(world):
    """A stand-in for the referrals app: a social worker reads a case while the test's set
    of (user id, case id) pairs says they are assigned — checked inside the query."""
    assigned: set[tuple[int, int]] = set()
    user_model = type(world.social_worker_n)

    def build(user):
        pairs = [case_id for user_id, case_id in assigned if user_id == user.pk]
        # An EXISTS subquery, as a real condition (assignment, consent) would be.
        return Q(Exists(user_model.objects.filter(pk=user.pk))) & Q(pk__in=pairs)

    # The referrals app's own condition (assignment and consent) steps aside for the test.
    registered = [c for c in access._case_conditions if c.capability == Capability.SOCIAL_WORK]
    for condition in registered:
        access.unregister_case_condition(condition.build)
    access.register_case_condition(capability=Capability.SOCIAL_WORK, build=build)
    yield assigned
    access.unregister_case_condition(build)
    for condition in registered:
        access.register_case_condition(capability=condition.capability, build=condition.build)


def test_without_a_condition_that_holds_social_workers_see_nothing(world):
    case = apps.get_model("cases", "Case").objects.create(student=world.student_a1, opening="eht")
    assert not access.cases_visible_to(world.social_worker_n).exists()
    assert not access.students_visible_to(world.social_worker_n).exists()
    assert Capability.SOCIAL_WORK not in access.case_capabilities(world.social_worker_n, case)


def test_a_registered_condition_is_checked_in_the_query(world, assigned_condition):
    Case = apps.get_model("cases", "Case")
    case = Case.objects.create(student=world.student_a1, opening="eht")
    other = Case.objects.create(student=world.student_b1, opening="eht")
    worker = world.social_worker_n
    assert not access.cases_visible_to(worker).exists()
    assigned_condition.add((worker.pk, case.pk))
    assigned_condition.add((worker.pk, other.pk))  # school B is in another district
    assert list(access.cases_visible_to(worker)) == [case]
    assert list(access.students_visible_to(worker)) == [world.student_a1]
    assert Capability.SOCIAL_WORK in access.case_capabilities(worker, case)
    found, granted = access.access_case(worker, case.public_id)
    assert found == case and Capability.SOCIAL_WORK in granted
    assert Capability.WORK_CASES not in granted
    # Withdrawn (consent ended, assignment removed): the next question answers no.
    assigned_condition.clear()
    assert not access.cases_visible_to(worker).exists()
    with pytest.raises(Http404):
        access.access_case(worker, case.public_id)
    # School staff are not affected by the condition.
    assert list(access.cases_visible_to(world.counsellor_a)) == [case]


def test_only_conditioned_capabilities_take_conditions():
    with pytest.raises(ValueError):
        access.register_case_condition(capability=Capability.WORK_CASES, build=lambda user: Q())


def test_mentor_assign_creates_the_membership_once(world):
    from sst import services

    from ..factories import UserFactory

    teacher = UserFactory()
    assert services.mentor_assign(user=teacher, group=world.group_a2, by=None) is not None
    assert access.is_mentor_of(teacher, world.group_a2)
    assert services.mentor_assign(user=teacher, group=world.group_a2, by=None) is None
    assert world.student_a2 in access.students_visible_to(teacher)
