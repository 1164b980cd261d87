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
def _quiet(logger_name: str, enabled: bool) -> Iterator[None]:
    """Keep the audit trail's log echo (one line per write) out of the command's output."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    if enabled:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


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
        with _quiet("sst.audit", options["verbosity"] < 2):
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
        self.stdout.write(
            f"Password for every demo user: {demo.DEMO_PASSWORD}. "
            "Administrators' codes: manage.py demo_totp USERNAME. See README.md."
        )
