"""One table, four renderings: the page, the PDF, the CSV files and the XLSX workbook.

A report is built once as ``Table`` objects whose cells are already suppressed; every output
prints the same ``cell_text`` (the XLSX keeps shown numbers as numbers), so the CSV tables
equal the PDF's by construction — and a test reads both to make sure.

CSV: ``;``-separated, UTF-8, Swedish decimal comma, percentages with two decimals, a
suppressed cell reads ``< 5``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .suppression import Count, Share

Cell = str | int | Decimal | Count | Share | None


def cell_text(cell: Cell) -> str:
    if cell is None:
        return "–"
    if isinstance(cell, Count | Share):
        return cell.label()
    if isinstance(cell, Decimal):
        return f"{cell:.2f}".replace(".", ",")
    return str(cell)


def cell_value(cell: Cell) -> Any:
    """For a spreadsheet: shown numbers as numbers, everything else as its text."""
    if isinstance(cell, Count):
        return cell.label() if cell.suppressed else cell.value
    if isinstance(cell, Share):
        return cell.label() if cell.suppressed or cell.value is None else float(cell.value)
    if isinstance(cell, int | Decimal) and not isinstance(cell, bool):
        return float(cell) if isinstance(cell, Decimal) else cell
    return cell_text(cell)


@dataclass(frozen=True)
class Column:
    key: str  # the CSV header: lower case, no spaces (``franvaro_procent``)
    label: str  # the heading on the page and in the PDF
    numeric: bool = True


@dataclass
class Table:
    name: str  # the CSV file's stem and the XLSX sheet's title source
    title: str
    columns: Sequence[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    # The row that sums the others (shown last, in bold), if any.
    total: list[Cell] | None = None

    def all_rows(self) -> list[list[Cell]]:
        return [*self.rows, *([self.total] if self.total is not None else [])]

    def text_rows(self) -> list[list[str]]:
        return [[cell_text(cell) for cell in row] for row in self.all_rows()]

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow([column.key for column in self.columns])
        writer.writerows(self.text_rows())
        return out.getvalue()

    def _display(self, row: list[Cell]) -> list[tuple[str, bool]]:
        return [
            (cell_text(cell), column.numeric)
            for cell, column in zip(row, self.columns, strict=True)
        ]

    def display_rows(self) -> list[list[tuple[str, bool]]]:
        """(text, numeric) per cell, for the page and the PDF templates."""
        return [self._display(row) for row in self.rows]

    def display_total(self) -> list[tuple[str, bool]] | None:
        return self._display(self.total) if self.total is not None else None

    @property
    def is_empty(self) -> bool:
        return not self.rows


def xlsx_bytes(tables: Iterable[Table], *, title: str) -> bytes:
    """Every table on a sheet of its own, headings in bold; no personal data, neutral
    document properties."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "SST"
    workbook.properties.title = title
    used: set[str] = set()
    for table in tables:
        sheet_title = table.name[:31]
        n = 2
        while sheet_title in used:
            sheet_title = f"{table.name[:28]}_{n}"
            n += 1
        used.add(sheet_title)
        sheet = workbook.create_sheet(sheet_title)
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([column.label for column in table.columns])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.all_rows():
            sheet.append([cell_value(cell) for cell in row])
        if table.note:
            sheet.append([])
            sheet.append([table.note])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
