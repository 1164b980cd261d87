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
        "groups, students with guardians, one demo user per role and place, and what each app "
        "adds (lesson attendance, the school's steps). Idempotent. "
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
            "--readme",
            action="store_true",
            help="Print the README section on the demo users instead of seeding.",
        )
        for part in demo.registered_parts():
            if part.add_arguments is not None:
                part.add_arguments(parser)

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
        parts = demo.registered_parts()
        for part in parts:
            if part.check_options is not None:
                part.check_options(options)
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
        # Each app's part, in app order (lessons, then the school's steps that build on them).
        run = demo.DemoRun(total=total, options=options)
        for part in parts:
            with _quiet(options["verbosity"] < 2, "sst.audit", "celery", "kombu"):
                lines = part.seed(run)
            for line in lines:
                self.stdout.write(self.style.SUCCESS(line.text) if line.success else line.text)
        self.stdout.write(
            f"Password for every demo user: {demo.DEMO_PASSWORD}. "
            "Administrators' codes: manage.py demo_totp USERNAME. See README.md."
        )
