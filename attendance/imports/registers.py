"""The school register and the student register imports.

Each import is one transaction: all rows or none, with a per-row error report.
"""

from __future__ import annotations

from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from sst import access
from sst import services as sst_services
from sst.capabilities import Capability
from sst.models import (
    District,
    Grade,
    MentorGroup,
    Municipality,
    School,
    Student,
    User,
)

from ..models import ImportKind, ImportRun
from . import reader, runs

# ---------------------------------------------------------------- school register


SCHOOL_COLUMNS = ["skolenhetskod", "namn", "stadsdel"]


def import_schools(
    stream: IO[bytes], *, municipality: Municipality, by: User | None, run: ImportRun | None = None
) -> reader.ImportResult:
    result, errors = reader.ImportResult(), reader.RowErrors()
    with transaction.atomic():
        districts = {d.name.lower(): d for d in municipality.districts.all()}
        schools = {s.unit_code: s for s in School.objects.select_related("district")}
        seen: set[str] = set()
        for row_no, row in reader.read_rows(stream, SCHOOL_COLUMNS):
            result.rows += 1
            if "__error__" in row:
                errors.add(row_no, row["__error__"])
                continue
            code, name, district_name = row["skolenhetskod"], row["namn"], row["stadsdel"]
            if not (len(code) == 8 and code.isascii() and code.isdigit()):
                errors.add(row_no, _("the school unit code must have 8 digits"))
                continue
            if code in seen:
                errors.add(row_no, _("the school unit code appears twice in the file"))
                continue
            seen.add(code)
            if not name or not district_name:
                errors.add(row_no, _("name and district are required"))
                continue
            too_long = reader.too_long(
                row, {"namn": School, "stadsdel": District}, {"namn": "name", "stadsdel": "name"}
            )
            if too_long:
                errors.add(row_no, too_long)
                continue
            if errors.count:
                continue
            district = districts.get(district_name.lower())
            if district is None:
                district = District.objects.create(municipality=municipality, name=district_name)
                districts[district_name.lower()] = district
            school = schools.get(code)
            if school is None:
                School.objects.create(unit_code=code, name=name, district=district)
                result.created += 1
            elif school.district.municipality_id != municipality.pk:
                errors.add(row_no, _("the school belongs to another municipality"))
            elif (school.name, school.district_id) != (name, district.pk):
                school.name, school.district = name, district
                school.save(update_fields=["name", "district"])
                result.updated += 1
        errors.raise_if_any()
        runs.audit_import(by, ImportKind.SCHOOLS, result, run)
    return result


# ---------------------------------------------------------------- student register


STUDENT_COLUMNS = ["personnummer", "fornamn", "efternamn", "skolenhetskod", "klass", "arskurs"]
STUDENT_OPTIONAL = ["mentor_epost", "kon"]
_GENDERS = {
    "flicka": "girl",
    "f": "girl",
    "k": "girl",
    "pojke": "boy",
    "p": "boy",
    "m": "boy",
    "annat": "other",
    "": "other",
}
_GRADES = {g.value for g in Grade}


def import_students(
    stream: IO[bytes],
    *,
    by: User | None,
    school_scope: School | None = None,
    run: ImportRun | None = None,
) -> reader.ImportResult:
    """Add and update students. Only students of the schools the uploader imports for are
    touched; a student enrolled at another school is moved only by a whole-municipality import
    of someone who holds ``MOVE_STUDENTS`` at both schools (or by the command line, ``by`` None).
    Otherwise the row is refused, without saying where the student is enrolled."""
    result, errors = reader.ImportResult(), reader.RowErrors()
    with transaction.atomic():
        schools = {s.unit_code: s for s in access.schools_importable_by(by)}
        movable = _schools_movable_by(by) if school_scope is None else set()
        groups = {(g.school_id, g.name.lower()): g for g in MentorGroup.objects.all()}
        mentors = {
            u.email.lower(): u for u in User.objects.exclude(email="").filter(is_active=True)
        }
        seen: set[str] = set()
        for row_no, row in reader.read_rows(stream, STUDENT_COLUMNS, STUDENT_OPTIONAL):
            result.rows += 1
            if "__error__" in row:
                errors.add(row_no, row["__error__"])
                continue
            number = reader.parse_pnr(row["personnummer"])
            if isinstance(number, str):
                errors.add(row_no, number)
                continue
            if number.value in seen:
                errors.add(row_no, _("the same personal identity number appears twice"))
                continue
            seen.add(number.value)
            school = schools.get(row["skolenhetskod"])
            if school is None:
                errors.add(row_no, _("unknown school unit code"))
                continue
            if school_scope is not None and school.pk != school_scope.pk:
                errors.add(row_no, _("the row belongs to another school than yours"))
                continue
            enrolled_at = sst_services.enrolled_school_id(number)
            moving = enrolled_at is not None and enrolled_at != school.pk
            if moving and not (movable is None or {enrolled_at, school.pk} <= movable):
                errors.add(
                    row_no,
                    _(
                        "the student is enrolled at another school; moves between schools are "
                        "made by the municipality's administrator"
                    ),
                )
                continue
            grade = row["arskurs"].upper()
            if grade not in _GRADES:
                errors.add(row_no, _("grade must be F or 1–9"))
                continue
            gender = _GENDERS.get(row.get("kon", "").lower())
            if gender is None:
                errors.add(row_no, _("gender must be flicka, pojke or annat (or empty)"))
                continue
            if not row["fornamn"] or not row["efternamn"] or not row["klass"]:
                errors.add(row_no, _("first name, last name and class are required"))
                continue
            too_long = reader.too_long(
                row,
                {
                    "fornamn": Student,
                    "efternamn": Student,
                    "klass": MentorGroup,
                    "mentor_epost": MentorGroup,
                },
                {
                    "fornamn": "first_name",
                    "efternamn": "last_name",
                    "klass": "name",
                    "mentor_epost": "pending_mentor_email",
                },
            )
            if too_long:
                errors.add(row_no, too_long)
                continue
            if row.get("mentor_epost"):
                try:
                    validate_email(row["mentor_epost"])
                except ValidationError:
                    errors.add(row_no, _("the mentor e-mail is not a valid address"))
                    continue
            if errors.count:
                continue  # keep validating, stop writing
            group = groups.get((school.pk, row["klass"].lower()))
            if group is None:
                group = MentorGroup.objects.create(school=school, name=row["klass"])
                groups[(school.pk, row["klass"].lower())] = group
            _student, created = sst_services.student_upsert(
                personnummer=number,
                first_name=row["fornamn"],
                last_name=row["efternamn"],
                school=school,
                mentor_group=group,
                grade=grade,
                gender=gender,
                by=by,
                move=moving,
            )
            result.created += created
            result.updated += not created
            if moving:
                result.warnings.append(
                    _(
                        "Row %(row)d: the student was moved to this school from another school; "
                        "any open case at the previous school was closed (reason: moved)."
                    )
                    % {"row": row_no}
                )
            email = row.get("mentor_epost", "").lower()
            if email:
                mentor = mentors.get(email)
                if mentor is None:
                    if group.pending_mentor_email != email:
                        group.pending_mentor_email = email
                        group.save(update_fields=["pending_mentor_email"])
                    result.warnings.append(
                        _(
                            "Row %(row)d: no user has the mentor e-mail yet; the mentor gets the "
                            "class when their account exists."
                        )
                        % {"row": row_no}
                    )
                else:
                    sst_services.mentor_assign(user=mentor, group=group, by=by)
        errors.raise_if_any()
        runs.audit_import(by, ImportKind.STUDENTS, result, run)
    return result


def _schools_movable_by(by: User | None) -> set[int] | None:
    """Ids of the schools between which the uploader may move students (None: any)."""
    if by is None:
        return None
    return set(access.schools_where(by, Capability.MOVE_STUDENTS).values_list("pk", flat=True))


def link_pending_mentors(user: User, *, by: User | None = None) -> int:
    """Give a new or changed user the classes whose register named their e-mail."""
    if not user.email:
        return 0
    groups = list(MentorGroup.objects.filter(pending_mentor_email__iexact=user.email))
    for group in groups:
        sst_services.mentor_assign(user=user, group=group, by=by)
        group.pending_mentor_email = ""
        group.save(update_fields=["pending_mentor_email"])
    return len(groups)
