"""The administration site in Swedish and for screen readers: Django's own words stay Django's
("Ändra" on every edit link; the app's language button says "Byt"), every column has a
Swedish name, and the inputs of a table row are named by column and row.

The browser-level check (axe-core over every administration page) is in
tests/e2e/test_every_page.py; these say the same things without a browser.
"""

from __future__ import annotations

import html
import re

import pytest
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from cases.models import CauseFactor
from sst.admin import admin_site
from sst.models import Role

from ..conftest import verified_login


def _tag(page: str, name: str) -> str:
    """The opening tag of the form control called ``name`` (input or select)."""
    match = re.search(rf'<(?:input|select)\b[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert match, name
    return match.group(0)


def _aria_label(tag: str) -> str | None:
    match = re.search(r'\baria-label="([^"]*)"', tag)
    return html.unescape(match.group(1)) if match else None


def test_every_field_on_the_administration_site_has_a_translatable_name():
    """A field without a verbose name shows its English attribute name as a column header
    ("ORDER" in the cause-factor list)."""
    untranslated = [
        f"{model.__name__}.{field.name}"
        for model in admin_site._registry
        for field in model._meta.get_fields()
        if getattr(field, "concrete", False)
        and not isinstance(field, models.AutoField)
        and not isinstance(field.verbose_name, Promise)
    ]
    assert untranslated == []


def test_cause_factor_list_headers_are_swedish(client, world):
    CauseFactor.objects.get_or_create(group="school", label="Mobbning", defaults={"order": 1})
    verified_login(client, world.admin_m)
    with translation.override("sv"):
        response = client.get(reverse("admin:cases_causefactor_changelist"))
    assert response.status_code == 200
    headers = re.findall(
        r'<th scope="col"[^>]*>.*?<a [^>]*>([^<]+)</a>', response.content.decode(), re.S
    )
    assert "Ordning" in headers
    assert "Order" not in headers


def test_edit_links_say_andra_and_the_language_button_says_byt(client, world):
    verified_login(client, world.admin_m)
    with translation.override("sv"):
        admin_index = client.get(reverse("admin:index")).content.decode()
        desk = client.get(reverse("sst:desk")).content.decode()
    # Django's admin: "Change" is "Ändra" next to every model on the index.
    assert re.search(r'<a href="[^"]+" class="changelink"[^>]*>Ändra</a>', admin_index)
    assert ">Byt<" not in admin_index
    # The app's language switch keeps its own word.
    assert re.search(r'<button type="submit"[^>]*>Byt</button>', desk)


def test_editable_change_list_names_each_input_by_column_and_row(client, world):
    factor, _created = CauseFactor.objects.get_or_create(
        group="school", label="Mobbning", defaults={"order": 1}
    )
    verified_login(client, world.admin_m)
    with translation.override("sv"):
        page = client.get(reverse("admin:cases_causefactor_changelist")).content.decode()
        row = str(factor)
    forms = re.findall(r'name="(form-\d+)-order"', page)
    assert forms, "the cause-factor list should have editable rows"
    labels = {_aria_label(_tag(page, f"{form}-order")) for form in forms}
    assert f"Ordning för {row}" in labels
    assert _aria_label(_tag(page, f"{forms[0]}-active")).startswith("Används för ")


def test_tabular_inline_names_each_input_by_column_and_row(client, world):
    verified_login(client, world.admin_m)
    user = world.counsellor_a
    with translation.override("sv"):
        page = client.get(reverse("admin:sst_user_change", args=[user.pk])).content.decode()
        membership = str(user.memberships.get(role=Role.COUNSELLOR))
    assert _aria_label(_tag(page, "memberships-0-role")) == f"Roll för {membership}"
    assert _aria_label(_tag(page, "memberships-0-starts_on")) == f"Startdatum för {membership}"
    # A foreign key behind Django's add/change icons, and the delete box the formset adds.
    assert _aria_label(_tag(page, "memberships-0-school")) == f"Skola för {membership}"
    assert _aria_label(_tag(page, "memberships-0-DELETE")) == f"Radera för {membership}"
    # The empty row the "add another" button copies is named as a new row.
    assert _aria_label(_tag(page, "memberships-__prefix__-role")) == "Roll för ny rad"


@pytest.mark.parametrize("model", sorted(m._meta.label for m in admin_site._registry))
def test_every_administration_page_loads_the_accessibility_fixes(client, world, model):
    """The breadcrumb underline (admin.css) and the autocomplete naming (admin.js) are on
    every page of the site, through templates/admin/base_site.html."""
    app_label, model_name = model.lower().split(".")
    verified_login(client, world.admin_m)
    page = client.get(reverse(f"admin:{app_label}_{model_name}_changelist")).content.decode()
    assert "/static/css/admin.css" in page
    assert "/static/js/admin.js" in page
