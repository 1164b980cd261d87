"""The demo data: fictitious, idempotent, one user per role and place, refused in production."""

from __future__ import annotations

import datetime
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from sst import demo
from sst.models import (
    Custody,
    District,
    Guardian,
    MentorGroup,
    Municipality,
    PlaceKind,
    Role,
    RoleMembership,
    School,
    Student,
    User,
)
from sst.personnummer import parse

from ..privacy import find_personnummer

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seed(students: int = 30, *, attendance: bool = False, **options) -> str:
    """Seed through the command; lesson attendance only when a test is about it (speed)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "seed_demo",
        students=students,
        no_attendance=not attendance,
        stdout=out,
        stderr=err,
        **options,
    )
    return out.getvalue() + err.getvalue()


def _table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Municipality,
            District,
            School,
            MentorGroup,
            Student,
            Guardian,
            Custody,
            User,
            RoleMembership,
            TOTPDevice,
        )
    }


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER


# ---------------------------------------------------------------- the generator


def test_generated_numbers_are_valid_fictitious_and_unique():
    today = datetime.date(2026, 9, 1)
    people: dict[str, tuple[str, str]] = {}
    for student in demo.generate_students(800, today=today):
        assert student.personnummer not in people  # a student is generated once
        people[student.personnummer] = (student.first_name, student.last_name)
        for guardian in student.guardians:  # siblings share their guardians
            name = (guardian.first_name, guardian.last_name)
            assert people.setdefault(guardian.personnummer, name) == name
    for number in people:
        parsed = parse(number, today=today)
        assert parsed.value == number
        assert 980 <= int(number[8:11]) <= 999


def test_students_fit_their_grade_and_gender_and_are_deterministic():
    today = datetime.date(2026, 9, 1)  # school year 2026/27: grade F born 2020, grade 9 in 2011
    students = demo.generate_students(800, today=today)
    assert students == demo.generate_students(800, today=today)
    assert students[:60] == demo.generate_students(60, today=today)  # same people, any total
    for student in students:
        born = parse(student.personnummer, today=today).birth_date
        grade_index = demo.GRADES.index(student.grade)
        assert born.year == 2020 - grade_index
        assert 1 <= len(student.guardians) <= 3
        assert 1 <= sum(g.has_custody for g in student.guardians) <= 2
        serial_digit = int(student.personnummer[10])
        if student.gender == "boy":
            assert serial_digit % 2 == 1
        elif student.gender == "girl":
            assert serial_digit % 2 == 0
    coordination = sum(parse(s.personnummer, today=today).is_coordination_number for s in students)
    assert 2 <= coordination <= 20  # about one per cent
    assert Counter(s.gender for s in students)["other"] > 0
    assert any(not g.has_custody for s in students for g in s.guardians)
    assert any(sum(g.has_custody for g in s.guardians) == 1 for s in students)


def test_spring_term_uses_the_school_year_that_started_last_autumn():
    spring = demo.generate_students(5, today=datetime.date(2027, 3, 1))
    autumn = demo.generate_students(5, today=datetime.date(2026, 9, 1))
    assert [s.personnummer for s in spring] == [s.personnummer for s in autumn]


# ---------------------------------------------------------------- seeding


@pytest.mark.django_db
def test_seed_twice_gives_the_same_data(fast_passwords):
    _seed(60)
    first, first_counts = _table_counts(), demo.counts()
    _seed(60)
    assert _table_counts() == first
    assert demo.counts() == first_counts
    assert first["Student"] == 60
    assert first["School"] == 4
    assert first["District"] == 2
    assert first["MentorGroup"] == len(demo.all_groups())
    assert first["User"] == len(demo.demo_users())
    assert first["Guardian"] >= 60
    for student in Student.objects.all():
        number = student.personnummer
        assert parse(number.value) == number
        assert 980 <= int(number.value[8:11]) <= 999
        assert student.mentor_group.school_id == student.school_id
    for guardian in Guardian.objects.all():
        assert 980 <= int(guardian.personnummer.value[8:11]) <= 999


@pytest.mark.django_db
def test_one_demo_user_per_role_per_relevant_place(fast_passwords):
    _seed(len(demo.all_groups()))  # a student in every group
    municipality = Municipality.objects.get(code=demo.MUNICIPALITY_CODE)
    held = Counter()
    for m in RoleMembership.objects.select_related("mentor_group__school"):
        place = m.mentor_group.school.name if m.mentor_group else m.place.name
        held[m.role, m.place_kind, place] += 1

    schools = list(School.objects.filter(district__municipality=municipality).order_by("unit_code"))
    districts = list(District.objects.filter(municipality=municipality))
    assert len(schools) == 4
    assert len(districts) == 2
    school_roles = [
        Role.PRINCIPAL,
        Role.COUNSELLOR,
        Role.SPECIAL_EDUCATOR,
        Role.SCHOOL_NURSE,
        Role.SCHOOL_PSYCHOLOGIST,
        Role.MANAGER,
        Role.ADMINISTRATOR,
    ]
    expected = Counter()
    for school in schools:
        expected[Role.MENTOR, PlaceKind.MENTOR_GROUP, school.name] = 1
        for role in school_roles:
            expected[role, PlaceKind.SCHOOL, school.name] = 1
    for district in districts:
        for role in (
            Role.SOCIAL_WORKER,
            Role.REFERRAL_FORUM,
            Role.COORDINATOR,
            Role.MANAGER,
            Role.HEAD_OF_SCHOOLS,
        ):
            expected[role, PlaceKind.DISTRICT, district.name] = 1
    for role in (
        Role.MANAGER,
        Role.ADMINISTRATOR,
        Role.REFERRAL_FORUM,
        Role.COORDINATOR,
        Role.HEAD_OF_SCHOOLS,
    ):
        expected[role, PlaceKind.MUNICIPALITY, municipality.name] = 1
    # The person with two roles: mentor of another group at school 1, counsellor at school 2.
    expected[Role.MENTOR, PlaceKind.MENTOR_GROUP, schools[0].name] += 1
    expected[Role.COUNSELLOR, PlaceKind.SCHOOL, schools[1].name] += 1
    assert held == expected

    two = User.objects.get(username=demo.TWO_ROLE_USERNAME)
    mentor, counsellor = (
        two.memberships.get(role=Role.MENTOR),
        two.memberships.get(role=Role.COUNSELLOR),
    )
    assert mentor.mentor_group.school == schools[0]
    assert counsellor.school == schools[1]
    assert (
        mentor.mentor_group
        != User.objects.get(username=f"mentor.{demo.SCHOOLS[0].key}").memberships.get().mentor_group
    )

    # Every mentor has a group of its own, with students in it.
    for username in (f"mentor.{s.key}" for s in demo.SCHOOLS):
        group = User.objects.get(username=username).memberships.get().mentor_group
        assert group.name == demo.MENTOR_GROUP
        assert group.students.exists()

    for user in User.objects.filter(username__in=[u.username for u in demo.demo_users()]):
        assert user.first_name and user.last_name
        assert re.fullmatch(r"[a-z.]+", user.username)


@pytest.mark.django_db
def test_every_demo_user_has_the_demo_password(fast_passwords):
    _seed(5)
    users = User.objects.filter(username__in=[u.username for u in demo.demo_users()])
    assert users.count() == len(demo.demo_users()) > 40
    for user in users:
        assert user.check_password(demo.DEMO_PASSWORD), user.username
        assert user.is_active


@pytest.mark.django_db
def test_administrators_have_a_confirmed_totp_device_and_demo_totp_prints_its_code(
    fast_passwords,
):
    _seed(5)
    admins = User.objects.filter(memberships__role=Role.ADMINISTRATOR).distinct()
    assert admins.count() == len(demo.SCHOOLS) + 1
    for admin in admins:
        assert TOTPDevice.objects.devices_for_user(admin, confirmed=True).exists()

    admin = User.objects.get(username="admin.kommun")
    out = io.StringIO()
    call_command("demo_totp", "admin.kommun", stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    device = TOTPDevice.objects.get(user=admin, confirmed=True)
    assert device.key == demo.DEMO_TOTP_KEY
    assert device.verify_token(code)


@pytest.mark.django_db
def test_demo_totp_refuses_a_user_without_a_device(fast_passwords):
    _seed(0)
    with pytest.raises(CommandError):
        call_command("demo_totp", "chef.kommun", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("demo_totp", "no.such.user", stdout=io.StringIO())


@pytest.mark.django_db
def test_both_commands_refuse_in_production_and_touch_nothing(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", students=5, stdout=io.StringIO())
    with pytest.raises(CommandError, match="production"):
        call_command("demo_totp", "admin.kommun", stdout=io.StringIO())
    assert not Municipality.objects.exists()
    assert not Student.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_output_shows_counts_but_no_personal_data(fast_passwords, capsys):
    output = _seed(40, attendance=True, attendance_days=25)
    captured = capsys.readouterr()
    everything = output + captured.out + captured.err
    assert "40 students" in output
    assert re.search(r"Lesson attendance: 25 school days .* \d+ lessons imported", output)
    assert "on step 2" in output and "only the last 25 were generated" in output
    assert not find_personnummer(everything)
    for student in Student.objects.all():
        assert student.full_name not in everything


@pytest.mark.django_db
def test_attendance_is_generated_through_the_import_unless_skipped(fast_passwords):
    from attendance.models import Alert, Lesson, MonthlyAbsence

    _seed(12)
    assert not Lesson.objects.exists()
    _seed(12, attendance=True, attendance_days=22)
    lessons, alerts = Lesson.objects.count(), Alert.objects.count()
    assert lessons >= 12 * 22 * 5  # five lessons a day or more
    assert MonthlyAbsence.objects.filter(step__gte=2).exists() and alerts
    _seed(12, attendance=True, attendance_days=22)  # the same day again: nothing new
    assert (Lesson.objects.count(), Alert.objects.count()) == (lessons, alerts)


# ---------------------------------------------------------------- README


def test_readme_lists_every_demo_user():
    readme = Path(django_settings.BASE_DIR, "README.md").read_text(encoding="utf-8")
    start, end = readme.index(demo.README_START), readme.index(demo.README_END)
    region = readme[start + len(demo.README_START) : end]
    for user in demo.demo_users():
        assert f"`{user.username}`" in region
    assert demo.DEMO_PASSWORD in region
    assert demo.DEMO_TOTP_SECRET_B32 in region
    assert region.strip() == demo.readme_region().strip(), (
        "README demo users are out of date: replace the region with "
        "`.venv/bin/python manage.py seed_demo --readme`"
    )


# ---------------------------------------------------------------- the school's steps


@pytest.mark.django_db
def test_school_steps_are_seeded_once_and_fill_the_eht_agenda(fast_passwords, client):
    from django.urls import reverse

    from cases import demo as cases_demo
    from cases.models import SchoolSocialMapping

    output = _seed(240, attendance=True)
    first = cases_demo.steps_counts()
    assert "School steps:" in output
    assert first.checklists >= 1 and first.reported >= 1
    assert first.decisions >= 1 and first.mappings >= 2 and first.escalations >= 1
    assert first.meetings >= 1 and first.offered_times >= 2 and first.health_talks >= 1
    _seed(240, attendance=True)
    assert cases_demo.steps_counts() == first

    approved = SchoolSocialMapping.objects.get(
        approval="approved", case__student__school__unit_code="99900011"
    )
    client.force_login(User.objects.get(username="rektor.ekbacken"))
    response = client.get(reverse("cases:eht_agenda", args=["99900011"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert approved.case.student.last_name in page
    assert approved.school_situation in page
    assert "agenda-student" in page
