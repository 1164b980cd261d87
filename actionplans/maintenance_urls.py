"""The maintenance plan and its booster meetings, under /team/plan/vidmakthallande/."""

from django.urls import path

from . import maintenance_views as views

urlpatterns = [
    path("<uuid:case_id>/", views.maintenance_edit, name="maintenance_edit"),
    path("<uuid:case_id>/boostertraff/", views.booster_add, name="booster_add"),
    path("boostertraff/<uuid:booster_id>/", views.booster_update, name="booster_update"),
]
