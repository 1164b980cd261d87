"""Sign-in, the second factor, "my desk", the audit log, the health check and the error pages."""

from __future__ import annotations

import base64
import datetime
from typing import Any, cast

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from . import access, audit
from . import desk as desk_panels
from .forms import AuditFilterForm, LoginForm, PersonnummerLookupForm, TokenForm
from .models import AuditEvent


@method_decorator(access.public, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


# as_view() is typed as returning HttpResponseBase; these two views answer with a
# TemplateResponse or a redirect, both HttpResponse, which is what the policy's markers take.
login_view = access.public(cast(access.ViewFunc, LoginView.as_view()))
logout_view = access.public(cast(access.ViewFunc, auth_views.LogoutView.as_view()))


@access.public
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For the load balancer: the app answers and its database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("sst:desk")


@access.staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a code from the person's authenticator app."""
    device = TOTPDevice.objects.devices_for_user(request.user, confirmed=True).first()
    if device is None:
        return redirect("sst:otp_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _detail = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            audit.record(user=request.user, action=audit.AuditAction.OTP_VERIFIED)
            return HttpResponseRedirect(_safe_next(request))
        audit.record(user=request.user, action=audit.AuditAction.OTP_FAILED)
        form.add_error(
            "token",
            _("The code was not accepted. Wait for a new code and try again.")
            if allowed
            else _("Too many wrong codes. Wait a minute and try again."),
        )
    return render(request, "sst/otp_verify.html", {"form": form, "next": _safe_next(request)})


_OTP_SETUP_KEY = "sst_otp_setup_key"


@access.staff_view
@never_cache
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the secret as a QR code, confirm with a first code."""
    if user_has_device(request.user):
        return redirect("sst:otp_verify")
    # The secret waits in the session until the first code confirms it: opening the page
    # (a GET) writes no device, however often it is opened.
    key = request.session.get(_OTP_SETUP_KEY)
    if not key:
        key = request.session[_OTP_SETUP_KEY] = random_hex(20)
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False, key=key).first()
    if device is None:
        device = TOTPDevice(user=request.user, confirmed=False, key=key, name="authenticator")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save()
            del request.session[_OTP_SETUP_KEY]
            otp_login(request, device)
            audit.record(user=request.user, action=audit.AuditAction.OTP_ENROLLED)
            messages.success(request, _("Two-factor authentication is now active."))
            return HttpResponseRedirect(_safe_next(request))
        form.add_error("token", _("The code was not accepted. Check the time on your phone."))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#000")
    secret_b32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "sst/otp_setup.html",
        {"form": form, "qr_svg": qr_svg, "secret": secret_b32, "next": _safe_next(request)},
    )


@access.staff_view
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """My desk: the panels the apps contribute for this person's roles (see sst/desk.py)."""
    return render(request, "sst/desk.html", {"panels": desk_panels.render_panels(request)})


@access.capability_view(access.Capability.READ_AUDIT_LOG)
@require_http_methods(["GET", "POST"])
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit trail, filtered by user, student, action, object type and date.

    For the holders of ``read_audit_log`` (municipality administrators)."""
    lookup = PersonnummerLookupForm(request.POST or None)
    if request.method == "POST" and lookup.is_valid():
        student = access.student_by_personnummer_for_audit(lookup.cleaned_data["personnummer"])
        if student is None:
            messages.warning(request, _("No student with that number is registered."))
        else:
            return redirect(f"{reverse('sst:audit_log')}?student={student.public_id}")
    filters = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.all()
    if filters.is_valid():
        data: dict[str, Any] = filters.cleaned_data
        if data["username"]:
            events = events.filter(actor_username__iexact=data["username"])
        if data["student"]:
            events = events.filter(student_id=data["student"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["object_type"]:
            events = events.filter(object_type=data["object_type"])
        if data["date_from"]:
            events = events.filter(at__gte=_start_of(data["date_from"]))
        if data["date_to"]:
            events = events.filter(at__lt=_start_of(data["date_to"] + datetime.timedelta(days=1)))
    page = Paginator(events.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.AUDIT_LOG,
        detail={"filters": {k: str(v) for k, v in request.GET.items() if k != "page"}},
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sst/audit_log.html",
        {"filters": filters, "lookup": lookup, "page": page, "query": query.urlencode()},
    )


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: this page must render when it is down.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render({}), status=500)
