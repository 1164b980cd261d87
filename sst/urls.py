"""The project's URLs. Every pattern is public (shows no personal data) or behind login and
the access policy; tests/sst/test_url_coverage.py enforces it for every pattern here."""

from django.urls import include, path
from django.views.i18n import set_language

from sst import access
from sst.admin import admin_site

urlpatterns = [
    path("", include("sst.core_urls", namespace="sst")),
    path("elever/", include("cases.urls", namespace="cases")),
    path("franvaro/", include("attendance.urls", namespace="attendance")),
    path("import/", include("attendance.import_urls", namespace="imports")),
    path("team/plan/", include("actionplans.urls", namespace="actionplans")),
    path("team/uppfoljning/", include("followup.urls", namespace="followup")),
    path("team/", include("referrals.urls", namespace="referrals")),
    path("rapporter/", include("reports.urls", namespace="reports")),
    # The one-time satisfaction survey: public, the link's token is the only key.
    path("enkat/", include("followup.survey_urls", namespace="survey")),
    path("i18n/setlang/", access.public(set_language), name="set_language"),
    path("administration/", admin_site.urls),
]

handler403 = "sst.views.error_403"
handler404 = "sst.views.error_404"
handler500 = "sst.views.error_500"
