"""Print the current two-factor code of a demo user (development and test only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp

from sst import demo


class Command(BaseCommand):
    help = (
        "Print the current 6-digit TOTP code of a user's confirmed device (for the demo "
        "administrators, whose devices share the documented demo secret). Refuses to run in "
        "production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "demo_totp refuses to run in production (SST_ENVIRONMENT=production)."
            )
        from django.contrib.auth import get_user_model
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError("No such user.")
        devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
        device = (
            devices.filter(name=demo.DEMO_TOTP_DEVICE_NAME).first()
            or devices.order_by("pk").first()
        )
        if device is None:
            raise CommandError(
                "The user has no confirmed TOTP device (seed_demo creates one for every demo "
                "administrator)."
            )
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
