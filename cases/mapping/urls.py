"""The mapping step: a student's school-social work, the counsellor's mapping and the
student's approval, offered times, pedagogical mappings and health talks."""

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("<uuid:public_id>/kartlaggning/", views.mapping_overview, name="mapping_overview"),
    path("<uuid:public_id>/kartlaggning/ny/", views.mapping_create, name="mapping_create"),
    path(
        "<uuid:public_id>/kartlaggning/erbjud-tid/",
        views.offered_time_book,
        name="offered_time_book",
    ),
    path(
        "<uuid:public_id>/kartlaggning/pedagogisk/",
        views.pedagogical_mapping_create,
        name="pedagogical_mapping_create",
    ),
    path(
        "<uuid:public_id>/kartlaggning/halsosamtal/",
        views.health_talk_create,
        name="health_talk_create",
    ),
    path("kartlaggning/<uuid:mapping_id>/", views.mapping_detail, name="mapping_detail"),
    path("kartlaggning/<uuid:mapping_id>/andra/", views.mapping_edit, name="mapping_edit"),
    path(
        "kartlaggning/<uuid:mapping_id>/godkannande/",
        views.mapping_approval,
        name="mapping_approval",
    ),
    path(
        "kartlaggning/tid/<uuid:time_id>/utfall/",
        views.offered_time_mark,
        name="offered_time_mark",
    ),
]
