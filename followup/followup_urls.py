"""Follow-ups, under /team/uppfoljning/: record (or read) one, move or cancel it, book one by
hand, and the weekly check-off of a case's interventions (``?vecka=2026-W48``)."""

from django.urls import URLPattern, URLResolver, path

from . import followup_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("<uuid:followup_id>/", views.followup_record, name="followup_record"),
    path("<uuid:followup_id>/flytta/", views.followup_move, name="followup_move"),
    path("arende/<uuid:case_id>/boka/", views.followup_book, name="followup_book"),
    path("arende/<uuid:case_id>/vecka/", views.checkoff, name="checkoff"),
]
