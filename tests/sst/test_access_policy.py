"""The role matrix: every view, for every named person, both ways (STYLE.md §8)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from sst import access, services
from sst.models import Role, RoleMembership

from ..conftest import verified_login
from ..factories import StudentFactory, grant

# Who sees which students of the world fixture.
STUDENT_MATRIX = {
    "mentor_a1": {"student_a1"},
    "counsellor_a": {"student_a1", "student_a2"},
    "principal_a": {"student_a1", "student_a2"},
    "nurse_a": {"student_a1", "student_a2"},
    "social_worker_n": set(),
    "referral_forum_n": set(),
    "manager_m": set(),
    "manager_a": set(),
    "admin_m": set(),
    "counsellor_b": {"student_b1"},
    "nobody": set(),
}
ALL_STUDENTS = {"student_a1", "student_a2", "student_b1"}


def login(client, user):
    verified_login(client, user)


@pytest.mark.parametrize("person, visible", sorted(STUDENT_MATRIX.items()))
def test_student_page_both_ways(client, world, person, visible):
    login(client, getattr(world, person))
    for name in ALL_STUDENTS:
        student = getattr(world, name)
        response = client.get(reverse("cases:student_detail", args=[student.public_id]))
        if name in visible:
            assert response.status_code == 200, (person, name)
            assert student.first_name in response.content.decode()
        else:
            assert response.status_code == 404, (person, name)
            assert student.first_name not in response.content.decode()


@pytest.mark.parametrize("person, visible", sorted(STUDENT_MATRIX.items()))
def test_student_list_shows_exactly_the_visible_students(client, world, person, visible):
    login(client, getattr(world, person))
    response = client.get(reverse("cases:student_list"))
    assert response.status_code == 200
    page = response.content.decode()
    for name in ALL_STUDENTS:
        student = getattr(world, name)
        assert (student.last_name in page) is (name in visible), (person, name)


@pytest.mark.parametrize("person, visible", sorted(STUDENT_MATRIX.items()))
def test_queryset_matches_the_matrix(world, person, visible):
    seen = set(access.students_visible_to(getattr(world, person)).values_list("pk", flat=True))
    assert seen == {getattr(world, name).pk for name in visible}


def test_mentor_desk_lists_own_group_only(client, world):
    login(client, world.mentor_a1)
    page = client.get(reverse("sst:desk")).content.decode()
    assert world.student_a1.last_name in page
    assert world.student_a2.last_name not in page
    assert world.student_b1.last_name not in page


def test_school_staff_desk_offers_their_school_not_others(client, world):
    login(client, world.counsellor_a)
    page = client.get(reverse("sst:desk")).content.decode()
    assert world.school_a.name in page and world.school_b.name not in page


def test_filtering_by_another_schools_group_shows_nothing(client, world):
    login(client, world.counsellor_a)
    response = client.get(reverse("cases:student_list"), {"group": world.group_b1.pk})
    assert world.student_b1.last_name not in response.content.decode()


def test_name_search_is_posted_and_scoped(client, world):
    login(client, world.counsellor_a)
    response = client.post(reverse("cases:student_list"), {"name": "Björkqvist"})
    assert response.status_code == 200
    assert str(world.student_b1.public_id) not in response.content.decode()
    assert "student-table" not in response.content.decode()
    response = client.post(reverse("cases:student_list"), {"name": "ekholm"})
    page = response.content.decode()
    assert world.student_a1.last_name in page and world.student_a2.last_name not in page


def test_ended_membership_gives_nothing(client, world):
    mentor = world.mentor_a1
    membership = RoleMembership.objects.get(user=mentor, role=Role.MENTOR)
    services.membership_end(
        membership=membership, ends_on=timezone.localdate() - datetime.timedelta(days=1), by=None
    )
    login(client, mentor)
    url = reverse("cases:student_detail", args=[world.student_a1.public_id])
    assert client.get(url).status_code == 404


def test_membership_that_ends_while_signed_in_stops_at_the_next_day(client, world, settings):
    """Dates pass without any write: the first request of a new day re-grants."""
    mentor = world.mentor_a1
    membership = RoleMembership.objects.get(user=mentor, role=Role.MENTOR)
    RoleMembership.objects.filter(pk=membership.pk).update(ends_on=timezone.localdate())
    login(client, mentor)
    url = reverse("cases:student_detail", args=[world.student_a1.public_id])
    assert client.get(url).status_code == 200
    # Simulate the next day: the nightly task runs (or the session's first request tomorrow).
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    access.sync_user_permissions(mentor, today=tomorrow)
    assert client.get(url).status_code == 404


def test_future_membership_gives_nothing_yet(world):
    newcomer = world.nobody
    grant(
        newcomer,
        Role.COUNSELLOR,
        world.school_a,
        starts_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    assert not access.students_visible_to(newcomer).exists()


def test_a_granted_role_takes_effect_on_the_next_request(client, world):
    login(client, world.nobody)
    url = reverse("cases:student_detail", args=[world.student_b1.public_id])
    assert client.get(url).status_code == 404
    grant(world.nobody, Role.PRINCIPAL, world.school_b)
    assert client.get(url).status_code == 200


def test_one_person_with_two_roles_at_two_schools(client, world):
    person = world.nobody
    grant(person, Role.MENTOR, world.group_a2)
    grant(person, Role.COUNSELLOR, world.school_b)
    visible = set(access.students_visible_to(person))
    assert visible == {world.student_a2, world.student_b1}


def test_student_who_moves_school_leaves_the_old_schools_view(world):
    student = world.student_a1
    student.school, student.mentor_group = world.school_b, world.group_b1
    student.save()
    assert student not in access.students_visible_to(world.counsellor_a)
    assert student in access.students_visible_to(world.counsellor_b)


def test_inactive_user_sees_nothing(world):
    world.counsellor_a.is_active = False
    world.counsellor_a.save()
    assert not access.students_visible_to(world.counsellor_a).exists()


def test_role_place_rules_are_enforced(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        grant(world.nobody, Role.MENTOR, world.school_a)  # a mentor holds a group, not a school
    with pytest.raises(ValidationError):
        grant(world.nobody, Role.SOCIAL_WORKER, world.school_a)


@pytest.mark.parametrize("person", ["admin_m"])
def test_audit_log_page_for_administrators(client, world, person):
    login(client, getattr(world, person))
    assert client.get(reverse("sst:audit_log")).status_code == 200


@pytest.mark.parametrize(
    "person", ["mentor_a1", "counsellor_a", "principal_a", "social_worker_n", "manager_m", "nobody"]
)
def test_audit_log_page_refused_to_everyone_else(client, world, person):
    login(client, getattr(world, person))
    assert client.get(reverse("sst:audit_log")).status_code == 404


@pytest.mark.parametrize(
    "person, allowed",
    [("admin_m", True), ("counsellor_a", False), ("manager_m", False), ("nobody", False)],
)
def test_administration_site(client, world, person, allowed):
    login(client, getattr(world, person))
    response = client.get(reverse("admin:sst_school_changelist"), follow=True)
    if allowed:
        assert response.status_code == 200
        assert world.school_a.name in response.content.decode()
    else:
        assert response.status_code == 404


def test_administration_sends_anonymous_visitors_to_the_normal_login(client, world):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("sst:login"))


def test_administration_has_no_student_data(world):
    from sst.admin import admin_site

    registered = {model._meta.label for model in admin_site._registry}
    assert not registered & {"sst.Student", "sst.Guardian", "sst.Custody"}


def test_list_views_run_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    login(client, world.counsellor_a)
    url = reverse("cases:student_list")
    client.get(url)  # warm the session's daily permission sync
    with django_assert_max_num_queries(16) as few:
        client.get(url)
    StudentFactory.create_batch(30, mentor_group=world.group_a1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200


def test_desk_runs_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    login(client, world.mentor_a1)
    client.get(reverse("sst:desk"))
    # Every app adds its panels; what matters is that the count does not grow with data.
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("sst:desk"))
    StudentFactory.create_batch(25, mentor_group=world.group_a1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("sst:desk"))


@pytest.mark.parametrize("person", ["mentor_a1", "counsellor_a", "admin_m", "nobody"])
def test_the_header_asks_its_questions_once_per_request(
    client, world, person, django_assert_num_queries
):
    """The header's facts (roles, administer, import, cases) come from one query, kept on
    the request: however often a page asks, the count stays the same."""
    from django.test import RequestFactory

    from sst.context_processors import shell

    user = getattr(world, person)
    request = RequestFactory().get("/")
    request.user = user
    with django_assert_num_queries(1):
        first = shell(request)
        second = shell(request)
        access.role_facts(request)
    assert first == second
    assert first["can_administer"] is (person == "admin_m")
    assert first["can_import"] is (person == "admin_m")
    assert first["works_cases"] is (person == "counsellor_a")
