"""The coordinator's dashboard, included by ``reports/urls.py`` (mounted at /rapporter/)."""

from django.urls import URLPattern, path

from . import coordinator_views as views

urlpatterns: list[URLPattern] = [
    path("samordning/", views.dashboard, name="coordinator"),
]
