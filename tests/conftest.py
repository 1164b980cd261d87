"""Shared fixtures: a small municipality and the named people of the role matrix.

People (STYLE.md §8): a mentor of group A1 at school A, a counsellor and a principal at
school A, a social worker in district N, a manager for the municipality, a municipality
administrator, and a counsellor at school B who must see nothing at school A.

Speed (the suite has some 2,000 tests, most of them on the `world`): the world is built once
per test module inside a transaction that stays open for the module, and every test gets its
own deep copy of those objects inside its own savepoint (as Django's ``setUpTestData`` does),
so each test still starts from exactly the same rows and none sees another's changes.
Transactional tests (``transactional_db``, ``live_server``, ``django_db(transaction=True)``)
close that transaction first and build their world afresh, committed. Passwords are hashed
with MD5 for the whole session, module-scoped fixtures included.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import override_settings

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

# SST_TEST_CLOCK=2026-11-29T22:59:30Z runs the whole suite as if started at that instant, the
# clock ticking on: the way to check that no test leans on today's date (a run that crosses
# midnight in Stockholm, a run in the summer holiday). Started here, before any test module is
# imported, so module-level dates see it too; each xdist worker starts its own. The real
# Celery worker of the worker tests runs in its own process on the real clock: with a clock
# months away those tests fail for that reason alone.
if os.environ.get("SST_TEST_CLOCK"):
    time_machine.travel(os.environ["SST_TEST_CLOCK"], tick=True).start()


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


FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _build_world() -> World:
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


# Fixtures that make a test transactional in pytest-django (its _django_db_helper).
_TRANSACTIONAL_FIXTURES = frozenset(
    {
        "transactional_db",
        "live_server",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
    }
)


def _is_transactional(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    if names & _TRANSACTIONAL_FIXTURES:
        return True
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    # unittest-style Django test classes manage their own transactions.
    return getattr(item, "cls", None) is not None and hasattr(item.cls, "_pre_setup")


class _WorldTemplate:
    """The module's world, built inside a transaction that is rolled back when the module
    is done (or when a transactional test comes, which must see an empty database)."""

    current: _WorldTemplate | None = None  # the one whose transaction is open
    next_test_is_transactional = False  # set before each test's fixtures are set up

    def __init__(self, blocker) -> None:  # type: ignore[no-untyped-def]
        self.blocker = blocker
        self.atomic: transaction.Atomic | None = None
        self.world: World | None = None

    def open(self) -> None:
        with self.blocker.unblock():
            self.atomic = transaction.atomic()
            # As Django's TestCase marks its own: a durable atomic block may nest in it.
            self.atomic._from_testcase = True  # type: ignore[attr-defined]
            self.atomic.__enter__()
            _WorldTemplate.current = self
            self.world = _build_world()

    def close(self) -> None:
        if self.atomic is None:
            return
        atomic, self.atomic, self.world = self.atomic, None, None
        _WorldTemplate.current = None
        with self.blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# The accessibility crawl (tests/e2e/test_every_page.py, two parts, xdist groups named
# every-page-<part>) takes minutes, far more than any other test. pytest-django runs
# transactional tests last; among them the crawl goes first, so that under xdist its parts
# start together and the other workers take the rest meanwhile.
LONGEST_GROUP = "every-page"


def _in_group(item: pytest.Item, prefix: str) -> bool:
    return any(
        str(m.args[0] if m.args else m.kwargs.get("name", "")).startswith(prefix)
        for m in item.iter_markers("xdist_group")
    )


def _group_nodeids(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` an xdist worker names each test of an ``xdist_group`` with
    the group (``path::test@group``), and the controller sends a group to one worker. xdist
    3.8 does it by setting ``item._nodeid``, which pytest 9.2 no longer reads (its node ids
    became structured), so the groups were silently ignored: do it here when xdist did not,
    and stop if it cannot be done (two crawls, two real workers on one queue)."""
    if not getattr(config.option, "loadgroup", False):  # not an xdist worker with loadgroup
        return
    for item in items:
        names = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        wanted = f"@{'_'.join(names)}"
        if not names or item.nodeid.endswith(wanted):
            continue
        nodeid = item.nodeid + wanted
        if hasattr(item, "_id"):  # pytest >= 9.2
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(nodeid)
        else:
            item._nodeid = nodeid  # type: ignore[attr-defined]
        if item.nodeid != nodeid:
            raise pytest.UsageError(f"cannot put {item.nodeid} in its xdist_group {names}")


@pytest.hookimpl(trylast=True)  # after pytest-django's ordering (tryfirst) and xdist's
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _group_nodeids(config, items)
    longest = [item for item in items if _in_group(item, LONGEST_GROUP)]
    if not longest:
        return
    rest = [item for item in items if not _in_group(item, LONGEST_GROUP)]
    first_transactional = next(
        (i for i, item in enumerate(rest) if _is_transactional(item)), len(rest)
    )
    items[:] = rest[:first_transactional] + longest + rest[first_transactional:]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Runs before the test's fixtures: a transactional test closes the module's world."""
    _WorldTemplate.next_test_is_transactional = _is_transactional(item)
    if _WorldTemplate.next_test_is_transactional and _WorldTemplate.current is not None:
        _WorldTemplate.current.close()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing_session() -> Iterator[None]:
    """MD5 for the whole session: module-scoped fixtures (the demo the crawl seeds, the
    module's world) create users before any function-scoped setting applies."""
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


@pytest.fixture(scope="module")
def _world_template(
    django_db_setup, django_db_blocker, _fast_password_hashing_session
) -> Iterator[_WorldTemplate]:
    template = _WorldTemplate(django_db_blocker)
    if not _WorldTemplate.next_test_is_transactional:
        template.open()
    try:
        yield template
    finally:
        template.close()


@pytest.fixture
def world(_world_template, db) -> World:
    """The world of the module docstring: a deep copy of the module's, in the test's
    savepoint; or, for a transactional test, one built afresh (and committed)."""
    if _world_template.world is None:
        return _build_world()
    return copy.deepcopy(_world_template.world)


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
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


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
