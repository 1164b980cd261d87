"""Every request: its id, the access policy's daily upkeep and the second-factor gate."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_otp import user_has_device
from django_otp.middleware import is_verified

from . import access, requestid

_SYNCED_ON = "sst_permissions_synced_on"
# Paths a signed-in user may reach before the second factor is verified.
_OTP_EXEMPT_VIEWS = {"sst:otp_verify", "sst:otp_setup", "sst:logout", "sst:health", "set_language"}


class RequestIdMiddleware:
    """Give every request an id (X-Request-ID), for the logs and the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = requestid.new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = requestid.set_context(
            requestid.RequestContext(
                request_id=request_id, ip_address=request.META.get("REMOTE_ADDR") or None
            )
        )
        try:
            response = self.get_response(request)
        finally:
            requestid.reset(token)
        response["X-Request-ID"] = request_id
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        if request.resolver_match:
            context = requestid.current_context()
            requestid.set_context(
                dataclasses.replace(context, path_name=request.resolver_match.view_name)
            )


class AccessPolicyMiddleware:
    """Keep granted permissions current, require the second factor where configured, and
    keep the audit row of a refusal that a rolled-back transaction took with it.

    Memberships start and end by date, so the first request of each day re-grants the user's
    permissions (the nightly task does it for everyone); changes made by an administrator
    are granted at once by the membership services.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """A refusal raised inside a service's transaction lost its audit row to the
        rollback: write it again now that the view is done (``access.Refused``)."""
        if isinstance(exception, access.Refused):
            exception.record_if_rolled_back()

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            return None
        today = timezone.localdate().isoformat()
        if request.session.get(_SYNCED_ON) != today:
            access.sync_user_permissions(user)
            request.session[_SYNCED_ON] = today
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if view_name in _OTP_EXEMPT_VIEWS or request.path.startswith("/static/"):
            return None
        if is_verified(user):
            return None
        next_url = f"?next={request.get_full_path()}" if request.method == "GET" else ""
        if user_has_device(user):
            return HttpResponseRedirect(reverse("sst:otp_verify") + next_url)
        if access.requires_second_factor(user):
            return HttpResponseRedirect(reverse("sst:otp_setup") + next_url)
        return None


class NoStoreForSignedInMiddleware:
    """Nothing shown to a signed-in person is kept by a browser or a proxy (ASVS 8.2.1): every
    response to them says ``Cache-Control: no-store``. Static files never get here (WhiteNoise
    answers them first) and keep their long cache lifetime."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
