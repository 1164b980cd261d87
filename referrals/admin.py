"""The team's settings on the administration site (sst.admin.admin_site): the
municipality's team policy and the referral forums with their schedules. No referral, case
or consent is registered here: administrators do not read case content."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sst import audit
from sst.admin import PolicyAdmin, admin_site

from .models import Forum, TeamPolicy


def _audit_saved(
    request: HttpRequest, object_type: audit.AuditObjectType, obj: Any, change: bool
) -> None:
    audit.record(
        user=request.user,
        action=audit.AuditAction.UPDATE if change else audit.AuditAction.CREATE,
        object_type=object_type,
        object_id=str(getattr(obj, "public_id", None) or obj.pk),
    )


@admin.register(TeamPolicy, site=admin_site)
class TeamPolicyAdmin(PolicyAdmin):
    list_display = ["municipality", "forum_scope", "consent_timing", "student_consent_age"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _audit_saved(request, audit.AuditObjectType.TEAM_POLICY, obj, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A municipality's policy is changed, not deleted (its forums and consents follow it).
        return False


@admin.register(Forum, site=admin_site)
class ForumAdmin(PolicyAdmin):
    list_display = ["name", "municipality", "district", "frequency", "weekday", "starts_at"]
    list_filter = ["frequency"]
    fields = [
        "name",
        "municipality",
        "district",
        "frequency",
        "weekday",
        "week_of_month",
        "starts_at",
        "duration_minutes",
        "location",
        "agenda_closes_days_before",
    ]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _audit_saved(request, audit.AuditObjectType.FORUM, obj, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A forum's meetings and decisions stay on record: a forum is not deleted.
        return False
