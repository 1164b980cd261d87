"""The one access policy.

Role memberships are turned into django-guardian object permissions on the place they are
held at (``GRANTS`` below; ``sync_user_permissions`` writes them). Every view asks the
functions here: querysets that already know the user (``students_visible_to``), access
functions that answer 404 when the user may not see an object (``student_for_user``), and
predicates for pages that show no personal data (``can_administer``).

No view checks role names by itself.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from . import audit, crypto
from .models import (
    District,
    DistrictUserObjectPermission,
    MentorGroup,
    MentorGroupUserObjectPermission,
    Municipality,
    MunicipalityUserObjectPermission,
    PlaceKind,
    Role,
    RoleMembership,
    School,
    SchoolUserObjectPermission,
    User,
)

if TYPE_CHECKING:
    from sst.models import Student

AnyUser = User | AnonymousUser

# What each role grants, on the kind of place it is held at.
SCHOOL_STUDENTS = "view_school_students"
GROUP_STUDENTS = "view_group_students"
GRANTS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.MENTOR: {PlaceKind.MENTOR_GROUP: (GROUP_STUDENTS,)},
    Role.PRINCIPAL: {PlaceKind.SCHOOL: (SCHOOL_STUDENTS,)},
    Role.COUNSELLOR: {PlaceKind.SCHOOL: (SCHOOL_STUDENTS,)},
    Role.SPECIAL_EDUCATOR: {PlaceKind.SCHOOL: (SCHOOL_STUDENTS,)},
    Role.SCHOOL_NURSE: {PlaceKind.SCHOOL: (SCHOOL_STUDENTS,)},
    Role.SCHOOL_PSYCHOLOGIST: {PlaceKind.SCHOOL: (SCHOOL_STUDENTS,)},
    # District staff see nothing identified until cases and consent exist (later issues).
    Role.SOCIAL_WORKER: {PlaceKind.DISTRICT: ("work_district_cases",)},
    Role.REFERRAL_FORUM: {
        PlaceKind.DISTRICT: ("triage_district_referrals",),
        PlaceKind.MUNICIPALITY: ("triage_municipality_referrals",),
    },
    Role.COORDINATOR: {
        PlaceKind.DISTRICT: ("coordinate_district",),
        PlaceKind.MUNICIPALITY: ("coordinate_municipality",),
    },
    # Managers see aggregated figures only, never personal data.
    Role.MANAGER: {
        PlaceKind.SCHOOL: ("view_school_reports",),
        PlaceKind.DISTRICT: ("view_district_reports",),
        PlaceKind.MUNICIPALITY: ("view_municipality_reports",),
    },
    # Administrators manage organisation and users; they do not read case content.
    Role.ADMINISTRATOR: {
        PlaceKind.SCHOOL: ("administer_school",),
        PlaceKind.MUNICIPALITY: ("administer_municipality",),
    },
}

_PERMISSION_MODELS: dict[str, tuple[type[models.Model], str]] = {
    PlaceKind.MUNICIPALITY: (MunicipalityUserObjectPermission, "municipality_id"),
    PlaceKind.DISTRICT: (DistrictUserObjectPermission, "district_id"),
    PlaceKind.SCHOOL: (SchoolUserObjectPermission, "school_id"),
    PlaceKind.MENTOR_GROUP: (MentorGroupUserObjectPermission, "mentor_group_id"),
}
_PLACE_MODELS: dict[str, type[models.Model]] = {
    PlaceKind.MUNICIPALITY: Municipality,
    PlaceKind.DISTRICT: District,
    PlaceKind.SCHOOL: School,
    PlaceKind.MENTOR_GROUP: MentorGroup,
}


# ---------------------------------------------------------------- granting from memberships


def _permission_ids(kind: str) -> dict[str, int]:
    place_model = _PLACE_MODELS[kind]
    return dict(
        Permission.objects.filter(
            content_type__app_label="sst", content_type__model=place_model._meta.model_name
        ).values_list("codename", "id")
    )


def sync_user_permissions(user: User, *, today: datetime.date | None = None) -> None:
    """Make the user's object permissions exactly what their active memberships grant."""
    today = today or timezone.localdate()
    memberships = list(RoleMembership.objects.filter(user=user).active_on(today))
    with transaction.atomic():
        for kind, (perm_model, place_field) in _PERMISSION_MODELS.items():
            codename_ids = _permission_ids(kind)
            wanted = {
                (codename_ids[codename], getattr(m, place_field))
                for m in memberships
                if m.place_kind == kind
                for codename in GRANTS.get(m.role, {}).get(kind, ())
            }
            existing = {
                (row.permission_id, row.content_object_id): row.pk
                for row in perm_model.objects.filter(user=user)  # type: ignore[attr-defined]
            }
            stale = [pk for key, pk in existing.items() if key not in wanted]
            if stale:
                perm_model.objects.filter(pk__in=stale).delete()  # type: ignore[attr-defined]
            perm_model.objects.bulk_create(  # type: ignore[attr-defined]
                [
                    perm_model(user=user, permission_id=perm_id, content_object_id=obj_id)
                    for perm_id, obj_id in wanted - existing.keys()
                ]
            )


def sync_all_permissions(*, today: datetime.date | None = None) -> int:
    users = User.objects.filter(
        Q(memberships__isnull=False)
        | Q(schooluserobjectpermission__isnull=False)
        | Q(mentorgroupuserobjectpermission__isnull=False)
        | Q(districtuserobjectpermission__isnull=False)
        | Q(municipalityuserobjectpermission__isnull=False)
    ).distinct()
    count = 0
    for user in users.iterator():
        sync_user_permissions(user, today=today)
        count += 1
    return count


# ---------------------------------------------------------------- reading through the policy


def _granted(user: AnyUser, kind: str, codename: str) -> QuerySet[Any]:
    """Ids of the places of ``kind`` where the user holds ``codename`` (a subquery)."""
    perm_model, _field = _PERMISSION_MODELS[kind]
    return perm_model.objects.filter(  # type: ignore[attr-defined]
        user_id=user.pk, permission__codename=codename
    ).values("content_object_id")


def _is_staff_user(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def students_visible_to(user: AnyUser) -> QuerySet[Student]:
    """Every student the user may see. Constant number of queries: one, with subqueries."""
    student_model = apps.get_model("sst", "Student")
    if not _is_staff_user(user):
        return student_model.objects.none()
    perm_school = SchoolUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename=SCHOOL_STUDENTS,
        content_object_id=OuterRef("school_id"),
    )
    perm_group = MentorGroupUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename=GROUP_STUDENTS,
        content_object_id=OuterRef("mentor_group_id"),
    )
    return student_model.objects.filter(Exists(perm_school) | Exists(perm_group))


def student_for_user(user: AnyUser, public_id: uuid.UUID | str) -> Student:
    """The student, if the user may see them; otherwise 404 (and the refusal is audited)."""
    try:
        return (
            students_visible_to(user)
            .select_related("school", "mentor_group")
            .get(public_id=public_id)
        )
    except (apps.get_model("sst", "Student").DoesNotExist, ValueError):
        audit.record(
            user=user,
            action=audit.AuditAction.ACCESS_DENIED,
            object_type="student",
            object_id=str(public_id),
        )
        raise Http404 from None


def student_by_personnummer_for_audit(normalised: str) -> Student | None:
    """For the audit page only: find a student's opaque id without showing their data."""
    student_model = apps.get_model("sst", "Student")
    return (
        student_model.objects.filter(personnummer_hash=crypto.lookup_hash(normalised))
        .only("public_id")
        .first()
    )


# ---------------------------------------------------------------- cases (school steps)

EHT_ROLES = frozenset(
    {Role.COUNSELLOR, Role.SPECIAL_EDUCATOR, Role.SCHOOL_NURSE, Role.SCHOOL_PSYCHOLOGIST}
)
CASE_ROLES = EHT_ROLES | {Role.PRINCIPAL}


def roles_at_school(user: AnyUser, school_id: int) -> frozenset[str]:
    """The roles the user holds today at a school (a mentor role counts at its group's school).

    Restricted notes and profession-only records are shown by this: a note restricted to
    counsellors is readable by whoever holds the counsellor role at the student's school.
    """
    if not _is_staff_user(user):
        return frozenset()
    roles = (
        RoleMembership.objects.filter(user_id=user.pk)
        .active()
        .filter(Q(school_id=school_id) | Q(mentor_group__school_id=school_id))
        .values_list("role", flat=True)
    )
    return frozenset(roles)


def cases_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Cases the user may read: the principal and student-health staff of the student's school.

    Mentors do their part (checklists) through ``checklist_students_of``; district staff see
    no identified case until referral, assignment and consent exist (later issues).
    """
    case_model = apps.get_model("cases", "Case")
    if not _is_staff_user(user):
        return case_model.objects.none()
    schools = RoleMembership.objects.filter(user_id=user.pk, role__in=CASE_ROLES).active()
    return case_model.objects.filter(
        student__school_id__in=schools.values("school_id"),
        student__in=students_visible_to(user),
    )


def has_case_role(user: AnyUser) -> bool:
    """Whether the user works cases anywhere (principal or student health team)."""
    if not _is_staff_user(user):
        return False
    return RoleMembership.objects.filter(user_id=user.pk, role__in=CASE_ROLES).active().exists()


def case_for_user(user: AnyUser, public_id: uuid.UUID | str) -> Any:
    """The case, if the user may read it; otherwise 404 (audited)."""
    case_model = apps.get_model("cases", "Case")
    try:
        return (
            cases_visible_to(user)
            .select_related("student__school", "student__mentor_group")
            .get(public_id=public_id)
        )
    except (case_model.DoesNotExist, ValueError):
        audit.record(
            user=user,
            action=audit.AuditAction.ACCESS_DENIED,
            object_type="case",
            object_id=str(public_id),
        )
        raise Http404 from None


def checklist_students_of(user: AnyUser) -> QuerySet[Student]:
    """Students whose mentor checklist the user may write: their own mentor groups' students."""
    student_model = apps.get_model("sst", "Student")
    if not _is_staff_user(user):
        return student_model.objects.none()
    return student_model.objects.filter(
        mentor_group_id__in=_granted(user, PlaceKind.MENTOR_GROUP, GROUP_STUDENTS)
    )


def require_role_at_school(user: AnyUser, roles: frozenset[str] | set[str], school_id: int) -> str:
    """The first of ``roles`` the user holds at the school, or 404 (audited): for writes that
    belong to one profession (the counsellor's mapping, the principal's escalation)."""
    held = roles_at_school(user, school_id) & set(roles)
    if not held:
        audit.record(
            user=user,
            action=audit.AuditAction.ACCESS_DENIED,
            object_type="school_role",
            object_id=str(school_id),
            detail={"needs": sorted(roles)},
        )
        raise Http404
    return sorted(held)[0]


# ---------------------------------------------------------------- imports


def import_scopes_of(user: AnyUser) -> tuple[bool, QuerySet[School]]:
    """(whether the user imports for whole municipalities, the schools they import for).

    A municipality administrator imports for every school of the municipalities they
    administer (and may load the school register); a school administrator only for the
    schools they administer. Anyone else: ``(False, no schools)``.
    """
    if not _is_staff_user(user) or user.pk is None:
        return False, School.objects.none()
    municipalities = _granted(user, PlaceKind.MUNICIPALITY, "administer_municipality")
    if municipalities.exists():
        return True, School.objects.filter(district__municipality__in=municipalities)
    return False, School.objects.filter(
        pk__in=_granted(user, PlaceKind.SCHOOL, "administer_school")
    )


def can_import(user: AnyUser) -> bool:
    whole_municipality, schools = import_scopes_of(user)
    return whole_municipality or schools.exists()


def import_runs_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Import runs the user may see: a school administrator only their schools' runs."""
    run_model = apps.get_model("attendance", "ImportRun")
    whole_municipality, schools = import_scopes_of(user)
    runs = run_model.objects.select_related("uploaded_by", "school_scope")
    if whole_municipality:
        return runs.filter(Q(school_scope__isnull=True) | Q(school_scope__in=schools))
    return runs.filter(school_scope__in=schools)


def school_for_user(
    user: AnyUser, unit_code: str, *, roles: frozenset[str] | set[str] | None = None
) -> School:
    """A school whose students the user may see, by its skolenhetskod — and, with ``roles``,
    where the user holds one of them; otherwise 404 (audited)."""
    school = (
        schools_with_students_visible_to(user)
        .select_related("district")
        .filter(unit_code=unit_code)
        .first()
    )
    if school is None:
        audit.record(
            user=user,
            action=audit.AuditAction.ACCESS_DENIED,
            object_type="school",
            object_id=str(unit_code)[:64],
            detail={"needs": sorted(roles)} if roles else {},
        )
        raise Http404
    if roles:
        require_role_at_school(user, roles, school.pk)
    return school


def schools_with_students_visible_to(user: AnyUser) -> QuerySet[School]:
    if not _is_staff_user(user):
        return School.objects.none()
    return School.objects.filter(pk__in=_granted(user, PlaceKind.SCHOOL, SCHOOL_STUDENTS))


def mentor_groups_of(user: AnyUser) -> QuerySet[MentorGroup]:
    if not _is_staff_user(user):
        return MentorGroup.objects.none()
    return MentorGroup.objects.filter(
        pk__in=_granted(user, PlaceKind.MENTOR_GROUP, GROUP_STUDENTS)
    ).select_related("school")


def groups_visible_to(user: AnyUser) -> QuerySet[MentorGroup]:
    """Mentor groups whose students the user may see (own groups, or all at own schools)."""
    if not _is_staff_user(user):
        return MentorGroup.objects.none()
    return MentorGroup.objects.filter(
        Q(pk__in=_granted(user, PlaceKind.MENTOR_GROUP, GROUP_STUDENTS))
        | Q(school__in=_granted(user, PlaceKind.SCHOOL, SCHOOL_STUDENTS))
    ).select_related("school")


def can_administer(user: AnyUser) -> bool:
    """Municipality administrators manage organisation, users and read the audit trail."""
    if not _is_staff_user(user):
        return False
    return MunicipalityUserObjectPermission.objects.filter(
        user_id=user.pk, permission__codename="administer_municipality"
    ).exists()


@dataclass(frozen=True)
class HeldRole:
    role: str
    label: str
    place: str
    place_kind: str


def roles_of(user: AnyUser, *, today: datetime.date | None = None) -> list[HeldRole]:
    """The user's active roles and places, for the page header and the audit trail."""
    if not _is_staff_user(user):
        return []
    today = today or timezone.localdate()
    memberships = (
        RoleMembership.objects.filter(user_id=user.pk)
        .active_on(today)
        .select_related("municipality", "district", "school", "mentor_group__school")
        .order_by("role", "id")
    )
    return [
        HeldRole(m.role, str(m.get_role_display()), str(m.place), str(m.place_kind))
        for m in memberships
    ]


def role_for_student(user: AnyUser, student: Student) -> str:
    """Which of the user's roles gives access to this student (recorded in the audit)."""
    memberships = (
        RoleMembership.objects.filter(user_id=user.pk)
        .active()
        .filter(Q(school_id=student.school_id) | Q(mentor_group_id=student.mentor_group_id))
        .order_by("role")
    )
    return ",".join(sorted({m.role for m in memberships}))


def student_access_roles(user: AnyUser) -> str:
    """The user's active roles that give access to identified students (for list audits)."""
    granting = {
        role
        for role, places in GRANTS.items()
        if any(SCHOOL_STUDENTS in perms or GROUP_STUDENTS in perms for perms in places.values())
    }
    roles = (
        RoleMembership.objects.filter(user_id=user.pk, role__in=granting)
        .active()
        .values_list("role", flat=True)
    )
    return ",".join(sorted(set(roles)))


def requires_second_factor(user: AnyUser) -> bool:
    required = set(settings.OTP_REQUIRED_ROLES)
    if not required or not _is_staff_user(user):
        return False
    if "*" in required:
        return True
    return RoleMembership.objects.filter(user_id=user.pk, role__in=required).active().exists()


# ---------------------------------------------------------------- marking views

ViewFunc = Callable[..., HttpResponse]
PUBLIC = "public"
POLICY = "policy"


def public(view: ViewFunc) -> ViewFunc:
    """A page anyone may open (login, health, language switch): shows no personal data."""
    view.sst_access = PUBLIC  # type: ignore[attr-defined]
    return view


def staff_view(view: ViewFunc) -> ViewFunc:
    """A page behind login whose data comes only through the functions of this module."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    wrapped.sst_access = POLICY  # type: ignore[attr-defined]
    return wrapped


def admin_view(view: ViewFunc) -> ViewFunc:
    """A staff view for municipality administrators only (404 for everyone else)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_administer(request.user):
            audit.record(
                user=request.user,
                action=audit.AuditAction.ACCESS_DENIED,
                object_type="page",
                object_id=request.resolver_match.view_name if request.resolver_match else "",
            )
            raise Http404
        return view(request, *args, **kwargs)

    return staff_view(wrapped)


# --- TEMP(B): replaced at merge ---
# A minimal stand-in for the capability table being built in another branch, with exactly
# the names the case transitions use.
class Capability(models.TextChoices):
    WORK_CASES = "work_cases", "work_cases"
    DECIDE_REFERRALS = "decide_referrals", "decide_referrals"


def case_capabilities(user: AnyUser, case: Any) -> frozenset[Capability]:
    """What the user may do with the case. Nobody at a school decides referrals: the forum
    gets that capability with the referral issue."""
    held: set[Capability] = set()
    if roles_at_school(user, case.student.school_id) & CASE_ROLES:
        held.add(Capability.WORK_CASES)
    return frozenset(held)


# --- end TEMP(B) ---
