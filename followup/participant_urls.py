"""The participant follow-up export, under /team/uppfoljning/deltagaruppfoljning/."""

from django.urls import path

from . import participant_views as views

urlpatterns = [
    path("", views.participant_export, name="participant_export"),
    path("urval/", views.participant_form, name="participant_form"),
]
