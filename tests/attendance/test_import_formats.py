"""What the imports accept as a date and as an identity number, at the boundaries.

The attendance file's date column takes exactly what its message says, YYYY-MM-DD; the
student register takes the numbers Skatteverket issues (a samordningsnummer whose birth date
is not known included) and refuses look-alikes with a reason, changing nothing.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from attendance.models import ImportKind, ImportStatus, Lesson
from sst.models import Student
from sst.personnummer import luhn_check_digit

from ..conftest import verified_login
from .test_imports import (
    STUDENT_HEADER,
    attendance_file,
    csv_file,
    lesson_line,
    run_file,
    snapshot,
    student_line,
)


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "day",
    [
        "2025-09-01",
        " 2025-09-01 ",  # spaces around a value are trimmed, as in every column
        "2024-02-29",  # a leap day
        "2025-12-31",
    ],
)
def test_an_iso_date_is_accepted(world, day):
    run = run_file(
        ImportKind.ATTENDANCE, attendance_file([lesson_line(world.student_a1, world.school_a, day)])
    )
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert Lesson.objects.get().date.isoformat() == day.strip()


@pytest.mark.parametrize(
    "day",
    [
        "20250901",  # the basic ISO form: date.fromisoformat took it
        "2025-W36-1",  # an ISO week date: date.fromisoformat took it too
        "2025W361",
        "2025-09-01T08:00",
        "2025-9-1",
        "25-09-01",
        "2025/09/01",
        "01/09/2025",
        "2025-09-01 08:00",
        "2025-02-29",  # not a leap year
        "2025-09-31",
        "2025-00-10",
        "２０２５-09-01",  # full-width digits
    ],
)
def test_any_other_date_is_refused_with_the_format_it_wants(world, day):
    before = snapshot()
    run = run_file(
        ImportKind.ATTENDANCE, attendance_file([lesson_line(world.student_a1, world.school_a, day)])
    )
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Row 2: the date must be YYYY-MM-DD"]
    assert snapshot() == before


def _number(yyyymmdd: str, serial: str) -> str:
    return f"{yyyymmdd}{serial}{luhn_check_digit(yyyymmdd[2:] + serial)}"


def test_a_newly_arrived_pupil_with_an_unknown_birth_date_is_registered(world, client):
    """A samordningsnummer with month 00 and day 60 (birth date not known) was refused, so the
    pupils who most need the team could not be registered at all."""
    number = _number("20140060", "982")
    data = csv_file(STUDENT_HEADER, [student_line(number, "Ny", "Ankomst", world.school_a, "7A")])

    run = run_file(ImportKind.STUDENTS, data)

    assert run.status == ImportStatus.SUCCEEDED, run.errors
    student = Student.objects.get(last_name="Ankomst")
    assert student.personnummer.value == number
    assert student.personnummer.birth_date is None
    assert student.is_coordination_number  # day 60 is a coordination number's day 00
    verified_login(client, world.counsellor_a)
    response = client.get(reverse("cases:student_detail", args=[student.public_id]))
    assert response.status_code == 200
    assert "Samordningsnummer" in response.content.decode()


@pytest.mark.parametrize(
    "number, message",
    [
        ("20150916-0006", "birth serial cannot be 000"),
        ("090527 1474", "at most a - or + before the last four"),
        ("000101-T220", "interim number"),
        ("857209-0606", "organisation number"),
    ],
)
def test_look_alikes_are_refused_with_a_reason_and_change_nothing(world, number, message):
    before = snapshot()
    data = csv_file(STUDENT_HEADER, [student_line(number, "Ny", "Elev", world.school_a, "7A")])

    run = run_file(ImportKind.STUDENTS, data)

    assert run.status == ImportStatus.FAILED
    assert len(run.errors) == 1 and run.errors[0].startswith("Row 2: ")
    assert message in run.errors[0]
    assert number not in run.errors[0]
    assert snapshot() == before


def test_the_upload_page_names_the_formats(world, client):
    verified_login(client, world.admin_m)
    page = client.get(reverse("imports:upload")).content.decode()
    assert "Datum som ÅÅÅÅ-MM-DD, tider som TT:MM." in page
    assert "interimistiska nummer och organisationsnummer avvisas" in page
