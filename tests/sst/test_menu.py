"""The menu leads only where the person can do something."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ..conftest import verified_login


def menu(client, user) -> str:
    verified_login(client, user)
    page = client.get(reverse("sst:desk")).content.decode()
    return page.split('id="main-nav"', 1)[1].split("</ul>", 1)[0]


@pytest.mark.parametrize(
    ("person", "sees_students"),
    [
        ("mentor_a1", True),
        ("principal_a", True),
        ("counsellor_a", True),
        ("nurse_a", True),
        ("social_worker_n", False),
        ("referral_forum_n", False),
        ("manager_m", False),
        ("manager_a", False),
        ("admin_m", False),
        ("nobody", False),
    ],
)
def test_students_menu_item_only_for_people_who_see_students(client, world, person, sees_students):
    assert (reverse("cases:student_list") in menu(client, getattr(world, person))) is sees_students


def test_cases_menu_item_is_not_marked_as_students(client, world):
    verified_login(client, world.principal_a)
    page = client.get(reverse("cases:case_list")).content.decode()
    nav = page.split('id="main-nav"', 1)[1].split("</ul>", 1)[0]
    students = nav.split(reverse("cases:student_list"), 1)[0].rsplit("<li", 1)[1]
    assert "active" not in students
