"""Content-free e-mail notices: a sentence and a link, never anything about a student."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .models import User


def notify(*, user: User, subject: str, path: str | None = None) -> None:
    """Send ``subject`` to the user after the current transaction commits.

    ``subject`` must carry no personal data (say "a checklist follow-up is due", not whose).
    """
    if not user.email or not user.is_active:
        return
    link = settings.SITE_URL.rstrip("/") + (path or reverse("sst:desk"))

    def send() -> None:
        with translation.override(settings.LANGUAGE_CODE):
            body = _(
                "%(subject)s\n\nSign in to see it: %(link)s\n\n"
                "This message contains no information about any student."
            ) % {"subject": subject, "link": link}
        send_mail(subject, body, None, [user.email])

    transaction.on_commit(send)
