import pytest
from django.core.management import CommandError, call_command

from sst import access
from sst.models import Municipality, User


def test_creates_an_administrator_who_can_administer(db, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt: "a-long-enough-passphrase-42")
    call_command(
        "create_administrator",
        "anna.admin",
        email="anna@example.se",
        municipality_code="0001",
        municipality_name="Provkommun",
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    user = User.objects.get(username="anna.admin")
    assert user.check_password("a-long-enough-passphrase-42")
    assert access.can_administer(user)
    assert Municipality.objects.get(code="0001").name == "Provkommun"


def test_refuses_a_weak_password_and_creates_nothing(db, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt: "short")
    with pytest.raises(CommandError):
        call_command(
            "create_administrator",
            "bo",
            email="bo@example.se",
            municipality_code="0002",
            municipality_name="Provkommun",
        )
    assert not User.objects.filter(username="bo").exists()
    assert not Municipality.objects.filter(code="0002").exists()
