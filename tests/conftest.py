"""Shared fixtures: a small municipality and the named people of the role matrix.

People (STYLE.md §8): a mentor of group A1 at school A, a counsellor and a principal at
school A, a social worker in district N, a manager for the municipality, a municipality
administrator, and a counsellor at school B who must see nothing at school A.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.db import connection

from sst.models import Role

from .factories import (
    DistrictFactory,
    GuardianFactory,
    MentorGroupFactory,
    MunicipalityFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    give_custody,
    grant,
)


@dataclass
class World:
    municipality: object
    district_n: object
    district_s: object
    school_a: object
    school_b: object
    group_a1: object
    group_a2: object
    group_b1: object
    student_a1: object
    student_a2: object
    student_b1: object
    guardian_a1: object
    mentor_a1: object
    counsellor_a: object
    principal_a: object
    nurse_a: object
    social_worker_n: object
    referral_forum_n: object
    manager_m: object
    manager_a: object
    admin_m: object
    counsellor_b: object
    nobody: object


@pytest.fixture
def world(db) -> World:
    municipality = MunicipalityFactory(name="Testkommun", code="9901")
    district_n = DistrictFactory(municipality=municipality, name="Norra")
    district_s = DistrictFactory(municipality=municipality, name="Södra")
    school_a = SchoolFactory(district=district_n, name="Ekbackens skola")
    school_b = SchoolFactory(district=district_s, name="Björkdalens skola")
    group_a1 = MentorGroupFactory(school=school_a, name="7A")
    group_a2 = MentorGroupFactory(school=school_a, name="7B")
    group_b1 = MentorGroupFactory(school=school_b, name="8A")
    student_a1 = StudentFactory(mentor_group=group_a1, first_name="Alva", last_name="Ekholmsson")
    student_a2 = StudentFactory(mentor_group=group_a2, first_name="Elias", last_name="Algotsson")
    student_b1 = StudentFactory(mentor_group=group_b1, first_name="Maja", last_name="Björkqvist")
    guardian_a1 = GuardianFactory(first_name="Karin", last_name="Ekholmsson")
    give_custody(student_a1, guardian_a1)

    def person(username: str, role: str | None = None, place: object = None):
        user = UserFactory(username=username)
        if role:
            grant(user, role, place)
        return user

    return World(
        municipality=municipality,
        district_n=district_n,
        district_s=district_s,
        school_a=school_a,
        school_b=school_b,
        group_a1=group_a1,
        group_a2=group_a2,
        group_b1=group_b1,
        student_a1=student_a1,
        student_a2=student_a2,
        student_b1=student_b1,
        guardian_a1=guardian_a1,
        mentor_a1=person("mentor_a1", Role.MENTOR, group_a1),
        counsellor_a=person("counsellor_a", Role.COUNSELLOR, school_a),
        principal_a=person("principal_a", Role.PRINCIPAL, school_a),
        nurse_a=person("nurse_a", Role.SCHOOL_NURSE, school_a),
        social_worker_n=person("social_worker_n", Role.SOCIAL_WORKER, district_n),
        referral_forum_n=person("referral_forum_n", Role.REFERRAL_FORUM, district_n),
        manager_m=person("manager_m", Role.MANAGER, municipality),
        manager_a=person("manager_a", Role.MANAGER, school_a),
        admin_m=person("admin_m", Role.ADMINISTRATOR, municipality),
        counsellor_b=person("counsellor_b", Role.COUNSELLOR, school_b),
        nobody=person("nobody"),
    )


def verified_login(client, user) -> None:
    """Sign in as ``user`` with the second factor already verified (as after a real OTP)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


@pytest.fixture
def on_postgres() -> bool:
    is_pg = connection.vendor == "postgresql"
    if not is_pg:
        if os.environ.get("SST_REQUIRE_POSTGRES"):
            pytest.fail("SST_REQUIRE_POSTGRES is set but the tests run on " + connection.vendor)
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    return is_pg


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Tasks run in-process in tests, even when CI configures a real broker: a queued task
    would otherwise wait in Redis for a worker that only some tests start (and those tests
    switch eager mode off themselves, see tests/sst/test_tasks.py)."""
    from sst.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
