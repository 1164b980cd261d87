"""Demo lesson attendance for the term so far, contributed to ``manage.py seed_demo``.

The lessons are written by ``attendance.generator`` as the attendance system's CSV and loaded
through the real attendance import, then each month is rolled up and evaluated, so the
absence pages, steps and alerts of the demo come from the same code path as real data.
Registered in ``AttendanceConfig.ready`` (``sst.demo.register``); runs after the core's
organisation and people, before the school's steps (``cases.demo``).
"""

from __future__ import annotations

import datetime
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from sst import demo
from sst.models import Role

from . import generator
from .imports.lessons import import_attendance
from .models import Alert, AlertRecipient, Lesson, MonthlyAbsence
from .services import absence_month_refresh

ATTENDANCE_SEED = demo.DEMO_SEED + 2
MIN_ATTENDANCE_DAYS = 20  # a young term reaches back into the last one: a month to look at
MAX_ATTENDANCE_DAYS = 100  # about a whole term; --attendance-days sets fewer


@dataclass
class AttendanceResult:
    days: int = 0
    first_day: datetime.date | None = None
    last_day: datetime.date | None = None
    shortened_from: int = 0  # school days in the period before --attendance-days cut it
    rows: int = 0
    created: int = 0
    updated: int = 0
    months: list[datetime.date] = field(default_factory=list)
    lessons: int = 0
    alerts: int = 0
    steps: dict[int, int] = field(default_factory=dict)  # the last month's step → students
    seconds: dict[str, float] = field(default_factory=dict)


def attendance_days(
    today: datetime.date, max_days: int = MAX_ATTENDANCE_DAYS
) -> tuple[list[datetime.date], int]:
    """The demo's school days: the term so far (before today), at most ``max_days`` of them.

    Returns the days and how many the period had before it was cut (0 when it was not).
    """
    days = generator.term_so_far(today, min_days=MIN_ATTENDANCE_DAYS)
    if len(days) > max_days:
        return days[-max_days:], len(days)
    return days, 0


def featured_groups(total: int) -> list[range]:
    """Student positions in each demo mentor's group, the first demo mentor's group first.

    The generator gives the cast (steps 2–4, the absence patterns) to these students first,
    so every mentor's desk has something to act on.
    """
    groups = demo.all_groups()
    position = {f"{school.key}/{name}": index for index, (school, _g, name) in enumerate(groups)}
    places = [
        role.place for user in demo.demo_users() for role in user.roles if role.role == Role.MENTOR
    ]
    return [range(position[place], total, len(groups)) for place in places]


def attendance_students(
    total: int, *, today: datetime.date | None = None
) -> list[generator.GenStudent]:
    codes = {spec.key: spec.unit_code for spec in demo.SCHOOLS}
    students = demo.generate_students(total, today=today)
    profiles = generator.profiles(total, seed=ATTENDANCE_SEED, featured=featured_groups(total))
    return [
        generator.GenStudent(s.personnummer, codes[s.school], s.grade, profile)
        for s, profile in zip(students, profiles, strict=True)
    ]


def seed_attendance(
    total: int = demo.DEFAULT_STUDENTS,
    *,
    today: datetime.date | None = None,
    max_days: int = MAX_ATTENDANCE_DAYS,
) -> AttendanceResult:
    """Lessons for the term so far through the real import, then each month's refresh.

    The generator writes the attendance system's CSV to a temporary file and
    ``import_attendance`` reads it like an uploaded file; the months it touched are rolled
    up and evaluated oldest first, as after a real import. Idempotent: the import upserts
    on (student, date, start time) and alerts are unique per student, rule and period.
    E-mail notices are not sent for demo alerts (they are marked as notified).
    """
    today = today or timezone.localdate()
    result = AttendanceResult()
    days, result.shortened_from = attendance_days(today, max_days)
    if not days or total <= 0:
        return result
    result.days, result.first_day, result.last_day = len(days), days[0], days[-1]
    clock = time.perf_counter()
    with tempfile.TemporaryFile() as stream:
        rows = generator.lesson_rows(
            attendance_students(total, today=today), days, seed=ATTENDANCE_SEED
        )
        generator.write_csv(rows, stream)
        stream.seek(0)
        result.seconds["generate"] = time.perf_counter() - clock
        with transaction.atomic():
            clock = time.perf_counter()
            imported = import_attendance(stream, by=None)  # type: ignore[arg-type]
            result.seconds["import"] = time.perf_counter() - clock
            clock = time.perf_counter()
            result.months = sorted(imported.months)
            for month in result.months:  # oldest first: rules look back a month
                absence_month_refresh(month=month)
            AlertRecipient.objects.filter(
                notified_at__isnull=True, alert__student__school__unit_code__in=demo.unit_codes()
            ).update(notified_at=timezone.now())
            result.seconds["refresh"] = time.perf_counter() - clock
    result.rows, result.created, result.updated = imported.rows, imported.created, imported.updated
    in_demo = Q(student__school__unit_code__in=demo.unit_codes())
    result.lessons = Lesson.objects.filter(in_demo).count()
    result.alerts = Alert.objects.filter(in_demo).count()
    last = MonthlyAbsence.objects.filter(in_demo, month=result.months[-1])
    result.steps = {row["step"]: row["n"] for row in last.values("step").annotate(n=Count("pk"))}
    return result


# ---------------------------------------------------------------- seed_demo's part


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--no-attendance",
        action="store_true",
        help="Skip lesson attendance (by default the term so far is generated and imported).",
    )
    parser.add_argument(
        "--attendance-days",
        type=int,
        default=MAX_ATTENDANCE_DAYS,
        help=(
            "At most this many school days of attendance, the most recent "
            f"(default {MAX_ATTENDANCE_DAYS}: the whole term so far)."
        ),
    )


def check_options(options: dict[str, Any]) -> None:
    if options["attendance_days"] < 1:
        raise CommandError("--attendance-days must be one or more.")


def seed_demo_part(run: demo.DemoRun) -> list[demo.DemoLine]:
    """Lessons unless ``--no-attendance`` (or no students); tells later parts the days."""
    if run.options["no_attendance"] or not run.total:
        return []
    result = seed_attendance(run.total, max_days=run.options["attendance_days"])
    run.facts["attendance_days"] = result.days
    return report(result)


def report(result: AttendanceResult) -> list[demo.DemoLine]:
    if not result.days:
        return [demo.DemoLine("Lesson attendance: no school days yet this term.", success=False)]
    months = ", ".join(f"{m:%Y-%m}" for m in result.months)
    steps = result.steps
    seconds = sum(result.seconds.values())
    lines = [
        demo.DemoLine(
            f"Lesson attendance: {result.days} school days "
            f"({result.first_day} – {result.last_day}), {result.rows} lessons imported "
            f"({result.created} new, {result.updated} updated) in {seconds:.0f} s; "
            f"{result.lessons} lessons in all; months refreshed: {months}; "
            f"{result.alerts} absence alerts. {result.months[-1]:%Y-%m}: "
            f"{steps.get(2, 0)} students on step 2, {steps.get(3, 0)} on step 3, "
            f"{steps.get(4, 0)} on step 4."
        )
    ]
    if result.shortened_from:
        lines.append(
            demo.DemoLine(
                f"The term so far has {result.shortened_from} school days; only the last "
                f"{result.days} were generated (--attendance-days).",
                success=False,
            )
        )
    return lines
