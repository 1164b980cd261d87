"""``manage.py term_report``: the term report as a PDF, CSV files or an XLSX workbook.

For an operator (no user signs in): the scope is named as on the report page, the file
holds aggregated figures only, and the generation is audited as the command's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from reports import outputs
from reports.scope import parse_scope
from reports.term_report import build_term_report
from reports.terms import parse_term
from sst import audit

FORMATS = ("pdf", "csv", "xlsx")


def _message(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


class Command(BaseCommand):
    help = (
        "Write the term report for a term and a scope: a PDF (the default), the tables as CSV "
        "files in a directory (--format csv: one <table>.csv per table, ';'-separated, UTF-8, "
        "decimal comma, suppressed cells '< 5') or an XLSX workbook (--format xlsx). "
        "Aggregated figures only, with the small-count rule applied; the generation is audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--term", required=True, help="HT2025 or VT2026")
        parser.add_argument(
            "--scope",
            required=True,
            help="municipality (or municipality:<id>), district:<name or id> or "
            "school:<8-digit school unit code>",
        )
        parser.add_argument(
            "--out",
            required=True,
            help="The file to write (pdf, xlsx) or the directory to write the CSV files into",
        )
        parser.add_argument("--format", choices=FORMATS, default="pdf", dest="fmt")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            self._write(
                term_code=str(options["term"]),
                scope_text=str(options["scope"]),
                out=Path(str(options["out"])),
                fmt=str(options["fmt"]),
            )

    def _write(self, *, term_code: str, scope_text: str, out: Path, fmt: str) -> None:
        try:
            scope = parse_scope(scope_text)
            term = parse_term(term_code, municipality_id=scope.municipality_id)
        except ValidationError as error:
            raise CommandError(_message(error)) from None
        if fmt != "csv" and out.is_dir():
            raise CommandError(f"{out} is a directory: give the file to write.")
        if fmt == "csv" and out.exists() and not out.is_dir():
            raise CommandError(f"{out} is a file: give the directory to write the CSV files to.")

        report = build_term_report(scope, term)
        # Everything is rendered before anything is written: a failure leaves no file.
        if fmt == "csv":
            files = outputs.write_csv_dir(report, out)
            written = ", ".join(str(path) for path in files)
        else:
            body = (
                outputs.term_report_pdf(report)
                if fmt == "pdf"
                else outputs.term_report_xlsx(report)
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(body)
            written = str(out)
        audit.record(
            user=None,
            username="manage.py term_report",
            action=audit.AuditAction.EXPORT,
            object_type=audit.AuditObjectType.TERM_REPORT,
            object_id=scope.key,
            detail={"term": term.code, "scope": scope.key, "format": fmt},
        )
        self.stdout.write(f"{report.title}: {written}")
