"""Fill the database with the fictitious demo municipality (see sst/demo.py and README)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sst import demo


@contextmanager
def _quiet(enabled: bool, *logger_names: str) -> Iterator[None]:
    """Keep log echo out of the command's output: the audit trail's (one line per write),
    and Celery's task lines when alerts queue their (in-process) e-mail notice task."""
    loggers = [logging.getLogger(name) for name in logger_names]
    previous = [logger.level for logger in loggers]
    if enabled:
        for logger in loggers:
            logger.setLevel(logging.WARNING + 10 * (logger.name == "kombu"))
    try:
        yield
    finally:
        for logger, level in zip(loggers, previous, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Create or refresh fictitious demo data: a municipality, districts, schools, mentor "
        "groups, students with guardians, and one demo user per role and place. Idempotent. "
        "Refuses to run in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--students",
            type=int,
            default=demo.DEFAULT_STUDENTS,
            help=f"How many students in total (default {demo.DEFAULT_STUDENTS}).",
        )
        parser.add_argument(
            "--no-attendance",
            action="store_true",
            help="Skip lesson attendance (by default the term so far is generated and imported).",
        )
        parser.add_argument(
            "--attendance-days",
            type=int,
            default=demo.MAX_ATTENDANCE_DAYS,
            help=(
                "At most this many school days of attendance, the most recent "
                f"(default {demo.MAX_ATTENDANCE_DAYS}: the whole term so far)."
            ),
        )
        parser.add_argument(
            "--readme",
            action="store_true",
            help="Print the README section on the demo users instead of seeding.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Read at call time, before anything touches the database.
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo refuses to run in production (SST_ENVIRONMENT=production): "
                "demo data must never be mixed with real data."
            )
        if options["readme"]:
            self.stdout.write(demo.readme_region())
            return
        total = options["students"]
        if total < 0:
            raise CommandError("--students must be zero or more.")
        if options["attendance_days"] < 1:
            raise CommandError("--attendance-days must be one or more.")
        with _quiet(options["verbosity"] < 2, "sst.audit"):
            result = demo.seed(total)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data for {demo.MUNICIPALITY_NAME}: "
                f"{result.schools} schools, {result.groups} mentor groups, "
                f"{result.students} students ({result.students_created} new), "
                f"{result.guardians} guardians, "
                f"{result.users} demo users ({result.users_created} new) with "
                f"{result.memberships} role memberships ({result.memberships_created} new), "
                f"{result.totp_devices} TOTP devices."
            )
        )
        if not options["no_attendance"] and total:
            with _quiet(options["verbosity"] < 2, "sst.audit", "celery", "kombu"):
                attendance = demo.seed_attendance(total, max_days=options["attendance_days"])
            self._report_attendance(attendance)
            if attendance.days:
                with _quiet(options["verbosity"] < 2, "sst.audit", "celery", "kombu"):
                    steps = demo.seed_school_steps()
                self._report_steps(steps)
        self.stdout.write(
            f"Password for every demo user: {demo.DEMO_PASSWORD}. "
            "Administrators' codes: manage.py demo_totp USERNAME. See README.md."
        )

    def _report_attendance(self, result: demo.AttendanceResult) -> None:
        if not result.days:
            self.stdout.write("Lesson attendance: no school days yet this term.")
            return
        months = ", ".join(f"{m:%Y-%m}" for m in result.months)
        steps = result.steps
        seconds = sum(result.seconds.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Lesson attendance: {result.days} school days "
                f"({result.first_day} – {result.last_day}), {result.rows} lessons imported "
                f"({result.created} new, {result.updated} updated) in {seconds:.0f} s; "
                f"{result.lessons} lessons in all; months refreshed: {months}; "
                f"{result.alerts} absence alerts. {result.months[-1]:%Y-%m}: "
                f"{steps.get(2, 0)} students on step 2, {steps.get(3, 0)} on step 3, "
                f"{steps.get(4, 0)} on step 4."
            )
        )
        if result.shortened_from:
            self.stdout.write(
                f"The term so far has {result.shortened_from} school days; only the last "
                f"{result.days} were generated (--attendance-days)."
            )

    def _report_steps(self, steps: demo.StepsResult) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"School steps: {steps.cases} cases, {steps.checklists} mentor checklists "
                f"({steps.reported} reported to the EHT), {steps.meetings} EHT meetings, "
                f"{steps.decisions} EHT decisions, {steps.mappings} school-social mappings, "
                f"{steps.offered_times} offered times, {steps.health_talks} health talks, "
                f"{steps.notes} notes, {steps.escalations} step-4 reports."
            )
        )
