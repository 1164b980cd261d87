"""Background tasks, on a real Celery worker and Redis broker when one is configured."""

import datetime
import os

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from sst import access
from sst.models import Role, RoleMembership
from sst.tasks import sync_all_role_permissions


def test_nightly_sync_revokes_memberships_that_ended(world):
    RoleMembership.objects.filter(user=world.counsellor_a).update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert access.students_visible_to(world.counsellor_a).exists()  # not yet re-granted
    sync_all_role_permissions()
    assert not access.students_visible_to(world.counsellor_a).exists()
    assert access.students_visible_to(world.counsellor_b).exists()


def test_sync_is_idempotent(world):
    sync_all_role_permissions()
    before = set(access.students_visible_to(world.principal_a))
    sync_all_role_permissions()
    assert set(access.students_visible_to(world.principal_a)) == before


def test_beat_schedule_runs_the_sync_nightly():
    from sst.celery import app

    entry = app.conf.beat_schedule["sync-role-permissions-nightly"]
    assert entry["task"] == "sst.tasks.sync_all_role_permissions"


@pytest.fixture
def celery_worker_on_redis(transactional_db):
    if django_settings.CELERY_TASK_ALWAYS_EAGER:
        if os.environ.get("SST_REQUIRE_POSTGRES"):
            pytest.fail("CI must run the worker test: CELERY_BROKER_URL is not set")
        pytest.skip("needs CELERY_BROKER_URL (Redis) for a real worker")
    from celery.contrib.testing.worker import start_worker

    from sst.celery import app

    app.conf.task_always_eager = False
    app.control.purge()  # nothing left over from an earlier run reaches this worker
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    app.conf.task_always_eager = django_settings.CELERY_TASK_ALWAYS_EAGER


# With tests/attendance/test_worker_crash.py: one real worker on the broker at a time.
@pytest.mark.xdist_group("celery-broker")
def test_real_worker_runs_the_sync_task(world, celery_worker_on_redis):
    RoleMembership.objects.filter(user=world.counsellor_a, role=Role.COUNSELLOR).update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    result = sync_all_role_permissions.delay()
    assert result.get(timeout=30) >= 1
    assert not access.students_visible_to(world.counsellor_a).exists()
