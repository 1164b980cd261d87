"""Imports and rollups on a real Celery worker (prefork, one pool process) that is killed.

The worker runs as a subprocess on the test database and the configured Redis broker. The
kill points are found from outside, without hooks in the product: the stored upload is a
named pipe, so the import blocks reading it inside its transaction until the test writes
the file; the rollup blocks on the pending month's row, which the test holds locked. The
pool process is then killed with SIGKILL, as an out-of-memory kill or a crashed container
would, and the worker's main process hands the message back to the broker.

Skipped without PostgreSQL and a broker; CI (SST_REQUIRE_POSTGRES=1) requires them.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from attendance import tasks
from attendance.imports import jobs, runs
from attendance.locks import ABSENCE_WRITE_LOCK, STUDENT_REGISTER_LOCK
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
from .test_imports import attendance_file, lesson_line

REPO = Path(__file__).resolve().parents[2]
OCT = datetime.date(2025, 10, 1)
MAX_ATTEMPTS = 2  # the worker's IMPORT_MAX_ATTEMPTS: a shorter loop to kill

# Real workers consume CELERY_BROKER_URL's queue (and purge it): the tests that start one
# share an xdist group (in test_rollup.py and tests/sst/test_tasks.py too), so that no two
# run at once (`make test` runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("celery-broker")


def _needs_postgres_and_broker() -> None:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if django_settings.CELERY_TASK_ALWAYS_EAGER:
        missing.append("a broker (CELERY_BROKER_URL)")
    if missing:
        message = "a real worker needs " + " and ".join(missing)
        if os.environ.get("SST_REQUIRE_POSTGRES"):
            pytest.fail(message + " (SST_REQUIRE_POSTGRES is set)", pytrace=False)
        pytest.skip(message)


def wait_until(condition: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {seconds} s for: {what}"
        time.sleep(0.05)


class Worker:
    """``celery -A sst worker`` with one prefork pool process, in its own process group."""

    def __init__(self, upload_dir: Path, log: Path) -> None:
        db = connection.settings_dict
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            "IMPORT_UPLOAD_DIR": str(upload_dir),
            "IMPORT_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "IMPORT_HEARTBEAT_SECONDS": "0.5",
            "PYTHONPATH": str(REPO),
        }
        self.log, self.upload_dir = log, upload_dir
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [
                *(sys.executable, "-m", "celery", "-A", "sst", "worker"),
                *("--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                *("--hostname", f"crash-test-{uuid.uuid4().hex[:8]}@%h"),
            ],
            cwd=REPO,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def pool_process(self) -> int:
        """The pid of the (one) pool process: the main process's child."""

        def child() -> int | None:
            assert self.process.poll() is None, "the worker exited:\n" + self.log.read_text()
            path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids = path.read_text().split()
            return int(pids[0]) if pids else None

        return int(wait_until(child, "the worker's pool process"))

    def kill_pool_process(self) -> int:
        pid = self.pool_process()
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=3)


@pytest.fixture(scope="module")
def worker_process(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Worker]:
    """One worker for the module (starting one takes seconds on CI's two cores)."""
    with django_db_blocker.unblock():
        _needs_postgres_and_broker()
    from sst.celery import app

    folder = tmp_path_factory.mktemp("worker")
    upload_dir = folder / "imports"
    upload_dir.mkdir(mode=0o700)
    app.control.purge()  # nothing left over from an earlier run reaches this worker
    started = Worker(upload_dir, folder / "worker.log")
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def worker(worker_process, transactional_db, settings) -> Iterator[Worker]:
    from sst.celery import app

    settings.IMPORT_UPLOAD_DIR = str(worker_process.upload_dir)
    app.conf.task_always_eager = False  # this process only sends; the worker runs
    try:
        yield worker_process
    finally:
        app.conf.task_always_eager = True
        app.control.purge()


# ---------------------------------------------------------------- the pieces


def worker_backends(where: str, params: tuple[Any, ...] = ()) -> list[int]:
    """Backend pids of worker sessions (application_name set by sst.celery) matching SQL
    (``where`` is a constant of these tests)."""
    sql = "SELECT pid FROM pg_stat_activity a WHERE application_name = 'sst-worker' AND "
    with connection.cursor() as cursor:
        cursor.execute(sql + where, params)
        return [row[0] for row in cursor.fetchall()]


def holding_advisory_lock(key: int) -> list[int]:
    return worker_backends(
        "EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' "
        "AND l.objid = %s AND l.granted)",
        (key,),
    )


def open_pipe_for_writing(path: Path) -> int:
    """Open the named pipe once the worker has opened it for reading (it has claimed the run
    and started the import)."""

    def opened() -> int | None:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            return None

    fd = int(wait_until(opened, "the worker to open the upload"))
    os.set_blocking(fd, True)
    return fd


def write_and_close(fd: int, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError):  # the reader was killed
        os.write(fd, data)
    os.close(fd)


def absent_in_october(world) -> bytes:  # type: ignore[no-untyped-def]
    """Ten weekday lessons each in October 2025 for two students: a1 absent from four of them
    without a valid reason (40 %), a2 present."""
    days = [
        day for day in (OCT + datetime.timedelta(days=n) for n in range(31)) if day.weekday() < 5
    ][:10]
    return attendance_file(
        [
            lesson_line(
                student,
                world.school_a,
                day.isoformat(),
                absent=60 if student == world.student_a1 and i < 4 else 0,
                kind="ogiltig" if student == world.student_a1 and i < 4 else "",
            )
            for student in (world.student_a1, world.student_a2)
            for i, day in enumerate(days)
        ]
    )


def stored_as_pipe(world) -> tuple[ImportRun, Path, bytes]:  # type: ignore[no-untyped-def]
    data = absent_in_october(world)
    run = ImportRun.objects.create(
        kind=ImportKind.ATTENDANCE,
        file_name="franvaro.csv",
        file_size=len(data),
        uploaded_by=world.admin_m,
    )
    path = runs.stored_file(run)
    os.mkfifo(path, 0o600)
    return run, path, data


def finished(run: ImportRun) -> ImportRun | None:
    run.refresh_from_db()
    return run if run.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED} else None


def import_audits(run: ImportRun) -> int:
    return AuditEvent.objects.filter(
        object_type=AuditObjectType.IMPORT_ATTENDANCE, object_id=str(run.public_id)
    ).count()


def october_evaluated() -> bool:
    return (
        not PendingMonthRefresh.objects.exists()
        and MonthlyAbsence.objects.filter(month=OCT, step__gt=0).exists()
    )


# ---------------------------------------------------------------- the tests


def test_pool_process_killed_mid_import_is_retried_at_once_and_imports_once(world, worker):
    run, path, data = stored_as_pipe(world)
    started = time.monotonic()
    tasks.run_import.delay(run.pk)
    fd = open_pipe_for_writing(path)
    os.write(fd, data[: len(data) // 2])
    # Inside the import's transaction: it holds the student register while it writes.
    (backend,) = wait_until(
        lambda: holding_advisory_lock(STUDENT_REGISTER_LOCK), "the import's transaction"
    )
    worker.kill_pool_process()
    write_and_close(fd, b"")
    # The dead worker's session ends within seconds (its lock with it).
    wait_until(lambda: not worker_backends("a.pid = %s", (backend,)), "the session to end", 5)

    # Redelivered at once to the new pool process, which takes the run over.
    fd = open_pipe_for_writing(path)
    write_and_close(fd, data)
    wait_until(lambda: finished(run), "the import to end", 60)
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.attempts == 2
    assert (run.rows_total, run.created_count, run.updated_count) == (20, 20, 0)
    assert Lesson.objects.count() == 20
    assert import_audits(run) == 1
    wait_until(lambda: not path.exists(), "the upload to be deleted", 5)
    # The months the file touched are rolled up and evaluated, once.
    wait_until(october_evaluated, "October to be evaluated", 60)
    assert set(Alert.objects.values_list("student_id", "period_start")) == {
        (world.student_a1.pk, OCT)
    }
    assert time.monotonic() - started < 60


def test_pool_process_killed_mid_rollup_leaves_nothing_half_done(world, worker):
    month_absence(world.student_a1, OCT, absent=250)  # 25 %: step 4
    month_absence(world.student_b1, OCT, absent=50)  # 5 %: no step
    PendingMonthRefresh.objects.create(month=OCT, marked_at=timezone.now())
    db = connection.settings_dict
    holder = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )
    try:
        # The rollup and the evaluation are written; taking the month off the list waits.
        holder.execute("SELECT * FROM attendance_pendingmonthrefresh FOR UPDATE")
        tasks.rollup_and_evaluate.delay(OCT.isoformat())
        (backend,) = wait_until(
            lambda: worker_backends("a.wait_event_type = 'Lock'"), "the rollup to wait"
        )
        assert holding_advisory_lock(ABSENCE_WRITE_LOCK) == [backend]
        worker.kill_pool_process()
        # The server notices the dead worker while its statement still waits, and rolls back.
        wait_until(lambda: not worker_backends("a.pid = %s", (backend,)), "the session to end", 5)
        assert not MonthlyAbsence.objects.exists(), "half a refresh was committed"
    finally:
        holder.rollback()
        holder.close()
    wait_until(october_evaluated, "October to be evaluated", 60)
    assert list(
        MonthlyAbsence.objects.order_by("student_id").values_list("student_id", "step")
    ) == [
        (world.student_a1.pk, 4),
        (world.student_b1.pk, 0),
    ]
    # Step 4 on entry brings the lower steps' work too (issue 9): one alert per rule, none twice.
    alerts = list(Alert.objects.values_list("student_id", "rule"))
    assert len(alerts) == len(set(alerts))
    assert {rule for _student, rule in alerts} == {Rule.STEP_2, Rule.STEP_3, Rule.STEP_4}
    assert {student for student, _rule in alerts} == {world.student_a1.pk}


def test_the_same_run_delivered_twice_imports_once_and_stays_succeeded(world, worker):
    run, path, data = stored_as_pipe(world)
    tasks.run_import.delay(run.pk)
    fd = open_pipe_for_writing(path)
    # The worker's heartbeat goes on while the import waits for the file.
    claimed_at = ImportRun.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk)
    wait_until(
        lambda: ImportRun.objects.filter(pk=run.pk, heartbeat_at__gt=claimed_at).exists(),
        "a heartbeat",
        10,
    )
    # A second delivery while the worker imports: it leaves the run alone.
    columns = ("status", "attempts", "claim_token", "claim_task_id", "errors")
    before = ImportRun.objects.values(*columns).get(pk=run.pk)
    assert jobs.run_stored_import(run.pk, task_id="second") == ImportStatus.RUNNING
    assert ImportRun.objects.values(*columns).get(pk=run.pk) == before
    write_and_close(fd, data)
    wait_until(lambda: finished(run), "the import to end", 60)
    assert run.status == ImportStatus.SUCCEEDED

    # Late deliveries (the file is gone now, which used to fail the run): nothing changes.
    assert jobs.run_stored_import(run.pk, task_id="late", redelivered=True) == "succeeded"
    result = tasks.run_import.delay(run.pk)
    assert result.get(timeout=30) == ImportStatus.SUCCEEDED
    run.refresh_from_db()
    assert (run.status, run.attempts, run.created_count, run.updated_count, run.errors) == (
        ImportStatus.SUCCEEDED,
        1,
        20,
        0,
        [],
    )
    assert Lesson.objects.count() == 20
    assert import_audits(run) == 1


def test_a_file_that_kills_every_worker_fails_after_the_last_attempt(world, worker):
    run, path, _data = stored_as_pipe(world)
    tasks.run_import.delay(run.pk)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        fd = open_pipe_for_writing(path)
        (backend,) = wait_until(
            lambda: holding_advisory_lock(STUDENT_REGISTER_LOCK), "the import's transaction"
        )
        run.refresh_from_db()
        assert (run.status, run.attempts) == (ImportStatus.RUNNING, attempt)
        worker.kill_pool_process()
        os.close(fd)
        wait_until(
            lambda pid=backend: not worker_backends("a.pid = %s", (pid,)), "the session to end", 5
        )
    wait_until(lambda: finished(run), "the run to be given up", 60)
    assert run.status == ImportStatus.FAILED
    assert run.errors == [runs.interrupted_message()]
    assert run.attempts == MAX_ATTEMPTS
    wait_until(lambda: not path.exists(), "the upload to be deleted", 5)
    assert not Lesson.objects.exists()
    assert import_audits(run) == 0
