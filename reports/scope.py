"""What a report covers: a school, a district or the municipality — and who may ask for it.

A scope is named in URLs and on the command line as ``municipality`` (or
``municipality:<id>``), ``district:<name or id>`` or ``school:<skolenhetskod>``: place names
and codes, never anything about a child. ``scope_for`` is the one way a view gets a scope:
it asks the access policy whether the user holds ``VIEW_REPORTS`` there (a manager of a
district covers its schools; a school's manager gets only the school), and refuses with an
audited 404 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from sst import access
from sst.capabilities import Capability
from sst.models import District, Municipality, School

from .suppression import PlaceTree


@dataclass(frozen=True)
class Scope:
    kind: str
    place: Municipality | District | School

    @property
    def key(self) -> str:
        """``school:12345678``, ``district:7``, ``municipality:1``: as URLs carry it."""
        if isinstance(self.place, School):
            return f"school:{self.place.unit_code}"
        return f"{self.kind}:{self.place.pk}"

    @property
    def label(self) -> str:
        return str(self.place)

    @property
    def kind_label(self) -> str:
        return {
            "municipality": _("Municipality"),
            "district": _("District"),
            "school": _("School"),
        }[self.kind]

    @property
    def municipality_id(self) -> int:
        place = self.place
        if isinstance(place, School):
            return place.district.municipality_id
        if isinstance(place, District):
            return place.municipality_id
        return place.pk

    def schools(self) -> QuerySet[School]:
        place = self.place
        if isinstance(place, School):
            return School.objects.filter(pk=place.pk)
        if isinstance(place, District):
            return School.objects.filter(district=place)
        return School.objects.filter(district__municipality=place)

    def tree(self) -> PlaceTree:
        """The places below the scope with reports of their own (suppression rule 4)."""
        return PlaceTree.of(self.kind, self.schools().values_list("pk", "district_id"))

    def children(self) -> list[Scope]:
        """The next level down, for drill-down: districts of a municipality, schools of a
        district; a school has none."""
        place = self.place
        if isinstance(place, Municipality):
            return [Scope("district", d) for d in place.districts.order_by("name")]
        if isinstance(place, District):
            return [Scope("school", s) for s in place.schools.order_by("name")]
        return []

    def parent(self) -> Scope | None:
        place = self.place
        if isinstance(place, School):
            return Scope("district", place.district)
        if isinstance(place, District):
            return Scope("municipality", place.municipality)
        return None


def parse_scope(text: str) -> Scope:
    """A scope from its name; ``ValidationError`` with a clear message when there is none.

    Looks the place up without any access check: callers that serve a user go through
    ``scope_for``.
    """
    kind, _sep, key = (text or "").strip().partition(":")
    kind, key = kind.strip().lower(), key.strip()
    try:
        if kind == "municipality":
            if key:
                return Scope(kind, Municipality.objects.get(pk=int(key)))
            only = list(Municipality.objects.all()[:2])
            if len(only) != 1:
                raise ValidationError(
                    _("There is more than one municipality: write municipality:<id>.")
                )
            return Scope(kind, only[0])
        if kind == "district" and key:
            districts = District.objects.select_related("municipality")
            if key.isdigit():
                found = districts.filter(pk=int(key)).first()
                if found is not None:
                    return Scope(kind, found)
            return Scope(kind, districts.get(name__iexact=key))
        if kind == "school" and key:
            return Scope(kind, School.objects.select_related("district").get(unit_code=key))
    except (ValueError, Municipality.DoesNotExist, District.DoesNotExist, School.DoesNotExist):
        messages = {
            "municipality": _("There is no municipality %(key)s."),
            "district": _("There is no district %(key)s."),
            "school": _("There is no school with the school unit code %(key)s."),
        }
        raise ValidationError(messages[kind] % {"key": key[:40]}) from None
    except District.MultipleObjectsReturned:
        raise ValidationError(
            _("More than one district is called %(key)s: give its id.") % {"key": key[:40]}
        ) from None
    raise ValidationError(
        _("Write the scope as municipality, district:<name or id> or school:<school unit code>.")
    )


def scope_for(user: access.AnyUser, text: str) -> Scope:
    """The scope the user asked for, if they may see reports there; otherwise an audited 404
    (a malformed name is a 404 too: nothing to tell apart from a place one may not see)."""
    try:
        scope = parse_scope(text)
    except ValidationError:
        raise access.refuse(
            user, access.audit.AuditObjectType.SCHOOL, (text or "")[:64], needs="view_reports"
        ) from None
    access.require(user, Capability.VIEW_REPORTS, scope.place)
    return scope


def may_see(user: access.AnyUser, scope: Scope) -> bool:
    return access.holds(user, Capability.VIEW_REPORTS, scope.place)


def scopes_of(user: access.AnyUser) -> list[Scope]:
    """The widest places the user may see reports for: a municipality manager gets the
    municipality, a district manager their districts, a school manager their schools."""
    schools = list(
        access.schools_where(user, Capability.VIEW_REPORTS).select_related("district__municipality")
    )
    scopes: list[Scope] = []
    asked: dict[str, bool] = {}  # each place is asked about once, whatever the answer

    def allowed(scope: Scope) -> bool:
        if scope.key not in asked:
            asked[scope.key] = may_see(user, scope)
        return asked[scope.key]

    for school in sorted(schools, key=lambda s: (s.district.municipality.name, s.district.name)):
        for scope in (
            Scope("municipality", school.district.municipality),
            Scope("district", school.district),
            Scope("school", school),
        ):
            if allowed(scope):
                if scope.key not in {s.key for s in scopes}:
                    scopes.append(scope)
                break
    return scopes
