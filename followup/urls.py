"""The follow-up pages, under /team/uppfoljning/: follow-ups and the weekly check-off,
closure, after-care checks and the participant follow-up export."""

from django.urls import include, path

app_name = "followup"

urlpatterns = [
    path("", include("followup.followup_urls")),
    path("avslut/", include("followup.closure_urls")),
    path("efterkontroll/", include("followup.aftercare_urls")),
    path("deltagaruppfoljning/", include("followup.participant_urls")),
]
