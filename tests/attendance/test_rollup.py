"""The monthly rollup against hand-computed fixtures, and running it twice or at once."""

from __future__ import annotations

import datetime
import io
import threading
import time
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from attendance import notices, rollup, staircase, tasks
from attendance.imports import lessons
from attendance.models import Alert, AlertRecipient, Lesson, MonthlyAbsence
from attendance.rollup import rollup_month
from attendance.services import absence_month_refresh
from attendance.staircase import evaluate_month

from .lessons import INVALID, LATE, VALID, lesson, month_absence, school_day

SEP = datetime.date(2025, 9, 1)
OCT = datetime.date(2025, 10, 1)
NOV = datetime.date(2025, 11, 1)


def row(student, month=OCT) -> MonthlyAbsence:
    return MonthlyAbsence.objects.get(student=student, month=month)


def figures(student, month=OCT) -> tuple[int, int, int, int, int]:
    r = row(student, month)
    return (r.scheduled_min, r.valid_min, r.invalid_min, r.late_count, r.lesson_count)


def table() -> list[tuple[object, ...]]:
    """Every monthly row, without the time it was computed."""
    return list(
        MonthlyAbsence.objects.order_by("student_id", "month").values_list(
            "student_id",
            "month",
            "scheduled_min",
            "valid_min",
            "invalid_min",
            "late_count",
            "lesson_count",
            "step",
        )
    )


def alert_keys() -> list[tuple[object, ...]]:
    return sorted(
        Alert.objects.values_list(
            "student_id", "rule", "period_start", "period_end", "value_pct", "value_count"
        )
    )


# ---------------------------------------------------------------- hand-computed figures


def test_valid_invalid_and_late_minutes_are_summed_by_type(world):
    s = world.student_a1
    day = datetime.date(2025, 10, 6)
    lesson(s, day, "08:00")  # present, 60
    lesson(s, day, "09:00")  # present, 60
    lesson(s, day, "10:00")  # present, 60
    lesson(s, day, "11:00", kind=VALID)  # 60 valid
    lesson(s, day, "13:00", absent=40, kind=INVALID)  # 40 of 60 invalid
    lesson(s, day, "14:00", absent=10, kind=LATE)  # 10 late → invalid, 1 late arrival
    lesson(s, day, "15:00", minutes=45, absent=5, kind=LATE)  # 5 late → invalid

    assert rollup_month(OCT) == 1
    r = row(s)
    assert figures(s) == (405, 60, 55, 2, 7)
    assert r.absent_min == 115
    assert r.absent_pct == Decimal("28.4")  # 115 / 405 = 28.395…
    assert r.valid_pct == Decimal("14.8")  # 60 / 405 = 14.81…
    assert r.invalid_pct == Decimal("13.6")  # 55 / 405 = 13.58…
    assert r.step == 0  # the rollup only counts; the staircase sets steps
    assert r.computed_at is not None


def test_three_of_thirty_lessons_of_an_hour_is_exactly_ten_percent(world):
    month_absence(world.student_a1, OCT, scheduled=30 * 60, absent=3 * 60, lesson_min=60)
    rollup_month(OCT)
    r = row(world.student_a1)
    assert figures(world.student_a1) == (1800, 0, 180, 0, 30)
    assert r.absent_pct == Decimal("10.0")
    evaluate_month(OCT)
    assert row(world.student_a1).step == 2  # "at least 10 %"


def test_valid_absence_is_kept_apart_from_invalid(world):
    month_absence(world.student_a1, OCT, scheduled=1000, absent=150, kind=VALID)
    rollup_month(OCT)
    r = row(world.student_a1)
    assert (r.valid_min, r.invalid_min) == (150, 0)
    assert (r.valid_pct, r.invalid_pct, r.absent_pct) == (
        Decimal("15.0"),
        Decimal("0.0"),
        Decimal("15.0"),
    )


def test_lessons_on_either_side_of_a_month_boundary_land_in_their_own_month(world):
    s = world.student_a1
    lesson(s, "2025-09-30", "08:00", kind=INVALID)
    lesson(s, "2025-10-01", "08:00", minutes=40)
    lesson(s, "2025-10-31", "08:00", minutes=50, absent=50, kind=VALID)
    lesson(s, "2025-11-01", "08:00", minutes=30, kind=INVALID)

    assert rollup_month(OCT) == 1
    assert figures(s, OCT) == (90, 50, 0, 0, 2)
    assert not MonthlyAbsence.objects.exclude(month=OCT).exists()  # only the month asked for

    rollup_month(SEP)
    rollup_month(NOV)
    assert figures(s, SEP) == (60, 0, 60, 0, 1)
    assert figures(s, NOV) == (30, 0, 30, 0, 1)
    assert MonthlyAbsence.objects.count() == 3


def test_month_is_given_by_any_day_in_it(world):
    lesson(world.student_a1, "2025-10-15", kind=INVALID)
    rollup_month(datetime.date(2025, 10, 23))
    assert list(MonthlyAbsence.objects.values_list("month", flat=True)) == [OCT]
    assert rollup.month_start("2025-10") == OCT


def test_a_student_who_changes_school_mid_month_has_one_row_with_all_lessons(world):
    s = world.student_a2
    for day in ("2025-10-06", "2025-10-07"):
        school_day(s, day, lessons=2, kind=INVALID, absent_lessons=1, school=world.school_a)
    s.school, s.mentor_group = world.school_b, world.group_b1
    s.save()
    for day in ("2025-10-20", "2025-10-21", "2025-10-22"):
        school_day(s, day, lessons=2, kind=VALID, absent_lessons=1, school=world.school_b)
    assert set(Lesson.objects.filter(student=s).values_list("school_id", flat=True)) == {
        world.school_a.pk,
        world.school_b.pk,
    }

    rollup_month(OCT)
    assert MonthlyAbsence.objects.filter(student=s).count() == 1
    assert figures(s) == (600, 180, 120, 0, 10)
    assert row(s).absent_pct == Decimal("50.0")


def test_a_month_keeps_the_school_and_grade_it_had_once_it_is_over(world):
    """While the month runs its row follows the register; once it is over a move or a new
    grade leaves the row where it was, also when late lessons change its figures."""
    s = world.student_a2  # grade 7 at school A
    stockholm = zoneinfo.ZoneInfo("Europe/Stockholm")

    def place(month: datetime.date = OCT) -> tuple[int, str]:
        r = row(s, month)
        return (r.school_id, r.grade)

    def register(school, group, grade: str) -> None:
        s.school, s.mentor_group, s.grade = school, group, grade
        s.save()

    with time_machine.travel(datetime.datetime(2025, 10, 20, 12, tzinfo=stockholm)):
        school_day(s, "2025-10-06", kind=INVALID, absent_lessons=1, school=world.school_a)
        rollup_month(OCT)
        assert place() == (world.school_a.pk, "7")
        register(world.school_b, world.group_b1, "8")  # a correction while October runs
        rollup_month(OCT)  # the same figures, yet the row follows the register
        assert place() == (world.school_b.pk, "8")
        register(world.school_a, world.group_a2, "7")
        rollup_month(OCT)
        assert place() == (world.school_a.pk, "7")

    with time_machine.travel(datetime.datetime(2026, 1, 12, 12, tzinfo=stockholm)):
        register(world.school_b, world.group_b1, "8")
        school_day(s, "2025-10-08", kind=VALID, absent_lessons=1, school=world.school_a)
        rollup_month(OCT)  # late October lessons: new figures, the same place
        assert figures(s)[:3] == (240, 60, 60)
        assert place() == (world.school_a.pk, "7")
        school_day(s, "2026-01-12", school=world.school_b)
        january = datetime.date(2026, 1, 1)
        rollup_month(january)
        assert place(january) == (world.school_b.pk, "8")


def test_students_without_lessons_get_no_row(world):
    month_absence(world.student_a1, OCT, scheduled=200, absent=0)
    lesson(world.student_a2, "2025-09-15")  # lessons, but in another month
    assert rollup_month(OCT) == 1
    assert list(MonthlyAbsence.objects.values_list("student_id", flat=True)) == [
        world.student_a1.pk
    ]


def test_a_month_without_lessons_writes_nothing(world):
    lesson(world.student_a1, "2025-10-15", kind=INVALID)
    assert rollup_month(datetime.date(2025, 7, 1)) == 0
    assert not MonthlyAbsence.objects.filter(month=datetime.date(2025, 7, 1)).exists()


def test_rollup_again_after_a_correction_updates_the_same_row(world):
    s = world.student_a1
    month_absence(s, OCT, scheduled=1000, absent=250)
    rollup_month(OCT)
    evaluate_month(OCT)
    assert (row(s).invalid_min, row(s).step) == (250, 4)
    first = row(s)

    Lesson.objects.filter(student=s, absence_type=INVALID).update(absence_type=VALID)
    lesson(s, "2025-10-30", "08:00", minutes=300)
    assert rollup_month(OCT) == 1
    again = row(s)
    assert again.pk == first.pk
    assert figures(s) == (1300, 250, 0, 0, 11)
    assert again.computed_at >= first.computed_at
    assert again.step == 4  # kept until the staircase runs again …
    evaluate_month(OCT)
    assert row(s).step == 3  # … which uses the new figures: 250 / 1300 = 19.2 %


def test_a_rerun_rewrites_only_the_rows_whose_figures_changed(world):
    """The nightly re-run of a month leaves untouched rows alone (no write, no dead row)."""
    a1, a2 = world.student_a1, world.student_a2
    month_absence(a1, OCT, scheduled=1000, absent=100)
    month_absence(a2, OCT, scheduled=1000, absent=0)
    assert rollup_month(OCT) == 2
    first = {r.student_id: r.computed_at for r in MonthlyAbsence.objects.all()}

    lesson(a2, "2025-10-30", "08:00", minutes=60, kind=INVALID)
    assert rollup_month(OCT) == 2
    again = {r.student_id: r.computed_at for r in MonthlyAbsence.objects.all()}
    assert again[a1.pk] == first[a1.pk]  # same figures: not written
    assert again[a2.pk] > first[a2.pk]
    assert figures(a2) == (1060, 0, 60, 0, 11)


# ---------------------------------------------------------------- idempotence


_TYPES_SV = {"": "", VALID: "giltig", INVALID: "ogiltig", LATE: "sen"}
HEADER = (
    "personnummer;skolenhetskod;datum;starttid;sluttid;amne;schemalagd_min;franvaro_min;franvarotyp"
)


def attendance_csv(plan: list[tuple[object, datetime.date, int, int, int]]) -> bytes:
    """CSV lines for (student, month, lessons of 100 min, absent minutes, late arrivals).

    Two lessons per weekday; absent minutes fill whole lessons (invalid), then late
    arrivals of one minute each.
    """
    from .lessons import weekdays

    lines = [HEADER]
    for student, month, count, absent, late in plan:
        slots = [(day, start) for day in weekdays(month) for start in ("08:00", "10:00")]
        for day, start in slots[:count]:
            ends = "09:40" if start == "08:00" else "11:40"
            if absent:
                minutes, kind = min(absent, 100), INVALID
                absent -= minutes
            elif late:
                minutes, kind = 1, LATE
                late -= 1
            else:
                minutes, kind = 0, ""
            lines.append(
                f"{student.personnummer.value};{student.school.unit_code};{day.isoformat()};"
                f"{start};{ends};Svenska;100;{minutes};{_TYPES_SV[kind]}"
            )
    return ("\n".join(lines) + "\n").encode("utf-8")


def recipients() -> list[tuple[object, ...]]:
    return sorted(
        AlertRecipient.objects.values_list(
            "alert__student_id", "alert__rule", "alert__period_start", "user_id", "role"
        )
    )


def test_import_rollup_and_evaluate_twice_change_nothing(world):
    data = attendance_csv(
        [
            (world.student_a1, SEP, 10, 300, 0),  # 30 %
            (world.student_a1, OCT, 10, 250, 5),  # 25.5 %, five late arrivals
            (world.student_a2, OCT, 10, 120, 0),  # 12 %
            (world.student_b1, OCT, 20, 320, 0),  # 16 %
        ]
    )
    first = lessons.import_attendance(io.BytesIO(data), by=None)
    assert (first.rows, first.created, first.updated) == (50, 50, 0)
    assert first.months == {SEP, OCT}

    def refresh_all() -> None:
        for month in sorted(first.months):
            rollup_month(month)
            evaluate_month(month)

    refresh_all()
    rows, alerts, people = table(), alert_keys(), recipients()
    a1, a2, b1 = world.student_a1.pk, world.student_a2.pk, world.student_b1.pk
    assert [r[:8] for r in rows] == [
        (a1, SEP, 1000, 0, 300, 0, 10, 4),
        (a1, OCT, 1000, 0, 255, 5, 10, 4),
        (a2, OCT, 1000, 0, 120, 0, 10, 2),
        (b1, OCT, 2000, 0, 320, 0, 20, 3),
    ]
    # A first month at step 3 or 4 brings the lower steps' alerts too (issue 9, "continued").
    assert {(a[0], a[1], a[2]) for a in alerts} == {
        (a1, "step_2", SEP),
        (a1, "step_3", SEP),
        (a1, "step_4", SEP),
        (a1, "step_4", OCT),
        (a1, "two_months", SEP),
        (a1, "late", OCT),
        (a2, "step_2", OCT),
        (b1, "step_2", OCT),
        (b1, "step_3", OCT),
    }
    assert len(people) > 0

    again = lessons.import_attendance(io.BytesIO(data), by=None)
    assert (again.rows, again.created, again.updated) == (50, 0, 50)
    assert Lesson.objects.count() == 50
    refresh_all()
    refresh_all()
    assert table() == rows
    assert alert_keys() == alerts
    assert recipients() == people
    assert Alert.objects.count() == 9


def test_refresh_service_is_idempotent(world):
    month_absence(world.student_a1, OCT, scheduled=1000, absent=420)  # 42 %
    first = absence_month_refresh(month=OCT)
    # Steps 2, 3 (entered at 4, the lower steps' work too), 4 and the single month.
    assert first == {"rows": 1, "hits": 4, "new_alerts": 4}
    second = absence_month_refresh(month=OCT)
    assert second == {"rows": 1, "hits": 4, "new_alerts": 0}
    assert Alert.objects.count() == 4


# ---------------------------------------------------------------- concurrently, on PostgreSQL


def _at_once(workers: int, work) -> list[object]:
    """Run ``work`` in ``workers`` threads released together; each closes its connection."""
    barrier = threading.Barrier(workers)
    results: list[object] = [None] * workers
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=20)
            results[index] = work()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    assert not errors, errors
    return results


def _three_students(world) -> None:
    month_absence(world.student_a1, OCT, scheduled=1000, absent=250, late=5)  # 25.5 %, 5 late
    month_absence(world.student_a2, OCT, scheduled=1000, absent=120)  # 12 %
    month_absence(world.student_b1, OCT, scheduled=2000, absent=320)  # 16 %


# a1 and b1 enter at step 4 and 3, so the lower steps' alerts come too (issue 9, "continued").
EXPECTED_ALERTS = {
    ("a1", "step_2"),
    ("a1", "step_3"),
    ("a1", "step_4"),
    ("a1", "late"),
    ("a2", "step_2"),
    ("b1", "step_2"),
    ("b1", "step_3"),
}


def _named_alerts(world) -> list[tuple[str, str, datetime.date]]:
    names = {world.student_a1.pk: "a1", world.student_a2.pk: "a2", world.student_b1.pk: "b1"}
    return sorted(
        (names[s], rule, start)
        for s, rule, start in Alert.objects.values_list("student_id", "rule", "period_start")
    )


def test_concurrent_rollups_write_each_row_once(world, on_postgres, transactional_db):
    _three_students(world)
    expected = [
        (world.student_a1.pk, OCT, 1000, 0, 255, 5, 10, 0),
        (world.student_a2.pk, OCT, 1000, 0, 120, 0, 10, 0),
        (world.student_b1.pk, OCT, 2000, 0, 320, 0, 20, 0),
    ]
    for _round in range(5):
        MonthlyAbsence.objects.all().delete()
        assert _at_once(4, lambda: rollup_month(OCT)) == [3, 3, 3, 3]
        assert table() == expected


def test_concurrent_refreshes_make_one_alert_per_student_rule_and_period(
    world, on_postgres, transactional_db, mailoutbox, monkeypatch
):
    _three_students(world)
    for user in (world.principal_a, world.mentor_a1, world.counsellor_b):
        user.email = f"{user.username}@example.se"
        user.save(update_fields=["email"])
    # The notices task runs in the thread that committed the alerts, as a worker would.
    monkeypatch.setattr(tasks.send_alert_notices, "delay", notices.send_alert_notices)

    for _round in range(4):
        Alert.objects.all().delete()
        MonthlyAbsence.objects.all().delete()
        mailoutbox.clear()
        results = _at_once(2, lambda: absence_month_refresh(month=OCT))
        assert [r["rows"] for r in results] == [3, 3]
        assert [r["hits"] for r in results] == [7, 7]
        assert _named_alerts(world) == sorted((n, rule, OCT) for n, rule in EXPECTED_ALERTS)
        assert [r[7] for r in table()] == [4, 2, 3]
        assert recipients() == sorted(
            [
                # Each person alerted gets their own task (issue 9); a2 and b1 have no mentor
                # and school B no principal in this world.
                (world.student_a1.pk, "late", OCT, world.mentor_a1.pk, "mentor"),
                (world.student_a1.pk, "step_2", OCT, world.mentor_a1.pk, "mentor"),
                (world.student_a1.pk, "step_3", OCT, world.mentor_a1.pk, "mentor"),
                (world.student_a1.pk, "step_3", OCT, world.counsellor_a.pk, "counsellor"),
                (world.student_a1.pk, "step_3", OCT, world.principal_a.pk, "principal"),
                (world.student_a1.pk, "step_3", OCT, world.nurse_a.pk, "school_nurse"),
                (world.student_a1.pk, "step_4", OCT, world.principal_a.pk, "principal"),
                (world.student_b1.pk, "step_3", OCT, world.counsellor_b.pk, "counsellor"),
            ]
        )
        # One e-mail per person, however many threads tried to send.
        assert sorted(m.to[0] for m in mailoutbox) == [
            "counsellor_b@example.se",
            "mentor_a1@example.se",
            "principal_a@example.se",
        ]
        assert (
            not AlertRecipient.objects.filter(notified_at__isnull=True)
            .exclude(user__email="")
            .exists()
        )


def test_concurrent_evaluations_alone_make_one_alert_each(
    world, on_postgres, transactional_db, monkeypatch
):
    _three_students(world)
    monkeypatch.setattr(tasks.send_alert_notices, "delay", notices.send_alert_notices)
    rollup_month(OCT)
    for _round in range(5):
        Alert.objects.all().delete()
        _at_once(3, lambda: staircase.evaluate_month(OCT))
        assert _named_alerts(world) == sorted((n, rule, OCT) for n, rule in EXPECTED_ALERTS)
        assert AlertRecipient.objects.count() == 8  # as in the test above


def test_rollups_and_evaluations_at_once_do_not_deadlock(
    world, on_postgres, transactional_db, monkeypatch
):
    """The nightly task and an import's refresh may run the same month together.

    The rollup's upsert and the staircase's step update lock the same rows, in different
    orders: without a common lock PostgreSQL aborts one of them with "deadlock detected".
    """
    from tests.factories import StudentFactory

    monkeypatch.setattr(tasks.send_alert_notices, "delay", lambda: None)
    groups = [world.group_a1, world.group_a2, world.group_b1]
    students = [StudentFactory(mentor_group=groups[n % 3]) for n in range(240)]
    Lesson.objects.bulk_create(
        Lesson(
            student=s,
            school=s.school,
            date=datetime.date(2025, 10, day),
            start_time=datetime.time(8),
            end_time=datetime.time(9),
            scheduled_min=60,
            absent_min=60 if (n + day) % 6 == 0 else 0,
            absence_type=INVALID if (n + day) % 6 == 0 else "",
        )
        for n, s in enumerate(students)
        for day in range(1, 21)
    )
    # Rows stored in the reverse of the rollup's order, so the step update meets them the
    # other way round.
    MonthlyAbsence.objects.bulk_create(
        MonthlyAbsence(
            student=s,
            month=OCT,
            school_id=s.school_id,
            grade=s.grade,
            scheduled_min=1,
            computed_at=timezone.now(),
        )
        for s in reversed(students)
    )
    for _round in range(8):
        Alert.objects.all().delete()
        steps = iter([rollup_month, evaluate_month] * 2)
        taking = threading.Lock()

        def one(steps=steps, taking=taking) -> object:
            with taking:
                step = next(steps)
            return step(OCT)

        _at_once(4, one)
    absence_month_refresh(month=OCT)
    assert MonthlyAbsence.objects.filter(month=OCT).count() == 240
    # (n + day) % 6 == 0 on 3 or 4 of 20 days: 15 % or 20 %, steps 3 only.
    assert set(MonthlyAbsence.objects.values_list("step", flat=True)) == {3}


# ---------------------------------------------------------------- the tasks and their schedule


def test_beat_runs_the_rollup_nightly_and_closes_the_month_on_the_first():
    from sst.celery import app

    nightly = app.conf.beat_schedule["rollup-current-month-nightly"]
    assert nightly["task"] == "attendance.tasks.rollup_and_evaluate"
    assert nightly["task"] == tasks.rollup_and_evaluate.name
    assert nightly["schedule"].hour == {1} and nightly["schedule"].minute == {0}
    assert nightly["schedule"].day_of_month == set(range(1, 32))  # every night

    closing = app.conf.beat_schedule["close-previous-month"]
    assert closing["task"] == "attendance.tasks.close_previous_month"
    assert closing["task"] == tasks.close_previous_month.name
    assert closing["schedule"].day_of_month == {1}
    assert closing["schedule"].hour == {1} and closing["schedule"].minute == {30}


def test_close_previous_month_refreshes_the_month_that_just_ended(world):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    month_absence(world.student_a1, last_month, absent=250)
    month_absence(world.student_a2, this_month, absent=150, scheduled=200)  # not this task's
    # Entered at step 4: steps 2, 3 and 4.
    assert tasks.close_previous_month() == {"rows": 1, "hits": 3, "new_alerts": 3}
    assert list(MonthlyAbsence.objects.values_list("student_id", "month", "step")) == [
        (world.student_a1.pk, last_month, 4)
    ]


def test_the_nightly_task_refreshes_the_current_month_by_default(world):
    this_month = timezone.localdate().replace(day=1)
    month_absence(world.student_a1, this_month, absent=120, scheduled=1000)
    assert tasks.rollup_and_evaluate() == {"rows": 1, "hits": 1, "new_alerts": 1}
    assert row(world.student_a1, this_month).step == 2
    assert tasks.rollup_and_evaluate("2025-10-01") == {"rows": 0, "hits": 0, "new_alerts": 0}


@pytest.fixture
def celery_worker_on_redis(transactional_db):
    """A real worker on the Redis broker, in this process (as tests/sst/test_tasks.py)."""
    import os

    from django.conf import settings as django_settings

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


# One real worker on the broker at a time (tests/attendance/test_worker_crash.py).
@pytest.mark.xdist_group("celery-broker")
def test_real_worker_runs_the_rollup_and_the_notices(world, celery_worker_on_redis, mailoutbox):
    import time

    world.principal_a.email = "principal_a@example.se"
    world.principal_a.save(update_fields=["email"])
    month_absence(world.student_a1, OCT, absent=250)  # 25 %: step 4
    month_absence(world.student_b1, OCT, absent=50)  # 5 %: no step

    result = tasks.rollup_and_evaluate.delay("2025-10-01")
    # Entered at step 4: the lower steps' alerts too (issue 9).
    assert result.get(timeout=60) == {"rows": 2, "hits": 3, "new_alerts": 3}
    assert table() == [
        (world.student_a1.pk, OCT, 1000, 0, 250, 0, 10, 4),
        (world.student_b1.pk, OCT, 1000, 0, 50, 0, 10, 0),
    ]
    assert sorted(Alert.objects.values_list("student_id", "rule", "period_start")) == [
        (world.student_a1.pk, "step_2", OCT),
        (world.student_a1.pk, "step_3", OCT),
        (world.student_a1.pk, "step_4", OCT),
    ]
    # The evaluation queued the notices task on commit; the same worker sends them.
    deadline = time.monotonic() + 30
    while AlertRecipient.objects.filter(notified_at__isnull=True).exclude(user__email="").exists():
        assert time.monotonic() < deadline, "the worker did not send the notice"
        time.sleep(0.2)
    assert [m.to for m in mailoutbox] == [["principal_a@example.se"]]

    again = tasks.rollup_and_evaluate.delay("2025-10-01")
    assert again.get(timeout=60) == {"rows": 2, "hits": 3, "new_alerts": 0}
    assert Alert.objects.count() == 3


def test_deleting_a_student_waits_for_a_running_rollup_and_leaves_no_rows(
    world, on_postgres, transactional_db
):
    """Monthly rows and lessons have no foreign-key constraint in the database (per-row
    checks cost a fifth of the rollup): the student-register lock keeps them from outliving
    their student. Without it, a rollup committing after the deletion's cascade had run
    would leave a monthly row for a student who is gone."""
    _three_students(world)
    student_id = world.student_a1.pk
    rolled_up, release = threading.Event(), threading.Event()

    def rollup_held_open() -> None:
        from django.db import transaction

        with transaction.atomic():
            rollup_month(OCT)
            rolled_up.set()
            assert release.wait(timeout=20)

    def delete_student() -> None:
        assert rolled_up.wait(timeout=20)
        world.student_a1.delete()

    def waiting_for_advisory_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            return cursor.fetchone()[0] == 1

    def release_when_the_deletion_waits() -> None:
        assert rolled_up.wait(timeout=20)
        deadline = time.monotonic() + 20
        while not waiting_for_advisory_lock():
            assert time.monotonic() < deadline, "the deletion never waited for the rollup"
            time.sleep(0.02)
        release.set()

    workers = [rollup_held_open, delete_student, release_when_the_deletion_waits]
    _at_once(3, lambda: workers.pop()())
    assert not MonthlyAbsence.objects.filter(student_id=student_id).exists()
    assert not Lesson.objects.filter(student_id=student_id).exists()
    assert MonthlyAbsence.objects.count() == 2  # the other students' rows stay


def test_a_refresh_with_unchanged_lessons_rewrites_no_monthly_row(world, on_postgres):
    """Rollup and steps write only what changed: no dead rows, statistics stay true."""
    _three_students(world)
    absence_month_refresh(month=OCT)

    def row_versions() -> list[tuple[int, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, xmin::text FROM attendance_monthlyabsence ORDER BY id")
            return list(cursor.fetchall())

    before = row_versions()
    assert len(before) == 3
    absence_month_refresh(month=OCT)
    assert row_versions() == before
    lesson(world.student_b1, "2025-10-31", "15:00", minutes=60, kind=INVALID)
    absence_month_refresh(month=OCT)
    changed = {row_id for row_id, _version in set(row_versions()) - set(before)}
    assert changed == {MonthlyAbsence.objects.get(student=world.student_b1).pk}
