"""The student and guardian register moved from ``cases`` to ``sst`` without losing a row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sst import crypto

BEFORE_MOVE = [
    ("sst", "0003_mentor_group_pending_mentor"),
    ("cases", "0004_default_cause_factors"),
    ("attendance", "0004_lean_lesson_and_monthly_indexes"),
]
PERSONNUMMER = "201201019802"


def _migrate(targets: list[tuple[str, str]] | None = None):
    """Migrate to ``targets`` (default: the latest of every app) and return their models."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_student_guardian_custody_and_case_rows_move_to_sst():
    old = _migrate(BEFORE_MOVE)
    content_type = old.get_model("contenttypes", "ContentType")
    student_type = content_type.objects.get_or_create(app_label="cases", model="student")[0]
    permission = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=student_type, codename="view_student", defaults={"name": "Can view student"}
    )[0]

    municipality = old.get_model("sst", "Municipality").objects.create(
        name="Flyttkommun", code="9911"
    )
    district = old.get_model("sst", "District").objects.create(
        municipality=municipality, name="Norr"
    )
    school = old.get_model("sst", "School").objects.create(
        district=district, name="Flyttskolan", unit_code="99119911"
    )
    group = old.get_model("sst", "MentorGroup").objects.create(school=school, name="7A")
    identity = {
        "personnummer_ciphertext": crypto.encrypt(PERSONNUMMER),
        "personnummer_hash": crypto.lookup_hash(PERSONNUMMER),
        "first_name": "Alva",
        "last_name": "Flytt",
    }
    student = old.get_model("cases", "Student").objects.create(
        school=school, mentor_group=group, grade="7", gender="girl", **identity
    )
    guardian = old.get_model("cases", "Guardian").objects.create(
        **{**identity, "personnummer_hash": crypto.lookup_hash("198001019800"), "first_name": "Bo"},
        phone="070-000 00 00",
    )
    old.get_model("cases", "Custody").objects.create(
        student=student, guardian=guardian, has_custody=True
    )
    case = old.get_model("cases", "Case").objects.create(student=student, opening="principal")

    new = _migrate()

    moved = new.get_model("sst", "Student").objects.get(pk=student.pk)
    assert (moved.public_id, moved.first_name, moved.school_id, moved.mentor_group_id) == (
        student.public_id,
        "Alva",
        school.pk,
        group.pk,
    )
    assert crypto.decrypt(moved.personnummer_ciphertext) == PERSONNUMMER
    assert new.get_model("sst", "Guardian").objects.get(pk=guardian.pk).phone == "070-000 00 00"
    custody = new.get_model("sst", "Custody").objects.get()
    assert (custody.student_id, custody.guardian_id, custody.has_custody) == (
        student.pk,
        guardian.pk,
        True,
    )
    assert new.get_model("cases", "Case").objects.get(pk=case.pk).student_id == student.pk
    # The content type moved with its id, so the permissions that point at it follow.
    moved_type = new.get_model("contenttypes", "ContentType").objects.get(pk=student_type.pk)
    assert (moved_type.app_label, moved_type.model) == ("sst", "student")
    assert new.get_model("auth", "Permission").objects.get(pk=permission.pk).content_type_id == (
        student_type.pk
    )
    # The register is read through the new model and its renamed table.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sst_student")
        assert cursor.fetchone()[0] == 1

    # And back: the move is reversible without losing a row either.
    back = _migrate(BEFORE_MOVE)
    returned = back.get_model("cases", "Student").objects.get(pk=student.pk)
    assert (returned.public_id, returned.school_id) == (student.public_id, school.pk)
    assert back.get_model("cases", "Custody").objects.get().guardian_id == guardian.pk
    assert back.get_model("cases", "Case").objects.get(pk=case.pk).student_id == student.pk
    returned_type = back.get_model("contenttypes", "ContentType").objects.get(pk=student_type.pk)
    assert (returned_type.app_label, returned_type.model) == ("cases", "student")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cases_student")
        assert cursor.fetchone()[0] == 1

    # Leave the database as every other test expects it.
    _migrate()
