"""Writes to the organisation and people: role memberships (each change re-grants at once) and
the student and guardian register (callers pass a parsed ``Personnummer``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from . import access, audit, crypto
from .models import (
    Custody,
    Guardian,
    MentorGroup,
    Municipality,
    Role,
    RoleMembership,
    School,
    Student,
    StudentMove,
    User,
)
from .personnummer import Personnummer


def _record(membership: RoleMembership, action: audit.AuditAction, by: User | None) -> None:
    audit.record(
        user=by,
        action=action,
        object_type=audit.AuditObjectType.ROLE_MEMBERSHIP,
        object_id=str(membership.pk),
        detail={
            "person": membership.user_id,
            "role": membership.role,
            "place_kind": membership.place_kind,
            "place": getattr(membership.place, "pk", None),
            "starts_on": membership.starts_on.isoformat(),
            "ends_on": membership.ends_on.isoformat() if membership.ends_on else None,
        },
    )


@transaction.atomic
def membership_save(*, membership: RoleMembership, by: User | None) -> RoleMembership:
    """Create or change a membership; the person's permissions follow on their next request."""
    membership.full_clean()
    creating = membership._state.adding
    membership.save()
    _record(membership, audit.AuditAction.CREATE if creating else audit.AuditAction.UPDATE, by)
    access.sync_user_permissions(membership.user)
    return membership


@transaction.atomic
def membership_end(
    *, membership: RoleMembership, ends_on: datetime.date, by: User | None
) -> RoleMembership:
    membership.ends_on = ends_on
    membership.full_clean()
    membership.save(update_fields=["ends_on"])
    _record(membership, audit.AuditAction.UPDATE, by)
    access.sync_user_permissions(membership.user)
    return membership


@transaction.atomic
def membership_delete(*, membership: RoleMembership, by: User | None) -> None:
    user = membership.user
    _record(membership, audit.AuditAction.DELETE, by)
    membership.delete()
    access.sync_user_permissions(user)


# What later apps do once a person's account exists (created, or its e-mail changed): the
# attendance app gives a mentor the classes the student register named their e-mail for
# before the account existed. Registered in the apps' ``AppConfig.ready``; the core imports
# no app.
AccountHook = Callable[..., object]
_account_hooks: list[AccountHook] = []


def register_account_hook(hook: AccountHook) -> None:
    """``hook(user, by=...)`` runs after every ``account_saved``; it must be idempotent."""
    if hook not in _account_hooks:
        _account_hooks.append(hook)


def account_saved(*, user: User, by: User | None) -> None:
    """Call after creating a person's account or changing it (administration, commands)."""
    for hook in _account_hooks:
        hook(user, by=by)


# What later apps do once a municipality exists (made on the administration site, by a
# command or by the demo): the action plans app gives it the default toolbox. Registered in
# the apps' ``AppConfig.ready``; the core imports no app.
MunicipalityHook = Callable[..., object]
_municipality_hooks: list[MunicipalityHook] = []


def register_municipality_hook(hook: MunicipalityHook) -> None:
    """``hook(municipality, by=...)`` runs after every ``municipality_saved``; idempotent."""
    if hook not in _municipality_hooks:
        _municipality_hooks.append(hook)


def municipality_saved(*, municipality: Municipality, by: User | None) -> None:
    """Call after creating a municipality (administration, commands, the demo)."""
    for hook in _municipality_hooks:
        hook(municipality, by=by)


class StudentAtAnotherSchool(ValueError):
    """The student is enrolled at another school and the caller may not move them."""


def enrolled_school_id(personnummer: Personnummer) -> int | None:
    """The id of the school the student with this number is enrolled at (None: no such student)."""
    return (
        Student.objects.filter(personnummer_hash=crypto.lookup_hash(personnummer.value))
        .values_list("school_id", flat=True)
        .first()
    )


# What later apps do when a student moves between schools: the cases app closes the old
# school's open case with the reason "moved". Registered in ``AppConfig.ready``; the core
# imports no app.
MoveHook = Callable[..., object]
_move_hooks: list[MoveHook] = []


def register_move_hook(hook: MoveHook) -> None:
    """``hook(move, by=...)`` runs inside the move's transaction, after it is recorded."""
    if hook not in _move_hooks:
        _move_hooks.append(hook)


@transaction.atomic
def student_upsert(
    *,
    personnummer: Personnummer,
    first_name: str,
    last_name: str,
    school: School,
    mentor_group: MentorGroup | None,
    grade: str,
    gender: str,
    by: User | None,
    move: bool = False,
) -> tuple[Student, bool]:
    """Add a student or update the one with this personnummer (class, grade, name).

    A student enrolled at another school is moved only with ``move=True`` (a municipality
    administrator's register import): the move is recorded (``StudentMove``), audited, and
    the registered move hooks run. Otherwise ``StudentAtAnotherSchool`` is raised.
    """
    student = (
        Student.objects.select_for_update()
        .filter(personnummer_hash=crypto.lookup_hash(personnummer.value))
        .first()
    )
    created = student is None
    moved_from: School | None = None
    if student is None:
        student = Student()
        student.set_personnummer(personnummer)
    elif student.school_id != school.pk:
        if not move:
            raise StudentAtAnotherSchool("the student is enrolled at another school")
        moved_from = student.school
    student.first_name, student.last_name = first_name, last_name
    student.school, student.mentor_group = school, mentor_group
    student.grade, student.gender = grade, gender
    if mentor_group is not None and mentor_group.school_id != school.pk:
        raise ValueError("the mentor group belongs to another school")
    today = timezone.localdate()
    if moved_from is not None:
        student.enrolled_on = today
    student.full_clean()
    student.save()
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE if created else audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.STUDENT,
        object_id=str(student.public_id),
        student_id=student.public_id,
    )
    if moved_from is not None:
        _record_move(student=student, from_school=moved_from, on=today, by=by)
    return student, created


def _record_move(
    *, student: Student, from_school: School, on: datetime.date, by: User | None
) -> None:
    move = StudentMove.objects.create(
        student=student,
        from_school=from_school,
        to_school=student.school,
        moved_on=on,
        recorded_by=by,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.MOVE,
        object_type=audit.AuditObjectType.STUDENT_MOVE,
        object_id=str(move.pk),
        student_id=student.public_id,
        detail={"from_school": from_school.pk, "to_school": student.school_id},
    )
    for hook in _move_hooks:
        hook(move, by=by)


@transaction.atomic
def guardian_link(
    *,
    student: Student,
    personnummer: Personnummer,
    first_name: str,
    last_name: str,
    phone: str = "",
    email: str = "",
    has_custody: bool = True,
    by: User | None,
) -> Guardian:
    """Add or update a guardian and link them to the student."""
    guardian = Guardian.objects.filter(
        personnummer_hash=crypto.lookup_hash(personnummer.value)
    ).first()
    if guardian is None:
        guardian = Guardian()
        guardian.set_personnummer(personnummer)
    guardian.first_name, guardian.last_name = first_name, last_name
    guardian.phone, guardian.email = phone, email
    guardian.full_clean()
    guardian.save()
    Custody.objects.update_or_create(
        student=student, guardian=guardian, defaults={"has_custody": has_custody}
    )
    audit.record(
        user=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.GUARDIAN,
        object_id=str(guardian.public_id),
        student_id=student.public_id,
    )
    return guardian


def rotate_personnummer_keys() -> int:
    """Re-encrypt every stored number under the newest key and re-hash with the current key."""
    count = 0
    for model in (Student, Guardian):
        with transaction.atomic():
            rows = model.objects.select_for_update().only("pk", "personnummer_ciphertext")
            for row in rows.iterator(chunk_size=2000):
                value = crypto.decrypt(row.personnummer_ciphertext)
                model.objects.filter(pk=row.pk).update(
                    personnummer_ciphertext=crypto.rotate(row.personnummer_ciphertext),
                    personnummer_hash=crypto.lookup_hash(value),
                )
                count += 1
    return count


def mentor_assign(*, user: User, group: MentorGroup, by: User | None) -> RoleMembership | None:
    """Make ``user`` the mentor of ``group`` from today, unless they already are (the
    student register names mentors; importing it again changes nothing)."""
    if access.is_mentor_of(user, group):
        return None
    return membership_save(
        membership=RoleMembership(user=user, role=Role.MENTOR, mentor_group=group), by=by
    )
