"""URLs of the referral pages (see referrals/urls.py): identifiers are public_id UUIDs."""

from django.urls import URLPattern, path

from . import referral_views as views

urlpatterns: list[URLPattern] = [
    path(
        "arende/<uuid:case_id>/uppdragsforfragan/",
        views.referral_start,
        name="referral_start",
    ),
    path("uppdragsforfragan/<uuid:public_id>/", views.referral_edit, name="referral_edit"),
    path(
        "uppdragsforfragan/<uuid:public_id>/forhandsvisning/",
        views.referral_preview,
        name="referral_preview",
    ),
    path(
        "uppdragsforfragan/<uuid:public_id>/skicka/",
        views.referral_submit,
        name="referral_submit",
    ),
    path(
        "uppdragsforfragan/<uuid:public_id>/aterkalla/",
        views.referral_withdraw,
        name="referral_withdraw",
    ),
    path(
        "uppdragsforfragan/<uuid:public_id>/revidera/",
        views.referral_revise,
        name="referral_revise",
    ),
    path("uppdragsforfragan/registrera/", views.referral_register, name="referral_register"),
    path(
        "uppdragsforfragan/<uuid:public_id>/registrerad/",
        views.referral_registered,
        name="referral_registered",
    ),
]
