"""Import runs that survive a dead worker and a double delivery, without a worker: the claim,
the attempt cap, the watchdog, the result page's states, and the months left to recompute.

Time is passed in (``now=``) rather than slept; the real worker is killed in
test_worker_crash.py.
"""

from __future__ import annotations

import datetime
import io
import os
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from attendance import import_views, queue, services
from attendance.imports import jobs, runs
from attendance.models import (
    Alert,
    ImportKind,
    ImportRun,
    ImportStatus,
    Lesson,
    MonthlyAbsence,
    PendingMonthRefresh,
    Rule,
)
from sst.models import AuditEvent, AuditObjectType

from .lessons import month_absence
from .test_import_pages import english, signed_in
from .test_imports import attendance_file, lesson_line

OCT, SEP = datetime.date(2025, 10, 1), datetime.date(2025, 9, 1)
LATER = datetime.timedelta(seconds=61)  # past IMPORT_HEARTBEAT_STALE_SECONDS


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "imports")
    (tmp_path / "imports").mkdir()


@pytest.fixture
def requeued(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The runs queued again (instead of running them in-process)."""
    sent: list[int] = []
    monkeypatch.setattr(queue, "_run_import", sent.append)
    return sent


def a_run(world, lines: int = 3) -> tuple[ImportRun, bytes]:  # type: ignore[no-untyped-def]
    data = attendance_file(
        [
            lesson_line(world.student_a1, world.school_a, f"2025-10-0{day}")
            for day in range(1, lines + 1)
        ]
    )
    run = ImportRun.objects.create(
        kind=ImportKind.ATTENDANCE,
        file_name="f.csv",
        file_size=len(data),
        uploaded_by=world.admin_m,
    )
    return run, data


def stored(run: ImportRun, data: bytes) -> os.PathLike[str]:
    path = runs.stored_file(run)
    path.write_bytes(data)
    return path


def import_audits(run: ImportRun) -> int:
    return AuditEvent.objects.filter(
        object_type=AuditObjectType.IMPORT_ATTENDANCE, object_id=str(run.public_id)
    ).count()


def columns(run: ImportRun) -> dict[str, object]:
    return ImportRun.objects.values(
        "status", "attempts", "claim_token", "heartbeat_at", "errors", "finished_at"
    ).get(pk=run.pk)


# ---------------------------------------------------------------- the claim


def test_one_delivery_at_a_time_works_on_a_run(world):
    run, _data = a_run(world)
    now = timezone.now()
    first = runs.import_run_claim(run=run, task_id="task-1", now=now)
    assert first is not None and first.attempt == 1
    held = columns(run)
    # A second delivery while the first one's heartbeat is fresh: nothing changes.
    assert runs.import_run_claim(run=run, task_id="task-2", now=now + LATER / 2) is None
    assert runs.import_run_claim(run=run, task_id="task-2", redelivered=True, now=now) is None
    assert columns(run) == held
    # The same message redelivered (its worker died): it takes the run over at once.
    again = runs.import_run_claim(run=run, task_id="task-1", redelivered=True, now=now)
    assert again is not None and again.attempt == 2 and again.token != first.token
    # A heartbeat gone stale: any delivery may take it over.
    third = runs.import_run_claim(run=run, task_id="task-3", now=now + LATER)
    assert third is not None and third.attempt == 3


def test_a_delivery_that_lost_the_run_writes_nothing(world):
    run, data = a_run(world)
    now = timezone.now()
    slow = runs.import_run_claim(run=run, task_id="slow", now=now - LATER)
    assert slow is not None
    taker = runs.import_run_claim(run=run, task_id="taker", now=now)
    assert taker is not None
    # The slow delivery finishes its import: its rows and audit event roll back.
    jobs.run_import(run, io.BytesIO(data), claim=slow)
    assert Lesson.objects.count() == 0
    assert import_audits(run) == 0
    assert not PendingMonthRefresh.objects.exists()
    run.refresh_from_db()
    assert (run.status, run.claim_token) == (ImportStatus.RUNNING, taker.token)
    # The owner's import counts every row as new, once.
    jobs.run_import(run, io.BytesIO(data), claim=taker)
    run.refresh_from_db()
    assert (run.status, run.created_count, run.updated_count) == (ImportStatus.SUCCEEDED, 3, 0)
    assert import_audits(run) == 1


def test_a_failing_second_delivery_never_fails_a_succeeded_run(world):
    run, data = a_run(world)
    slow = runs.import_run_claim(run=run, now=timezone.now() - LATER)
    assert slow is not None
    path = stored(run, data)
    assert jobs.run_stored_import(run.pk, task_id="owner") == ImportStatus.SUCCEEDED
    assert not path.exists()
    done = columns(run)
    # The slow delivery's refusal, and a late delivery finding the file gone, change nothing.
    assert jobs.run_import(run, io.BytesIO(b"not;a;header\r\n"), claim=slow) is run
    assert jobs.run_stored_import(run.pk, task_id="late", redelivered=True) == "succeeded"
    assert columns(run) == done
    assert import_audits(run) == 1


def test_a_run_that_used_up_its_attempts_fails_with_a_message(world, settings):
    settings.IMPORT_MAX_ATTEMPTS = 2
    run, data = a_run(world)
    path = stored(run, data)
    now = timezone.now()
    for attempt in (1, 2):
        claim = runs.import_run_claim(run=run, task_id="t", redelivered=True, now=now)
        assert claim is not None and claim.attempt == attempt
    with translation.override("sv"):
        assert runs.import_run_claim(run=run, task_id="t", redelivered=True, now=now) is None
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Importen avbröts — inget importerades, ladda upp filen igen."]
    assert not path.exists()
    assert not Lesson.objects.exists()


# ---------------------------------------------------------------- the watchdog


def test_the_watchdog_fails_a_stuck_run_whose_file_is_gone(world, requeued):
    run, _data = a_run(world)
    now = timezone.now()
    assert runs.import_run_claim(run=run, now=now) is not None
    assert jobs.import_runs_watchdog(now=now + LATER / 2)["failed"] == 0  # still beating
    assert jobs.import_runs_watchdog(now=now + LATER) == {
        "requeued": 0,
        "failed": 1,
        "files_deleted": 0,
    }
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert run.errors == [runs.interrupted_message()]
    assert requeued == []
    # Idempotent: a second pass finds nothing to do.
    assert jobs.import_runs_watchdog(now=now + 2 * LATER) == {
        "requeued": 0,
        "failed": 0,
        "files_deleted": 0,
    }


def test_the_watchdog_requeues_a_stuck_run_once_per_period(
    world, requeued, settings, django_capture_on_commit_callbacks
):
    run, data = a_run(world)
    path = stored(run, data)
    now = timezone.now()
    assert runs.import_run_claim(run=run, now=now - LATER) is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.import_runs_watchdog(now=now)["requeued"] == 1
        assert jobs.import_runs_watchdog(now=now)["requeued"] == 0
    assert requeued == [run.pk]
    assert path.exists()
    # The requeued delivery takes the run over (the heartbeat is stale) and imports it.
    assert jobs.run_stored_import(run.pk, task_id="requeued") == ImportStatus.SUCCEEDED
    run.refresh_from_db()
    assert (run.attempts, run.created_count) == (2, 3)
    # Out of attempts: the next stuck run is failed and its file deleted.
    settings.IMPORT_MAX_ATTEMPTS = 1
    other, data = a_run(world)
    path = stored(other, data)
    assert runs.import_run_claim(run=other, now=now - LATER) is not None
    assert jobs.import_runs_watchdog(now=now)["failed"] == 1
    assert not path.exists()


def test_the_watchdog_deletes_old_files_of_no_live_run(world, requeued, settings):
    folder = runs.stored_file(ImportRun(kind=ImportKind.ATTENDANCE)).parent
    live, data = a_run(world)
    live_path = stored(live, data)
    orphan, fresh = folder / "0000-orphan.csv", folder / "1111-being-uploaded.csv"
    orphan.write_bytes(b"x")
    fresh.write_bytes(b"x")
    hour_ago = time.time() - 3600
    for path in (orphan, live_path):
        os.utime(path, (hour_ago, hour_ago))
    result = jobs.import_runs_watchdog(now=timezone.now())
    assert result["files_deleted"] == 1
    assert not orphan.exists()
    assert fresh.exists() and live_path.exists()


# ---------------------------------------------------------------- the result page


def test_the_result_page_shows_an_interrupted_run_and_stops_polling(client, world):
    english(signed_in(client, world.admin_m))
    run, _data = a_run(world)
    now = timezone.now()
    status_url = reverse("imports:status", args=[run.public_id])
    assert runs.import_run_claim(run=run, now=now - LATER) is not None
    ImportRun.objects.filter(pk=run.pk).update(file_size=1000, bytes_read=420)
    partial = client.get(status_url, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert partial.status_code == 200
    assert "interrupted and is being retried (attempt 2 of 3)" in html
    # The bar keeps the heartbeat's progress when the cache entry is gone.
    assert 'value="42"' in html

    # Nothing heard from the run for longer than the page waits: it stops polling.
    long_ago = now - import_views.POLL_DEADLINE - LATER
    ImportRun.objects.filter(pk=run.pk).update(created_at=long_ago, heartbeat_at=long_ago)
    partial = client.get(status_url, HTTP_HX_REQUEST="true")
    assert partial.status_code == import_views.HTMX_STOP_POLLING
    assert "no progress for a long time" in partial.content.decode()
    page = client.get(reverse("imports:result", args=[run.public_id])).content.decode()
    assert "hx-get" not in page

    with translation.override("en"):
        runs.import_run_abandon(run=run, now=now)
    page = client.get(reverse("imports:result", args=[run.public_id])).content.decode()
    assert "The file was refused" in page
    assert "nothing was imported, upload the file again" in page


# ---------------------------------------------------------------- months to recompute


def test_an_import_leaves_its_months_pending_until_they_are_recomputed(world, monkeypatch):
    monkeypatch.setattr(queue, "_refresh_month", None)  # the task is lost
    data = attendance_file(
        [
            lesson_line(world.student_a1, world.school_a, "2025-09-30", absent=60, kind="ogiltig"),
            lesson_line(world.student_a1, world.school_a, "2025-10-01", absent=60, kind="ogiltig"),
        ]
    )
    run = ImportRun.objects.create(kind=ImportKind.ATTENDANCE, file_name="f.csv", file_size=1)
    jobs.run_import(run, io.BytesIO(data))
    assert list(PendingMonthRefresh.objects.values_list("month", flat=True)) == [SEP, OCT]
    assert not MonthlyAbsence.objects.exists()
    # The scheduled job works the list, any month, oldest first, until it is empty.
    assert services.absence_pending_months_refresh() == ["2025-09", "2025-10"]
    assert not PendingMonthRefresh.objects.exists()
    assert sorted(MonthlyAbsence.objects.values_list("month", flat=True)) == [SEP, OCT]
    assert not MonthlyAbsence.objects.filter(step=0).exists()  # evaluated: 100 % absent
    assert services.absence_pending_months_refresh() == []


def test_a_rollup_stopped_before_the_evaluation_writes_nothing(world, monkeypatch):
    month_absence(world.student_a1, OCT, absent=250)
    PendingMonthRefresh.objects.create(month=OCT, marked_at=timezone.now())

    def dies(month: datetime.date) -> None:
        raise SystemExit("worker killed")

    monkeypatch.setattr(services.staircase, "evaluate_month", dies)
    with pytest.raises(SystemExit):
        services.absence_month_refresh(month=OCT)
    assert not MonthlyAbsence.objects.exists()
    assert PendingMonthRefresh.objects.filter(month=OCT).exists()
    monkeypatch.undo()
    services.absence_month_refresh(month=OCT)
    assert MonthlyAbsence.objects.get().step == 4
    # Step 4 on entry brings the lower steps' work too (issue 9): one alert per rule, none twice.
    alerts = list(Alert.objects.values_list("student_id", "rule"))
    assert len(alerts) == len(set(alerts))
    assert {rule for _student, rule in alerts} == {Rule.STEP_2, Rule.STEP_3, Rule.STEP_4}
    assert {student for student, _rule in alerts} == {world.student_a1.pk}
    assert not PendingMonthRefresh.objects.exists()


def test_a_month_marked_again_during_its_recomputation_stays_pending(world, monkeypatch):
    month_absence(world.student_a1, OCT, absent=250)
    PendingMonthRefresh.objects.create(month=OCT, marked_at=timezone.now())
    evaluate = services.staircase.evaluate_month

    def an_import_commits_meanwhile(month: datetime.date):  # type: ignore[no-untyped-def]
        from attendance import rollup

        rollup.months_mark_pending([OCT])
        return evaluate(month)

    monkeypatch.setattr(services.staircase, "evaluate_month", an_import_commits_meanwhile)
    services.absence_month_refresh(month=OCT)
    assert PendingMonthRefresh.objects.get().generation == 2


# ---------------------------------------------------------------- worker settings


def test_worker_sessions_end_promptly_and_wait_for_nothing_for_ever(db, on_postgres):
    from sst.celery import limit_worker_session

    # Inside the test's transaction: rolled back with it, the next test's session is plain.
    limit_worker_session(connection=connection)
    with connection.cursor() as cursor:
        shown = []
        for name in ("client_connection_check_interval", "lock_timeout", "statement_timeout"):
            cursor.execute(f"SHOW {name}")
            shown.append(cursor.fetchone()[0])
    assert shown == ["2s", "5min", "19min"]


def test_task_limits_sit_below_the_visibility_timeout(settings):
    from sst.celery import app

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < visibility
    assert 15 * 60 <= visibility <= 30 * 60
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"attendance.tasks.watch_import_runs", "attendance.tasks.refresh_pending_months"} <= (
        scheduled
    )
