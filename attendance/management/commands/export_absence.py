from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from attendance import export
from attendance.rollup import month_start
from sst import audit
from sst.models import School, Student


class Command(BaseCommand):
    help = (
        "Write one month's absence per student as CSV to stdout, for Swedish Excel: "
        "semicolon-separated, CRLF line ends, UTF-8 without byte order mark, percentages "
        "with one decimal and a decimal comma (12,5), personnummer as YYYYMMDD-NNNN. "
        "Columns: " + ";".join(export.HEADER) + ". Cells that could be read as a formula "
        "get a leading single quote. The file holds personal data: the export is audited; "
        "store and send it as such."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument(
            "--school", help="Only this school, by its 8-digit school unit code (skolenhetskod)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = month_start(str(options["month"]))
        except ValueError:
            raise CommandError("--month must be YYYY-MM") from None
        students = Student.objects.all()
        code = options.get("school") or ""
        if code:
            if not School.objects.filter(unit_code=code).exists():
                raise CommandError(f"No school has the school unit code {code}.")
            students = students.filter(school__unit_code=code)

        stdout = self.stdout

        class _Out:
            def write(self, text: str) -> None:
                stdout.write(text, ending="")

        count = export.write_absence_csv(_Out(), month=month, students=students)
        audit.record(
            user=None,
            username="manage.py export_absence",
            action=audit.AuditAction.EXPORT,
            object_type=audit.AuditObjectType.STUDENT_ABSENCE,
            object_id=code,
            detail={"count": count, "month": f"{month:%Y-%m}", "format": "csv"},
        )
        self.stderr.write(f"{count} rows for {month:%Y-%m}.")
