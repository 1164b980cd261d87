"""Shared body of the import_* commands: the same importers the upload page uses."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attendance.imports.jobs import run_import
from attendance.models import ImportRun, ImportStatus
from sst.models import Municipality, School


class ImportCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", type=Path)
        parser.add_argument("--school", help="Only accept rows of this skolenhetskod.")
        parser.add_argument("--municipality", help="Municipality code (school register only).")

    def handle(self, *args: object, **options: object) -> None:
        path = options["file"]
        assert isinstance(path, Path)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        size, limit_mb = path.stat().st_size, settings.IMPORT_MAX_UPLOAD_MB
        if size > limit_mb * 1024 * 1024:
            raise CommandError(
                f"The file is {size / 1024**2:.0f} MB; the limit is {limit_mb} MB "
                "(IMPORT_MAX_UPLOAD_MB). Nothing was imported."
            )
        scope = None
        if options["school"]:
            scope = School.objects.filter(unit_code=options["school"]).first()
            if scope is None:
                raise CommandError("Unknown school unit code")
        municipality = None
        if options["municipality"]:
            municipality = Municipality.objects.filter(code=options["municipality"]).first()
        elif self.kind == "schools":
            if Municipality.objects.count() != 1:
                raise CommandError("Name the municipality with --municipality CODE")
            municipality = Municipality.objects.get()
        run = ImportRun.objects.create(
            kind=self.kind,
            file_name=path.name[:255],
            file_size=path.stat().st_size,
            school_scope=scope,
        )
        with path.open("rb") as stream:
            run_import(run, stream, municipality=municipality)
        if run.status == ImportStatus.FAILED:
            for line in run.errors:
                self.stderr.write(line)
            raise CommandError("The file was refused; nothing was imported.")
        for line in run.warnings:
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.rows_total} rows: {run.created_count} added, {run.updated_count} updated."
            )
        )
