"""factory_boy factories and the helpers tests use to give people roles."""

from __future__ import annotations

import datetime
import itertools

import factory
from django.utils import timezone

from sst import services
from sst.models import (
    Custody,
    District,
    Grade,
    Guardian,
    MentorGroup,
    Municipality,
    RoleMembership,
    School,
    Student,
    User,
)
from sst.personnummer import Personnummer, luhn_check_digit

# The age of the eldest default student: born 1 January 2012, seen on 29 November 2026, when
# the suite was written. Birth dates are counted back from today, so the students keep their
# ages as the calendar moves on; fixed dates would let them grow into the age from which their
# own consent is needed (15) and change what the consent tests see.
_ELDEST = datetime.date(2026, 11, 29) - datetime.date(2012, 1, 1)


def fake_personnummer(n: int, *, born: datetime.date | None = None) -> Personnummer:
    """A valid, fictitious number (birth serials 980–999 only)."""
    born = born or timezone.localdate() - _ELDEST + datetime.timedelta(days=n % 3000)
    serial = f"{980 + n % 20:03d}"
    yymmdd = born.strftime("%y%m%d")
    check = luhn_check_digit(yymmdd + serial)
    return Personnummer(f"{born:%Y%m%d}{serial}{check}")


_numbers = itertools.count(1)


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Testkommun {n}")
    code = factory.Sequence(lambda n: f"{1000 + n % 8999:04d}")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Stadsdel {n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Testskolan {n}")
    unit_code = factory.Sequence(lambda n: f"{99000000 + n:08d}")


class MentorGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MentorGroup

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"{7 + n % 3}{'ABC'[n % 3]}{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    first_name = factory.Iterator(["Alva", "Elias", "Maja", "Noah", "Wilma", "Hugo"])
    last_name = factory.Sequence(lambda n: f"Testsson{n}")
    mentor_group = factory.SubFactory(MentorGroupFactory)
    school = factory.LazyAttribute(lambda o: o.mentor_group.school)
    grade = Grade.G7
    gender = "girl"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        number = kwargs.pop("personnummer", None)
        student = model_class(*args, **kwargs)
        student.set_personnummer(number or fake_personnummer(next(_numbers)))
        student.save()
        return student


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    first_name = "Karin"
    last_name = factory.Sequence(lambda n: f"Förälder{n}")
    phone = "070-000 00 00"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        guardian = model_class(*args, **kwargs)
        n = next(_numbers)
        born = datetime.date(1980, 1, 1) + datetime.timedelta(days=n % 3000)
        guardian.set_personnummer(fake_personnummer(n, born=born))
        guardian.save()
        return guardian


def give_custody(student: Student, guardian: Guardian, has_custody: bool = True) -> Custody:
    return Custody.objects.create(student=student, guardian=guardian, has_custody=has_custody)


# Memberships start well before any day a test travels to (the suite's fixed days reach back
# to 2023), whatever the real day the suite runs on; a test about a start passes its own.
MEMBERSHIPS_START = datetime.date(2020, 1, 1)


def grant(
    user: User,
    role: str,
    place: object,
    *,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
) -> RoleMembership:
    """Give ``user`` a role at ``place`` through the real service (permissions granted)."""
    field = {
        Municipality: "municipality",
        District: "district",
        School: "school",
        MentorGroup: "mentor_group",
    }[type(place)]
    membership = RoleMembership(
        user=user,
        role=role,
        starts_on=starts_on or MEMBERSHIPS_START,
        ends_on=ends_on,
        **{field: place},
    )
    return services.membership_save(membership=membership, by=None)
