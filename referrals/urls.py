"""The team's pages, under /team/: the referral, the forum and the queue, consent."""

from django.urls import include, path

app_name = "referrals"

urlpatterns = [
    path("", include("referrals.referral_urls")),
    path("forum/", include("referrals.forum_urls")),
    path("", include("referrals.consent_urls")),
]
