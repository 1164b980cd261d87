"""The reports' URLs, mounted at /rapporter/ (namespace "reports"): only includes."""

from django.urls import URLResolver, include, path

app_name = "reports"

urlpatterns: list[URLResolver] = [
    path("", include("reports.coordinator_urls")),
]
