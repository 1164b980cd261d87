"""The reports' URLs, mounted at ``/rapporter/`` (namespace ``reports``)."""

from django.urls import include, path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("termin/", views.term_report, name="term"),
    path("termin/xlsx/", views.term_report_xlsx, name="term_xlsx"),
    path("termin/pdf/", views.term_report_pdf, name="term_pdf"),
    path("korningar/<uuid:run_id>/", views.run_detail, name="run"),
    path("korningar/<uuid:run_id>/fil/", views.run_file, name="run_file"),
    path("", include("reports.head_urls")),
    path("", include("reports.coordinator_urls")),
]
