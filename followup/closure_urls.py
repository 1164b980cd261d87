"""Closure pages, under /team/uppfoljning/avslut/ (namespace ``followup``)."""

from django.urls import URLPattern, URLResolver, path

from . import closure_views, survey_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("arende/<uuid:public_id>/", closure_views.closure_create, name="closure_create"),
    path("<uuid:public_id>/", closure_views.closure_detail, name="closure_detail"),
    path(
        "<uuid:public_id>/enkatlank/",
        survey_views.survey_link_create,
        name="survey_link_create",
    ),
    path("<uuid:public_id>/enkat/", survey_views.survey_meeting, name="survey_meeting"),
]
