"""The term report's PDF made by a real Celery worker on Redis (CI sets CELERY_BROKER_URL)."""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import storages

from reports.models import ReportRun, RunStatus
from reports.runs import report_run_request
from reports.scope import parse_scope
from reports.terms import parse_term

from .report_setup import build_world


@pytest.fixture
def celery_worker_on_redis(transactional_db):
    if django_settings.CELERY_TASK_ALWAYS_EAGER:
        if os.environ.get("SST_REQUIRE_POSTGRES"):
            pytest.fail("CI must run the worker test: CELERY_BROKER_URL is not set")
        pytest.skip("needs CELERY_BROKER_URL (Redis) for a real worker")
    from celery.contrib.testing.worker import start_worker

    from sst.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    app.conf.task_always_eager = django_settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def private_dir(monkeypatch, tmp_path):
    storage = storages["private"]
    monkeypatch.setattr(storage, "base_location", str(tmp_path), raising=False)
    monkeypatch.setattr(storage, "location", str(tmp_path), raising=False)
    return tmp_path


# With the other real-worker tests: one worker on the broker at a time.
@pytest.mark.xdist_group("celery-broker")
def test_a_real_worker_makes_the_pdf_and_a_second_delivery_changes_nothing(
    celery_worker_on_redis, private_dir
):
    from django.db import transaction

    from reports.tasks import generate_report

    world = build_world()
    scope = parse_scope("municipality")
    with transaction.atomic():
        run = report_run_request(
            by=world.municipality_manager, scope=scope, term=parse_term("HT2025")
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.2)
    assert run.status == RunStatus.DONE, run.error
    path = private_dir / run.stored_path
    assert path.read_bytes().startswith(b"%PDF")
    finished_at = run.finished_at
    # The same message again (a redelivery): the run is claimed already; nothing changes.
    generate_report.delay(run.pk).get(timeout=30)
    run.refresh_from_db()
    assert run.finished_at == finished_at and ReportRun.objects.count() == 1
