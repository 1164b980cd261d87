"""The reports' URLs, mounted at ``/rapporter/`` (namespace ``reports``)."""

from django.urls import include, path

app_name = "reports"

urlpatterns = [
    path("", include("reports.head_urls")),
]
