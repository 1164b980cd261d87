"""URLs of the referral pages (see referrals/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
