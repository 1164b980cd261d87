"""The staircase policy and the school calendar, edited by municipality administrators on
the administration site."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sst import access, audit
from sst.admin import PolicyAdmin, admin_site
from sst.models import Municipality

from . import calendar_services, services
from .models import SchoolBreak, SchoolTerm, StaircasePolicy
from .tasks import rollup_and_evaluate


@admin.register(StaircasePolicy, site=admin_site)
class StaircasePolicyAdmin(PolicyAdmin):
    list_display = ["municipality", "step2_pct", "step3_pct", "step4_pct", "updated_at"]
    fieldsets = [
        (None, {"fields": ["municipality"]}),
        (_("The staircase"), {"fields": ["step2_pct", "step3_pct", "step4_pct"]}),
        (
            _("Rules"),
            {
                "fields": [
                    ("single_month_enabled", "single_month_pct"),
                    ("two_months_enabled", "two_months_pct"),
                    ("invalid_streak_enabled", "invalid_streak_school_days"),
                    "invalid_day_share_pct",
                    ("term_enabled", "term_pct"),
                    ("late_enabled", "late_count"),
                ]
            },
        ),
        (
            _("Each step follows the one before"),
            {
                "fields": [
                    "lower_steps_on_entry",
                    "principal_at_step_3",
                    ("late_continued_enabled", "late_continued_months"),
                ]
            },
        ),
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a municipality always has a policy; change it instead

    def save_model(
        self, request: HttpRequest, obj: StaircasePolicy, form: Any, change: bool
    ) -> None:
        services.policy_save(policy=obj, by=request.user)  # type: ignore[arg-type]
        # New thresholds give new steps: re-evaluate the current month after commit.
        transaction.on_commit(rollup_and_evaluate.delay)


# ---------------------------------------------------------------- the school calendar


def _administered(request: HttpRequest) -> QuerySet[Municipality]:
    return access.municipalities_administered_by(request.user)


class CalendarAdmin(PolicyAdmin):
    """A municipality's terms or breaks: its administrators see and change only their own
    municipality's; another municipality's row is a 404, as anywhere else."""

    object_type = audit.AuditObjectType.SCHOOL_CALENDAR

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .filter(municipality__in=_administered(request))
            .select_related("municipality")
        )

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise access.refuse(request.user, self.object_type, object_id)
        return found

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "municipality":
            municipalities = _administered(request)
            kwargs["queryset"] = municipalities
            if len(municipalities) == 1:
                kwargs["initial"] = municipalities[0]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SchoolTermForm(forms.ModelForm):
    class Meta:
        model = SchoolTerm
        fields = ["municipality", "starts_on", "ends_on"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if not self.errors:
            term = SchoolTerm(
                pk=self.instance.pk,
                municipality=cleaned["municipality"],
                starts_on=cleaned["starts_on"],
                ends_on=cleaned["ends_on"],
            )
            calendar_services.check_term(term)
        return cleaned


@admin.register(SchoolTerm, site=admin_site)
class SchoolTermAdmin(CalendarAdmin):
    form = SchoolTermForm
    list_display = ["__str__", "municipality", "starts_on", "ends_on"]
    ordering = ["-starts_on"]

    def save_model(self, request: HttpRequest, obj: SchoolTerm, form: Any, change: bool) -> None:
        calendar_services.school_term_save(term=obj, by=request.user)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: SchoolTerm) -> None:
        calendar_services.school_term_delete(term=obj, by=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for term in queryset:
            calendar_services.school_term_delete(term=term, by=request.user)  # type: ignore[arg-type]


class SchoolBreakForm(forms.ModelForm):
    class Meta:
        model = SchoolBreak
        fields = ["municipality", "kind", "name", "starts_on", "ends_on"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if not self.errors:
            school_break = SchoolBreak(
                pk=self.instance.pk,
                municipality=cleaned["municipality"],
                kind=cleaned["kind"],
                starts_on=cleaned["starts_on"],
                ends_on=cleaned["ends_on"],
            )
            calendar_services.check_break(school_break)
        return cleaned


@admin.register(SchoolBreak, site=admin_site)
class SchoolBreakAdmin(CalendarAdmin):
    form = SchoolBreakForm
    list_display = ["__str__", "kind", "municipality", "starts_on", "ends_on"]
    list_filter = ["kind"]
    ordering = ["-starts_on"]

    def save_model(self, request: HttpRequest, obj: SchoolBreak, form: Any, change: bool) -> None:
        calendar_services.school_break_save(school_break=obj, by=request.user)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: SchoolBreak) -> None:
        calendar_services.school_break_delete(school_break=obj, by=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for school_break in queryset:
            calendar_services.school_break_delete(school_break=school_break, by=request.user)  # type: ignore[arg-type]
