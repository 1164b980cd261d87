"""The absence pages: the student's page, the school overview and the desk panels.

Figures are checked as a reader sees them (Swedish, decimal comma, the period named), access
both ways for every view, and a constant number of queries however many students there are.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext, override

from attendance.models import Alert, AlertRecipient, DueKind, Rule
from attendance.rollup import month_start, term_of
from attendance.selectors import previous_month
from attendance.templatetags.absence import month_label, pct, period, sparkline
from sst.models import AuditEvent, Role

from ..clock import pinned_clock
from ..conftest import verified_login
from ..factories import StudentFactory, grant
from .factories import month_of_lessons, refresh

TODAY = datetime.date(2026, 11, 18)  # a Wednesday in HT26
_clock = pinned_clock(TODAY)
THIS = month_start(TODAY)
LAST = previous_month(THIS)


def sv(message: str, **values: object) -> str:
    """A message as the Swedish page shows it (whether or not the catalogue has it yet)."""
    with override("sv"):
        return gettext(message) % values if values else gettext(message)


def _page(response) -> str:
    return response.content.decode()


def _text(response) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _page(response)))


@pytest.fixture
def absences(world):
    """Last month: a1 12,5 % (valid 10,0, invalid 2,5) → step 2; a2 22,5 % → step 4;
    b1 5,0 %. This month: a1 5,0 % (one valid, one invalid lesson)."""
    month_of_lessons(world.student_a1, LAST, valid=4, invalid=1)
    month_of_lessons(world.student_a2, LAST, invalid=9)
    month_of_lessons(world.student_b1, LAST, valid=2)
    month_of_lessons(world.student_a1, THIS, days=5, valid=1, invalid=0, late=0)
    refresh(LAST, THIS)
    return world


def student_url(student) -> str:
    return reverse("attendance:student", args=[student.public_id])


def overview_url(school) -> str:
    return reverse("attendance:school_overview", args=[school.unit_code])


# ---------------------------------------------------------------- formatting


def test_percentages_follow_swedish_format():
    with override("sv"):
        assert pct(12.5) == "12,5 %"
        assert pct(0) == "0,0 %"
        assert month_label(datetime.date(2026, 10, 1)) == "oktober 2026"
    with override("en"):
        assert pct(12.5) == "12.5 %"
    assert pct(None) == "–"


def test_period_names_a_month_or_gives_both_dates():
    with override("sv"):
        assert period(datetime.date(2026, 10, 1), datetime.date(2026, 10, 31)) == "oktober 2026"
        assert (
            period(datetime.date(2026, 8, 1), datetime.date(2026, 11, 23))
            == "2026-08-01–2026-11-23"
        )


def test_sparkline_is_an_image_with_every_value_in_its_name():
    from attendance.models import MonthlyAbsence

    row = MonthlyAbsence(scheduled_min=400, valid_min=50, invalid_min=0, step=2)
    svg = sparkline([(datetime.date(2026, 9, 1), None), (datetime.date(2026, 10, 1), row)], "X")
    assert 'role="img"' in svg
    assert "12,5 %" in svg


# ---------------------------------------------------------------- the student's page


def test_student_page_shows_months_named_and_in_swedish(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    response = client.get(student_url(world.student_a1))
    assert response.status_code == 200
    text = _text(response)
    assert month_label(LAST) in text
    assert month_label(THIS) in text
    # last month: 5 of 40 lessons → 12,5 %, of which valid 10,0 % and invalid 2,5 %
    history = _page(response).split('class="table table-sm table-striped align-middle')[1]
    assert "12,5 %" in history and "10,0 %" in history and "2,5 %" in history
    # the chart: an SVG drawn on the server, named and described for screen readers
    page = _page(response)
    assert '<svg id="absence-chart"' in page
    assert 'role="img"' in page and "<desc" in page
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_student_page_lists_the_students_alerts(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    page = _page(client.get(student_url(world.student_a1)))
    alerts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("student-alerts")[1]))
    with override("sv"):
        assert str(Rule.STEP_2.label) in alerts
        assert str(DueKind.CHECKLIST.label) in alerts
    assert f"{month_label(LAST)} 12,5 %" in alerts


def test_patterns_by_weekday_slot_and_subject_over_a_chosen_period(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    end = LAST.replace(day=20)
    response = client.get(
        student_url(world.student_a1), {"from": LAST.isoformat(), "to": end.isoformat()}
    )
    assert response.status_code == 200
    page = _page(response)
    named = f"{LAST:%Y-%m-%d}–{end:%Y-%m-%d}"
    for table in ("pattern-weekday", "pattern-slot", "pattern-subject"):
        caption = page.split(table, 1)[1].split("</caption>", 1)[0]
        assert named in caption, table
    # the first four absent lessons are the first day's (valid), the fifth is 08:10 on day two
    slot = page.split("pattern-slot", 1)[1].split("</table>", 1)[0]
    first_row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", slot.split("<tr>", 3)[2]))
    assert "08:10" in first_row and "20,0 %" in first_row
    subject = page.split("pattern-subject", 1)[1].split("</table>", 1)[0]
    assert "Matematik" in subject and "Idrott och hälsa" in subject


def test_patterns_default_to_the_term_so_far(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    _name, term_start, _end = term_of(TODAY)
    text = _text(client.get(student_url(world.student_a1)))
    assert f"{term_start:%Y-%m-%d}–{TODAY:%Y-%m-%d}" in text


def test_a_reversed_period_is_explained_and_the_default_shown(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    response = client.get(student_url(world.student_a1), {"from": "2026-10-20", "to": "2026-10-01"})
    assert response.status_code == 200
    assert 'role="alert"' in _page(response)
    _name, term_start, _end = term_of(TODAY)
    assert f"{term_start:%Y-%m-%d}–{TODAY:%Y-%m-%d}" in _text(response)


def test_student_page_is_audited(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    client.get(student_url(world.student_a1))
    event = AuditEvent.objects.filter(action="view", object_type="student_absence").get()
    assert event.student_id == world.student_a1.public_id
    assert event.actor_username == "mentor_a1"


STUDENT_ACCESS = {
    "mentor_a1": {"student_a1"},
    "counsellor_a": {"student_a1", "student_a2"},
    "principal_a": {"student_a1", "student_a2"},
    "counsellor_b": {"student_b1"},
    "manager_m": set(),
    "manager_a": set(),
    "social_worker_n": set(),
    "admin_m": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("person, visible", sorted(STUDENT_ACCESS.items()))
def test_student_page_both_ways(client, absences, person, visible):
    world = absences
    verified_login(client, getattr(world, person))
    for name in ("student_a1", "student_a2", "student_b1"):
        student = getattr(world, name)
        response = client.get(student_url(student))
        expected = 200 if name in visible else 404
        assert response.status_code == expected, (person, name)
        if expected == 404:
            assert student.last_name not in _page(response)
            assert AuditEvent.objects.filter(
                action="access_denied", object_id=str(student.public_id)
            ).exists()


def test_student_page_queries_do_not_grow_with_history(
    client, absences, django_assert_max_num_queries
):
    world = absences
    verified_login(client, world.mentor_a1)
    url = student_url(world.student_a1)
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for back in range(2, 6):
        month = LAST
        for _ in range(back):
            month = previous_month(month)
        month_of_lessons(world.student_a1, month, invalid=back)
        refresh(month)
    with django_assert_max_num_queries(len(before)):
        response = client.get(url)
    assert response.status_code == 200


# ---------------------------------------------------------------- the school overview


SCHOOL_ACCESS = {
    "counsellor_a": {"school_a"},
    "principal_a": {"school_a"},
    "nurse_a": {"school_a"},
    "counsellor_b": {"school_b"},
    "mentor_a1": set(),
    "manager_m": set(),
    "manager_a": set(),
    "social_worker_n": set(),
    "admin_m": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("person, visible", sorted(SCHOOL_ACCESS.items()))
def test_school_overview_and_export_both_ways(client, absences, person, visible):
    world = absences
    verified_login(client, getattr(world, person))
    for name in ("school_a", "school_b"):
        school = getattr(world, name)
        expected = 200 if name in visible else 404
        response = client.get(overview_url(school))
        assert response.status_code == expected, (person, name, "overview")
        export = client.get(reverse("attendance:school_export", args=[school.unit_code]))
        assert export.status_code == expected, (person, name, "export")


def test_overview_counts_students_per_step_for_the_month(client, absences):
    world = absences
    verified_login(client, world.counsellor_a)
    response = client.get(overview_url(world.school_a), {"month": f"{LAST:%Y-%m}"})
    page = _page(response)
    text = _text(response)
    assert sv("Students per step, %(period_text)s", period_text=month_label(LAST)) in text
    summary = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("step-summary")[1]))
    assert "1 " + sv("Step 4 (more than %(pct)s)", pct="20,0 %") in summary
    assert "0 " + sv("Step 3 (at least %(pct)s)", pct="15,0 %") in summary
    assert "1 " + sv("Step 2 (at least %(pct)s)", pct="10,0 %") in summary
    # the students' rows: name, sorted by absence, highest first
    students = page.split("school-students")[1].split("</table>")[0]
    assert students.index(world.student_a2.last_name) < students.index(world.student_a1.last_name)
    assert "22,5 %" in students and "12,5 %" in students
    assert world.student_b1.last_name not in page
    # the term table: months named, counts per step
    term = page.split("step-months")[1].split("</table>")[0]
    assert month_label(LAST) in term


def test_overview_filters_by_step_grade_and_class(client, absences):
    world = absences
    verified_login(client, world.counsellor_a)
    month = f"{LAST:%Y-%m}"
    by_step = _page(client.get(overview_url(world.school_a), {"month": month, "step": "4"}))
    table = by_step.split("school-students")[1].split("</table>")[0]
    assert world.student_a2.last_name in table and world.student_a1.last_name not in table
    by_group = _page(
        client.get(overview_url(world.school_a), {"month": month, "group": world.group_a1.pk})
    )
    table = by_group.split("school-students")[1].split("</table>")[0]
    assert world.student_a1.last_name in table and world.student_a2.last_name not in table
    by_grade = _page(client.get(overview_url(world.school_a), {"month": month, "grade": "9"}))
    assert "school-students" not in by_grade
    none = _page(client.get(overview_url(world.school_a), {"month": month, "step": "none"}))
    assert "school-students" not in none
    sorted_by_name = _page(
        client.get(overview_url(world.school_a), {"month": month, "sort": "name"})
    )
    table = sorted_by_name.split("school-students")[1].split("</table>")[0]
    # Algotsson (a2) before Ekholmsson (a1)
    assert table.index("Algotsson") < table.index("Ekholmsson")


def test_overview_ignores_a_class_of_another_school(client, absences):
    world = absences
    verified_login(client, world.counsellor_a)
    response = client.get(overview_url(world.school_a), {"group": world.group_b1.pk})
    assert response.status_code == 200
    assert world.student_b1.last_name not in _page(response)


def test_overview_is_audited_with_the_count(client, absences):
    world = absences
    verified_login(client, world.counsellor_a)
    client.get(overview_url(world.school_a), {"month": f"{LAST:%Y-%m}"})
    event = AuditEvent.objects.filter(action="list", object_type="student_absence").get()
    assert event.detail["count"] == 2
    assert event.object_id == world.school_a.unit_code


def test_overview_queries_do_not_grow_with_students(
    client, absences, django_assert_max_num_queries
):
    world = absences
    verified_login(client, world.counsellor_a)
    url = overview_url(world.school_a)
    params = {"month": f"{LAST:%Y-%m}"}
    client.get(url, params)
    with CaptureQueriesContext(connection) as before:
        client.get(url, params)
    for n in range(12):
        student = StudentFactory(mentor_group=world.group_a1 if n % 2 else world.group_a2)
        month_of_lessons(student, LAST, valid=n % 6, invalid=n % 4)
    refresh(LAST)
    with django_assert_max_num_queries(len(before)):
        response = client.get(url, params)
    assert _page(response).count('href="/franvaro/elev/') == 14


# ---------------------------------------------------------------- desk panels


def test_mentor_panel_shows_own_groups_absence_named_by_month(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    response = client.get(reverse("sst:desk"))
    page = _page(response)
    panel = page.split("mentor-absence", 1)[1].split("</section>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel))
    assert world.student_a1.last_name in panel
    assert world.student_a2.last_name not in page
    assert world.student_b1.last_name not in page
    assert month_label(LAST) in text
    assert f"{THIS:%Y-%m-%d}–{TODAY:%Y-%m-%d}" in text
    assert "12,5 %" in panel and "10,0 %" in panel and "2,5 %" in panel
    assert "5,0 %" in panel  # this month: 2 of 20 lessons... one valid of 20 = 5,0 %
    assert 'class="absence-sparkline"' in panel
    assert student_url(world.student_a1) in panel


def test_alert_inbox_lists_the_users_alerts_and_acknowledges(client, absences):
    world = absences
    verified_login(client, world.mentor_a1)
    page = _page(client.get(reverse("sst:desk")))
    inbox = page.split('class="mb-5 inbox"', 1)[1].split("</section>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", inbox))
    assert world.student_a1.last_name in inbox
    with override("sv"):
        assert str(Rule.STEP_2.label) in text and str(DueKind.CHECKLIST.label) in text
    assert month_label(LAST) in text and "12,5 %" in text
    alert = Alert.objects.get(student=world.student_a1, rule=Rule.STEP_2, period_start=LAST)
    url = reverse("attendance:alert_acknowledge", args=[alert.public_id])
    assert client.get(url).status_code == 405
    response = client.post(url, {"next": reverse("sst:desk")})
    assert response.status_code == 302 and response["Location"] == reverse("sst:desk")
    recipient = AlertRecipient.objects.get(alert=alert, user=world.mentor_a1)
    assert recipient.acknowledged_at is not None
    assert AuditEvent.objects.filter(action="acknowledge", object_type="absence_alert").exists()
    page = _page(client.get(reverse("sst:desk")))
    assert "inbox-done" in page


def test_acknowledge_refuses_someone_elses_alert_and_outside_redirects(client, absences):
    world = absences
    alert = Alert.objects.get(student=world.student_a2, rule=Rule.STEP_4)
    verified_login(client, world.mentor_a1)
    url = reverse("attendance:alert_acknowledge", args=[alert.public_id])
    assert client.post(url).status_code == 404
    verified_login(client, world.principal_a)
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("sst:desk")


def test_inbox_hides_alerts_for_students_the_user_can_no_longer_see(client, absences):
    world = absences
    alert = Alert.objects.get(student=world.student_a2, rule=Rule.STEP_4)
    AlertRecipient.objects.create(alert=alert, user=world.mentor_a1, role=Role.MENTOR)
    verified_login(client, world.mentor_a1)
    page = _page(client.get(reverse("sst:desk")))
    assert world.student_a2.last_name not in page
    url = reverse("attendance:alert_acknowledge", args=[alert.public_id])
    assert client.post(url).status_code == 404


def test_school_panel_links_to_the_overview_for_school_staff(client, absences):
    world = absences
    verified_login(client, world.counsellor_a)
    page = _page(client.get(reverse("sst:desk")))
    assert overview_url(world.school_a) in page
    assert overview_url(world.school_b) not in page
    verified_login(client, world.mentor_a1)
    assert "/franvaro/skola/" not in _page(client.get(reverse("sst:desk")))


@pytest.mark.parametrize("person", ["manager_m", "social_worker_n", "admin_m", "nobody"])
def test_desk_panels_show_nothing_to_roles_without_students(client, absences, person):
    world = absences
    verified_login(client, getattr(world, person))
    page = _page(client.get(reverse("sst:desk")))
    assert "mentor-absence" not in page and "inbox-rows" not in page
    assert "school-absence" not in page


def test_desk_queries_do_not_grow_with_students(client, absences, django_assert_max_num_queries):
    world = absences
    grant(world.mentor_a1, Role.COUNSELLOR, world.school_b)
    verified_login(client, world.mentor_a1)
    url = reverse("sst:desk")
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for n in range(10):
        student = StudentFactory(mentor_group=world.group_a1)
        month_of_lessons(student, LAST, invalid=4 + n)
        month_of_lessons(student, THIS, days=3, invalid=n % 3)
    refresh(LAST, THIS)
    with django_assert_max_num_queries(len(before)):
        response = client.get(url)
    assert _page(response).count("absence-sparkline") >= 11
