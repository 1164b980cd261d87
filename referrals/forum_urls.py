"""URLs of the forum pages (see referrals/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
