"""Factories for the team's records (forums, team policies, referrals)."""

from __future__ import annotations

import itertools

import factory

from referrals.models import Forum, ForumScope, Referral, TeamPolicy
from sst.models import District, Municipality

_referral_numbers = itertools.count(1)


class TeamPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamPolicy
        django_get_or_create = ("municipality",)

    forum_scope = ForumScope.DISTRICT


class ForumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forum

    name = factory.Sequence(lambda n: f"Remissforum {n}")
    district = None
    municipality = factory.LazyAttribute(lambda o: o.district.municipality)


def forum_for(place: District | Municipality, **extra: object) -> Forum:
    """The forum of a district, or the municipality's single forum (with its policy)."""
    if isinstance(place, District):
        TeamPolicyFactory(municipality=place.municipality, forum_scope=ForumScope.DISTRICT)
        return ForumFactory(district=place, municipality=place.municipality, **extra)
    TeamPolicyFactory(municipality=place, forum_scope=ForumScope.MUNICIPALITY)
    return ForumFactory(district=None, municipality=place, **extra)


class ReferralFactory(factory.django.DjangoModelFactory):
    """A bare referral row (states are set directly: for tests of the state table)."""

    class Meta:
        model = Referral

    number = factory.LazyFunction(lambda: f"T-{next(_referral_numbers):05d}")
    school = factory.LazyAttribute(lambda o: o.case.school)
    grade = "7"
    gender = "girl"
