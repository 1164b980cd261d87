"""Create the first municipality administrator (and the municipality, if it is new)."""

from __future__ import annotations

import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from sst import services
from sst.models import Municipality, Role, RoleMembership, User


class Command(BaseCommand):
    help = "Create a municipality administrator: the person who sets up schools and users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--municipality-code", required=True, help="Four digits, e.g. 0488")
        parser.add_argument("--municipality-name", help="Needed when the municipality is new.")

    @transaction.atomic
    def handle(self, *args: object, **options: str) -> None:
        if User.objects.filter(username=options["username"]).exists():
            raise CommandError("That username is taken.")
        municipality = Municipality.objects.filter(code=options["municipality_code"]).first()
        if municipality is None:
            if not options["municipality_name"]:
                raise CommandError("New municipality: give --municipality-name too.")
            municipality = Municipality(
                code=options["municipality_code"], name=options["municipality_name"]
            )
            try:
                municipality.full_clean()
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
            municipality.save()
            services.municipality_saved(municipality=municipality, by=None)
        user = User(
            username=options["username"],
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
        )
        password = getpass.getpass("Password: ")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        user.set_password(password)
        user.save()
        services.account_saved(user=user, by=None)
        services.membership_save(
            membership=RoleMembership(
                user=user, role=Role.ADMINISTRATOR, municipality=municipality
            ),
            by=None,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.username} administers {municipality.name}. At first sign-in they enrol "
                "an authenticator app (two-factor authentication is required)."
            )
        )
