"""Sign-in: Swedish login page, throttling, second factor, session expiry, CSRF."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sst.models import Role

from ..factories import grant

PASSWORD = "correct-horse-battery"


def sign_in(client, username, password=PASSWORD):
    return client.post(reverse("sst:login"), {"username": username, "password": password})


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_login_page_is_swedish_by_default(client, db):
    page = client.get(reverse("sst:login")).content.decode()
    assert '<html lang="sv">' in page
    assert "Logga in" in page


def test_mentor_signs_in_and_reaches_the_desk(client, world):
    response = sign_in(client, "mentor_a1")
    assert response.status_code == 302 and response["Location"] == reverse("sst:desk")
    assert world.student_a1.last_name in client.get(reverse("sst:desk")).content.decode()


def test_wrong_password_is_refused_with_a_message(client, world):
    response = sign_in(client, "mentor_a1", "not-the-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_from_that_address(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "mentor_a1", "guess")
    response = sign_in(client, "mentor_a1")  # even the right password is refused now
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another person at the same address is not locked out.
    assert sign_in(Client(), "counsellor_a").status_code == 302


def test_administrator_must_enrol_a_second_factor(client, world):
    sign_in(client, "admin_m")
    response = client.get(reverse("sst:audit_log"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sst:otp_setup"))
    page = client.get(reverse("sst:otp_setup")).content.decode()
    assert "<svg" in page  # the QR code, rendered locally
    # Opening the page again shows the same secret and writes no device (no change on GET).
    key = client.session["sst_otp_setup_key"]
    assert client.get(reverse("sst:otp_setup")).status_code == 200
    assert client.session["sst_otp_setup_key"] == key
    assert not TOTPDevice.objects.filter(user=world.admin_m).exists()
    device = TOTPDevice(user=world.admin_m, key=client.session["sst_otp_setup_key"])
    response = client.post(reverse("sst:otp_setup"), {"token": current_code(device)})
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=world.admin_m)
    assert device.confirmed
    assert client.get(reverse("sst:audit_log")).status_code == 200


def test_administrator_with_a_device_must_verify_each_sign_in(client, world):
    device = TOTPDevice.objects.create(user=world.admin_m, name="phone", confirmed=True)
    sign_in(client, "admin_m")
    response = client.get(reverse("sst:desk"))
    assert response["Location"].startswith(reverse("sst:otp_verify"))
    response = client.post(reverse("sst:otp_verify"), {"token": "000000"})
    assert response.status_code == 200  # wrong code, stays
    assert client.get(reverse("sst:desk")).status_code == 302
    device.refresh_from_db()
    response = client.post(reverse("sst:otp_verify"), {"token": current_code(device)})
    # The device throttles after a failure; wait out the throttle the way a user would.
    if response.status_code == 200:
        device.throttle_reset()
        response = client.post(reverse("sst:otp_verify"), {"token": current_code(device)})
    assert response.status_code == 302
    assert client.get(reverse("sst:desk")).status_code == 200


def test_second_factor_is_configurable_for_every_role(client, world, settings):
    settings.OTP_REQUIRED_ROLES = ["*"]
    sign_in(client, "mentor_a1")
    assert client.get(reverse("sst:desk"))["Location"].startswith(reverse("sst:otp_setup"))


def test_roles_without_second_factor_by_default(client, world):
    sign_in(client, "counsellor_a")
    assert client.get(reverse("sst:desk")).status_code == 200


def test_open_redirect_after_second_factor_is_refused(client, world):
    device = TOTPDevice.objects.create(user=world.admin_m, name="phone", confirmed=True)
    sign_in(client, "admin_m")
    response = client.post(
        reverse("sst:otp_verify") + "?next=https://evil.example/",
        {"token": current_code(device)},
    )
    assert response["Location"] == reverse("sst:desk")


def test_session_expires_after_inactivity_and_at_browser_close():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST  # the 30 minutes slide with activity
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert django_settings.SESSION_COOKIE_HTTPONLY


def test_idle_session_is_signed_out(client, world, settings):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    sign_in(client, "counsellor_a")
    assert client.get(reverse("sst:desk")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    assert client.get(reverse("sst:desk")).status_code == 302


def test_logout_ends_the_session(client, world):
    sign_in(client, "counsellor_a")
    client.post(reverse("sst:logout"))
    response = client.get(reverse("cases:student_detail", args=[world.student_a1.public_id]))
    assert response.status_code == 302


def test_forms_require_csrf(world):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("sst:login"), {"username": "counsellor_a", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.COUNSELLOR])
def test_permissions_follow_a_new_role_without_signing_in_again(client, world, role):
    sign_in(client, "nobody")
    url = reverse("cases:student_detail", args=[world.student_a1.public_id])
    assert client.get(url).status_code == 404
    grant(world.nobody, role, world.school_a)
    assert client.get(url).status_code == 200
