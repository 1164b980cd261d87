"""The student health team's services and selectors: who is on its list, meetings, decisions.

The helpers at the top (a reported checklist, a mapping, a month of absence) are shared with
test_eht_pages.py and test_escalation.py.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from attendance.rollup import month_start
from attendance.selectors import previous_month
from cases.eht import selectors, services
from cases.models import (
    CaseEvent,
    CaseOpening,
    CaseState,
    CauseFactor,
    EhtDecision,
    EhtDecisionKind,
    EhtMeeting,
    EventKind,
    MappingApproval,
    MentorChecklist,
    SchoolSocialMapping,
)
from cases.workflow import case_for_staircase_work, case_open
from sst.models import AuditAction, AuditEvent

from ..attendance.factories import month_of_lessons, refresh
from ..clock import pinned_clock

TODAY = datetime.date(2026, 11, 18)  # a Wednesday in HT26
_clock = pinned_clock(TODAY)
THIS = month_start(TODAY)
LAST = previous_month(THIS)


# ---------------------------------------------------------------- shared helpers


def staircase_case(student):
    return case_for_staircase_work(student=student, by=None)


def reported_checklist(case, *, mentor_name="Mentor Ettan", follow_up_done=False, due=None):
    """A mentor checklist whose follow-up reported the student to the EHT."""
    now = timezone.now()
    return MentorChecklist.objects.create(
        case=case,
        mentor_name=mentor_name,
        illness="no",
        thrives="yes",
        has_friends="yes",
        schoolwork_difficulties="no",
        pattern="yes",
        follow_up_due_on=due or TODAY + datetime.timedelta(days=7),
        follow_up_done_at=now if follow_up_done else None,
        continued_absence="yes" if follow_up_done else "",
        reported_to_eht_at=now,
    )


def mapping(case, counsellor, *, approval, text="Trivs inte på rasterna"):
    """A school-social mapping made directly (the mapping area's services are not needed)."""
    made = SchoolSocialMapping.objects.create(
        case=case,
        counsellor=counsellor,
        conducted_on=TODAY,
        school_situation=f"Skolsituation: {text}",
        wellbeing=f"Mående: {text}",
        home_and_leisure=f"Hem och fritid: {text}",
        support_needed=f"Stöd: {text}",
        approval=approval,
    )
    factor, _ = CauseFactor.objects.get_or_create(group="school", label="Socialt klimat")
    other, _ = CauseFactor.objects.get_or_create(group="individual", label="Oro och ångest")
    made.causes.add(factor, other)
    return made


def step4_absence(student, month=LAST):
    """9 of 40 lessons invalid: 22,5 %, step 4."""
    month_of_lessons(student, month, invalid=9)


def step3_absence(student, month=LAST):
    """7 of 40 lessons: 17,5 %, step 3."""
    month_of_lessons(student, month, valid=3, invalid=4)


@pytest.fixture
def eht_world(world):
    """a1: reported by the mentor, step 3 last month; a2: at step 4 but only staircase work
    (not on the list); b1: reported at school B."""
    step3_absence(world.student_a1)
    step4_absence(world.student_a2)
    step4_absence(world.student_b1)
    refresh(LAST)
    world.case_a1 = staircase_case(world.student_a1)
    world.checklist_a1 = reported_checklist(world.case_a1, follow_up_done=True)
    world.case_a2 = staircase_case(world.student_a2)
    world.case_b1 = staircase_case(world.student_b1)
    reported_checklist(world.case_b1)
    return world


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])


# ---------------------------------------------------------------- who is on the list


def test_list_holds_reported_opened_and_mapped_cases_of_the_school(eht_world):
    world = eht_world
    rows = selectors.eht_rows(world.counsellor_a, world.school_a, today=TODAY)
    assert [row.student for row in rows] == [world.student_a1]

    # A case the principal opens, and one with a mapping, join the list.
    from ..factories import StudentFactory

    opened = StudentFactory(mentor_group=world.group_a1, last_name="Aaberg")
    case_open(student=opened, opening=CaseOpening.PRINCIPAL, by=world.principal_a)
    mapping(world.case_a2, world.counsellor_a, approval=MappingApproval.PENDING)
    rows = selectors.eht_rows(world.counsellor_a, world.school_a, today=TODAY)
    assert {row.student for row in rows} == {opened, world.student_a1, world.student_a2}
    assert world.student_b1 not in {row.student for row in rows}


def test_row_names_step_latest_absence_and_period(eht_world):
    world = eht_world
    (row,) = selectors.eht_rows(world.principal_a, world.school_a, today=TODAY)
    assert row.absence.month == LAST
    assert row.absence.step == 3
    assert str(row.absence.absent_pct) == "17.5"
    assert row.absence_end == THIS - datetime.timedelta(days=1)  # the whole of last month
    assert f"{TODAY:%Y-%m-%d}" in row.reason  # reported by the mentor today


def test_open_items_name_who_is_responsible(eht_world):
    world = eht_world
    case = world.case_a1
    reported_checklist(case, mentor_name="Mentor Tvåan")  # follow-up still to do
    services.eht_decision_record(
        case=case,
        kind=EhtDecisionKind.HEALTH_TALK,
        responsible=world.nurse_a,
        due_on=TODAY - datetime.timedelta(days=0),
        comment="",
        by=world.counsellor_a,
    )
    (row,) = selectors.eht_rows(world.counsellor_a, world.school_a, today=TODAY)
    responsible = {item.label: item.responsible for item in row.items}
    assert responsible[str(EhtDecisionKind.HEALTH_TALK.label)] == str(world.nurse_a)
    assert "Mentor Tvåan" in responsible.values()
    # No mapping yet: the school's counsellor is responsible for it.
    assert any(str(world.counsellor_a) in who for who in responsible.values())


def test_a_decided_mapping_is_not_listed_twice(eht_world):
    world = eht_world
    services.eht_decision_record(
        case=world.case_a1,
        kind=EhtDecisionKind.COUNSELLOR_MAPPING,
        responsible=world.counsellor_a,
        due_on=None,
        comment="",
        by=world.principal_a,
    )
    (row,) = selectors.eht_rows(world.counsellor_a, world.school_a, today=TODAY)
    assert len([i for i in row.items if str(world.counsellor_a) in i.responsible]) == 1


def test_only_an_approved_mapping_is_loaded_for_the_agenda(eht_world):
    world = eht_world
    mapping(world.case_a1, world.counsellor_a, approval=MappingApproval.NOT_APPROVED)
    (row,) = selectors.eht_rows(
        world.nurse_a, world.school_a, today=TODAY, with_mapping_content=True
    )
    assert row.has_mapping and row.shared_mapping is None
    assert row.causes == []

    mapping(world.case_a1, world.counsellor_a, approval=MappingApproval.APPROVED, text="Ny")
    (row,) = selectors.eht_rows(
        world.nurse_a, world.school_a, today=TODAY, with_mapping_content=True
    )
    assert row.shared_mapping is not None
    assert row.shared_mapping.wellbeing == "Mående: Ny"
    assert [labels for _group, labels in row.causes] == [["Oro och ångest"], ["Socialt klimat"]]


def test_the_latest_mapping_decides_what_is_shared(eht_world):
    world = eht_world
    mapping(world.case_a1, world.counsellor_a, approval=MappingApproval.APPROVED, text="Gammal")
    mapping(world.case_a1, world.counsellor_a, approval=MappingApproval.PENDING, text="Ny")
    (row,) = selectors.eht_rows(
        world.nurse_a, world.school_a, today=TODAY, with_mapping_content=True
    )
    assert row.shared_mapping is None


def test_other_roles_see_no_rows(eht_world):
    world = eht_world
    for person in (world.mentor_a1, world.counsellor_b, world.social_worker_n, world.manager_m):
        assert selectors.eht_rows(person, world.school_a, today=TODAY) == []


def test_school_access_is_for_the_principal_and_eht_only(eht_world):
    world = eht_world
    code = world.school_a.unit_code
    for person in (world.principal_a, world.counsellor_a, world.nurse_a):
        assert selectors.eht_school_for_user(person, code) == world.school_a
    for person in (
        world.mentor_a1,
        world.counsellor_b,
        world.social_worker_n,
        world.manager_m,
        world.manager_a,
        world.admin_m,
        world.nobody,
    ):
        with pytest.raises(Http404):
            selectors.eht_school_for_user(person, code)
    denied = AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED)
    assert denied.count() >= 7


# ---------------------------------------------------------------- decisions


def test_decision_is_recorded_chronicled_audited_and_notified_without_content(
    eht_world, django_capture_on_commit_callbacks
):
    world = eht_world
    with_email(world.nurse_a)
    meeting = EhtMeeting.objects.create(school=world.school_a, meets_on=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.eht_decision_record(
            case=world.case_a1,
            kind=EhtDecisionKind.HEALTH_TALK,
            responsible=world.nurse_a,
            due_on=TODAY + datetime.timedelta(days=14),
            comment="Ont i magen på måndagar",
            by=world.counsellor_a,
            meeting=meeting,
        )
    decision.refresh_from_db()
    assert decision.decided_on == TODAY
    assert decision.recorded_by == world.counsellor_a
    assert decision.meeting == meeting
    event = CaseEvent.objects.get(case=world.case_a1, kind=EventKind.EHT_DECISION)
    assert event.ref_id == str(decision.public_id)
    assert "Ont i magen" not in event.summary
    audit = AuditEvent.objects.get(object_type="eht_decision", action=AuditAction.CREATE)
    assert audit.student_id == world.student_a1.public_id
    (message,) = mail.outbox
    assert message.to == ["nurse_a@example.com"]
    text = message.subject + message.body
    for secret in (world.student_a1.first_name, world.student_a1.last_name, "Ont i magen"):
        assert secret not in text
    assert f"/elever/eht/{world.school_a.unit_code}/" in message.body


def test_no_notice_to_oneself(eht_world, django_capture_on_commit_callbacks):
    world = eht_world
    with_email(world.counsellor_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.eht_decision_record(
            case=world.case_a1,
            kind=EhtDecisionKind.COUNSELLOR_MAPPING,
            responsible=world.counsellor_a,
            due_on=None,
            comment="",
            by=world.counsellor_a,
        )
    assert mail.outbox == []


def test_a_mentor_made_responsible_is_sent_to_the_desk(
    eht_world, django_capture_on_commit_callbacks
):
    world = eht_world
    with_email(world.mentor_a1)
    with django_capture_on_commit_callbacks(execute=True):
        services.eht_decision_record(
            case=world.case_a1,
            kind=EhtDecisionKind.MENTOR_CONTINUES,
            responsible=world.mentor_a1,
            due_on=None,
            comment="",
            by=world.principal_a,
        )
    (message,) = mail.outbox
    assert "/elever/eht/" not in message.body


@pytest.mark.parametrize("person", ["mentor_a1", "counsellor_b", "social_worker_n", "manager_a"])
def test_only_the_principal_and_eht_record_decisions(eht_world, person):
    world = eht_world
    with pytest.raises(Http404):
        services.eht_decision_record(
            case=world.case_a1,
            kind=EhtDecisionKind.OTHER,
            responsible=world.counsellor_a,
            due_on=None,
            comment="",
            by=getattr(world, person),
        )
    assert not EhtDecision.objects.exists()


def test_decision_refusals(eht_world):
    world = eht_world
    base = dict(
        case=world.case_a1,
        kind=EhtDecisionKind.OTHER,
        responsible=world.counsellor_a,
        due_on=None,
        comment="",
        by=world.principal_a,
    )
    with pytest.raises(ValidationError):  # responsible at another school
        services.eht_decision_record(**{**base, "responsible": world.counsellor_b})
    with pytest.raises(ValidationError):  # due in the past
        services.eht_decision_record(**{**base, "due_on": TODAY - datetime.timedelta(days=1)})
    with pytest.raises(ValidationError):  # a meeting of another school
        other = EhtMeeting.objects.create(school=world.school_b, meets_on=TODAY)
        services.eht_decision_record(**{**base, "meeting": other})
    with pytest.raises(ValidationError):
        services.eht_decision_record(**{**base, "kind": "invented"})
    world.case_a1.state = CaseState.CLOSED
    world.case_a1.save(update_fields=["state"])
    with pytest.raises(ValidationError):
        services.eht_decision_record(**base)
    assert not EhtDecision.objects.exists()


def test_decision_done_once(eht_world):
    world = eht_world
    decision = services.eht_decision_record(
        case=world.case_a1,
        kind=EhtDecisionKind.PSYCHOLOGIST,
        responsible=world.counsellor_a,
        due_on=None,
        comment="",
        by=world.principal_a,
    )
    with pytest.raises(Http404):
        services.eht_decision_done(decision=decision, by=world.mentor_a1)
    services.eht_decision_done(decision=decision, by=world.counsellor_a)
    decision.refresh_from_db()
    assert decision.done_at is not None
    assert CaseEvent.objects.filter(case=world.case_a1, kind=EventKind.EHT_DECISION).count() == 2
    with pytest.raises(ValidationError):
        services.eht_decision_done(decision=decision, by=world.counsellor_a)
    # Done: off the open items.
    (row,) = selectors.eht_rows(world.counsellor_a, world.school_a, today=TODAY)
    assert all(item.decision is None for item in row.items)


def test_an_ended_case_with_an_undone_decision_stays_on_the_list(eht_world):
    world = eht_world
    services.eht_decision_record(
        case=world.case_a1,
        kind=EhtDecisionKind.OTHER,
        responsible=world.counsellor_a,
        due_on=None,
        comment="",
        by=world.principal_a,
    )
    world.case_a1.state = CaseState.REJECTED
    world.case_a1.save(update_fields=["state"])
    (row,) = selectors.eht_rows(world.counsellor_a, world.school_a, today=TODAY)
    assert row.case == world.case_a1
    assert [item.decision is not None for item in row.items] == [True, False]


# ---------------------------------------------------------------- meetings


def test_meetings_are_scheduled_by_the_eht(eht_world):
    world = eht_world
    day = TODAY + datetime.timedelta(days=7)
    meeting = services.eht_meeting_schedule(school=world.school_a, meets_on=day, by=world.nurse_a)
    assert selectors.next_meeting(world.school_a, TODAY) == meeting
    assert AuditEvent.objects.filter(object_type="eht_meeting", action="create").count() == 1
    with pytest.raises(ValidationError):
        services.eht_meeting_schedule(school=world.school_a, meets_on=day, by=world.nurse_a)
    with pytest.raises(ValidationError):
        services.eht_meeting_schedule(
            school=world.school_a,
            meets_on=TODAY - datetime.timedelta(days=1),
            by=world.nurse_a,
        )
    with pytest.raises(Http404):
        services.eht_meeting_schedule(
            school=world.school_a, meets_on=day + datetime.timedelta(1), by=world.mentor_a1
        )
    with pytest.raises(Http404):
        services.eht_meeting_schedule(
            school=world.school_a, meets_on=day + datetime.timedelta(1), by=world.counsellor_b
        )
    assert EhtMeeting.objects.count() == 1


def test_desk_counts_per_school(eht_world):
    world = eht_world
    counts = selectors.agenda_counts(world.counsellor_a, [world.school_a.pk, world.school_b.pk])
    assert counts == {world.school_a.pk: 1}
    assert selectors.eht_schools_of(world.counsellor_a) == [world.school_a]
    assert selectors.eht_schools_of(world.mentor_a1) == []
