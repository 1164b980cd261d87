"""Sign-in events go to the audit trail (not to the application log)."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(user=user, action=audit.AuditAction.LOGIN)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(user=user, action=audit.AuditAction.LOGOUT)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    audit.record(
        user=None,
        action=audit.AuditAction.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
    )
