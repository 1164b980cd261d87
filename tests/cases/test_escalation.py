"""The principal's step-4 decisions: the monthly report's selectors and the service."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from cases import escalation
from cases.models import (
    Case,
    CaseEvent,
    CaseOpening,
    CaseState,
    Escalation,
    EscalationKind,
    EventKind,
)
from sst.models import AuditAction, AuditEvent

from ..attendance.factories import refresh
from ..clock import pinned_clock
from .test_eht import LAST, THIS, TODAY, staircase_case, step3_absence, step4_absence

_clock = pinned_clock(TODAY)


@pytest.fixture
def step4(world):
    """Last month a2 (school A) and b1 (school B) at step 4, a1 at step 3; this month a2
    again at step 4."""
    step3_absence(world.student_a1)
    step4_absence(world.student_a2)
    step4_absence(world.student_b1)
    step4_absence(world.student_a2, THIS)
    refresh(LAST, THIS)
    return world


def record(world, kind=EscalationKind.HEAD_OF_SCHOOLS, **changes):
    values = dict(
        student=world.student_a2, kind=kind, decided_on=TODAY, by=world.principal_a, comment=""
    )
    return escalation.escalation_record(**{**values, **changes})


# ---------------------------------------------------------------- the service


def test_reporting_to_the_head_of_schools_opens_a_principal_case(step4):
    world = step4
    made = record(world)
    case = made.case
    assert case.student == world.student_a2
    assert case.opening == CaseOpening.PRINCIPAL
    assert made.principal == world.principal_a
    event = CaseEvent.objects.get(case=case, kind=EventKind.DECISION)
    assert event.ref_id == str(made.public_id)
    audit = AuditEvent.objects.get(object_type="escalation", action=AuditAction.CREATE)
    assert audit.student_id == world.student_a2.public_id
    assert audit.role == "principal"


def test_an_open_case_is_used(step4):
    world = step4
    case = staircase_case(world.student_a2)
    made = record(world, EscalationKind.SST_COORDINATOR, comment="Samordnaren bokar möte")
    assert made.case == case
    assert made.comment == "Samordnaren bokar möte"
    assert Case.objects.filter(student=world.student_a2).count() == 1


def test_an_ended_case_is_linked_from_the_new_one(step4):
    world = step4
    old = staircase_case(world.student_a2)
    old.state = CaseState.CLOSED
    old.save(update_fields=["state"])
    made = record(world)
    assert made.case != old
    assert made.case.previous_case == old


def test_a_report_of_concern_is_a_fact_and_a_date_only(step4):
    world = step4
    with pytest.raises(ValidationError) as refused:
        record(world, EscalationKind.REPORT_OF_CONCERN, comment="Pappa dricker")
    assert refused.value.code == "content"
    assert not Escalation.objects.exists()
    assert not Case.objects.filter(student=world.student_a2).exists()  # nothing half-done
    day = TODAY - datetime.timedelta(days=2)
    made = record(world, EscalationKind.REPORT_OF_CONCERN, decided_on=day)
    assert made.comment == ""
    assert made.decided_on == day
    event = CaseEvent.objects.get(case=made.case, kind=EventKind.DECISION)
    assert f"{day:%Y-%m-%d}" in event.summary


def test_the_date_cannot_be_in_the_future(step4):
    with pytest.raises(ValidationError):
        record(step4, decided_on=TODAY + datetime.timedelta(days=1))


@pytest.mark.parametrize(
    "person", ["counsellor_a", "nurse_a", "mentor_a1", "counsellor_b", "manager_a", "nobody"]
)
def test_only_the_principal_of_the_school_records(step4, person):
    with pytest.raises(Http404):
        record(step4, by=getattr(step4, person))
    assert not Escalation.objects.exists()
    assert not Case.objects.exists()


def test_principal_of_another_school_is_refused(step4):
    with pytest.raises(Http404):
        record(step4, student=step4.student_b1)


def test_refused_kinds(step4):
    with pytest.raises(ValidationError):
        record(step4, kind="invented")


# ---------------------------------------------------------------- the report and the desk


def test_report_lists_the_months_step4_students_with_figures(step4):
    world = step4
    report = escalation.step4_report(world.principal_a, world.school_a, LAST, TODAY)
    assert [row.student for row in report.rows] == [world.student_a2]
    (row,) = report.rows
    assert str(row.absence.absent_pct) == "22.5"
    assert str(row.absence.invalid_pct) == "22.5"
    assert row.previous is None
    assert report.end == THIS - datetime.timedelta(days=1)
    assert report.previous_month < LAST
    this = escalation.step4_report(world.principal_a, world.school_a, THIS, TODAY)
    assert [row.student for row in this.rows] == [world.student_a2]
    assert this.rows[0].previous.month == LAST
    assert this.end == TODAY


def test_report_shows_what_is_recorded_since_the_month_began(step4):
    world = step4
    record(world)
    report = escalation.step4_report(world.principal_a, world.school_a, THIS, TODAY)
    assert report.rows[0].has(EscalationKind.HEAD_OF_SCHOOLS)
    assert not report.rows[0].has(EscalationKind.REPORT_OF_CONCERN)
    assert report.without_escalation == 0


def test_desk_lists_this_months_step4_students_until_something_is_recorded(step4):
    world = step4
    (entry,) = escalation.principal_desk(world.principal_a, TODAY)
    assert entry.school == world.school_a
    assert entry.students == [world.student_a2]
    record(world)
    (entry,) = escalation.principal_desk(world.principal_a, TODAY)
    assert entry.students == [] and entry.count == 0
    assert escalation.principal_desk(world.counsellor_a, TODAY) == []


def test_principal_access(step4):
    world = step4
    code = world.school_a.unit_code
    assert escalation.principal_school_for_user(world.principal_a, code) == world.school_a
    for person in (world.counsellor_a, world.mentor_a1, world.manager_a, world.admin_m):
        with pytest.raises(Http404):
            escalation.principal_school_for_user(person, code)
    with pytest.raises(Http404):
        escalation.escalation_student_for_user(world.principal_a, world.student_b1.public_id)
    with pytest.raises(Http404):
        escalation.escalation_student_for_user(world.counsellor_a, world.student_a2.public_id)
