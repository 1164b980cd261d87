"""The case pages, under /elever/ in the "cases" namespace (cases/urls.py includes them)."""

from django.urls import URLPattern, path

from . import case_views as views

urlpatterns: list[URLPattern] = [
    path("arende/", views.case_list, name="case_list"),
    path("arende/<uuid:public_id>/", views.case_detail, name="case_detail"),
    path("arende/<uuid:public_id>/utskrift/", views.case_print, name="case_print"),
    # Every step of the transition table posts here, by its slug (cases/transitions.py).
    path(
        "arende/<uuid:public_id>/steg/<slug:step>/",
        views.case_transition,
        name="case_transition",
    ),
    path("arende/<uuid:public_id>/hoppa-over/", views.case_skip, name="case_skip"),
    path("arende/<uuid:public_id>/anteckning/", views.case_note_add, name="case_note_add"),
    path("<uuid:public_id>/oppna-arende/", views.case_open, name="case_open"),
]
