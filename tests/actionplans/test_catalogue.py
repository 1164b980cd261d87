"""The toolbox catalogue: every municipality gets the default (DOMAIN.md §4.8) and the
school's own measures a–o, from the migration for those that existed and from the
municipality hook for new ones; its administrator edits their own catalogue only, and
retires interventions instead of deleting them."""

from __future__ import annotations

import importlib

import pytest
from django.urls import reverse

from actionplans import catalogue
from actionplans.models import Catalogue, ToolboxCategory, ToolboxItem
from sst import services
from sst.models import AuditEvent, Municipality, Role

from ..conftest import verified_login
from ..factories import MunicipalityFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def test_the_migration_holds_the_same_catalogue_as_the_code():
    migration = importlib.import_module("actionplans.migrations.0002_default_toolbox")
    assert migration.TOOLBOX == catalogue.DEFAULT_TOOLBOX
    assert migration.SCHOOL_MEASURES == catalogue.DEFAULT_SCHOOL_MEASURES


def test_the_default_catalogue_has_seven_categories_and_the_measures_a_to_o(world):
    added = catalogue.catalogue_ensure(world.municipality)
    toolbox = ToolboxCategory.objects.filter(
        municipality=world.municipality, catalogue=Catalogue.TOOLBOX
    )
    assert [c.name for c in toolbox] == [
        "Struktur",
        "Motivation och framtid",
        "Coachning och trygghet",
        "Lärmiljö",
        "Vårdnadshavare",
        "Socialt och fritid",
        "Samverkan",
    ]
    measures = ToolboxItem.objects.filter(
        category__municipality=world.municipality,
        category__catalogue=Catalogue.SCHOOL_MEASURES,
    )
    assert measures.count() == 15
    assert measures.order_by("order").first().name == "Tydlig närvaroregistrering"
    assert added == ToolboxItem.objects.filter(category__municipality=world.municipality).count()


def test_ensure_is_idempotent_and_keeps_the_administrators_edits(world):
    catalogue.catalogue_ensure(world.municipality)
    item = ToolboxItem.objects.get(category__municipality=world.municipality, name="Påminnelser")
    item.name = "Påminnelser via sms"
    item.active = False
    item.save()
    assert catalogue.catalogue_ensure(world.municipality) == 0
    assert not ToolboxItem.objects.filter(
        category__municipality=world.municipality, name="Påminnelser"
    ).exists()
    offered = catalogue.offered_items(world.municipality.pk)
    assert item not in offered
    assert item in catalogue.offered_items(world.municipality.pk, keep=[item.pk])


def test_a_new_municipality_gets_its_catalogue_through_the_hook():
    municipality = Municipality.objects.create(name="Nykommun", code="9876")
    services.municipality_saved(municipality=municipality, by=None)
    assert catalogue.has_catalogue(municipality.pk)


def test_the_administrator_edits_only_their_own_municipality_s_catalogue(client, world):
    catalogue.catalogue_ensure(world.municipality)
    other = MunicipalityFactory(name="Grannkommun", code="9902")
    catalogue.catalogue_ensure(other)
    verified_login(client, world.admin_m)
    page = client.get(reverse("admin:actionplans_toolboxcategory_changelist"))
    assert page.status_code == 200
    own = ToolboxCategory.objects.filter(municipality=world.municipality).first()
    foreign = ToolboxCategory.objects.filter(municipality=other).first()
    url = reverse("admin:actionplans_toolboxcategory_change", args=[own.pk])
    assert client.get(url).status_code == 200
    foreign_url = reverse("admin:actionplans_toolboxcategory_change", args=[foreign.pk])
    assert client.get(foreign_url).status_code in (302, 404)
    # No delete: items are retired.
    delete = reverse("admin:actionplans_toolboxcategory_delete", args=[own.pk])
    assert client.get(delete).status_code == 403
    # Retire an item through the inline.
    items = list(own.items.order_by("order", "pk"))
    data = {
        "municipality": world.municipality.pk,
        "catalogue": own.catalogue,
        "name": own.name,
        "order": own.order,
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(items):
        data.update(
            {
                f"items-{n}-id": row.pk,
                f"items-{n}-category": own.pk,
                f"items-{n}-name": row.name,
                f"items-{n}-order": row.order,
            }
        )
        if n:
            data[f"items-{n}-active"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302
    assert not ToolboxItem.objects.get(pk=items[0].pk).active
    assert AuditEvent.objects.filter(object_type="toolbox", actor_id=world.admin_m.pk).exists()


def test_someone_who_is_not_an_administrator_does_not_reach_it(client, world):
    user = UserFactory(username="rektor_x")
    grant(user, Role.PRINCIPAL, world.school_a)
    verified_login(client, user)
    response = client.get(reverse("admin:actionplans_toolboxcategory_changelist"))
    assert response.status_code in (302, 404)
