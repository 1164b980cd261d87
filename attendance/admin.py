"""The staircase policy, edited by municipality administrators on the administration site."""

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sst.admin import PolicyAdmin, admin_site

from . import services
from .models import StaircasePolicy
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
