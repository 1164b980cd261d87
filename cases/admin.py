"""Catalogues administrators keep, on the administration site (sst.admin.admin_site)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sst.admin import PolicyAdmin, admin_site

from .models import CauseFactor

# The catalogue of cause factors a school-social mapping classifies causes by (§4.3).


@admin.register(CauseFactor, site=admin_site)
class CauseFactorAdmin(PolicyAdmin):
    list_display = ["label", "group", "order", "active"]
    list_filter = ["group", "active"]
    list_editable = ["order", "active"]
    search_fields = ["label"]
    ordering = ["group", "order", "label"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A factor in use is taken out of use (``active``), not deleted: the mappings and the
        # group statistics keep referring to it.
        return False
