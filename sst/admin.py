"""Administration of organisation and people, for municipality administrators only.

Django's admin is mounted on its own site whose every permission asks the access policy;
sign-in goes through the normal login page (throttling, second factor). No student or
guardian data is registered here: administrators do not read case content.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.middleware import is_verified

from . import access, audit, services
from .models import District, MentorGroup, Municipality, RoleMembership, School, User


class SSTAdminSite(admin.AdminSite):
    site_header = _("SST administration")
    site_title = _("SST administration")
    index_title = _("Organisation and people")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return access.can_administer(user) and is_verified(user)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Sign-in goes through the normal login (throttling, second factor); a signed-in
        person without the administrator role gets a 404, as anywhere else."""
        if request.user.is_authenticated:
            raise access.refuse(request.user, audit.AuditObjectType.PAGE, "admin")
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))


admin_site = SSTAdminSite(name="admin")


def _administrator(request: HttpRequest) -> User:
    """The signed-in person acting in the admin (the site lets no one else this far)."""
    user = request.user
    if not user.is_authenticated:
        raise Http404
    return user


def _name_by_row(form: forms.BaseForm, row: str) -> None:
    for field in form.fields.values():
        widget = field.widget
        if widget.is_hidden:
            continue
        # Django's related-object wrapper (the add/change icons) renders the widget it wraps,
        # and its own ``attrs`` is the wrapped widget's dict from before the form copied it.
        target: forms.Widget = getattr(widget, "widget", None) or widget
        target.attrs = {
            **target.attrs,
            "aria-label": _("%(field)s for %(row)s") % {"field": field.label, "row": row},
        }


def _row_of(form: forms.ModelForm) -> str:
    return str(form.instance) if form.instance.pk else str(_("new row"))


class RowNamedForm(forms.ModelForm):
    """A form shown as one row of a table (an editable change list, a tabular inline), where
    Django puts no <label> beside the inputs: each input is named by its column and its row
    ("Ordning för Skola: Mobbning"), so a screen reader can tell the rows' inputs apart
    (WCAG 1.3.1, 4.1.2; axe "label", "select-name")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_by_row(self, _row_of(self))


class RowNamedInlineFormSet(BaseInlineFormSet):
    """Names the "delete" box the formset adds to every row, as the form names its fields."""

    def add_fields(self, form: forms.BaseForm, index: int | None) -> None:
        super().add_fields(form, index)
        if DELETION_FIELD_NAME in form.fields and isinstance(form, forms.ModelForm):
            _name_by_row(form, _row_of(form))


class PolicyAdmin(admin.ModelAdmin):
    """Every model permission comes from the access policy, not Django's model permissions."""

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> type[forms.ModelForm]:
        kwargs.setdefault("form", RowNamedForm)
        return super().get_changelist_form(request, **kwargs)

    def _allowed(self, request: HttpRequest) -> bool:
        return access.can_administer(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class PolicyInline(admin.TabularInline):
    form = RowNamedForm
    formset = RowNamedInlineFormSet

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can_administer(request.user)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Municipality, site=admin_site)
class MunicipalityAdmin(PolicyAdmin):
    list_display = ["name", "code"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            services.municipality_saved(municipality=obj, by=_administrator(request))


@admin.register(District, site=admin_site)
class DistrictAdmin(PolicyAdmin):
    list_display = ["name", "municipality"]
    list_filter = ["municipality"]


class MentorGroupInline(PolicyInline):
    model = MentorGroup
    extra = 0


@admin.register(School, site=admin_site)
class SchoolAdmin(PolicyAdmin):
    list_display = ["name", "unit_code", "district"]
    list_filter = ["district"]
    search_fields = ["name", "unit_code"]
    inlines = [MentorGroupInline]


@admin.register(MentorGroup, site=admin_site)
class MentorGroupAdmin(PolicyAdmin):
    list_display = ["name", "school"]
    list_filter = ["school"]
    search_fields = ["name", "school__name"]


class MembershipInline(PolicyInline):
    model = RoleMembership
    extra = 0
    fields = ["role", "municipality", "district", "school", "mentor_group", "starts_on", "ends_on"]
    autocomplete_fields = ["school", "mentor_group"]


@admin.register(User, site=admin_site)
class UserAdmin(PolicyAdmin, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_active"]
    list_filter = ["is_active", "memberships__role"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.account_saved(user=obj, by=request.user)  # type: ignore[arg-type]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not RoleMembership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_delete(membership=membership, by=_administrator(request))
        for membership in memberships:
            services.membership_save(membership=membership, by=_administrator(request))
        return None


@admin.register(RoleMembership, site=admin_site)
class RoleMembershipAdmin(PolicyAdmin):
    list_display = ["user", "role", "place", "starts_on", "ends_on"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__last_name"]
    autocomplete_fields = ["user", "school", "mentor_group"]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        services.membership_save(membership=obj, by=_administrator(request))  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        services.membership_delete(membership=obj, by=_administrator(request))  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for membership in queryset:
            services.membership_delete(membership=membership, by=_administrator(request))
