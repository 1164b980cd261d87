"""Who may import, and for which schools.

Meant to move into ``sst/access.py`` (the one policy); kept here until it does. It reads the
guardian object-permission tables only through ``access._granted`` semantics: the same
direct-FK tables the rest of the policy reads.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from sst.access import AnyUser, _is_staff_user
from sst.models import MunicipalityUserObjectPermission, School, SchoolUserObjectPermission

from .models import ImportRun

ADMINISTER_SCHOOL = "administer_school"
ADMINISTER_MUNICIPALITY = "administer_municipality"


def import_scopes_of(user: AnyUser) -> tuple[bool, QuerySet[School]]:
    """(whether the user imports for whole municipalities, the schools they import for).

    A municipality administrator imports for every school of the municipalities they
    administer (and may load the school register); a school administrator only for the
    schools they administer. Anyone else: ``(False, no schools)``.
    """
    if not _is_staff_user(user):
        return False, School.objects.none()
    municipalities = MunicipalityUserObjectPermission.objects.filter(
        user_id=user.pk, permission__codename=ADMINISTER_MUNICIPALITY
    ).values("content_object_id")
    if municipalities.exists():
        return True, School.objects.filter(district__municipality__in=municipalities)
    schools = SchoolUserObjectPermission.objects.filter(
        user_id=user.pk, permission__codename=ADMINISTER_SCHOOL
    ).values("content_object_id")
    return False, School.objects.filter(pk__in=schools)


def can_import(user: AnyUser) -> bool:
    whole_municipality, schools = import_scopes_of(user)
    return whole_municipality or schools.exists()


def import_runs_visible_to(user: AnyUser) -> QuerySet[ImportRun]:
    """Import runs the user may see: a school administrator only their schools' runs."""
    whole_municipality, schools = import_scopes_of(user)
    runs = ImportRun.objects.select_related("uploaded_by", "school_scope")
    if whole_municipality:
        return runs.filter(Q(school_scope__isnull=True) | Q(school_scope__in=schools))
    return runs.filter(school_scope__in=schools)
