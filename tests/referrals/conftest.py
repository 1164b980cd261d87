"""Fixtures of the referral tests: the forum of district N and a case of student A1 under
the school's investigation (the world of tests/conftest.py)."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseOpening

from .factories import forum_for


@pytest.fixture
def forum_n(world):
    return forum_for(world.district_n)


@pytest.fixture
def case_a1(world, forum_n) -> Case:
    return Case.objects.create(student=world.student_a1, opening=CaseOpening.PRINCIPAL)
