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


@pytest.mark.parametrize(
    ("person", "forum", "queue"),
    [
        ("referral_forum_n", True, False),
        ("mentor_a1", False, False),
        ("principal_a", False, False),
        ("social_worker_n", False, False),
        ("manager_m", False, False),
        ("admin_m", False, False),
    ],
)
def test_the_forum_and_queue_items_only_for_the_forum_and_coordinators(
    client, world, person, forum, queue
):
    nav = menu(client, getattr(world, person))
    assert (reverse("referrals:meeting_list") in nav) is forum
    assert (reverse("referrals:queue") in nav) is queue


def test_a_coordinator_has_the_forum_and_the_queue_in_the_menu(client, world):
    from sst.models import Role

    from ..conftest import grant
    from ..factories import UserFactory

    coordinator = UserFactory(username="coordinator_menu")
    grant(coordinator, Role.COORDINATOR, world.district_n)
    nav = menu(client, coordinator)
    assert reverse("referrals:meeting_list") in nav
    assert reverse("referrals:queue") in nav
    # And both lead somewhere: the pages open for them.
    assert client.get(reverse("referrals:meeting_list")).status_code == 200
    assert client.get(reverse("referrals:queue")).status_code == 200
