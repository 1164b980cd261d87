"""E-mail notices about new alerts. They carry no personal data: a count and a link."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sst.models import User

from .models import AlertRecipient


def send_alert_notices() -> int:
    """One e-mail per person with unnotified alerts; returns how many were sent."""
    sent = 0
    pending = (
        AlertRecipient.objects.filter(notified_at__isnull=True, user__is_active=True)
        .exclude(user__email="")
        .values("user_id")
        .annotate(count=Count("pk"))
    )
    for row in pending:
        with transaction.atomic():
            claimed = list(
                AlertRecipient.objects.select_for_update(skip_locked=True)
                .filter(user_id=row["user_id"], notified_at__isnull=True)
                .values_list("pk", flat=True)
            )
            if not claimed:
                continue
            user = User.objects.get(pk=row["user_id"])
            with translation.override(settings.LANGUAGE_CODE):
                count = len(claimed)
                subject = ngettext(
                    "You have %(count)d new absence alert",
                    "You have %(count)d new absence alerts",
                    count,
                ) % {"count": count}
                body = _(
                    "%(subject)s in the school social team's system.\n\n"
                    "Sign in to see them on your desk: %(link)s\n\n"
                    "This message contains no information about any student."
                ) % {
                    "subject": subject,
                    "link": settings.SITE_URL.rstrip("/") + reverse("sst:desk"),
                }
            send_mail(subject, body, None, [user.email])
            AlertRecipient.objects.filter(pk__in=claimed).update(notified_at=timezone.now())
            sent += 1
    return sent
