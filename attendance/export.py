"""The monthly absence export (CSV for Swedish Excel), shared by the command and the download.

Format: one header row, then one row per student with lessons in the month; ``;`` between
cells, CRLF line ends, percentages with one decimal and a decimal comma (``12,5``), the
personnummer as ``YYYYMMDD-NNNN``. Any cell that a spreadsheet could read as a formula
(starting with ``= + - @``, a tab or a carriage return) gets a leading single quote.

The rows come from ``MonthlyAbsence`` (the rollup: the one code path for figures) joined to
the students in one query; decrypting each personnummer is the only per-row work.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Protocol

from django.db.models import QuerySet

from sst.models import Student

from .models import MonthlyAbsence

HEADER = (
    "personnummer",
    "skolenhetskod",
    "arskurs",
    "schemalagd_min",
    "giltig_min",
    "ogiltig_min",
    "franvaro_procent",
    "giltig_procent",
    "steg",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel opens a UTF-8 file as UTF-8 only with a byte order mark (the download adds it).
BOM = "\ufeff"


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def escape_cell(value: object) -> str:
    """A cell as text that a spreadsheet will not evaluate as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def decimal_comma(value: Decimal) -> str:
    """Decimal(12.5) → "12,5" (one decimal, always; Swedish Excel reads it as a number)."""
    return f"{value:.1f}".replace(".", ",")


def absence_rows(*, month: datetime.date, students: QuerySet[Student]) -> Iterator[list[str]]:
    """One row of cells per student of ``students`` with lessons in ``month``."""
    rows = (
        MonthlyAbsence.objects.filter(
            month=month, scheduled_min__gt=0, student__in=students.values("pk")
        )
        .at_current_school()
        .select_related("student__school")
        .only(
            "month",
            "scheduled_min",
            "valid_min",
            "invalid_min",
            "step",
            "student__personnummer_ciphertext",
            "student__grade",
            "student__school__unit_code",
        )
        .order_by("student__school__unit_code", "student__grade", "student_id")
    )
    for row in rows.iterator(chunk_size=2000):
        student = row.student
        yield [
            str(student.personnummer),
            student.school.unit_code,
            student.grade,
            str(row.scheduled_min),
            str(row.valid_min),
            str(row.invalid_min),
            decimal_comma(row.absent_pct),
            decimal_comma(row.valid_pct),
            str(row.step),
        ]


def write_csv(out: Writable, rows: Iterable[Iterable[object]]) -> int:
    """The header and the escaped rows; returns the number of data rows written."""
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    count = 0
    for cells in rows:
        writer.writerow([escape_cell(cell) for cell in cells])
        count += 1
    return count


def write_absence_csv(out: Writable, *, month: datetime.date, students: QuerySet[Student]) -> int:
    """The month's export for ``students`` (already limited to what the caller may see)."""
    return write_csv(out, absence_rows(month=month, students=students))


def file_name(unit_code: str, month: datetime.date) -> str:
    """A file name without personal data: the school unit code and the month."""
    code = re.sub(r"[^0-9A-Za-z]", "", unit_code) or "skola"
    return f"franvaro-{code}-{month:%Y-%m}.csv"
