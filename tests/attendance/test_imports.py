"""The import engine: all-or-nothing, whatever the file.

Every bad file leaves the database exactly as it was (lessons, students, schools, districts,
classes, memberships, monthly absence), and its report names rows and problems but never a
personnummer. Good files in the shapes Swedish systems write them (UTF-8 with BOM,
Windows-1252, columns in any order) import, and importing again never double-counts.
"""

from __future__ import annotations

import datetime
import io
import threading
import tracemalloc

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.models import Sum
from django.utils import translation

from attendance.imports import jobs, lessons, registers, runs
from attendance.imports.jobs import run_import
from attendance.imports.registers import link_pending_mentors
from attendance.management import importcommand
from attendance.models import ImportKind, ImportRun, ImportStatus, Lesson, MonthlyAbsence
from sst import access
from sst.models import District, MentorGroup, Role, RoleMembership, School, Student, User

from ..factories import (
    DistrictFactory,
    MunicipalityFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    fake_personnummer,
    grant,
)

ATTENDANCE_HEADER = ";".join(lessons.ATTENDANCE_COLUMNS)
STUDENT_HEADER = ";".join(registers.STUDENT_COLUMNS)
SCHOOL_HEADER = ";".join(registers.SCHOOL_COLUMNS)


# ---------------------------------------------------------------- helpers (also used by the
# page and fuzz tests)


def pnr_of(student: Student) -> str:
    return str(student.personnummer)  # YYYYMMDD-NNNN


def lesson_line(
    student: Student | str,
    school: School | str,
    day: str = "2025-09-01",
    start: str = "08:00",
    end: str | None = None,
    *,
    subject: str = "Matematik",
    scheduled: int | str = 60,
    absent: int | str = 0,
    kind: str = "",
) -> str:
    number = student if isinstance(student, str) else pnr_of(student)
    if end is None:
        hours, minutes = start.split(":")
        end = f"{(int(hours) + 1) % 24:02d}:{minutes}"
    code = school if isinstance(school, str) else school.unit_code
    return f"{number};{code};{day};{start};{end};{subject};{scheduled};{absent};{kind}"


def csv_file(header: str, lines: list[str], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = "\r\n".join([header, *lines]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + data.encode(encoding)


def attendance_file(lines: list[str], **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    return csv_file(ATTENDANCE_HEADER, lines, **kwargs)


def student_line(
    number: str, first: str, last: str, school: School | str, klass: str, grade: str = "7", *extra
) -> str:
    code = school if isinstance(school, str) else school.unit_code
    return ";".join([number, first, last, code, klass, grade, *extra])


def run_file(
    kind: str, data: bytes, *, by=None, scope=None, municipality=None, name: str = "fil.csv"
) -> ImportRun:  # type: ignore[no-untyped-def]
    run = ImportRun.objects.create(
        kind=kind, file_name=name, file_size=len(data), uploaded_by=by, school_scope=scope
    )
    return run_import(run, io.BytesIO(data), municipality=municipality)


def snapshot() -> dict[str, object]:
    """Everything an import may touch, in a comparable form."""
    return {
        "lessons": sorted(
            Lesson.objects.values_list(
                "student_id",
                "school_id",
                "date",
                "start_time",
                "end_time",
                "subject",
                "scheduled_min",
                "absent_min",
                "absence_type",
            )
        ),
        "students": sorted(
            Student.objects.values_list(
                "pk", "first_name", "last_name", "school_id", "mentor_group_id", "grade", "gender"
            )
        ),
        "schools": sorted(School.objects.values_list("pk", "unit_code", "name", "district_id")),
        "districts": sorted(District.objects.values_list("pk", "municipality_id", "name")),
        "groups": sorted(
            MentorGroup.objects.values_list("pk", "school_id", "name", "pending_mentor_email")
        ),
        "memberships": sorted(
            RoleMembership.objects.values_list(
                "pk", "user_id", "role", "school_id", "mentor_group_id", "ends_on"
            )
        ),
        "monthly": sorted(
            MonthlyAbsence.objects.values_list(
                "student_id", "month", "scheduled_min", "valid_min", "invalid_min", "lesson_count"
            )
        ),
    }


def counts() -> dict[str, int]:
    return {
        "lessons": Lesson.objects.count(),
        "students": Student.objects.count(),
        "schools": School.objects.count(),
        "districts": District.objects.count(),
        "groups": MentorGroup.objects.count(),
        "memberships": RoleMembership.objects.count(),
        "monthly": MonthlyAbsence.objects.count(),
    }


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    """The engine's messages in their source language (the pages test the Swedish)."""
    with translation.override("en"):
        yield


@pytest.fixture
def school_admin_a(world):  # type: ignore[no-untyped-def]
    user = UserFactory(username="admin_a", first_name="Skol", last_name="Admin")
    grant(user, Role.ADMINISTRATOR, world.school_a)
    return user


@pytest.fixture
def seeded(world):  # type: ignore[no-untyped-def]
    """The world with a week of lessons already imported (so there is something to lose)."""
    lines = [
        lesson_line(student, student.school, f"2025-09-0{day}", start)
        for student in (world.student_a1, world.student_a2, world.student_b1)
        for day in (1, 2, 3)
        for start in ("08:00", "09:00")
    ]
    run = run_file(ImportKind.ATTENDANCE, attendance_file(lines))
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert Lesson.objects.count() == 18
    return world


# ---------------------------------------------------------------- bad files: nothing changes


def _bad_attendance_files(world) -> dict[str, tuple[bytes, str]]:  # type: ignore[no-untyped-def]
    a1, a2, school_a = world.student_a1, world.student_a2, world.school_a
    good = lesson_line(a1, school_a, "2025-09-08")
    stranger = fake_personnummer(4242)  # valid, but no such student
    bad_check = "20120101-9802"  # the check digit is wrong
    return {
        "wrong columns": (csv_file("personnummer;datum;minuter", ["x;y;z"]), "Columns missing"),
        "bad date": (
            attendance_file([good, lesson_line(a2, school_a, "2025-13-01")]),
            "Row 3: the date must be YYYY-MM-DD",
        ),
        "impossible date": (
            attendance_file([lesson_line(a2, school_a, "2025-02-30"), good]),
            "Row 2: the date must be YYYY-MM-DD",
        ),
        "unknown student": (
            attendance_file([good, lesson_line(str(stranger), school_a)]),
            "Row 3: no student with this personal identity number",
        ),
        "unknown school": (
            attendance_file([good, lesson_line(a2, "12345678")]),
            "Row 3: unknown school unit code",
        ),
        "absent above scheduled": (
            attendance_file([good, lesson_line(a2, school_a, absent=61, kind="ogiltig")]),
            "Row 3: absent minutes must be between 0 and the scheduled minutes",
        ),
        "invalid personnummer": (
            attendance_file([good, lesson_line(bad_check, school_a)]),
            "Row 3: The personal identity number's check digit is wrong.",
        ),
        "mixed encodings": (
            "\r\n".join(
                [ATTENDANCE_HEADER, lesson_line(a1, school_a, subject="Svenska språk")]
            ).encode("utf-8")
            + b"\r\n"
            + lesson_line(a2, school_a, subject="Idrott och hälsa ÅÄÖ").encode("cp1252")
            + b"\r\n",
            "mixes character encodings",
        ),
        "png": (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
            b"\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00",
            # NUL bytes anywhere in the first megabyte: refused before the header is read.
            "not a text file",
        ),
        "png with nul bytes in the header": (
            b"\x89PNG\x00\x00\x00\rIHDR\r\n" + attendance_file([good]),
            "not a text file",
        ),
        "nul bytes": (attendance_file([good]) + b"\x00" * 64 + b"\r\n", "not a text file"),
        "empty": (b"", "The file is empty."),
        "header only": (attendance_file([]), "has a header but no rows"),
        "broken quoting": (
            attendance_file([good, lesson_line(a2, school_a, subject='"Matematik')]),
            "Row 3",
        ),
        "duplicate lesson": (
            attendance_file([good, lesson_line(a2, school_a), good]),
            "Rows 2 and 4: the same student, date and start time twice.",
        ),
        "too few columns": (attendance_file([good, "1;2;3"]), "Row 3: has 3 columns"),
        "lesson ends before it starts": (
            attendance_file([lesson_line(a1, school_a, start="10:00", end="09:00")]),
            "Row 2: the lesson ends before it starts",
        ),
        "minutes not numbers": (
            attendance_file([lesson_line(a1, school_a, scheduled="sextio")]),
            "Row 2: minutes must be whole numbers",
        ),
        "unknown absence type": (
            attendance_file([lesson_line(a1, school_a, absent=10, kind="sjuk")]),
            "Row 2: absence type must be",
        ),
    }


BAD_ATTENDANCE = [
    "wrong columns",
    "bad date",
    "impossible date",
    "unknown student",
    "unknown school",
    "absent above scheduled",
    "invalid personnummer",
    "mixed encodings",
    "png",
    "png with nul bytes in the header",
    "nul bytes",
    "empty",
    "header only",
    "broken quoting",
    "duplicate lesson",
    "too few columns",
    "lesson ends before it starts",
    "minutes not numbers",
    "unknown absence type",
]


@pytest.mark.parametrize("case", BAD_ATTENDANCE)
def test_a_bad_attendance_file_changes_nothing(seeded, case):
    data, expected = _bad_attendance_files(seeded)[case]
    before, before_counts = snapshot(), counts()

    run = run_file(ImportKind.ATTENDANCE, data, by=seeded.admin_m)

    assert run.status == ImportStatus.FAILED
    assert any(expected in error for error in run.errors), run.errors
    assert counts() == before_counts
    assert snapshot() == before
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and run.errors and run.finished_at


def test_the_report_never_contains_the_personnummer(seeded):
    bad_check = "20120101-9802"
    stranger = str(fake_personnummer(4243))
    data = attendance_file(
        [
            lesson_line(bad_check, seeded.school_a),
            lesson_line(stranger, seeded.school_a),
            lesson_line(seeded.student_b1, seeded.school_a, absent=99, kind="giltig"),
        ]
    )
    run = run_file(ImportKind.ATTENDANCE, data)
    assert run.status == ImportStatus.FAILED
    report = "\n".join(run.errors)
    assert len(run.errors) == 3, run.errors
    for number in (bad_check, stranger, pnr_of(seeded.student_b1)):
        assert number not in report
        assert number.replace("-", "") not in report
        assert number[2:] not in report  # the 10-digit form


def test_the_report_names_at_most_200_problems_and_counts_the_rest(seeded):
    lines = [lesson_line(seeded.student_a1, "12345678", start=f"{h:02d}:00") for h in range(24)]
    lines = [line.replace("2025-09-01", f"2025-10-{d:02d}") for d in range(1, 11) for line in lines]
    run = run_file(ImportKind.ATTENDANCE, attendance_file(lines))
    assert run.status == ImportStatus.FAILED
    assert len(run.errors) == 201
    assert run.errors[-1] == "… and 40 more problems."


def test_a_school_administrator_cannot_import_another_schools_rows(seeded, school_admin_a):
    before = snapshot()
    data = attendance_file(
        [
            lesson_line(seeded.student_a1, seeded.school_a, "2025-09-08"),
            lesson_line(seeded.student_b1, seeded.school_b, "2025-09-08"),
        ]
    )
    run = run_file(ImportKind.ATTENDANCE, data, by=school_admin_a, scope=seeded.school_a)
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Row 3: the row belongs to another school than yours"]
    assert snapshot() == before


def test_a_school_administrators_student_register_stays_in_their_school(world, school_admin_a):
    before = snapshot()
    data = csv_file(
        STUDENT_HEADER,
        [
            student_line(str(fake_personnummer(501)), "Ny", "Elev", world.school_a, "7A"),
            student_line(str(fake_personnummer(502)), "Annan", "Elev", world.school_b, "8A"),
        ],
    )
    run = run_file(ImportKind.STUDENTS, data, by=school_admin_a, scope=world.school_a)
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Row 3: the row belongs to another school than yours"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["20120101-9802;Åsa;Öberg;{a};7A;7"], "Row 2: The personal identity number's check"),
        (["{pnr};Åsa;Öberg;12345678;7A;7"], "Row 2: unknown school unit code"),
        (["{pnr};Åsa;Öberg;{a};7A;10"], "Row 2: grade must be F or 1–9"),
        (["{pnr};Åsa;Öberg;{a};7A;7", "{pnr};Åsa;Öberg;{a};7A;7"], "Row 3: the same personal"),
        (["{pnr};;Öberg;{a};7A;7"], "Row 2: first name, last name and class are required"),
    ],
)
def test_a_bad_student_register_changes_nothing(world, lines, expected):
    number = str(fake_personnummer(777))
    rows = [line.format(pnr=number, a=world.school_a.unit_code) for line in lines]
    before = snapshot()
    run = run_file(ImportKind.STUDENTS, csv_file(STUDENT_HEADER, rows))
    assert run.status == ImportStatus.FAILED
    assert any(error.startswith(expected) for error in run.errors), run.errors
    assert number not in "".join(run.errors)
    assert snapshot() == before


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["1234;Nya skolan;Norra"], "Row 2: the school unit code must have 8 digits"),
        (["12345678;Nya skolan;Västra", "12345678;Nya skolan;Västra"], "Row 3: the school unit"),
        (["12345678;;Västra"], "Row 2: name and district are required"),
    ],
)
def test_a_bad_school_register_changes_nothing(world, lines, expected):
    before = snapshot()
    run = run_file(ImportKind.SCHOOLS, csv_file(SCHOOL_HEADER, lines), by=world.admin_m)
    assert run.status == ImportStatus.FAILED
    assert any(error.startswith(expected) for error in run.errors), run.errors
    assert snapshot() == before


def test_a_school_register_with_another_municipalitys_school_changes_nothing(world):
    other = SchoolFactory(district=DistrictFactory(municipality=MunicipalityFactory(code="9902")))
    before = snapshot()
    data = csv_file(
        SCHOOL_HEADER, ["12345678;Nya skolan;Västra", f"{other.unit_code};Stulen;Norra"]
    )
    run = run_file(ImportKind.SCHOOLS, data, municipality=world.municipality)
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Row 3: the school belongs to another municipality"]
    assert snapshot() == before  # the district "Västra" and the new school are gone too


# ---------------------------------------------------------------- good files


def test_utf8_with_bom_and_columns_in_any_order_with_any_case(world):
    columns = list(reversed(lessons.ATTENDANCE_COLUMNS))
    header = ";".join(c.upper() if i % 2 else c.title() for i, c in enumerate(columns))
    line = lesson_line(world.student_a1, world.school_a, subject="Svenska språket")
    values = list(reversed(line.split(";")))
    data = csv_file(header, [";".join(values)], bom=True)

    run = run_file(ImportKind.ATTENDANCE, data)

    assert run.status == ImportStatus.SUCCEEDED, run.errors
    lesson = Lesson.objects.get()
    assert lesson.subject == "Svenska språket"
    assert lesson.student_id == world.student_a1.pk
    assert (run.rows_total, run.created_count, run.updated_count) == (1, 1, 0)


def test_windows_1252_student_register_with_swedish_names(world):
    number = str(fake_personnummer(601))
    data = csv_file(
        STUDENT_HEADER + ";kon",
        [student_line(number, "Åsa", "Öberg", world.school_a, "7C", "7", "flicka")],
        encoding="cp1252",
    )
    assert "Åsa".encode("cp1252") in data and "Åsa".encode() not in data

    run = run_file(ImportKind.STUDENTS, data)

    assert run.status == ImportStatus.SUCCEEDED, run.errors
    student = Student.objects.get(first_name="Åsa")
    assert (student.last_name, student.school, student.mentor_group.name) == (
        "Öberg",
        world.school_a,
        "7C",
    )
    assert pnr_of(student) == number


def test_semicolons_inside_quotes_and_blank_lines_are_fine(world):
    line = lesson_line(world.student_a1, world.school_a, subject='"Svenska; litteratur"')
    run = run_file(ImportKind.ATTENDANCE, attendance_file(["", line, ";;;;;;;;"]))
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert Lesson.objects.get().subject == "Svenska; litteratur"


def test_subjects_keep_backslashes_tabs_and_quoted_line_breaks(world):
    """The stage is written in COPY's text format on PostgreSQL, where these are escapes."""
    subjects = ["Sv\\enska \\N", "Bild\tform", '"Idrott\r\noch hälsa"', "\\."]
    lines = [
        lesson_line(world.student_a1, world.school_a, start=f"{8 + n:02d}:00", subject=subject)
        for n, subject in enumerate(subjects)
    ]
    run = run_file(ImportKind.ATTENDANCE, attendance_file(lines))
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert list(Lesson.objects.order_by("start_time").values_list("subject", flat=True)) == [
        "Sv\\enska \\N",
        "Bild\tform",
        "Idrott\r\noch hälsa",
        "\\.",
    ]


def _monthly_sums() -> dict[str, int]:
    return MonthlyAbsence.objects.aggregate(
        scheduled=Sum("scheduled_min"),
        valid=Sum("valid_min"),
        invalid=Sum("invalid_min"),
        lessons=Sum("lesson_count"),
    )


def test_reimporting_the_same_file_updates_and_never_double_counts(
    world, django_capture_on_commit_callbacks
):
    lines = [
        lesson_line(world.student_a1, world.school_a, f"2025-09-{d:02d}", absent=20, kind="giltig")
        for d in range(1, 6)
    ] + [lesson_line(world.student_a2, world.school_a, "2025-09-01", absent=60, kind="ogiltig")]
    data = attendance_file(lines)

    with django_capture_on_commit_callbacks(execute=True):
        first = run_file(ImportKind.ATTENDANCE, data)
    lessons, sums = Lesson.objects.count(), _monthly_sums()
    assert (first.created_count, first.updated_count) == (6, 0)
    assert sums == {"scheduled": 360, "valid": 100, "invalid": 60, "lessons": 6}

    with django_capture_on_commit_callbacks(execute=True):
        second = run_file(ImportKind.ATTENDANCE, data)
    assert (second.created_count, second.updated_count) == (0, 6)
    assert Lesson.objects.count() == lessons
    assert _monthly_sums() == sums


def test_an_overlapping_file_updates_the_overlap_and_adds_the_rest(
    world, django_capture_on_commit_callbacks
):
    a1, school = world.student_a1, world.school_a
    week1 = [lesson_line(a1, school, f"2025-09-0{d}") for d in range(1, 6)]
    with django_capture_on_commit_callbacks(execute=True):
        run_file(ImportKind.ATTENDANCE, attendance_file(week1))
    # Days 4-5 again (now with absence) and days 8-9 new.
    overlap = [
        lesson_line(a1, school, f"2025-09-0{d}", absent=30, kind="ogiltig") for d in (4, 5, 8, 9)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        run = run_file(ImportKind.ATTENDANCE, attendance_file(overlap))
    assert (run.created_count, run.updated_count) == (2, 2)
    assert Lesson.objects.count() == 7
    assert _monthly_sums() == {"scheduled": 420, "valid": 0, "invalid": 120, "lessons": 7}


def test_student_register_moves_students_and_never_deletes(world):
    a1, a2 = world.student_a1, world.student_a2
    number_new = str(fake_personnummer(611))
    data = csv_file(
        STUDENT_HEADER,
        [
            # a1 changed school (to B, class 8A); a2 changed class (7A); a new student.
            student_line(pnr_of(a1), a1.first_name, a1.last_name, world.school_b, "8A", "8"),
            student_line(pnr_of(a2), a2.first_name, a2.last_name, world.school_a, "7A", "7"),
            student_line(number_new, "Ny", "Elevsson", world.school_a, "7A", "7"),
        ],
    )
    students_before = Student.objects.count()

    run = run_file(ImportKind.STUDENTS, data)

    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert (run.created_count, run.updated_count) == (1, 2)
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.school, a1.mentor_group, a1.grade) == (world.school_b, world.group_b1, "8")
    assert (a2.school, a2.mentor_group) == (world.school_a, world.group_a1)
    # b1 was not in the file: still there, unchanged.
    assert Student.objects.filter(pk=world.student_b1.pk, mentor_group=world.group_b1).exists()
    assert Student.objects.count() == students_before + 1


def test_mentor_email_without_a_user_waits_for_the_account(world):
    number = str(fake_personnummer(621))
    data = csv_file(
        STUDENT_HEADER + ";mentor_epost",
        [student_line(number, "Ny", "Elevsson", world.school_a, "9X", "9", "Ny.Mentor@Skola.se")],
    )
    run = run_file(ImportKind.STUDENTS, data)
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.warnings == [
        "Row 2: no user has the mentor e-mail yet; the mentor gets the class when their "
        "account exists."
    ]
    group = MentorGroup.objects.get(school=world.school_a, name="9X")
    assert group.pending_mentor_email == "ny.mentor@skola.se"

    mentor = UserFactory(username="ny.mentor", email="ny.mentor@skola.se")
    assert link_pending_mentors(mentor) == 1

    group.refresh_from_db()
    assert group.pending_mentor_email == ""
    assert (
        RoleMembership.objects.active()
        .filter(user=mentor, role=Role.MENTOR, mentor_group=group)
        .exists()
    )
    assert list(access.mentor_groups_of(mentor)) == [group]
    assert list(access.students_visible_to(mentor).values_list("first_name", flat=True)) == ["Ny"]
    assert link_pending_mentors(mentor) == 0  # nothing waits any more


def test_a_mentor_named_before_their_account_gets_the_class_when_the_account_is_made(world, client):
    """``link_pending_mentors`` runs when the administrator creates the account."""
    from django.urls import reverse

    from ..conftest import verified_login

    number = str(fake_personnummer(622))
    data = csv_file(
        STUDENT_HEADER + ";mentor_epost",
        [student_line(number, "Väntar", "Elevsson", world.school_a, "9Z", "9", "kommer@skola.se")],
    )
    assert run_file(ImportKind.STUDENTS, data).status == ImportStatus.SUCCEEDED
    group = MentorGroup.objects.get(school=world.school_a, name="9Z")
    assert group.pending_mentor_email == "kommer@skola.se"

    verified_login(client, world.admin_m)
    response = client.post(
        reverse("admin:sst_user_add"),
        {
            "username": "kommer",
            "password1": "Ett-langt-losenord-2026",
            "password2": "Ett-langt-losenord-2026",
            "usable_password": "true",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mentor = User.objects.get(username="kommer")
    assert not RoleMembership.objects.filter(user=mentor).exists()  # no e-mail yet

    response = client.post(
        reverse("admin:sst_user_change", args=[mentor.pk]),
        {
            "username": "kommer",
            "email": "Kommer@skola.se",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    group.refresh_from_db()
    assert group.pending_mentor_email == ""
    assert list(access.mentor_groups_of(mentor)) == [group]


def test_mentor_email_of_an_existing_user_gives_the_class_at_once(world):
    mentor = UserFactory(username="befintlig", email="befintlig@skola.se")
    data = csv_file(
        STUDENT_HEADER + ";mentor_epost",
        [
            student_line(
                str(fake_personnummer(631)),
                "Ny",
                "Elev",
                world.school_a,
                "9Y",
                "9",
                "BEFINTLIG@skola.se",
            )
        ],
    )
    run = run_file(ImportKind.STUDENTS, data)
    assert run.status == ImportStatus.SUCCEEDED and run.warnings == []
    assert [g.name for g in access.mentor_groups_of(mentor)] == ["9Y"]
    # Importing again does not add a second membership.
    run_file(ImportKind.STUDENTS, data)
    assert RoleMembership.objects.filter(user=mentor, role=Role.MENTOR).count() == 1


def test_school_register_creates_a_district_the_first_time_it_is_named(world):
    districts = District.objects.count()
    data = csv_file(
        "Stadsdel;SKOLENHETSKOD;namn",
        [
            "Västra;12345678;Västerskolan",
            "västra;12345679;Lillskolan",  # the same district, another case
            f"Norra;{world.school_a.unit_code};Ekbackens skola (ny)",
        ],
    )
    run = run_file(ImportKind.SCHOOLS, data, by=world.admin_m)
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert (run.created_count, run.updated_count) == (2, 1)
    assert District.objects.count() == districts + 1
    west = District.objects.get(name="Västra")
    assert set(west.schools.values_list("unit_code", flat=True)) == {"12345678", "12345679"}
    world.school_a.refresh_from_db()
    assert world.school_a.name == "Ekbackens skola (ny)"
    # The run used the administrator's own municipality.
    assert west.municipality == world.municipality


def test_the_import_is_audited_with_counts_only(world):
    from sst.models import AuditEvent

    run = run_file(
        ImportKind.ATTENDANCE,
        attendance_file([lesson_line(world.student_a1, world.school_a)]),
        by=world.admin_m,
    )
    event = AuditEvent.objects.get(object_type="import_attendance")
    assert event.object_id == str(run.public_id)
    assert event.actor_username == "admin_m"
    assert event.detail == {"rows": 1, "created": 1, "updated": 0, "students": 1}


def test_progress_is_100_when_done(world):
    run = run_file(
        ImportKind.ATTENDANCE, attendance_file([lesson_line(world.student_a1, world.school_a)])
    )
    assert runs.import_run_progress_pct(run) == 100
    queued = ImportRun.objects.create(kind=ImportKind.ATTENDANCE, file_name="x.csv", file_size=0)
    assert runs.import_run_progress_pct(queued) == 0


def test_the_stored_upload_is_deleted_after_the_task(world, settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path)
    run = ImportRun.objects.create(kind=ImportKind.ATTENDANCE, file_name="x.csv", file_size=10)
    path = runs.stored_file(run)
    path.write_bytes(attendance_file([lesson_line(world.student_a1, world.school_a)]))
    assert jobs.run_stored_import(run.pk) == ImportStatus.SUCCEEDED
    assert not path.exists()
    # Running the task twice changes nothing.
    assert jobs.run_stored_import(run.pk) == ImportStatus.SUCCEEDED
    assert Lesson.objects.count() == 1


# ---------------------------------------------------------------- engine bugs found here


def test_a_name_longer_than_the_field_is_refused_not_crashed(world):
    """Student names over 100 characters: the importer must refuse the row (it raised
    ValidationError from Student.full_clean, leaving the run 'running' for ever)."""
    data = csv_file(
        STUDENT_HEADER,
        [student_line(str(fake_personnummer(641)), "A" * 101, "Öberg", world.school_a, "7A")],
    )
    before = snapshot()
    run = run_file(ImportKind.STUDENTS, data)
    assert run.status == ImportStatus.FAILED
    assert run.errors and run.errors[0].startswith("Row 2:")
    assert snapshot() == before


@pytest.mark.parametrize(
    "kind, header, line",
    [
        (ImportKind.STUDENTS, STUDENT_HEADER, "{pnr};Ny;Elev;{a};" + "K" * 41 + ";7"),
        (ImportKind.SCHOOLS, SCHOOL_HEADER, "12345678;" + "S" * 161 + ";Norra"),
        (ImportKind.SCHOOLS, SCHOOL_HEADER, "12345678;Skolan;" + "D" * 121),
        (
            ImportKind.STUDENTS,
            STUDENT_HEADER + ";mentor_epost",
            "{pnr};Ny;Elev;{a};7A;7;" + "m" * 250 + "@x.se",
        ),
    ],
    ids=["class-name", "school-name", "district-name", "mentor-email"],
)
def test_values_longer_than_their_columns_are_refused(world, kind, header, line):
    """On PostgreSQL these reached the database (DataError); on SQLite they were stored."""
    row = line.format(pnr=fake_personnummer(651), a=world.school_a.unit_code)
    before = snapshot()
    run = run_file(kind, csv_file(header, [row]), municipality=world.municipality)
    assert run.status == ImportStatus.FAILED, "stored a value longer than its column"
    assert run.errors[0].startswith("Row 2:")
    assert snapshot() == before


def test_any_unexpected_error_is_recorded_as_a_refusal(world, monkeypatch):
    """A bug in an importer must not leave the run 'running' for ever."""

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("internal detail 42")

    monkeypatch.setitem(jobs.IMPORTERS, ImportKind.ATTENDANCE, boom)
    run = ImportRun.objects.create(kind=ImportKind.ATTENDANCE, file_name="x.csv", file_size=1)
    run_import(run, io.BytesIO(b"x"))
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert run.errors and "internal detail" not in "".join(run.errors)  # no internals shown


def test_memory_stays_flat_for_a_file_without_line_breaks(world):
    """'The file is streamed (memory stays flat whatever its size)' — but a file with no line
    break is read as one line: a 1 GB upload would need gigabytes in the worker."""
    size = 20 * 1024 * 1024
    data = ATTENDANCE_HEADER.encode() + b"\r\n" + b"1" * size
    tracemalloc.start()
    try:
        run_file(ImportKind.ATTENDANCE, data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ImportRun.objects.get().status == ImportStatus.FAILED
    assert peak < size / 4, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_a_personnummer_in_other_digits_is_refused(world):
    """'٢٠١٢…' (Arabic-Indic digits) was accepted and normalised to '2012٠١٠…': the same
    child could be registered twice under two different numbers."""
    number = str(fake_personnummer(661)).translate(_ARABIC_INDIC)
    before = snapshot()
    run = run_file(
        ImportKind.STUDENTS,
        csv_file(STUDENT_HEADER, [student_line(number, "Ny", "Elev", world.school_a, "7A")]),
    )
    assert run.status == ImportStatus.FAILED
    assert snapshot() == before


@pytest.mark.parametrize("code", ["１２３４５６７８", "٠١٢٣٤٥٦٧", "1234567²"])
def test_a_school_unit_code_in_other_digits_is_refused(world, code):
    before = snapshot()
    run = run_file(
        ImportKind.SCHOOLS, csv_file(SCHOOL_HEADER, [f"{code};Skolan;Norra"]), by=world.admin_m
    )
    assert run.status == ImportStatus.FAILED
    assert snapshot() == before


# ---------------------------------------------------------------- the command


def test_the_command_imports_a_file(world, tmp_path, capsys):
    path = tmp_path / "franvaro.csv"
    path.write_bytes(attendance_file([lesson_line(world.student_a1, world.school_a)]))
    call_command("import_attendance", str(path))
    assert "1 rows: 1 added, 0 updated." in capsys.readouterr().out
    assert ImportRun.objects.get().file_name == "franvaro.csv"


def test_the_command_refuses_a_bad_file_and_changes_nothing(seeded, tmp_path):
    path = tmp_path / "franvaro.csv"
    path.write_bytes(attendance_file([lesson_line("20120101-9802", seeded.school_a)]))
    before = snapshot()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_attendance", str(path))
    assert snapshot() == before


def test_the_command_refuses_a_2_gb_file_at_once(world, tmp_path, monkeypatch):
    """The command has no size check: it would read a 2 GB file (here all NUL bytes and no
    line break: one 2 GB 'line' in memory) before refusing it."""
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: takes no disk space
    read = []
    monkeypatch.setattr(
        importcommand, "run_import", lambda *a, **k: read.append(1) or pytest.fail("file read")
    )
    with pytest.raises(CommandError, match="IMPORT_MAX_UPLOAD_MB"):
        call_command("import_attendance", str(path))
    assert read == []
    assert ImportRun.objects.count() == 0


# ---------------------------------------------------------------- concurrency (PostgreSQL)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_file_imported_twice_at_once_leaves_the_rows_of_one_import(on_postgres):
    school = SchoolFactory(
        unit_code="88000001",
        district=DistrictFactory(municipality=MunicipalityFactory(code="8801")),
    )
    students = [StudentFactory(school=school, mentor_group__school=school) for _ in range(30)]
    lines = [
        lesson_line(s, school, f"2025-09-{d:02d}", start, absent=15, kind="giltig")
        for s in students
        for d in range(1, 11)
        for start in ("08:00", "09:00", "10:00")
    ]
    data = attendance_file(lines)
    runs = [
        ImportRun.objects.create(kind=ImportKind.ATTENDANCE, file_name=f"{n}.csv", file_size=1)
        for n in range(2)
    ]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def worker(run: ImportRun) -> None:
        try:
            barrier.wait(timeout=10)
            run_import(run, io.BytesIO(data))
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    statuses = sorted(
        ImportRun.objects.filter(pk__in=[r.pk for r in runs]).values_list("status", flat=True)
    )
    assert statuses == [ImportStatus.SUCCEEDED, ImportStatus.SUCCEEDED]
    assert Lesson.objects.count() == len(lines)
    assert Lesson.objects.aggregate(total=Sum("absent_min"))["total"] == 15 * len(lines)
    assert connection.vendor == "postgresql"


def test_dates_are_real_dates(world):
    run = run_file(
        ImportKind.ATTENDANCE,
        attendance_file([lesson_line(world.student_a1, world.school_a, "2024-02-29")]),
    )
    assert run.status == ImportStatus.SUCCEEDED
    assert Lesson.objects.get().date == datetime.date(2024, 2, 29)


def test_the_import_memo_keeps_only_short_valid_values_and_at_most_its_limit():
    """Memory stays bounded whatever the file: a memo never holds long or wrong values."""
    memo = lessons._Memo(
        lambda key: lessons._Problem("wrong") if key.startswith("x") else key.upper(),
        limit=3,
    )
    assert memo["a"] == "A" and memo["x1"].message == "wrong"
    assert memo["b" * 65] == "B" * 65  # checked, but too long to keep
    assert memo["c"] == "C" and memo["d"] == "D" and memo["e"] == "E"
    assert sorted(memo) == ["a", "c", "d"]  # the limit: three
    pair = lessons._Memo(lambda key: "-".join(key))
    assert pair["08:00", "09:00"] == "08:00-09:00" and list(pair) == [("08:00", "09:00")]
