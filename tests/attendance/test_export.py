"""The monthly absence export: the command and the download share one function."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from attendance import export
from attendance.rollup import month_start
from sst.models import AuditEvent

from ..conftest import verified_login
from ..factories import MentorGroupFactory, SchoolFactory, StudentFactory
from ..privacy import find_personnummer
from .factories import month_of_lessons, refresh

MONTH = month_start("2026-10")
HEADER = (
    "personnummer;skolenhetskod;arskurs;schemalagd_min;giltig_min;ogiltig_min;"
    "franvaro_procent;giltig_procent;steg"
)
PNR = re.compile(r"^\d{8}-\d{4}$")


@pytest.fixture
def october(world):
    """a1: 12,5 % (valid 10,0 %) step 2; a2: 22,5 % step 4; b1: 5,0 %."""
    month_of_lessons(world.student_a1, MONTH, valid=4, invalid=1)
    month_of_lessons(world.student_a2, MONTH, invalid=9)
    month_of_lessons(world.student_b1, MONTH, valid=2)
    refresh(MONTH)
    return world


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_absence", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip(export.BOM)), delimiter=";"))


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+46701234567", "'+46701234567"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("12,5", "12,5"),
        ("20121231-9801", "20121231-9801"),
        ("", ""),
        (None, ""),
        (7, "7"),
    ],
)
def test_cells_that_could_be_formulas_are_escaped(value, expected):
    assert export.escape_cell(value) == expected


def test_the_writer_escapes_every_cell():
    out = io.StringIO()
    export.write_csv(out, [["=1+1", "ok", "-x"]])
    assert out.getvalue().splitlines()[1] == "'=1+1;ok;'-x"


def test_decimal_comma_with_one_decimal():
    from decimal import Decimal

    assert export.decimal_comma(Decimal("12.5")) == "12,5"
    assert export.decimal_comma(Decimal("0")) == "0,0"
    assert export.decimal_comma(Decimal("100.0")) == "100,0"


# ---------------------------------------------------------------- the command


def test_command_writes_the_header_and_a_row_per_student(october):
    world = october
    text = run("--month", "2026-10")
    assert text.splitlines()[0] == HEADER
    assert "\r\n" in text and not text.startswith(export.BOM)
    data = rows(text)[1:]
    assert len(data) == 3
    by_pnr = {row[0]: row for row in data}
    a1 = by_pnr[str(world.student_a1.personnummer)]
    assert PNR.match(a1[0])
    assert a1[1:] == [world.school_a.unit_code, "7", "2400", "240", "60", "12,5", "10,0", "2"]
    a2 = by_pnr[str(world.student_a2.personnummer)]
    assert a2[3:] == ["2400", "0", "540", "22,5", "0,0", "4"]


def test_command_limits_to_one_school(october):
    world = october
    data = rows(run("--month", "2026-10", "--school", world.school_b.unit_code))[1:]
    assert [row[0] for row in data] == [str(world.student_b1.personnummer)]


def test_command_is_audited(october):
    run("--month", "2026-10")
    event = AuditEvent.objects.get(action="export")
    assert event.detail["count"] == 3 and event.detail["month"] == "2026-10"


def test_command_refuses_bad_arguments(october):
    with pytest.raises(CommandError):
        run("--month", "oktober")
    with pytest.raises(CommandError):
        run("--month", "2026-10", "--school", "00000000")


def test_a_month_without_lessons_gives_only_the_header(october):
    assert run("--month", "2026-03").splitlines() == [HEADER]


def test_a_crafted_value_is_escaped_on_its_way_out(world):
    """A school unit code that slipped past validation cannot become a formula in Excel."""
    school = SchoolFactory(district=world.district_n, unit_code="=1+2")
    student = StudentFactory(mentor_group=MentorGroupFactory(school=school))
    month_of_lessons(student, MONTH, invalid=1)
    refresh(MONTH)
    data = rows(run("--month", "2026-10"))[1:]
    assert data[0][1] == "'=1+2"


def test_the_help_documents_the_decimal_comma():
    from attendance.management.commands.export_absence import Command

    assert "decimal comma" in Command.help and ";".join(export.HEADER) in Command.help


# ---------------------------------------------------------------- the download


def download(client, school, month="2026-10"):
    return client.get(
        reverse("attendance:school_export", args=[school.unit_code]), {"month": month}
    )


def test_download_is_an_attachment_named_without_personal_data(client, october):
    world = october
    verified_login(client, world.counsellor_a)
    response = download(client, world.school_a)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="franvaro-{world.school_a.unit_code}-2026-10.csv"'
    assert not find_personnummer(disposition.replace(world.school_a.unit_code, ""))
    text = response.content.decode("utf-8")
    assert text.startswith(export.BOM)
    assert text.lstrip(export.BOM).splitlines()[0] == HEADER


def test_download_holds_only_the_schools_students_the_user_may_see(client, october):
    world = october
    verified_login(client, world.counsellor_a)
    data = rows(download(client, world.school_a).content.decode())[1:]
    assert {row[0] for row in data} == {
        str(world.student_a1.personnummer),
        str(world.student_a2.personnummer),
    }
    assert (
        str(world.student_b1.personnummer) not in download(client, world.school_a).content.decode()
    )
    event = AuditEvent.objects.filter(action="export").last()
    assert event.detail["count"] == 2 and event.object_id == world.school_a.unit_code
    assert event.actor_username == "counsellor_a"


def test_download_is_the_same_as_the_command(client, october):
    world = october
    verified_login(client, world.counsellor_a)
    web = download(client, world.school_a).content.decode().lstrip(export.BOM)
    assert web == run("--month", "2026-10", "--school", world.school_a.unit_code)


@pytest.mark.parametrize("person", ["mentor_a1", "counsellor_b", "manager_m", "admin_m"])
def test_download_refused_to_who_may_not_see_the_school(client, october, person):
    world = october
    verified_login(client, getattr(world, person))
    response = download(client, world.school_a)
    assert response.status_code == 404
    assert str(world.student_a1.personnummer) not in response.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_a_bad_month_falls_back_to_this_month(client, october):
    world = october
    verified_login(client, world.counsellor_a)
    response = download(client, world.school_a, month="x")
    assert response.status_code == 200
