"""The action plan's pages, under /team/plan/: the plan, its versions, signatures and print,
the maintenance plan and its booster meetings."""

from django.urls import include, path

app_name = "actionplans"

urlpatterns = [
    path("", include("actionplans.plan_urls")),
    path("vidmakthallande/", include("actionplans.maintenance_urls")),
]
