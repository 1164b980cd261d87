"""After-care checks, under /team/uppfoljning/efterkontroll/ (namespace ``followup``)."""

from django.urls import URLPattern, URLResolver, path

from . import aftercare_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("<uuid:public_id>/", aftercare_views.aftercare_record, name="aftercare_record"),
]
