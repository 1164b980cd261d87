"""The mentor checklist's pages, inside the "cases" namespace (see cases/urls.py)."""

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path(
        "<uuid:public_id>/checklistor/",
        views.checklist_list,
        name="checklist_list",
    ),
    path(
        "<uuid:public_id>/checklistor/ny/",
        views.checklist_new,
        name="checklist_new",
    ),
    path(
        "checklistor/<uuid:checklist_id>/",
        views.checklist_detail,
        name="checklist_detail",
    ),
    path(
        "checklistor/<uuid:checklist_id>/uppfoljning/",
        views.checklist_follow_up,
        name="checklist_follow_up",
    ),
    path(
        "checklistor/<uuid:checklist_id>/eht/",
        views.checklist_eht,
        name="checklist_eht",
    ),
]
