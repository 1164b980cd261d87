"""The term report's outputs: the PDF, the CSV files, the XLSX workbook and the command.

Figures from tests/reports/report_setup.py (its docstring has them worked out by hand).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from openpyxl import load_workbook
from pypdf import PdfReader

from attendance.models import Lesson
from reports import charts, outputs
from reports.scope import Scope
from reports.suppression import Count, Share
from reports.tables import Column, Table, cell_value
from reports.term_report import Section, TermReport, build_term_report
from reports.terms import parse_term
from sst import printing
from sst.models import AuditEvent, AuditObjectType

from .report_setup import ReportWorld, build_world

pytestmark = pytest.mark.django_db

GRADE_HEADER = "termin;arskurs;elever;franvaro_procent;giltig_procent"
SHARE_HEADER = (
    "termin;elever;over_15_antal;over_15_procent;over_25_antal;over_25_procent;"
    "over_40_antal;over_40_procent"
)


@pytest.fixture
def world() -> ReportWorld:
    world = build_world()
    # One imported lesson: the date the cover says the data runs to.
    Lesson.objects.create(
        student=world.grade7[0],
        school=world.school_a,
        date=datetime.date(2025, 10, 31),
        start_time=datetime.time(8, 0),
        end_time=datetime.time(9, 0),
        scheduled_min=60,
    )
    return world


def report_of(world: ReportWorld, kind: str = "school") -> TermReport:
    place = {
        "school": world.school_a,
        "district": world.north,
        "municipality": world.municipality,
    }[kind]
    return build_term_report(Scope(kind, place), parse_term("HT2025"))


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def row_pattern(cells: list[str]) -> re.Pattern[str]:
    """A table row as the PDF's text has it: its cells in order, separated by white space
    only (a cell that wraps onto two lines is still one run of words)."""
    words = [word for cell in cells for word in cell.split()]
    return re.compile(r"(?<!\S)" + r"\s+".join(re.escape(word) for word in words) + r"(?!\S)")


def assert_tables_in_pdf(report: TermReport, text: str) -> None:
    """Every CSV row of every table is a row of the PDF, in the CSV's order."""
    for name, body in outputs.term_report_csv(report).items():
        position = 0
        for row in csv_rows(body)[1:]:
            match = row_pattern(row).search(text, position)
            assert match is not None, f"{name}: row {row} not in the PDF after {position}"
            position = match.end()


# ----------------------------------------------------------------------------------- CSV


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
def test_the_grade_csv_has_the_issues_header_and_school_a_grade_7(world):
    files = outputs.term_report_csv(report_of(world))
    assert {"franvaro_per_arskurs.csv", "andel_over_grans.csv", "trappan_per_manad.csv"} <= set(
        files
    )
    lines = files["franvaro_per_arskurs.csv"].splitlines()
    assert lines[0] == GRADE_HEADER
    assert "HT2025;7;6;16,69;9,18" in lines
    assert "HT2025;8;2;50,00;0,00" in lines


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
def test_the_share_csv_has_one_row_per_like_term(world):
    text = outputs.term_report_csv(report_of(world))["andel_over_grans.csv"]
    rows = csv_rows(text)
    assert ";".join(rows[0]) == SHARE_HEADER
    assert [row[0] for row in rows[1:]] == ["HT2023", "HT2024", "HT2025"]
    # HT2025 at school A: 8 students, a7_2, a7_3, a7_4 and the grade-8 student at 50 % are
    # above 15 %; above 25 % and 40 %: a7_4 and the grade-8 student.
    assert rows[3] == ["HT2025", "8", "4", "50,00", "2", "25,00", "2", "25,00"]


def test_with_the_default_threshold_no_suppressed_value_reaches_a_file(world, tmp_path):
    report = report_of(world)
    assert report.threshold == 5
    files = outputs.term_report_csv(report)
    written = outputs.write_csv_dir(report, tmp_path / "ut")
    assert sorted(path.name for path in written) == sorted(files)
    workbook = load_workbook(io.BytesIO(outputs.term_report_xlsx(report)))
    suppressed = 0
    for table in report.tables():
        on_disk = (tmp_path / "ut" / f"{table.name}.csv").read_text(encoding="utf-8")
        assert on_disk == files[f"{table.name}.csv"]
        rows = csv_rows(on_disk)[1:]
        sheet_rows = list(workbook[table.name].iter_rows(min_row=3, values_only=True))
        for r, row in enumerate(table.all_rows()):
            for c, cell in enumerate(row):
                if isinstance(cell, Count | Share) and cell.suppressed:
                    suppressed += 1
                    assert rows[r][c] == "< 5"
                    assert sheet_rows[r][c] == "< 5"
    assert suppressed > 0
    grade_rows = csv_rows(files["franvaro_per_arskurs.csv"])
    # Grade 8 has two students; grade 7 goes with it (its count would follow from the total).
    assert grade_rows[1][2:] == ["< 5", "< 5", "< 5"]
    assert grade_rows[2][2:] == ["< 5", "< 5", "< 5"]
    assert "16,69" not in files["franvaro_per_arskurs.csv"]
    assert "50,00" not in files["franvaro_per_arskurs.csv"]


# ----------------------------------------------------------------------------------- PDF


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
def test_the_pdf_opens_with_a_cover_the_figures_and_a_neutral_title(world):
    report = report_of(world)
    pdf = outputs.term_report_pdf(report)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 4
    metadata = reader.metadata or {}
    assert metadata.get("/Title") == "Terminsrapport HT2025"
    assert not {"/Author", "/Subject", "/Keywords", "/Creator"} & set(metadata)
    cover = reader.pages[0].extract_text()
    assert "Terminsrapport" in cover
    assert "Skola: Askskolan" in cover
    assert "HT2025 (augusti–december 2025)" in cover
    assert "31 oktober 2025" in cover  # the data runs to the last imported lesson
    assert "< 2" in cover  # the threshold
    assert "Sida 1 av" in cover
    assert "Definitioner" in reader.pages[1].extract_text()
    text = pdf_text(pdf)
    for figure in ("16,69", "9,18", "50,00", "21,45", "Frånvaro (%)", "Varav giltig (%)"):
        assert figure in text
    assert "Under steg 2" in text
    # No student's name anywhere (the report has none to give).
    for student in world.grade7:
        assert student.last_name not in text


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
@pytest.mark.parametrize("kind", ["school", "district", "municipality"])
def test_the_csv_tables_equal_the_pdfs(world, kind):
    report = report_of(world, kind)
    assert_tables_in_pdf(report, pdf_text(outputs.term_report_pdf(report)))


def test_the_csv_tables_equal_the_pdfs_when_suppressed(world):
    report = report_of(world, "district")
    text = pdf_text(outputs.term_report_pdf(report))
    assert_tables_in_pdf(report, text)
    assert "< 5" in text


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
def test_the_charts_are_drawn_in_the_pdf_with_their_text_alternatives(world):
    report = report_of(world)
    chart_list = [chart for section in report.sections for chart in section.charts]
    assert chart_list
    svg = outputs.inline_svg(chart_list[0])
    assert svg.startswith("<svg") and "<script" not in svg and 'id="activate-serie' not in svg
    text = pdf_text(outputs.term_report_pdf(report))
    for chart in chart_list:
        # The alternative is printed under the chart (white space as the PDF wraps it).
        assert " ".join(chart.alt.split()[:6]) in " ".join(text.split())
    # The axis labels of the bar chart are text in the PDF: the SVG is drawn, not dropped.
    assert "Frånvaro (%)" in text


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
def test_any_section_prints_generically(world):
    """The case sections the lead adds later print through the same template."""
    report = report_of(world)
    table = Table(
        name="arenden_test",
        title="Ärenden i testet",
        columns=[Column("typ", "Typ", numeric=False), Column("antal", "Antal")],
        rows=[["Pågående", Count(12)], ["Avslutade", Count(3, suppressed=True)]],
        total=["Totalt", Count(15)],
        note="En anteckning under tabellen.",
    )
    loose = charts.bars(
        title="Ett diagram utan tabell",
        alt="Stapeldiagram i testet.",
        table="finns_inte",
        labels=["a"],
        series=[("s", [1.0])],
        y_title="Antal",
    )
    report.sections.append(Section("Ärenden", [table], [loose], intro="Inledning."))
    text = pdf_text(outputs.term_report_pdf(report))
    for expected in (
        "Ärenden i testet",
        "Inledning.",
        "En anteckning under tabellen.",
        "Ett diagram utan tabell",
        "Stapeldiagram i testet.",
    ):
        assert expected in text
    assert_tables_in_pdf(report, text)
    assert outputs.term_report_csv(report)["arenden_test.csv"].splitlines() == [
        "typ;antal",
        "Pågående;12",
        "Avslutade;< 2",
        "Totalt;15",
    ]


# ---------------------------------------------------------------------------------- XLSX


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
def test_the_workbook_has_the_same_cells(world):
    report = report_of(world)
    workbook = load_workbook(io.BytesIO(outputs.term_report_xlsx(report)))
    assert workbook.sheetnames == [table.name for table in report.tables()]
    assert workbook.properties.creator == "SST"
    for table in report.tables():
        sheet = list(workbook[table.name].iter_rows(values_only=True))
        assert sheet[0][0] == table.title
        assert list(sheet[1]) == [column.label for column in table.columns]
        rows = table.all_rows()
        shown = [list(row) for row in sheet[2 : 2 + len(rows)]]
        # Shown numbers are numbers (16.69), everything else the same text as in the CSV.
        assert shown == [[cell_value(cell) for cell in row] for row in rows]
        for shown_row, text_row in zip(shown, table.text_rows(), strict=True):
            assert [_xlsx_text(v) for v in shown_row] == [_normal(t) for t in text_row]
    grade = list(workbook["franvaro_per_arskurs"].iter_rows(min_row=3, values_only=True))
    assert grade[0] == ("HT2025", "7", 6, 16.69, 9.18)


def _xlsx_text(value: object) -> str:
    if isinstance(value, int | float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def _normal(text: str) -> str:
    """ "50,00" as a spreadsheet shows the number: "50"; "16,69" stays."""
    if re.fullmatch(r"\d+,\d+", text):
        return f"{float(text.replace(',', '.')):g}".replace(".", ",")
    return text


# ------------------------------------------------------------------------------ File names


def test_file_names_are_neutral(world):
    school = report_of(world)
    assert outputs.report_filename(school, "pdf") == "terminsrapport-HT2025-skola-77000001.pdf"
    district = report_of(world, "district")
    assert (
        outputs.report_filename(district, "xlsx")
        == f"terminsrapport-HT2025-stadsdel-{world.north.pk}.xlsx"
    )
    municipality = report_of(world, "municipality")
    name = outputs.report_filename(municipality, "pdf")
    assert name == "terminsrapport-HT2025-kommun.pdf"
    assert printing._SAFE_FILENAME.match(name)
    assert printing._SAFE_FILENAME.match(outputs.report_filename(district, "pdf"))


# ------------------------------------------------------------------------------- Command


@override_settings(SST_SMALL_COUNT_THRESHOLD=2)
def test_the_command_writes_the_pdf_the_csv_files_and_the_workbook(world, tmp_path):
    out = io.StringIO()
    call_command(
        "term_report", "--term", "HT2025", "--scope", "school:77000001",
        "--out", str(tmp_path / "rapport.pdf"), stdout=out,
    )  # fmt: skip
    pdf = (tmp_path / "rapport.pdf").read_bytes()
    assert "16,69" in pdf_text(pdf)
    assert "rapport.pdf" in out.getvalue()

    call_command(
        "term_report", "--term", "ht25", "--scope", "district:Norr", "--format", "csv",
        "--out", str(tmp_path / "ny" / "katalog"), stdout=io.StringIO(),
    )  # fmt: skip
    grades = (tmp_path / "ny" / "katalog" / "franvaro_per_arskurs.csv").read_text("utf-8")
    assert grades.splitlines()[0] == GRADE_HEADER
    assert (tmp_path / "ny" / "katalog" / "andel_over_grans.csv").exists()

    call_command(
        "term_report", "--term", "HT2025", "--scope", "municipality", "--format", "xlsx",
        "--out", str(tmp_path / "rapport.xlsx"), stdout=io.StringIO(),
    )  # fmt: skip
    workbook = load_workbook(tmp_path / "rapport.xlsx")
    assert "franvaro_per_arskurs" in workbook.sheetnames

    events = AuditEvent.objects.filter(object_type=AuditObjectType.TERM_REPORT).order_by("id")
    assert [(e.action, e.object_id, e.detail["format"]) for e in events] == [
        ("export", "school:77000001", "pdf"),
        ("export", f"district:{world.north.pk}", "csv"),
        ("export", f"municipality:{world.municipality.pk}", "xlsx"),
    ]
    assert {e.actor_id for e in events} == {None}
    assert {e.actor_username for e in events} == {"manage.py term_report"}
    assert all(e.detail["term"] in ("HT2025",) for e in events)


@pytest.mark.parametrize(
    ("term", "scope", "says"),
    [
        ("HT20255", "school:77000001", "HT20255"),
        ("ST2025", "municipality", "ST2025"),
        ("HT2025", "school:99999999", "99999999"),
        ("HT2025", "district:Väster", "Väster"),
        ("HT2025", "klass:7A", "municipality"),
    ],
)
def test_the_command_refuses_a_bad_term_or_scope_and_writes_nothing(
    world, tmp_path, term, scope, says
):
    target = tmp_path / "rapport.pdf"
    with pytest.raises(CommandError, match=re.escape(says)):
        call_command(
            "term_report", "--term", term, "--scope", scope, "--out", str(target),
            stdout=io.StringIO(),
        )  # fmt: skip
    assert not target.exists()
    assert list(Path(tmp_path).iterdir()) == []
    assert not AuditEvent.objects.filter(object_type=AuditObjectType.TERM_REPORT).exists()
