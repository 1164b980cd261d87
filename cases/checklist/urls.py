"""The mentor checklist's pages, inside the "cases" namespace (see cases/urls.py)."""

from django.urls import URLPattern, path

from . import views as checklist_views

urlpatterns: list[URLPattern] = [
    path(
        "<uuid:public_id>/checklistor/",
        checklist_views.checklist_list,
        name="checklist_list",
    ),
    path(
        "<uuid:public_id>/checklistor/ny/",
        checklist_views.checklist_new,
        name="checklist_new",
    ),
    path(
        "checklistor/<uuid:checklist_id>/",
        checklist_views.checklist_detail,
        name="checklist_detail",
    ),
    path(
        "checklistor/<uuid:checklist_id>/uppfoljning/",
        checklist_views.checklist_follow_up,
        name="checklist_follow_up",
    ),
    path(
        "checklistor/<uuid:checklist_id>/eht/",
        checklist_views.checklist_eht,
        name="checklist_eht",
    ),
]
