"""The head of schools' monthly step-4 report (issue 12): the one identified report.

Only the head of schools (``READ_STEP4_MONTHLY_REPORT``, at a district or the municipality)
opens it, for their own schools; every manager, principal or administrator gets a 404, for
the page and for the PDF. Every read is audited, naming the students listed."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from attendance.models import MonthlyAbsence
from attendance.selectors import previous_month
from cases.models import Case, CaseOpening, Escalation, EscalationKind
from reports import head_selectors
from sst import access, capabilities
from sst.access import Capability
from sst.models import AuditAction, AuditEvent, AuditObjectType, PlaceKind, Role

from ..factories import UserFactory, grant

PAGE = "reports:head_monthly"
PDF = "reports:head_monthly_pdf"


def _month(world, student, month, *, absent, valid=0, step, scheduled=1000):  # type: ignore[no-untyped-def]
    return MonthlyAbsence.objects.create(
        student=student,
        month=month,
        school=student.school,
        grade=student.grade,
        scheduled_min=scheduled,
        valid_min=valid,
        invalid_min=absent - valid,
        step=step,
        computed_at=timezone.now(),
    )


@pytest.fixture
def report(world):  # type: ignore[no-untyped-def]
    """Last month: Alva (school A, district N) at step 4 for the second month running, with
    the principal's report recorded and a case open; Elias (school A) at step 3; Maja
    (school B, district S) at step 4. A head of schools for each district and one for the
    municipality."""
    today = timezone.localdate()
    month = head_selectors.last_full_month(today)
    _month(world, world.student_a1, month, absent=300, valid=100, step=4)
    _month(world, world.student_a1, previous_month(month), absent=250, step=4)
    _month(world, world.student_a2, month, absent=160, step=3)
    _month(world, world.student_b1, month, absent=410, step=4)
    case = Case.objects.create(student=world.student_a1, opening=CaseOpening.PRINCIPAL)
    Escalation.objects.create(
        case=case,
        kind=EscalationKind.HEAD_OF_SCHOOLS,
        decided_on=month + datetime.timedelta(days=3),
        principal=world.principal_a,
    )
    head_n = UserFactory(username="head_n")
    grant(head_n, Role.HEAD_OF_SCHOOLS, world.district_n)
    head_m = UserFactory(username="head_m")
    grant(head_m, Role.HEAD_OF_SCHOOLS, world.municipality)
    manager_n = UserFactory(username="manager_n")
    grant(manager_n, Role.MANAGER, world.district_n)
    return {
        "month": month,
        "head_n": head_n,
        "head_m": head_m,
        "manager_n": manager_n,
    }


def _pdf_text(data: bytes) -> tuple[str, dict]:  # type: ignore[type-arg]
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), dict(reader.metadata or {})


# ---------------------------------------------------------------- the capability


def test_only_the_head_of_schools_holds_the_report_and_only_at_district_or_municipality():
    held = capabilities.CAPABILITIES[Capability.READ_STEP4_MONTHLY_REPORT]
    assert held == {
        PlaceKind.DISTRICT: {Role.HEAD_OF_SCHOOLS},
        PlaceKind.MUNICIPALITY: {Role.HEAD_OF_SCHOOLS},
    }
    assert capabilities.roles_holding(Capability.READ_STEP4_MONTHLY_REPORT) == {
        Role.HEAD_OF_SCHOOLS
    }
    # The head of schools reads no student file through the report's role.
    for capability in (Capability.VIEW_SCHOOL_STUDENTS, Capability.WORK_CASES):
        assert Role.HEAD_OF_SCHOOLS not in capabilities.roles_holding(capability)


# ---------------------------------------------------------------- what the head sees


def test_the_district_head_sees_exactly_the_districts_step4_students(client, world, report):
    client.force_login(report["head_n"])
    response = client.get(reverse(PAGE))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ekholmsson" in page  # Alva, school A, step 4
    assert "Algotsson" not in page  # Elias: step 3
    assert "Björkqvist" not in page  # Maja: district S
    assert world.school_a.name in page
    assert world.school_b.name not in page
    rows = response.context["report"].rows
    assert [row.student.pk for row in rows] == [world.student_a1.pk]
    row = rows[0]
    assert str(row.absence.absent_pct) == "30.0"
    assert row.months_in_row == 2
    assert row.case_open
    assert [e.kind for e in row.escalations] == [EscalationKind.HEAD_OF_SCHOOLS]


def test_the_municipality_head_sees_every_school_grouped(client, world, report):
    client.force_login(report["head_m"])
    response = client.get(reverse(PAGE))
    assert response.status_code == 200
    schools = response.context["report"].schools
    assert {entry.school.pk: [r.student.pk for r in entry.rows] for entry in schools} == {
        world.school_a.pk: [world.student_a1.pk],
        world.school_b.pk: [world.student_b1.pk],
    }
    maja = schools[[e.school.pk for e in schools].index(world.school_b.pk)].rows[0]
    assert maja.months_in_row == 1
    assert not maja.case_open
    assert maja.escalations == []


def test_an_ended_membership_gives_nothing(client, world, report):
    head = UserFactory(username="former_head")
    today = timezone.localdate()
    grant(
        head,
        Role.HEAD_OF_SCHOOLS,
        world.district_n,
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today - datetime.timedelta(days=1),
    )
    client.force_login(head)
    assert client.get(reverse(PAGE)).status_code == 404


# ---------------------------------------------------------------- everyone else: 404


@pytest.mark.parametrize(
    "person",
    ["manager_m", "manager_n", "manager_a", "principal_a", "admin_m", "counsellor_a", "nobody"],
)
@pytest.mark.parametrize("name", [PAGE, PDF])
def test_every_other_person_gets_404_and_the_refusal_is_audited(
    client, world, report, person, name
):
    user = report[person] if person in report else getattr(world, person)
    client.force_login(user)
    if person == "admin_m":
        from ..conftest import verified_login

        verified_login(client, user)
    before = AuditEvent.objects.count()
    response = client.get(reverse(name), {"month": f"{report['month']:%Y-%m}"})
    assert response.status_code == 404
    assert "Ekholmsson" not in response.content.decode()
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert [e.action for e in events] == [AuditAction.ACCESS_DENIED]
    assert events[0].detail["needs"] == Capability.READ_STEP4_MONTHLY_REPORT


# ---------------------------------------------------------------- the audit


def test_each_page_view_is_audited_with_the_students_listed(client, world, report):
    client.force_login(report["head_n"])
    before = AuditEvent.objects.count()
    client.get(reverse(PAGE))
    client.get(reverse(PAGE))
    events = list(AuditEvent.objects.order_by("pk")[before:])
    assert len(events) == 2
    for event in events:
        assert event.action == AuditAction.LIST
        assert event.object_type == AuditObjectType.STEP4_REPORT
        assert event.actor_username == "head_n"
        assert event.role == Role.HEAD_OF_SCHOOLS
        assert event.object_id == f"{report['month']:%Y-%m}"
        assert event.detail["students"] == [str(world.student_a1.public_id)]
        assert event.detail["schools"] == [world.school_a.unit_code]
        assert event.detail["count"] == 1


# ---------------------------------------------------------------- the PDF


def test_the_pdf_opens_with_the_figures_and_a_neutral_name(client, world, report):
    client.force_login(report["head_n"])
    before = AuditEvent.objects.count()
    month = report["month"]
    response = client.get(reverse(PDF), {"month": f"{month:%Y-%m}"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="manadsrapport-steg4-{month:%Y-%m}.pdf"'
    )
    text, metadata = _pdf_text(response.content)
    assert "Ekholmsson" in text
    assert "30,0 %" in text  # Alva's absence that month
    assert "20,0 %" in text  # of which invalid
    assert "Björkqvist" not in text and "Algotsson" not in text
    # No name in the file's properties: a neutral title only.
    assert "Ekholmsson" not in str(metadata) and "Alva" not in str(metadata)
    assert metadata.get("/Title") == "Månadsrapport, steg 4"
    [event] = AuditEvent.objects.order_by("pk")[before:]
    assert event.action == AuditAction.EXPORT
    assert event.object_type == AuditObjectType.STEP4_REPORT
    assert event.detail["page"] == "head_monthly_pdf"
    assert event.detail["students"] == [str(world.student_a1.public_id)]


# ---------------------------------------------------------------- the month


def test_another_month_can_be_chosen(client, world, report):
    client.force_login(report["head_n"])
    earlier = previous_month(report["month"])
    response = client.get(reverse(PAGE), {"month": f"{earlier:%Y-%m}"})
    assert response.status_code == 200
    report_shown = response.context["report"]
    assert report_shown.month == earlier
    assert [row.student.pk for row in report_shown.rows] == [world.student_a1.pk]
    assert report_shown.rows[0].months_in_row == 1
    # What the principal recorded since that month began (as on the principal's own page).
    assert [e.kind for e in report_shown.rows[0].escalations] == [EscalationKind.HEAD_OF_SCHOOLS]


@pytest.mark.parametrize("value", ["2026-13", "abc", "2026-1", "1999-12", "9999-01", "2026-00'"])
def test_a_bad_month_shows_a_message_and_the_last_full_month(client, world, report, value):
    client.force_login(report["head_n"])
    response = client.get(reverse(PAGE), {"month": value})
    assert response.status_code == 200
    assert response.context["report"].month == report["month"]
    assert response.context["refused_month"] == value
    assert "inte en månad som kan visas" in response.content.decode()
    pdf = client.get(reverse(PDF), {"month": value})
    assert pdf.status_code == 200
    assert f"steg4-{report['month']:%Y-%m}.pdf" in pdf["Content-Disposition"]


def test_parse_month():
    today = datetime.date(2026, 10, 15)
    assert head_selectors.parse_month("2026-10", today) == datetime.date(2026, 10, 1)
    assert head_selectors.parse_month(" 2025-01 ", today) == datetime.date(2025, 1, 1)
    assert head_selectors.parse_month("2026-11", today) is None  # has not begun
    assert head_selectors.parse_month("2026-1", today) is None
    assert head_selectors.last_full_month(today) == datetime.date(2026, 9, 1)
    assert head_selectors.last_full_month(datetime.date(2026, 1, 1)) == datetime.date(2025, 12, 1)


# ---------------------------------------------------------------- the desk panel


def test_the_desk_panel_counts_last_months_step4_students_per_school(client, world, report):
    client.force_login(report["head_m"])
    response = client.get(reverse("sst:desk"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse(PAGE) in page
    assert "head-step4-panel" in page
    assert "Ekholmsson" not in page  # counts only on the desk
    counts = head_selectors.step4_counts(report["head_m"], month=report["month"])
    assert counts is not None
    assert {entry.school.pk: entry.count for entry in counts} == {
        world.school_a.pk: 1,
        world.school_b.pk: 1,
    }


def test_no_panel_for_a_manager(client, world, report):
    client.force_login(world.manager_m)
    page = client.get(reverse("sst:desk")).content.decode()
    assert "head-step4-panel" not in page
    assert reverse(PAGE) not in page
    assert access.schools_where(world.manager_m, Capability.READ_STEP4_MONTHLY_REPORT).count() == 0
