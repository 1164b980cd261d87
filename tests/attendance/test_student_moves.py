"""Issue 13: a school's student register touches only its own students; moving a student
between schools is a municipality administrator's recorded operation that hands over no case,
no case record and no absence from before the move."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from attendance import selectors
from attendance.models import ImportKind, ImportStatus, Lesson, MonthlyAbsence
from cases import workflow
from cases.models import Case, CaseOpening, CaseState, ClosureReason, Note
from sst import access
from sst.models import AuditAction, AuditEvent, Role, Student, StudentMove

from ..conftest import verified_login
from ..factories import DistrictFactory, MunicipalityFactory, SchoolFactory, UserFactory, grant
from ..rowcounts import changed, snapshot
from .test_imports import (
    STUDENT_HEADER,
    attendance_file,
    csv_file,
    lesson_line,
    pnr_of,
    run_file,
    student_line,
)

# A refused file leaves its failed run (with the reasons) and audit rows, nothing else.
RUN_RECORDS = frozenset({"sst.AuditEvent", "attendance.ImportRun"})
REFUSAL_SV = (
    "Eleven är inskriven vid en annan skola; flytt mellan skolor görs av kommunens administratör"
)


@pytest.fixture
def school_admin_a(world):  # type: ignore[no-untyped-def]
    user = UserFactory(username="admin_a")
    grant(user, Role.ADMINISTRATOR, world.school_a)
    return user


@pytest.fixture
def case_at_b(world):  # type: ignore[no-untyped-def]
    """Björkdalen's open case on its student, with a note and a lesson recorded there."""
    case = workflow.case_open(student=world.student_b1, opening=CaseOpening.PRINCIPAL, by=None)
    Note.objects.create(case=case, text="Samtal med vårdnadshavare.")
    return case


def _lesson(student: Student, school, day: datetime.date) -> Lesson:  # type: ignore[no-untyped-def]
    return Lesson.objects.create(
        student=student,
        school=school,
        date=day,
        start_time=datetime.time(8),
        end_time=datetime.time(9),
        scheduled_min=60,
        absent_min=60,
        absence_type="invalid",
    )


def _move_file(world, student: Student, school) -> bytes:  # type: ignore[no-untyped-def]
    return csv_file(STUDENT_HEADER, [student_line(pnr_of(student), "Maja", "Flytt", school, "7A")])


def test_a_school_register_row_for_another_schools_student_is_refused_and_nothing_changes(
    world, school_admin_a, case_at_b
):
    before, student_before = snapshot(), Student.objects.get(pk=world.student_b1.pk)
    data = csv_file(
        STUDENT_HEADER,
        [
            student_line(pnr_of(world.student_a1), "Alva", "Ekholmsson", world.school_a, "7A"),
            student_line(pnr_of(world.student_b1), "Maja", "Ny", world.school_a, "7A"),
        ],
    )
    run = run_file(ImportKind.STUDENTS, data, by=school_admin_a, scope=world.school_a)
    assert run.status == ImportStatus.FAILED
    assert run.errors == [f"Rad 3: {REFUSAL_SV[0].lower()}{REFUSAL_SV[1:]}"]
    # Nothing says where the student is.
    for hint in (world.school_b.name, world.school_b.unit_code, world.group_b1.name):
        assert hint not in " ".join(run.errors)
    assert changed(before, snapshot(), allowed=RUN_RECORDS) == {}
    student = Student.objects.get(pk=world.student_b1.pk)
    assert (student.school_id, student.last_name) == (world.school_b.pk, student_before.last_name)
    assert Case.objects.get(pk=case_at_b.pk).state == CaseState.SCHOOL_INVESTIGATION


def test_a_municipality_administrator_with_a_school_chosen_cannot_move_either(world, case_at_b):
    before = snapshot()
    run = run_file(
        ImportKind.STUDENTS,
        _move_file(world, world.student_b1, world.school_a),
        by=world.admin_m,
        scope=world.school_a,
    )
    assert run.status == ImportStatus.FAILED
    assert "inskriven vid en annan skola" in run.errors[0]
    assert changed(before, snapshot(), allowed=RUN_RECORDS) == {}


def test_another_municipalitys_administrator_cannot_use_this_municipalitys_codes(world):
    other = MunicipalityFactory(name="Grannkommun", code="9902")
    other_school = SchoolFactory(district=DistrictFactory(municipality=other))
    admin_other = UserFactory(username="admin_other")
    grant(admin_other, Role.ADMINISTRATOR, other)
    before = snapshot()
    run = run_file(
        ImportKind.STUDENTS,
        _move_file(world, world.student_b1, world.school_a),
        by=admin_other,
    )
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Rad 2: okänd skolenhetskod"]
    assert changed(before, snapshot(), allowed=RUN_RECORDS) == {}
    assert other_school.pk  # the other municipality's own school is untouched too


def test_a_whole_municipality_import_moves_the_student_records_it_and_closes_the_old_case(
    world, case_at_b
):
    run = run_file(
        ImportKind.STUDENTS, _move_file(world, world.student_b1, world.school_a), by=world.admin_m
    )
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.updated_count == 1
    assert "flyttades till den här skolan" in run.warnings[0]
    student = Student.objects.get(pk=world.student_b1.pk)
    assert student.school_id == world.school_a.pk
    assert student.enrolled_on == timezone.localdate()
    move = StudentMove.objects.get(student=student)
    assert (move.from_school_id, move.to_school_id, move.recorded_by) == (
        world.school_b.pk,
        world.school_a.pk,
        world.admin_m,
    )
    assert AuditEvent.objects.filter(
        action=AuditAction.MOVE, student_id=student.public_id, actor_id=world.admin_m.pk
    ).exists()
    old = Case.objects.get(pk=case_at_b.pk)
    assert (old.state, old.closure_reason, old.school_id) == (
        CaseState.CLOSED,
        ClosureReason.MOVED,
        world.school_b.pk,
    )


def test_after_a_move_the_new_school_sees_no_old_case_and_the_old_school_keeps_its_own(
    world, case_at_b, client
):
    run_file(
        ImportKind.STUDENTS, _move_file(world, world.student_b1, world.school_a), by=world.admin_m
    )
    counsellor_b = world.counsellor_b
    # The receiving school: the student, yes; the previous school's case, no.
    assert access.students_visible_to(world.principal_a).filter(pk=world.student_b1.pk).exists()
    assert not access.cases_visible_to(world.principal_a).filter(pk=case_at_b.pk).exists()
    verified_login(client, world.principal_a)
    page = client.get(reverse("cases:student_detail", args=[world.student_b1.public_id]))
    assert page.status_code == 200
    assert str(case_at_b.public_id) not in page.content.decode()
    assert client.get(reverse("cases:case_detail", args=[case_at_b.public_id])).status_code == 404
    assert client.get(reverse("cases:case_print", args=[case_at_b.public_id])).status_code == 404
    # A new case at the new school does not link to the old school's case.
    new = workflow.case_open(
        student=Student.objects.get(pk=world.student_b1.pk), opening=CaseOpening.PRINCIPAL, by=None
    )
    assert (new.school_id, new.previous_case_id) == (world.school_a.pk, None)
    # The previous school still reads the case it closed, not the student's new data.
    assert access.cases_visible_to(counsellor_b).filter(pk=case_at_b.pk).exists()
    assert not access.students_visible_to(counsellor_b).filter(pk=world.student_b1.pk).exists()
    assert not access.cases_visible_to(counsellor_b).filter(pk=new.pk).exists()
    # Its case page names its own school, never where the student went.
    client.force_login(counsellor_b)
    page = client.get(reverse("cases:case_detail", args=[case_at_b.public_id]))
    assert page.status_code == 200
    assert world.school_b.name in page.content.decode()
    assert world.school_a.name not in page.content.decode()


def test_the_new_school_sees_absence_from_the_move_on_only(world):
    today = timezone.localdate()
    student = world.student_b1
    long_ago = today - datetime.timedelta(days=70)
    _lesson(student, world.school_b, long_ago)
    MonthlyAbsence.objects.create(
        student=student,
        month=long_ago.replace(day=1),
        school=student.school,
        grade=student.grade,
        scheduled_min=60,
        invalid_min=60,
        step=4,
        computed_at=timezone.now(),
    )
    assert selectors.monthly_history(student)  # before the move Björkdalen sees it
    run_file(ImportKind.STUDENTS, _move_file(world, student, world.school_a), by=world.admin_m)
    student = Student.objects.get(pk=student.pk)
    _lesson(student, world.school_a, today)
    assert selectors.monthly_history(student) == []
    patterns = selectors.absence_patterns(student, long_ago, today)
    assert patterns.total.scheduled_min == 60  # today's lesson only
    month_rows = selectors.with_month(
        access.students_visible_to(world.principal_a).filter(pk=student.pk),
        long_ago.replace(day=1),
    )
    assert selectors.month_row(month_rows.get(), long_ago.replace(day=1)) is None


def test_a_school_attendance_file_cannot_record_lessons_of_another_schools_student(
    world, school_admin_a
):
    before = snapshot()
    data = attendance_file([lesson_line(world.student_b1, world.school_a)])
    run = run_file(ImportKind.ATTENDANCE, data, by=school_admin_a, scope=world.school_a)
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Rad 2: ingen elev med detta personnummer"]
    assert changed(before, snapshot(), allowed=RUN_RECORDS) == {}


def test_another_municipalitys_attendance_file_cannot_name_this_municipalitys_school(world):
    other = MunicipalityFactory(name="Grannkommun", code="9902")
    admin_other = UserFactory(username="admin_other")
    grant(admin_other, Role.ADMINISTRATOR, other)
    SchoolFactory(district=DistrictFactory(municipality=other))
    before = snapshot()
    data = attendance_file([lesson_line(world.student_a1, world.school_a)])
    run = run_file(ImportKind.ATTENDANCE, data, by=admin_other)
    assert run.status == ImportStatus.FAILED
    assert run.errors == ["Rad 2: okänd skolenhetskod"]
    assert changed(before, snapshot(), allowed=RUN_RECORDS) == {}
