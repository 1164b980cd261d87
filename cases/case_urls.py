"""The case pages, under /elever/ in the "cases" namespace (cases/urls.py includes them)."""

from django.urls import URLPattern, path

from . import case_views as views

urlpatterns: list[URLPattern] = [
    path("arende/", views.case_list, name="case_list"),
    path("arende/<uuid:public_id>/", views.case_detail, name="case_detail"),
    path("arende/<uuid:public_id>/utskrift/", views.case_print, name="case_print"),
    path("arende/<uuid:public_id>/aktualisera/", views.case_refer, name="case_refer"),
    path("arende/<uuid:public_id>/ko/", views.case_queue, name="case_queue"),
    path("arende/<uuid:public_id>/anta/", views.case_accept, name="case_accept"),
    path("arende/<uuid:public_id>/avsla/", views.case_reject, name="case_reject"),
    path("arende/<uuid:public_id>/hanvisa/", views.case_redirect, name="case_redirect"),
    path(
        "arende/<uuid:public_id>/samtycke/",
        views.case_request_consent,
        name="case_request_consent",
    ),
    path("arende/<uuid:public_id>/handlingsplan/", views.case_start_plan, name="case_start_plan"),
    path(
        "arende/<uuid:public_id>/genomforande/",
        views.case_start_implementation,
        name="case_start_implementation",
    ),
    path(
        "arende/<uuid:public_id>/vidmakthallande/",
        views.case_enter_maintenance,
        name="case_enter_maintenance",
    ),
    path("arende/<uuid:public_id>/avsluta/", views.case_close, name="case_close"),
    path("arende/<uuid:public_id>/hoppa-over/", views.case_skip, name="case_skip"),
    path("arende/<uuid:public_id>/anteckning/", views.case_note_add, name="case_note_add"),
    path("<uuid:public_id>/oppna-arende/", views.case_open, name="case_open"),
]
