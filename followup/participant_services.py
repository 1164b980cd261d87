"""The participant follow-up export: a de-identified file per district and period, for the
team's coordinator (COORDINATE at the district or its municipality) and nobody else.

``participant_export`` checks the person, builds the rows (``participant_selectors``),
suppresses small counts (``participant_suppression``), writes CSV (``;``, UTF-8 with a byte
order mark so spreadsheet programs read it as UTF-8, decimal comma) or XLSX (openpyxl), and
audits the export: who, which district and period, how many rows and suppressed cells —
never any of the rows' content.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from sst import access, audit
from sst.access import Capability
from sst.models import District, User

from . import participant_suppression as suppression
from .participant_selectors import QUASI_IDENTIFIERS, Table, participant_table

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A period longer than this is refused (the export is a term's or a year's follow-up).
LONGEST_PERIOD_DAYS = 3 * 366


@dataclass
class Export:
    filename: str
    content_type: str
    content: bytes
    rows: int
    suppressed_cells: int


def _check_period(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise ValidationError(_("The period ends before it starts."), code="period")
    if (end - start).days > LONGEST_PERIOD_DAYS:
        raise ValidationError(_("Choose a period of at most three years."), code="period")


def de_identified(table: Table, *, k: int | None = None) -> tuple[Table, int]:
    """The table with small counts suppressed and rows numbered 1…n (raises
    ``participant_suppression.TooFewRows`` for a selection too small to release)."""
    result = suppression.suppress_rows(table.rows, QUASI_IDENTIFIERS, k=k)
    rows = [{**row, "lopnummer": number} for number, row in enumerate(result.rows, 1)]
    return Table(columns=table.columns, rows=rows), result.suppressed_cells


def csv_value(value: Any) -> str:
    """A cell as the CSV writes it: decimal comma, empty for nothing."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    return str(value)


def render_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_value(row.get(column)) for column in table.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_xlsx(
    table: Table, *, district: District, start: datetime.date, end: datetime.date, k: int
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Deltagaruppföljning"
    sheet.append(table.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        values = []
        for column in table.columns:
            value = row.get(column)
            values.append(value if value is not None else "")
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.0"
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet("Om filen")
    for line in (
        ("Deltagaruppföljning", ""),
        ("Stadsdel", district.name),
        ("Period (intag)", f"{start.isoformat()}–{end.isoformat()}"),
        ("Ärenden", len(table.rows)),
        (
            "Avidentifiering",
            f"Inga namn, personnummer, id-nummer, födelsedatum, exakta datum eller fritext. "
            f"Skola, ålder, årskurs och kön som färre än {k} ärenden delar visas som "
            f"”< {k}”, även i kombination.",
        ),
        ("Frånvaro", "Procent av schemalagd tid, med perioden angiven (hela månader)."),
        ("Nöjdhet", "Medelvärde av enkätens svar 1–5 per svarande (elev, vårdnadshavare)."),
    ):
        about.append(list(line))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def participant_export(
    *, user: User, district: District, start: datetime.date, end: datetime.date, fmt: str = CSV
) -> Export:
    """The district's participant follow-up for intakes in [start, end], de-identified.

    404 (audited) for anyone who does not coordinate the district; ``ValidationError`` for a
    wrong period or format, ``TooFewRows`` for a selection too small to release (the attempt
    is audited too, with no rows)."""
    roles = access.require(user, Capability.COORDINATE, district)
    if fmt not in FORMATS:
        raise ValidationError(_("Choose CSV or Excel."), code="format")
    _check_period(start, end)
    k = suppression.threshold()
    detail: dict[str, Any] = {
        "district": district.pk,
        "from": start.isoformat(),
        "till": end.isoformat(),
        "format": fmt,
        "threshold": k,
    }
    with translation.override("sv"):
        table = participant_table(district, start, end)
        try:
            released, cells = de_identified(table, k=k)
        except suppression.TooFewRows:
            audit.record(
                user=user,
                action=audit.AuditAction.EXPORT,
                object_type=audit.AuditObjectType.PARTICIPANT_FOLLOWUP,
                object_id=str(district.pk),
                role=roles,
                detail={**detail, "rows": 0, "refused": "too_few"},
            )
            raise
        if fmt == CSV:
            content = render_csv(released)
        else:
            content = render_xlsx(released, district=district, start=start, end=end, k=k)
    audit.record(
        user=user,
        action=audit.AuditAction.EXPORT,
        object_type=audit.AuditObjectType.PARTICIPANT_FOLLOWUP,
        object_id=str(district.pk),
        role=roles,
        detail={**detail, "rows": len(released.rows), "suppressed_cells": cells},
    )
    name = slugify(district.name) or str(district.pk)
    return Export(
        filename=f"deltagaruppfoljning-{name}-{start.isoformat()}-{end.isoformat()}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
        content=content,
        rows=len(released.rows),
        suppressed_cells=cells,
    )
