"""The school calendar per municipality: public holidays, the built-in terms and breaks, a
municipality's own calendar over them, the date rules, the staircase's school days, and the
administrator who edits it."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from attendance import calendar
from attendance.calendar import DEFAULT_CALENDAR, SUMMER, calendar_for
from attendance.calendar_services import school_break_save, school_term_save
from attendance.models import Alert, BreakKind, Rule, SchoolBreak, SchoolTerm
from sst.models import AuditEvent, Role
from tests.factories import MunicipalityFactory, UserFactory, grant

from ..conftest import verified_login
from .lessons import INVALID, PRESENT, school_day
from .test_staircase import days, invalid_days, refresh, rules

D = datetime.date


def a_break(municipality, kind, start, end, name="", *, by=None) -> SchoolBreak:
    return school_break_save(
        school_break=SchoolBreak(
            municipality=municipality, kind=kind, name=name, starts_on=start, ends_on=end
        ),
        by=by,
    )


def a_term(municipality, start, end, *, by=None) -> SchoolTerm:
    return school_term_save(
        term=SchoolTerm(municipality=municipality, starts_on=start, ends_on=end), by=by
    )


# ---------------------------------------------------------------- public holidays


def test_swedish_public_holidays_are_no_school_days():
    with translation.override("sv"):
        assert DEFAULT_CALENDAR.holiday_name(D(2027, 5, 6)) == "Kristi himmelsfärdsdag"
        assert DEFAULT_CALENDAR.holiday_name(D(2027, 3, 26)) == "Långfredagen"
        assert DEFAULT_CALENDAR.holiday_name(D(2025, 6, 6)) == "Nationaldagen"
        assert DEFAULT_CALENDAR.why_no_school(D(2027, 5, 6)) == "Kristi himmelsfärdsdag"
    for day in (D(2027, 5, 6), D(2027, 3, 26), D(2027, 3, 29), D(2025, 6, 6), D(2026, 5, 1)):
        assert not DEFAULT_CALENDAR.is_school_day(day), day
    # The Friday after Ascension Day is a day off too, and the Wednesday before is not.
    assert not DEFAULT_CALENDAR.is_school_day(D(2027, 5, 7))
    assert DEFAULT_CALENDAR.is_school_day(D(2027, 5, 5))


def test_plain_sundays_are_not_named_holidays():
    assert DEFAULT_CALENDAR.holiday_name(D(2026, 9, 6)) is None  # a Sunday in September
    assert D(2026, 9, 6) not in calendar.public_holidays(2026)
    assert not DEFAULT_CALENDAR.is_school_day(D(2026, 9, 6))  # still no school day


# ---------------------------------------------------------------- the built-in calendar


def test_the_default_terms_and_breaks():
    with translation.override("sv"):
        autumn_break = DEFAULT_CALENDAR.break_of(D(2026, 10, 28))
        assert autumn_break is not None
        assert (autumn_break.kind, autumn_break.name) == (BreakKind.AUTUMN, "Höstlov")
        assert (autumn_break.start, autumn_break.end) == (D(2026, 10, 26), D(2026, 10, 30))
    assert not any(DEFAULT_CALENDAR.is_school_day(D(2026, 10, d)) for d in range(26, 31))
    assert DEFAULT_CALENDAR.is_school_day(D(2026, 10, 23))
    assert DEFAULT_CALENDAR.is_school_day(D(2026, 11, 2))
    sports = DEFAULT_CALENDAR.break_of(D(2027, 3, 3))
    assert sports is not None and sports.kind == BreakKind.SPORTS  # week 9
    easter = DEFAULT_CALENDAR.break_of(D(2027, 3, 23))
    assert easter is not None and easter.kind == BreakKind.EASTER
    term = DEFAULT_CALENDAR.term_of(D(2026, 9, 1))
    assert term is not None and (term.name, term.start, term.end) == (
        "HT26",
        D(2026, 8, 18),
        D(2026, 12, 18),
    )
    assert DEFAULT_CALENDAR.term_of(D(2026, 7, 1)) is None


def test_between_the_terms_is_jullov_or_sommarlov():
    christmas = DEFAULT_CALENDAR.break_of(D(2026, 12, 28))
    assert christmas is not None and christmas.kind == BreakKind.CHRISTMAS
    assert (christmas.start, christmas.end) == (D(2026, 12, 19), D(2027, 1, 7))
    summer = DEFAULT_CALENDAR.break_of(D(2026, 7, 1))
    assert summer is not None and summer.kind == SUMMER
    listed = DEFAULT_CALENDAR.breaks_between(D(2026, 10, 1), D(2027, 1, 31))
    assert [b.kind for b in listed] == [BreakKind.AUTUMN, BreakKind.CHRISTMAS]


def test_school_day_on_or_after_crosses_jullov_and_sportlov():
    assert DEFAULT_CALENDAR.school_day_on_or_after(D(2026, 12, 21)) == D(2027, 1, 8)
    assert DEFAULT_CALENDAR.school_day_on_or_after(D(2027, 3, 1)) == D(2027, 3, 8)
    assert DEFAULT_CALENDAR.school_day_on_or_after(D(2026, 9, 1)) == D(2026, 9, 1)
    assert DEFAULT_CALENDAR.school_days_between(D(2026, 10, 19), D(2026, 11, 6)) == 10


def test_the_generator_draws_lessons_on_the_calendars_school_days():
    from attendance import generator

    start, end = D(2025, 8, 1), D(2027, 7, 31)
    assert generator.school_days(start, end) == DEFAULT_CALENDAR.school_days(start, end)


# ---------------------------------------------------------------- a municipality's own


@pytest.mark.django_db
def test_the_contract_functions_read_the_municipalitys_calendar(world):
    m = world.municipality
    assert calendar.is_school_day(m.pk, D(2026, 10, 19))
    a_break(m, BreakKind.AUTUMN, D(2026, 10, 19), D(2026, 10, 23))
    assert not calendar.is_school_day(m.pk, D(2026, 10, 19))
    assert calendar.is_school_day(m.pk, D(2026, 10, 26))  # the default week 44 is replaced
    assert calendar.school_day_on_or_after(m.pk, D(2026, 10, 19)) == D(2026, 10, 26)
    assert calendar.school_days_between(m.pk, D(2026, 10, 19), D(2026, 10, 30)) == 5
    # Another municipality keeps the built-in höstlov.
    other = MunicipalityFactory()
    assert calendar.is_school_day(other.pk, D(2026, 10, 19))
    assert not calendar.is_school_day(other.pk, D(2026, 10, 26))


@pytest.mark.django_db
def test_a_recorded_term_replaces_the_default_of_its_season(world):
    m = world.municipality
    a_term(m, D(2026, 8, 20), D(2026, 12, 22))
    cal = calendar_for(m.pk)
    assert not cal.is_school_day(D(2026, 8, 18))
    assert cal.is_school_day(D(2026, 8, 20))
    assert cal.is_school_day(D(2026, 12, 21))
    term = cal.term_of(D(2026, 9, 1))
    assert term is not None and term.recorded and term.name == "HT26"
    spring = cal.term_of(D(2027, 2, 1))
    assert spring is not None and not spring.recorded  # VT27 is still the built-in one
    assert cal.school_day_on_or_after(D(2026, 12, 23)) == D(2027, 1, 8)


@pytest.mark.django_db
def test_study_days_add_to_the_default_breaks(world):
    m = world.municipality
    a_break(m, BreakKind.STUDY_DAY, D(2026, 9, 14), D(2026, 9, 14), "Studiedag för personalen")
    cal = calendar_for(m.pk)
    assert not cal.is_school_day(D(2026, 9, 14))
    assert cal.why_no_school(D(2026, 9, 14)) == "Studiedag för personalen"
    assert not cal.is_school_day(D(2026, 10, 26))  # höstlov stays
    sportlov = cal.school_day_on_or_after(D(2027, 3, 1))
    assert sportlov == D(2027, 3, 8)


@pytest.mark.django_db
def test_school_day_on_or_after_a_recorded_sportlov(world):
    m = world.municipality
    a_break(m, BreakKind.SPORTS, D(2027, 2, 22), D(2027, 2, 26))
    cal = calendar_for(m.pk)
    assert cal.school_day_on_or_after(D(2027, 2, 22)) == D(2027, 3, 1)
    assert cal.is_school_day(D(2027, 3, 1))  # week 9 is a school week here


@pytest.mark.django_db
def test_loading_the_calendar_is_one_query_whatever_is_asked(world, django_assert_num_queries):
    m = world.municipality
    a_term(m, D(2026, 8, 20), D(2026, 12, 22))
    a_break(m, BreakKind.AUTUMN, D(2026, 10, 19), D(2026, 10, 23))
    a_break(m, BreakKind.STUDY_DAY, D(2027, 2, 1), D(2027, 2, 1))
    with django_assert_num_queries(1):
        cal = calendar_for(m.pk)
        cal.school_days(D(2025, 1, 1), D(2028, 12, 31))
        cal.breaks_between(D(2025, 1, 1), D(2028, 12, 31))
        for offset in range(0, 700, 7):
            day = D(2026, 1, 1) + datetime.timedelta(days=offset)
            cal.why_no_school(day)
            cal.term_on_or_before(day)
            cal.school_day_on_or_after(day)


@pytest.mark.django_db
def test_reading_the_calendar_writes_nothing(world, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        calendar_for(world.municipality.pk).is_school_day(D(2026, 9, 1))
    assert captured.captured_queries[0]["sql"].lstrip("( ").upper().startswith("SELECT")
    assert not SchoolTerm.objects.exists() and not SchoolBreak.objects.exists()


# ---------------------------------------------------------------- validation


@pytest.mark.django_db
def test_a_break_ends_on_or_after_its_start(world):
    with pytest.raises(ValidationError) as error, translation.override("sv"):
        a_break(world.municipality, BreakKind.OTHER, D(2026, 10, 20), D(2026, 10, 19))
    assert "Sista dagen kan inte vara före första dagen." in str(error.value)


@pytest.mark.django_db
def test_a_break_lies_within_the_school_years_teaching(world):
    with pytest.raises(ValidationError) as error, translation.override("sv"):
        a_break(world.municipality, BreakKind.OTHER, D(2026, 7, 6), D(2026, 7, 10))
    assert "18 augusti 2026" in str(error.value)
    assert not SchoolBreak.objects.exists()


@pytest.mark.django_db
def test_breaks_do_not_overlap(world):
    m = world.municipality
    a_break(m, BreakKind.AUTUMN, D(2026, 10, 19), D(2026, 10, 23))
    with pytest.raises(ValidationError):
        a_break(m, BreakKind.STUDY_DAY, D(2026, 10, 23), D(2026, 10, 23))


@pytest.mark.django_db
def test_terms_do_not_overlap(world):
    m = world.municipality
    a_term(m, D(2026, 8, 20), D(2026, 12, 22))
    with pytest.raises(ValidationError):  # a second autumn term in the school year
        a_term(m, D(2026, 12, 28), D(2026, 12, 30))
    term = SchoolTerm.objects.get()
    term.ends_on = D(2027, 1, 12)  # into the built-in spring term (8 January on)
    with pytest.raises(ValidationError):
        school_term_save(term=term, by=None)
    a_term(m, D(2027, 1, 11), D(2027, 6, 11))
    term.ends_on = D(2027, 1, 11)  # into the recorded spring term
    with pytest.raises(ValidationError):
        school_term_save(term=term, by=None)


@pytest.mark.django_db
def test_a_term_ends_within_its_school_year(world):
    with pytest.raises(ValidationError):
        a_term(world.municipality, D(2027, 1, 8), D(2027, 7, 2))


# ---------------------------------------------------------------- the staircase


@pytest.mark.django_db
def test_a_lesson_on_a_day_without_school_neither_counts_nor_breaks_a_run(world):
    """Ten invalid school days and one invalid day of lessons on a study day: no run of
    more than ten school days. A present day on the study day does not break the run."""
    m = world.municipality
    a_break(m, BreakKind.STUDY_DAY, D(2025, 10, 15), D(2025, 10, 15))
    s1, s2 = world.student_a1, world.student_a2
    run = days("2025-10-06", "2025-10-20")  # 11 weekdays, the study day among them
    invalid_days(s1, run)
    invalid_days(s2, [day for day in run if day != D(2025, 10, 15)] + [D(2025, 10, 21)])
    school_day(s2, D(2025, 10, 15), lessons=2, kind=PRESENT)
    refresh(D(2025, 10, 1))
    assert Rule.INVALID_STREAK not in rules(s1)
    streak = Alert.objects.get(student=s2, rule=Rule.INVALID_STREAK)
    assert (streak.period_start, streak.period_end, streak.value_count) == (
        D(2025, 10, 6),
        D(2025, 10, 21),
        11,
    )


@pytest.mark.django_db
def test_without_the_study_day_the_same_lessons_are_a_run(world):
    run = days("2025-10-06", "2025-10-20")
    invalid_days(world.student_a1, run)
    school_day(world.student_a1, D(2025, 10, 21), lessons=2, kind=INVALID)
    refresh(D(2025, 10, 1))
    assert Alert.objects.get(student=world.student_a1, rule=Rule.INVALID_STREAK).value_count == 12


# ---------------------------------------------------------------- the administrator


def _break_form(municipality) -> dict[str, str]:
    return {
        "municipality": str(municipality.pk),
        "kind": BreakKind.STUDY_DAY,
        "name": "Studiedag",
        "starts_on": "2026-09-14",
        "ends_on": "2026-09-14",
    }


@pytest.mark.django_db
def test_the_administrator_adds_a_break_to_the_municipalitys_calendar(client, world):
    verified_login(client, world.admin_m)
    url = reverse("admin:attendance_schoolbreak_add")
    assert client.get(url).status_code == 200
    response = client.post(url, _break_form(world.municipality))
    assert response.status_code == 302, response.content.decode()[:3000]
    added = SchoolBreak.objects.get()
    assert added.municipality == world.municipality
    assert not calendar.is_school_day(world.municipality.pk, D(2026, 9, 14))
    assert AuditEvent.objects.filter(object_type="school_calendar", action="create").exists()
    change = reverse("admin:attendance_schoolbreak_change", args=[added.pk])
    assert client.get(change).status_code == 200
    listing = client.get(reverse("admin:attendance_schoolbreak_changelist"))
    assert "Studiedag" in listing.content.decode()


@pytest.mark.django_db
def test_the_admin_refuses_a_break_in_the_summer_with_a_message(client, world):
    verified_login(client, world.admin_m)
    form = {**_break_form(world.municipality), "starts_on": "2026-07-06", "ends_on": "2026-07-06"}
    with translation.override("sv"):
        response = client.post(
            reverse("admin:attendance_schoolbreak_add"), form, HTTP_ACCEPT_LANGUAGE="sv"
        )
    assert response.status_code == 200
    assert "läsårets undervisning" in response.content.decode()
    assert not SchoolBreak.objects.exists()


@pytest.mark.django_db
def test_an_administrator_elsewhere_cannot_touch_the_calendar(client, world):
    elsewhere = MunicipalityFactory(name="Grannkommun")
    admin_elsewhere = UserFactory(username="admin_elsewhere")
    grant(admin_elsewhere, Role.ADMINISTRATOR, elsewhere)
    own = a_break(world.municipality, BreakKind.STUDY_DAY, D(2026, 9, 14), D(2026, 9, 14))
    verified_login(client, admin_elsewhere)
    change = reverse("admin:attendance_schoolbreak_change", args=[own.pk])
    assert client.get(change).status_code == 404
    assert client.post(change, _break_form(elsewhere)).status_code == 404
    listing = client.get(reverse("admin:attendance_schoolbreak_changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    response = client.post(
        reverse("admin:attendance_schoolbreak_add"),
        {**_break_form(world.municipality), "starts_on": "2026-09-15", "ends_on": "2026-09-15"},
    )
    assert response.status_code == 200  # the form refuses the other municipality
    assert SchoolBreak.objects.count() == 1
    assert SchoolBreak.objects.get().starts_on == D(2026, 9, 14)


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["principal_a", "counsellor_a", "manager_m"])
def test_school_staff_cannot_edit_the_calendar(client, world, person):
    verified_login(client, getattr(world, person))
    for name in ("schoolbreak", "schoolterm"):
        url = reverse(f"admin:attendance_{name}_add")
        assert client.get(url, follow=True).status_code == 404
        client.post(url, _break_form(world.municipality))
    assert not SchoolBreak.objects.exists()


@pytest.mark.django_db
def test_the_administrator_records_a_term(client, world):
    verified_login(client, world.admin_m)
    url = reverse("admin:attendance_schoolterm_add")
    assert client.get(url).status_code == 200
    form = {
        "municipality": str(world.municipality.pk),
        "starts_on": "2026-08-20",
        "ends_on": "2026-12-22",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert str(SchoolTerm.objects.get()) == "HT26"
    assert not calendar.is_school_day(world.municipality.pk, D(2026, 8, 19))
    # A second autumn term in the same school year is refused, with the reason.
    again = client.post(url, {**form, "starts_on": "2026-12-28", "ends_on": "2026-12-30"})
    assert again.status_code == 200
    assert SchoolTerm.objects.count() == 1
