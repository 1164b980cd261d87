"""URLs of the consent pages (see referrals/urls.py)."""

from django.urls import URLPattern, path

from . import consent_views as views

urlpatterns: list[URLPattern] = [
    path("samtycke/arende/<uuid:public_id>/nytt/", views.consent_new, name="consent_new"),
    path(
        "samtycke/arende/<uuid:public_id>/blankett/",
        views.consent_form_pdf,
        name="consent_form_pdf",
    ),
    path("samtycke/arende/<uuid:public_id>/mote/", views.meeting_book, name="consent_meeting_book"),
    path("samtycke/<uuid:public_id>/lamnat/", views.giving_new, name="consent_giving_new"),
    path("samtycke/<uuid:public_id>/skanning/", views.scan_upload, name="consent_scan_upload"),
    path("samtycke/skanning/<uuid:public_id>/", views.scan_download, name="consent_scan_download"),
    path(
        "samtycke/lamnat/<uuid:public_id>/aterkalla/",
        views.giving_withdraw,
        name="consent_giving_withdraw",
    ),
    path(
        "samtycke/mote/<uuid:public_id>/utfall/",
        views.meeting_outcome,
        name="consent_meeting_outcome",
    ),
    path("samtycke/uppdrag/<uuid:public_id>/", views.referral_page, name="consent_referral"),
    path(
        "samtycke/uppdrag/<uuid:public_id>/anteckning/",
        views.referral_note_add,
        name="consent_referral_note",
    ),
    path(
        "samtycke/uppdrag/<uuid:public_id>/mote/",
        views.meeting_book_for_referral,
        name="consent_referral_meeting_book",
    ),
    path(
        "samtycke/uppdrag/<uuid:public_id>/blankett/",
        views.consent_form_blank,
        name="consent_form_blank",
    ),
]
