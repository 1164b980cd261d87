"""The head of schools' monthly step-4 report (``/rapporter/skolchef/``)."""

from django.urls import path

from . import head_views

urlpatterns = [
    path("skolchef/", head_views.head_monthly, name="head_monthly"),
    path("skolchef/pdf/", head_views.head_monthly_pdf, name="head_monthly_pdf"),
]
