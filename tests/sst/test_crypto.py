"""Personnummer at rest: encrypted, hashed for lookup, rotatable, never in plain text."""

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from sst import crypto
from sst.models import Student

from ..factories import StudentFactory, fake_personnummer


def test_the_number_is_stored_encrypted_and_found_by_its_keyed_hash(db):
    number = fake_personnummer(7)
    student = StudentFactory(personnummer=number)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM sst_student WHERE id = %s", [student.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert number.value not in row and number.value[2:] not in row
    assert Student.objects.get(personnummer_hash=crypto.lookup_hash(number.value)) == student
    assert Student.objects.get(pk=student.pk).personnummer == number


def test_the_lookup_hash_depends_on_the_secret_key(settings):
    value = fake_personnummer(1).value
    first = crypto.lookup_hash(value)
    settings.PERSONNUMMER_HASH_KEY = "another-key"
    assert crypto.lookup_hash(value) != first


def test_key_rotation_re_encrypts_every_row_under_the_new_key(db, settings):
    number = fake_personnummer(11)
    student = StudentFactory(personnummer=number)
    old_key = settings.PERSONNUMMER_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.PERSONNUMMER_KEYS = [new_key, old_key]
    settings.PERSONNUMMER_HASH_KEY = "rotated-hash-key"
    call_command("rotate_personnummer_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # Only the new key is needed from now on.
    settings.PERSONNUMMER_KEYS = [new_key]
    refreshed = Student.objects.get(pk=student.pk)
    assert refreshed.personnummer == number
    assert refreshed.personnummer_hash == crypto.lookup_hash(number.value)
