"""The toolbox on the administration site: each municipality's administrator edits their
own catalogues (names, order, new interventions) and retires an intervention ("offered in
new plans" off) instead of deleting it, so the plans that used it still name it. No plan is
registered here: administrators do not read case content."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from sst import access, audit
from sst.admin import PolicyAdmin, PolicyInline, admin_site

from .models import ToolboxCategory, ToolboxItem


class ToolboxItemInline(PolicyInline):
    model = ToolboxItem
    extra = 1
    fields = ["name", "order", "active"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire instead: plans keep naming the interventions they used


@admin.register(ToolboxCategory, site=admin_site)
class ToolboxCategoryAdmin(PolicyAdmin):
    list_display = ["name", "catalogue", "municipality", "order"]
    list_filter = ["catalogue"]
    fields = ["municipality", "catalogue", "name", "order"]
    inlines = [ToolboxItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ToolboxCategory]:
        return (
            super()
            .get_queryset(request)
            .filter(municipality__in=access.municipalities_administered_by(request.user))
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "municipality":
            kwargs["queryset"] = access.municipalities_administered_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a heading with interventions that plans used stays

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.record(
            user=request.user,
            action=audit.AuditAction.UPDATE if change else audit.AuditAction.CREATE,
            object_type=audit.AuditObjectType.TOOLBOX,
            object_id=str(obj.pk),
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            audit.record(
                user=request.user,
                action=audit.AuditAction.UPDATE,
                object_type=audit.AuditObjectType.TOOLBOX,
                object_id=str(form.instance.pk),
                detail={"items": len(formset.forms)},
            )
