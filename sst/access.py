"""The one access policy: who may see and do what.

The capability table (``sst.capabilities``: capability → the roles that hold it at each kind
of place) decides every right, read and write. Role memberships are turned into
django-guardian object permissions for the capabilities the read querysets join
(``GRANTS``, derived from the table; ``sync_user_permissions`` writes them).

Views and services ask the functions here:

- querysets that already know the user (``students_visible_to``, ``cases_visible_to``,
  ``schools_where``);
- ``require(user, capability, place)``: the roles that give it, or 404 (refusal audited);
- ``access_<noun>(user, public_id, ...)``: the object and what the user may do with it, or
  404 (refusal audited);
- ``holders(capability, place)``: who holds a capability at a place (notifications, alerts);
- ``RoleFacts`` for the page header, computed once per request.

No other module queries role memberships or names a role (``tests/sst/test_policy_lint.py``).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext

from . import audit, crypto
from .capabilities import (
    CAPABILITIES,
    CONDITIONED_ON_CASE,
    GRANTS,
    RESTRICTED_LABELS,
    STORED_AS,
    VISIBLE_ONLY_TO_LABELS,
    Capability,
    capabilities_of,
    profession_label,
    roles_holding,
)
from .capabilities import (
    NOTE_PROFESSIONS as NOTE_PROFESSIONS,
)
from .capabilities import (
    restriction_for as restriction_for,
)
from .models import (
    AuditEvent,
    District,
    DistrictUserObjectPermission,
    MentorGroup,
    MentorGroupUserObjectPermission,
    Municipality,
    MunicipalityUserObjectPermission,
    PlaceKind,
    RoleMembership,
    School,
    SchoolUserObjectPermission,
    Student,
    User,
)

AnyUser = User | AnonymousUser

# The object permissions each role's capabilities are stored as (derived from the table).
SCHOOL_STUDENTS = STORED_AS[Capability.VIEW_SCHOOL_STUDENTS][PlaceKind.SCHOOL]
GROUP_STUDENTS = STORED_AS[Capability.VIEW_GROUP_STUDENTS][PlaceKind.MENTOR_GROUP]

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
        user_id=_uid(user), permission__codename=codename
    ).values("content_object_id")


def _uid(user: AnyUser) -> int:
    """The user's id for a lookup (anonymous visitors have none and match nothing)."""
    return user.pk or 0


def _is_staff_user(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def students_visible_to(user: AnyUser) -> QuerySet[Student]:
    """Every student the user may see. Constant number of queries: one, with subqueries."""
    if not _is_staff_user(user):
        return Student.objects.none()
    perm_school = SchoolUserObjectPermission.objects.filter(
        user_id=_uid(user),
        permission__codename=SCHOOL_STUDENTS,
        content_object_id=OuterRef("school_id"),
    )
    perm_group = MentorGroupUserObjectPermission.objects.filter(
        user_id=_uid(user),
        permission__codename=GROUP_STUDENTS,
        content_object_id=OuterRef("mentor_group_id"),
    )
    visible: Q = Q(Exists(perm_school)) | Q(Exists(perm_group))
    assert isinstance(user, User)
    case_model = apps.get_model("cases", "Case")
    for capability in CONDITIONED_ON_CASE:
        condition = _conditions_of(capability, user)
        if condition is not None:
            # Social-services staff see a student only while a registered condition (an
            # assignment, a valid consent) holds for one of the student's cases.
            visible |= Q(
                Exists(
                    case_model.objects.filter(
                        condition,
                        student=OuterRef("pk"),
                        school_id=OuterRef("school_id"),  # a case of the current school
                        school__in=schools_where(user, capability),
                    )
                )
            )
    return Student.objects.filter(visible)


def student_for_user(user: AnyUser, public_id: uuid.UUID | str) -> Student:
    """The student, if the user may see them; otherwise 404 (and the refusal is audited)."""
    try:
        return (
            students_visible_to(user)
            .select_related("school", "mentor_group")
            .get(public_id=public_id)
        )
    except (Student.DoesNotExist, ValueError, ValidationError):
        raise refuse(user, audit.AuditObjectType.STUDENT, public_id) from None


def student_by_personnummer_for_audit(normalised: str) -> Student | None:
    """For the audit page only: find a student's opaque id without showing their data."""
    return (
        Student.objects.filter(personnummer_hash=crypto.lookup_hash(normalised))
        .only("public_id")
        .first()
    )


# ---------------------------------------------------------------- capabilities at a place

# What a right can be asked about: a place, or a record that lives at one.
Place = Any


@dataclass(frozen=True)
class _Where:
    """A place reduced to ids: the narrowest first. ``within`` also counts grants held at
    places inside it (a school's mentor groups), for "who works here" questions."""

    kind: str
    pk: int | None
    mentor_group_id: int | None = None
    school_id: int | None = None
    district_id: int | None = None
    municipality_id: int | None = None


def _where(place: Place) -> _Where:
    if isinstance(place, Municipality):
        return _Where(PlaceKind.MUNICIPALITY, place.pk, municipality_id=place.pk)
    if isinstance(place, District):
        return _Where(PlaceKind.DISTRICT, place.pk, district_id=place.pk)
    if isinstance(place, School):
        return _Where(PlaceKind.SCHOOL, place.pk, school_id=place.pk)
    if isinstance(place, MentorGroup):
        return _Where(
            PlaceKind.MENTOR_GROUP, place.pk, mentor_group_id=place.pk, school_id=place.school_id
        )
    student = getattr(place, "student", None)
    case_school_id = getattr(place, "school_id", None) if student is not None else None
    if student is not None:  # a case, or any record about one student
        place = student
    if case_school_id is not None and case_school_id != place.school_id:
        # A case of a school the student has since left: it stays that school's, and the
        # student's mentor group (at the new school) gives nothing on it.
        return _Where("case", getattr(place, "pk", None), school_id=case_school_id)
    if hasattr(place, "school_id") and hasattr(place, "mentor_group_id"):  # a student
        return _Where(
            "student",
            place.pk,
            mentor_group_id=place.mentor_group_id,
            school_id=place.school_id,
        )
    raise TypeError(f"not a place the policy knows: {type(place).__name__}")


def _covering(where: _Where, *, within: bool = False) -> Q:
    """Memberships held at the place or at a place covering it (and, ``within``, inside)."""
    q = Q(pk__in=[])
    if where.mentor_group_id is not None:
        q |= Q(mentor_group_id=where.mentor_group_id)
    if where.school_id is not None:
        q |= (
            Q(school_id=where.school_id)
            | Q(district__schools=where.school_id)
            | Q(municipality__districts__schools=where.school_id)
        )
        if within and where.kind == PlaceKind.SCHOOL:
            q |= Q(mentor_group__school_id=where.school_id)
    if where.district_id is not None:
        q |= Q(district_id=where.district_id) | Q(municipality__districts=where.district_id)
        if within:
            q |= Q(school__district_id=where.district_id)
            q |= Q(mentor_group__school__district_id=where.district_id)
    if where.municipality_id is not None:
        q |= Q(municipality_id=where.municipality_id)
        if within:
            q |= Q(district__municipality_id=where.municipality_id)
            q |= Q(school__district__municipality_id=where.municipality_id)
            q |= Q(mentor_group__school__district__municipality_id=where.municipality_id)
    return q


def _kind_of(row: tuple[Any, ...]) -> str:
    _role, group_id, school_id, district_id, _municipality_id = row
    if group_id is not None:
        return PlaceKind.MENTOR_GROUP
    if school_id is not None:
        return PlaceKind.SCHOOL
    if district_id is not None:
        return PlaceKind.DISTRICT
    return PlaceKind.MUNICIPALITY


_PLACE_COLUMNS = ("role", "mentor_group_id", "school_id", "district_id", "municipality_id")


def _held_at(user: AnyUser, place: Place, *, within: bool = False) -> dict[str, set[str]]:
    """Kind of place → the roles the user holds today covering ``place``: one query."""
    if not _is_staff_user(user):
        return {}
    held: dict[str, set[str]] = {}
    rows = (
        RoleMembership.objects.filter(user_id=_uid(user))
        .active()
        .filter(_covering(_where(place), within=within))
        .values_list(*_PLACE_COLUMNS)
        .distinct()
    )
    for row in rows:
        held.setdefault(_kind_of(row), set()).add(row[0])
    return held


def _roles_giving(
    capability: Capability, held: dict[str, set[str]] | dict[str, frozenset[str]]
) -> frozenset[str]:
    return frozenset(
        role
        for kind, roles in CAPABILITIES[capability].items()
        for role in held.get(kind, set()) & roles
    )


class Granted(frozenset[Capability]):
    """The capabilities a user holds at a place (a frozenset), and the roles that give
    them, so that a page and its audit row come from the same answer."""

    held: dict[str, frozenset[str]]

    def __new__(
        cls, held: dict[str, set[str]], *, without: frozenset[Capability] = frozenset()
    ) -> Granted:
        granted = super().__new__(cls, capabilities_of(held) - without)
        granted.held = {kind: frozenset(roles) for kind, roles in held.items()}
        return granted

    def roles_for(self, *capabilities: Capability) -> str:
        """The roles giving any of ``capabilities`` (comma-separated, for the audit)."""
        roles = {
            role
            for capability in capabilities
            if capability in self
            for role in _roles_giving(capability, self.held)
        }
        return ",".join(sorted(roles))


def capabilities_at(user: AnyUser, place: Place) -> Granted:
    """Every capability the user holds today at ``place``: one query."""
    return Granted(_held_at(user, place))


def audit_role(capability: Capability) -> str:
    """The roles that hold ``capability`` (comma-separated): the audit's role column for a
    page shown only to its holders."""
    return ",".join(sorted(str(role) for role in roles_holding(capability)))


def role_label(capability: Capability) -> str:
    """The holders of ``capability`` named by their role (when no person is named)."""
    return ", ".join(str(role.label) for role in sorted(roles_holding(capability)))


def holds(user: AnyUser, capability: Capability, place: Place) -> bool:
    return bool(_roles_giving(capability, _held_at(user, place)))


class Refused(Http404):
    """A refusal: the user sees a 404, and the audit trail keeps a row of it.

    A service refuses inside its own transaction, which the exception then rolls back —
    taking the refusal's audit row with it. So the exception carries the row: once the view
    has raised it (every transaction of the request closed), ``AccessPolicyMiddleware``
    writes the row again if it is gone (``record_if_rolled_back``). Exactly one row stays.
    """

    def __init__(self, event: dict[str, Any], event_id: uuid.UUID) -> None:
        super().__init__()
        self.event = event
        self.event_id = event_id

    def record_if_rolled_back(self) -> None:
        if not AuditEvent.objects.filter(public_id=self.event_id).exists():
            audit.record(**self.event)


def refuse(
    user: AnyUser, object_type: audit.AuditObjectType, object_id: Any, **detail: Any
) -> Refused:
    """Audit a refusal and return the 404 to raise: every refusal, anywhere, goes through
    here, so each one keeps its audit row even inside a rolled-back transaction."""
    event: dict[str, Any] = {
        "user": user,
        "action": audit.AuditAction.ACCESS_DENIED,
        "object_type": object_type,
        "object_id": str(object_id)[:64],
        "detail": detail,
    }
    return Refused(event, audit.record(**event).public_id)


# The audit's name for each kind of organisational place.
_PLACE_OBJECT_TYPES: tuple[tuple[type[models.Model], audit.AuditObjectType], ...] = (
    (Municipality, audit.AuditObjectType.MUNICIPALITY),
    (District, audit.AuditObjectType.DISTRICT),
    (School, audit.AuditObjectType.SCHOOL),
    (MentorGroup, audit.AuditObjectType.MENTOR_GROUP),
)


def _object_type_of(place: Place) -> audit.AuditObjectType:
    for model, object_type in _PLACE_OBJECT_TYPES:
        if isinstance(place, model):
            return object_type
    # A student or a record about one (a case) is named by its model; a model missing from
    # the vocabulary fails here rather than writing a name the audit log cannot show.
    return audit.AuditObjectType(place._meta.model_name)


def _describe(place: Place) -> tuple[audit.AuditObjectType, Any]:
    where = _where(place)
    public_id = getattr(place, "public_id", None)
    return (
        _object_type_of(place),
        public_id or getattr(place, "unit_code", None) or where.pk,
    )


def require(user: AnyUser, capability: Capability, place: Place) -> str:
    """The roles (comma-separated, for the audit) that give the user ``capability`` at
    ``place``; otherwise 404, and the refusal is audited."""
    roles = _roles_giving(capability, _held_at(user, place))
    if not roles:
        object_type, object_id = _describe(place)
        raise refuse(user, object_type, object_id, needs=str(capability))
    return ",".join(sorted(roles))


def schools_where(user: AnyUser, capability: Capability) -> QuerySet[School]:
    """The schools where the user holds ``capability`` today (held at the school, its
    district or municipality, or at one of its mentor groups): one query with subqueries."""
    if not _is_staff_user(user):
        return School.objects.none()
    memberships = RoleMembership.objects.filter(user_id=_uid(user)).active()
    q = Q(pk__in=[])
    for kind, roles in CAPABILITIES[capability].items():
        held = memberships.filter(role__in=roles)
        if kind == PlaceKind.MENTOR_GROUP:
            q |= Q(pk__in=held.filter(mentor_group__isnull=False).values("mentor_group__school"))
        elif kind == PlaceKind.SCHOOL:
            q |= Q(pk__in=held.filter(school__isnull=False).values("school_id"))
        elif kind == PlaceKind.DISTRICT:
            q |= Q(district__in=held.filter(district__isnull=False).values("district_id"))
        else:
            q |= Q(
                district__municipality__in=held.filter(municipality__isnull=False).values(
                    "municipality_id"
                )
            )
    return School.objects.filter(q)


def holds_anywhere(user: AnyUser, capability: Capability) -> bool:
    if not _is_staff_user(user):
        return False
    return (
        RoleMembership.objects.filter(user_id=_uid(user))
        .active()
        .filter(_held_as(capability))
        .exists()
    )


def roles_giving_anywhere(user: AnyUser, capability: Capability) -> frozenset[str]:
    """The roles the user holds today, anywhere, that give ``capability`` (for the audit)."""
    if not _is_staff_user(user):
        return frozenset()
    return frozenset(
        RoleMembership.objects.filter(user_id=_uid(user))
        .active()
        .filter(_held_as(capability))
        .values_list("role", flat=True)
    )


def _held_as(capability: Capability) -> Q:
    """Memberships (by role and kind of place) that give ``capability``."""
    q = Q(pk__in=[])
    field = {
        PlaceKind.MENTOR_GROUP: "mentor_group__isnull",
        PlaceKind.SCHOOL: "school__isnull",
        PlaceKind.DISTRICT: "district__isnull",
        PlaceKind.MUNICIPALITY: "municipality__isnull",
    }
    for kind, roles in CAPABILITIES[capability].items():
        q |= Q(role__in=roles, **{field[kind]: False})
    return q


def holders(capability: Capability, place: Place, *, within: bool = False) -> QuerySet[User]:
    """Active people holding ``capability`` at ``place`` today (with ``within``, also those
    holding it inside the place: a school's mentors). One query when evaluated."""
    memberships = (
        RoleMembership.objects.active()
        .filter(_covering(_where(place), within=within))
        .filter(_held_as(capability))
    )
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by(
        "last_name", "first_name", "username", "pk"
    )


@dataclass(frozen=True)
class Holder:
    user_id: int
    role: str


def holders_of_students(
    student_ids: Iterable[int], capabilities: Iterable[Capability]
) -> dict[tuple[int, Capability], list[Holder]]:
    """(student id, capability) → the active people holding it for that student today, each
    once, with the role that gives it. Set-based: two queries however many students (the
    recipients of the staircase's alerts)."""
    wanted = frozenset(capabilities)
    students = list(
        Student.objects.filter(pk__in=list(student_ids)).values_list(
            "pk",
            "mentor_group_id",
            "school_id",
            "school__district_id",
            "school__district__municipality_id",
        )
    )
    if not students or not wanted:
        return {}
    groups = {row[1] for row in students if row[1]}
    schools = {row[2] for row in students}
    districts = {row[3] for row in students}
    municipalities = {row[4] for row in students}
    roles = {role for c in wanted for held in CAPABILITIES[c].values() for role in held}
    by_place: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for row in (
        RoleMembership.objects.active()
        .filter(user__is_active=True, role__in=roles)
        .filter(
            Q(mentor_group_id__in=groups)
            | Q(school_id__in=schools)
            | Q(district_id__in=districts)
            | Q(municipality_id__in=municipalities)
        )
        .order_by("user_id", "role")
        .values_list("user_id", *_PLACE_COLUMNS)
    ):
        user_id, place_row = row[0], row[1:]
        kind = _kind_of(place_row)
        place_id = next(pk for pk in place_row[1:] if pk is not None)
        by_place.setdefault((kind, place_id), []).append((user_id, place_row[0]))
    found: dict[tuple[int, Capability], list[Holder]] = {}
    for pk, group_id, school_id, district_id, municipality_id in students:
        ids = {
            PlaceKind.MENTOR_GROUP: group_id,
            PlaceKind.SCHOOL: school_id,
            PlaceKind.DISTRICT: district_id,
            PlaceKind.MUNICIPALITY: municipality_id,
        }
        for capability in wanted:
            seen: set[int] = set()
            people: list[Holder] = []
            # The narrowest place first, as the alerts always listed them.
            for kind in (
                PlaceKind.SCHOOL,
                PlaceKind.MENTOR_GROUP,
                PlaceKind.DISTRICT,
                PlaceKind.MUNICIPALITY,
            ):
                giving = CAPABILITIES[capability].get(kind, frozenset())
                if not giving or ids[kind] is None:
                    continue
                for user_id, role in by_place.get((kind, ids[kind]), []):
                    if role in giving and user_id not in seen:
                        seen.add(user_id)
                        people.append(Holder(user_id, role))
            if people:
                found[(pk, capability)] = people
    return found


# ---------------------------------------------------------------- professions


def professions_at(user: AnyUser, place: Place) -> frozenset[str]:
    """The professions (roles) the user holds at the place: a record restricted to one of
    them is readable by this user. One query."""
    held = _held_at(user, place)
    return frozenset(held.get(PlaceKind.SCHOOL, set()) | held.get(PlaceKind.MENTOR_GROUP, set()))


def restricted_label(profession: str) -> str:
    """What a reader without the profession sees instead of a restricted entry."""
    if profession in RESTRICTED_LABELS:
        return str(RESTRICTED_LABELS[profession])
    return gettext("Restricted entry – visible to: %(profession)s") % {
        "profession": profession_label(profession)
    }


def visible_only_to_label(profession: str) -> str:
    """The badge a permitted reader sees on a restricted entry."""
    if profession in VISIBLE_ONLY_TO_LABELS:
        return str(VISIBLE_ONLY_TO_LABELS[profession])
    return gettext("Visible only to: %(profession)s") % {"profession": profession_label(profession)}


# ---------------------------------------------------------------- cases


# A condition: given the user, a filter over case rows (built of EXISTS subqueries, so it
# is checked in the query on every request, never by the nightly permission sync).
CaseConditionBuilder = Callable[[User], Q]


@dataclass(frozen=True)
class CaseCondition:
    capability: Capability
    build: CaseConditionBuilder


_case_conditions: list[CaseCondition] = []


def register_case_condition(*, capability: Capability, build: CaseConditionBuilder) -> None:
    """A later app (referrals: assignment and consent) says under which condition a holder
    of ``capability`` reads a case. Call it from ``AppConfig.ready``; conditions of the same
    capability all have to hold."""
    if capability not in CONDITIONED_ON_CASE:
        raise ValueError(f"{capability} is not a capability conditioned on the case")
    if any(c.build is build and c.capability == capability for c in _case_conditions):
        return
    _case_conditions.append(CaseCondition(capability, build))


def unregister_case_condition(build: CaseConditionBuilder) -> None:
    """For tests."""
    _case_conditions[:] = [c for c in _case_conditions if c.build is not build]


def _conditions_of(capability: Capability, user: User) -> Q | None:
    builders = [c.build for c in _case_conditions if c.capability == capability]
    if not builders:
        return None
    q = Q()
    for build in builders:
        q &= build(user)
    return q


def cases_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Cases the user may read: the principal and student-health staff of the case's
    school; social-services staff only through the conditions later apps register
    (assignment, consent), checked in this query. One query with subqueries.

    Mentors do their part (checklists) through ``checklist_students_of``.
    """
    case_model = apps.get_model("cases", "Case")
    if not _is_staff_user(user):
        return case_model.objects.none()
    assert isinstance(user, User)
    # A case is read at its own school, whatever school the student is at now: a student's
    # move never hands the previous school's case records to the new school (and the old
    # school keeps reading the case it closed).
    q = Q(school__in=schools_where(user, Capability.WORK_CASES))
    for capability in CONDITIONED_ON_CASE:
        condition = _conditions_of(capability, user)
        if condition is not None:
            q |= Q(school__in=schools_where(user, capability)) & condition
    return case_model.objects.filter(q)


def case_capabilities(user: AnyUser, case: Any) -> Granted:
    """The capabilities the user holds on this case today: one query (two when a later app
    registered conditions for a capability the user holds there)."""
    granted = capabilities_at(user, case)
    refused = set()
    for capability in granted & CONDITIONED_ON_CASE:
        condition = _conditions_of(capability, user)  # type: ignore[arg-type]
        if condition is None or not type(case).objects.filter(condition, pk=case.pk).exists():
            refused.add(capability)
    if refused:
        return Granted(dict(granted.held), without=frozenset(refused))  # type: ignore[arg-type]
    return granted


# The team's work on one case — its action plan, follow-ups, maintenance plan and closure:
# the school's case staff (WORK_CASES), or the social worker assigned to it while a valid
# consent covers it (SOCIAL_WORK, whose case condition the referrals app registers).
TEAM_CASE_WORK: frozenset[Capability] = frozenset({Capability.WORK_CASES, Capability.SOCIAL_WORK})


def works_team_case(user: AnyUser, case: Any, granted: Iterable[Capability] | None = None) -> bool:
    """Whether the user does the team's work on this case (``granted``: the capabilities
    already read for it, to ask nothing twice)."""
    held = granted if granted is not None else case_capabilities(user, case)
    return bool(TEAM_CASE_WORK & set(held))


def access_case(
    user: AnyUser, public_id: uuid.UUID | str, *, need: Capability | None = None
) -> tuple[Any, Granted]:
    """The case and the capabilities the user holds on it, if the user may read it (and
    holds ``need`` on it); otherwise 404, the refusal audited. Two queries."""
    case_model = apps.get_model("cases", "Case")
    try:
        case = (
            cases_visible_to(user)
            .select_related("school", "student__school", "student__mentor_group")
            .get(public_id=public_id)
        )
    except (case_model.DoesNotExist, ValueError, ValidationError):
        raise refuse(user, audit.AuditObjectType.CASE, public_id) from None
    capabilities = case_capabilities(user, case)
    if need is not None and need not in capabilities:
        raise refuse(user, audit.AuditObjectType.CASE, public_id, needs=str(need))
    return case, capabilities


def cases_where(user: AnyUser, capability: Capability) -> QuerySet[Any]:
    """Cases on which the user holds ``capability`` by role (no case condition: for
    capabilities not in ``CONDITIONED_ON_CASE``): held at the case's school (or its district
    or municipality), or at the mentor group of a student still at the case's school. One
    query with subqueries."""
    if capability in CONDITIONED_ON_CASE:
        raise ValueError(f"{capability} is conditioned on the case: use cases_visible_to")
    case_model = apps.get_model("cases", "Case")
    if not _is_staff_user(user):
        return case_model.objects.none()
    memberships = RoleMembership.objects.filter(user_id=_uid(user)).active()
    q = Q(pk__in=[])
    for kind, roles in CAPABILITIES[capability].items():
        held = memberships.filter(role__in=roles)
        if kind == PlaceKind.MENTOR_GROUP:
            q |= Q(
                student__mentor_group__in=held.filter(mentor_group__isnull=False).values(
                    "mentor_group_id"
                ),
                school_id=F("student__school_id"),
            )
        elif kind == PlaceKind.SCHOOL:
            q |= Q(school__in=held.filter(school__isnull=False).values("school_id"))
        elif kind == PlaceKind.DISTRICT:
            q |= Q(school__district__in=held.filter(district__isnull=False).values("district_id"))
        else:
            q |= Q(
                school__district__municipality__in=held.filter(municipality__isnull=False).values(
                    "municipality_id"
                )
            )
    return case_model.objects.filter(q)


def access_case_holding(
    user: AnyUser, public_id: uuid.UUID | str, capability: Capability
) -> tuple[Any, Granted]:
    """The case, if the user holds ``capability`` on it (``cases_where``), with every
    capability they hold on it; otherwise 404, the refusal audited. For work on a case by
    someone who may not read the whole case (the mentor writing the referral)."""
    case_model = apps.get_model("cases", "Case")
    try:
        case = (
            cases_where(user, capability)
            .select_related("school", "student__school", "student__mentor_group")
            .get(public_id=public_id)
        )
    except (case_model.DoesNotExist, ValueError, ValidationError):
        raise refuse(user, audit.AuditObjectType.CASE, public_id, needs=str(capability)) from None
    return case, case_capabilities(user, case)


def student_by_personnummer_where(
    user: AnyUser, normalised: str, capability: Capability
) -> Student | None:
    """The student with this (normalised) personnummer, if they are at a school where the
    user holds ``capability``; otherwise None — the same answer whether the student exists
    elsewhere or not at all, so nothing is revealed about students outside."""
    if not _is_staff_user(user):
        return None
    return (
        Student.objects.filter(
            personnummer_hash=crypto.lookup_hash(normalised),
            school__in=schools_where(user, capability),
        )
        .select_related("school", "mentor_group")
        .first()
    )


def access_student(
    user: AnyUser, public_id: uuid.UUID | str, *, need: Capability | None = None
) -> tuple[Student, Granted]:
    """The student and the capabilities the user holds for them, if the user may see them
    (and holds ``need``); otherwise 404, the refusal audited. Two queries."""
    student = student_for_user(user, public_id)
    capabilities = capabilities_at(user, student)
    if need is not None and need not in capabilities:
        raise refuse(user, audit.AuditObjectType.STUDENT, student.public_id, needs=str(need))
    return student, capabilities


def access_school(user: AnyUser, unit_code: str, *, need: Capability | None = None) -> School:
    """A school whose students the user may see, by its skolenhetskod — and, with ``need``,
    where the user holds that capability; otherwise 404 (audited)."""
    schools = schools_with_students_visible_to(user)
    if need is not None:
        schools = schools.filter(pk__in=schools_where(user, need).values("pk"))
    school = schools.select_related("district").filter(unit_code=unit_code).first()
    if school is None:
        raise refuse(
            user,
            audit.AuditObjectType.SCHOOL,
            unit_code,
            **({"needs": str(need)} if need else {}),
        )
    return school


def checklist_students_of(user: AnyUser) -> QuerySet[Student]:
    """Students whose mentor checklist the user may write: their own mentor groups' students."""
    if not _is_staff_user(user):
        return Student.objects.none()
    writes = STORED_AS[Capability.WRITE_CHECKLIST][PlaceKind.MENTOR_GROUP]
    return Student.objects.filter(
        mentor_group_id__in=_granted(user, PlaceKind.MENTOR_GROUP, writes)
    )


# ---------------------------------------------------------------- imports


def import_scopes_of(user: AnyUser) -> tuple[bool, QuerySet[School]]:
    """(whether the user imports for whole municipalities, the schools they import for).

    A municipality administrator imports for every school of the municipalities they
    administer (and may load the school register); a school administrator only for the
    schools they administer. Anyone else: ``(False, no schools)``.
    """
    if not _is_staff_user(user) or user.pk is None:
        return False, School.objects.none()
    municipal = STORED_AS[Capability.IMPORT_FOR_MUNICIPALITY][PlaceKind.MUNICIPALITY]
    municipalities = _granted(user, PlaceKind.MUNICIPALITY, municipal)
    if municipalities.exists():
        return True, School.objects.filter(district__municipality__in=municipalities)
    for_school = STORED_AS[Capability.IMPORT_FOR_SCHOOL][PlaceKind.SCHOOL]
    return False, School.objects.filter(pk__in=_granted(user, PlaceKind.SCHOOL, for_school))


def schools_importable_by(user: User | None) -> QuerySet[School]:
    """The schools whose unit codes an import by ``user`` may name: those of the
    municipalities they import for (every school for the command line, ``None``). A school
    of the same municipality that is not the uploader's is refused by the run's school
    scope; another municipality's code is simply unknown."""
    if user is None:
        return School.objects.all()
    _whole, schools = import_scopes_of(user)
    return School.objects.filter(
        district__municipality__in=schools.values("district__municipality")
    )


def can_import(user: AnyUser) -> bool:
    whole_municipality, schools = import_scopes_of(user)
    return whole_municipality or schools.exists()


def import_municipality_of(user: AnyUser) -> Municipality | None:
    """The municipality the user imports whole registers for (the first, if several)."""
    if not _is_staff_user(user):
        return None
    municipal = STORED_AS[Capability.IMPORT_FOR_MUNICIPALITY][PlaceKind.MUNICIPALITY]
    return (
        Municipality.objects.filter(pk__in=_granted(user, PlaceKind.MUNICIPALITY, municipal))
        .order_by("pk")
        .first()
    )


def import_runs_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Import runs the user may see: a school administrator only their schools' runs."""
    run_model = apps.get_model("attendance", "ImportRun")
    whole_municipality, schools = import_scopes_of(user)
    runs = run_model.objects.select_related("uploaded_by", "school_scope")
    if whole_municipality:
        return runs.filter(Q(school_scope__isnull=True) | Q(school_scope__in=schools))
    return runs.filter(school_scope__in=schools)


def is_mentor_of(user: AnyUser, group: MentorGroup) -> bool:
    """Whether the user already holds the mentor group's checklist work (is its mentor)."""
    return holds(user, Capability.WRITE_CHECKLIST, group)


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
    codename = STORED_AS[Capability.ADMINISTER][PlaceKind.MUNICIPALITY]
    return MunicipalityUserObjectPermission.objects.filter(
        user_id=_uid(user), permission__codename=codename
    ).exists()


def municipalities_administered_by(user: AnyUser) -> QuerySet[Municipality]:
    """The municipalities whose settings the user administers (their school calendar)."""
    if not _is_staff_user(user):
        return Municipality.objects.none()
    codename = STORED_AS[Capability.ADMINISTER][PlaceKind.MUNICIPALITY]
    return Municipality.objects.filter(pk__in=_granted(user, PlaceKind.MUNICIPALITY, codename))


# ---------------------------------------------------------------- the person's roles


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
        RoleMembership.objects.filter(user_id=_uid(user))
        .active_on(today)
        .select_related("municipality", "district", "school", "mentor_group__school")
        .order_by("role", "id")
    )
    return [
        HeldRole(m.role, str(m.get_role_display()), str(m.place), str(m.place_kind))
        for m in memberships
    ]


@dataclass(frozen=True)
class RoleFacts:
    """What the page header needs to know about the signed-in person: one query."""

    held_roles: list[HeldRole]
    capabilities: frozenset[Capability]

    @property
    def can_administer(self) -> bool:
        return Capability.ADMINISTER in self.capabilities

    @property
    def reads_audit_log(self) -> bool:
        return Capability.READ_AUDIT_LOG in self.capabilities

    @property
    def can_import(self) -> bool:
        return Capability.IMPORT_FOR_SCHOOL in self.capabilities

    @property
    def works_cases(self) -> bool:
        return Capability.WORK_CASES in self.capabilities

    @property
    def meets_in_forum(self) -> bool:
        """Whether the person sees the referral forum's meetings (members, coordinators)."""
        return bool({Capability.DECIDE_REFERRALS, Capability.COORDINATE} & self.capabilities)

    @property
    def coordinates(self) -> bool:
        return Capability.COORDINATE in self.capabilities

    @property
    def sees_reports(self) -> bool:
        return Capability.VIEW_REPORTS in self.capabilities

    @property
    def sees_students(self) -> bool:
        """Whether the person sees identified students anywhere (the "Students" menu item)."""
        return bool(
            {Capability.VIEW_GROUP_STUDENTS, Capability.VIEW_SCHOOL_STUDENTS} & self.capabilities
        )


def role_facts(request: HttpRequest) -> RoleFacts:
    """The person's role facts, computed once per request and kept on it."""
    facts: RoleFacts | None = getattr(request, "_sst_role_facts", None)
    if facts is None:
        held = roles_of(getattr(request, "user", AnonymousUser()))
        by_kind: dict[str, set[str]] = {}
        for role in held:
            by_kind.setdefault(role.place_kind, set()).add(role.role)
        facts = RoleFacts(held_roles=held, capabilities=capabilities_of(by_kind))
        request._sst_role_facts = facts  # type: ignore[attr-defined]
    return facts


def role_for_student(user: AnyUser, student: Student) -> str:
    """Which of the user's roles gives access to this student (recorded in the audit)."""
    held = _held_at(user, student)
    return ",".join(
        sorted(held.get(PlaceKind.SCHOOL, set()) | held.get(PlaceKind.MENTOR_GROUP, set()))
    )


def student_access_roles(user: AnyUser) -> str:
    """The user's active roles that give access to identified students (for list audits)."""
    if not _is_staff_user(user):
        return ""
    granting = CAPABILITIES[Capability.VIEW_SCHOOL_STUDENTS].get(
        PlaceKind.SCHOOL, frozenset()
    ) | CAPABILITIES[Capability.VIEW_GROUP_STUDENTS].get(PlaceKind.MENTOR_GROUP, frozenset())
    roles = (
        RoleMembership.objects.filter(user_id=_uid(user), role__in=granting)
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
    return RoleMembership.objects.filter(user_id=_uid(user), role__in=required).active().exists()


# ---------------------------------------------------------------- marking views

ViewFunc = Callable[..., HttpResponse]
PUBLIC = "public"
POLICY = "policy"


def staff_user(request: HttpRequest) -> User:
    """The signed-in staff member of a ``staff_view`` (the decorator has made sure of one)."""
    user = request.user
    assert isinstance(user, User)
    return user


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


def capability_view(capability: Capability) -> Callable[[ViewFunc], ViewFunc]:
    """A staff view for people who hold ``capability`` somewhere (404, audited, for everyone
    else). The view itself still asks for the place (``require``, ``access_*``)."""

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not holds_anywhere(request.user, capability):
                match = request.resolver_match
                raise refuse(
                    request.user,
                    audit.AuditObjectType.PAGE,
                    match.view_name if match else "",
                    needs=str(capability),
                )
            return view(request, *args, **kwargs)

        return staff_view(wrapped)

    return decorate


def admin_view(view: ViewFunc) -> ViewFunc:
    """A staff view for municipality administrators only (404 for everyone else)."""
    return capability_view(Capability.ADMINISTER)(view)
