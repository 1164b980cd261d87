"""Writing the referral: the draft, what the services fill in, numbers, submit, withdraw,
revise after a rejection, and the coordinator's registration from outside the school."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from attendance.models import MonthlyAbsence
from attendance.rollup import month_start, rollup_month
from attendance.selectors import previous_month
from cases import workflow
from cases.models import (
    Case,
    CaseEvent,
    CaseOpening,
    CaseState,
    EhtDecision,
    EhtDecisionKind,
    MentorChecklist,
    SchoolSocialMapping,
)
from referrals import referral_services, referral_states
from referrals.models import (
    ConsentTiming,
    Decision,
    DecisionKind,
    ForumMeeting,
    Referral,
    ReferralOrigin,
    ReferralState,
    TeamPolicy,
)
from referrals.referral_services import ReferralContent
from sst import access
from sst.models import AuditEvent, AuditObjectType, Role

from ..attendance.factories import month_of_lessons
from ..factories import (
    DistrictFactory,
    MentorGroupFactory,
    MunicipalityFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    fake_personnummer,
    grant,
)
from .factories import forum_for

CONTENT = ReferralContent(
    cause_student_view="Eleven säger att det är jobbigt på rasterna.",
    cause_guardian_view="Vårdnadshavaren ser oro på morgnarna.",
    adjustments="Anpassat schema sedan september.",
    expected_help="Stöd till familjen på morgnarna.",
)


def written(case, by) -> Referral:
    draft = referral_services.referral_create(case=case, by=by)
    return referral_services.referral_save(
        referral=draft, content=CONTENT, version=draft.version, by=by
    )


def submitted(case, by) -> Referral:
    return referral_services.referral_submit(referral=written(case, by), by=by)


# ---------------------------------------------------------------- the draft


def test_a_draft_copies_school_grade_gender_and_the_districts_forum(world, case_a1, forum_n):
    referral = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    student = world.student_a1
    assert referral.state == ReferralState.DRAFT
    assert (referral.school, referral.grade, referral.gender) == (
        student.school,
        student.grade,
        student.gender,
    )
    assert referral.forum == forum_n
    assert referral.origin == ReferralOrigin.SCHOOL
    assert CaseEvent.objects.filter(case=case_a1, summary__contains=referral.number).exists()
    assert AuditEvent.objects.filter(
        object_type=AuditObjectType.REFERRAL, object_id=str(referral.public_id), action="create"
    ).exists()


def test_the_municipalitys_forum_when_the_policy_says_so(world):
    forum = forum_for(world.municipality)
    case = Case.objects.create(student=world.student_a1, opening=CaseOpening.PRINCIPAL)
    referral = referral_services.referral_create(case=case, by=world.principal_a)
    assert referral.forum == forum


def test_without_a_forum_the_referral_is_refused_with_a_message(world):
    case = Case.objects.create(student=world.student_a1, opening=CaseOpening.PRINCIPAL)
    with pytest.raises(referral_services.ReferralRefused) as refused:
        referral_services.referral_create(case=case, by=world.counsellor_a)
    assert refused.value.code == "no_forum"
    assert not Referral.objects.exists()


@pytest.mark.parametrize("writer", ["mentor_a1", "counsellor_a", "principal_a"])
def test_the_mentor_counsellor_and_principal_write_it(world, case_a1, writer):
    referral = written(case_a1, getattr(world, writer))
    assert referral.expected_help == CONTENT.expected_help


@pytest.mark.parametrize(
    "person", ["nurse_a", "counsellor_b", "referral_forum_n", "social_worker_n", "manager_a"]
)
def test_nobody_else_writes_it(world, case_a1, person):
    with pytest.raises(access.Refused):
        referral_services.referral_create(case=case_a1, by=getattr(world, person))


def test_the_mentor_of_another_group_does_not(world, case_a1):
    other = UserFactory(username="mentor_a2")
    grant(other, Role.MENTOR, world.group_a2)
    with pytest.raises(access.Refused):
        referral_services.referral_create(case=case_a1, by=other)


def test_one_draft_or_active_referral_per_case(world, case_a1):
    referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    with pytest.raises(referral_services.ReferralRefused):
        referral_services.referral_create(case=case_a1, by=world.principal_a)


@pytest.mark.parametrize("state", [CaseState.REFERRED, CaseState.QUEUED, CaseState.CLOSED])
def test_only_under_the_schools_investigation(world, forum_n, state):
    case = Case.objects.create(student=world.student_a1, state=state, opening="principal")
    with pytest.raises(referral_services.ReferralRefused):
        referral_services.referral_create(case=case, by=world.counsellor_a)


def test_a_stale_save_is_refused_not_overwritten(world, case_a1):
    draft = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    referral_services.referral_save(
        referral=draft, content=CONTENT, version=1, by=world.counsellor_a
    )
    other = Referral.objects.get(pk=draft.pk)
    with pytest.raises(workflow.ConcurrentChange):
        referral_services.referral_save(
            referral=other,
            content=ReferralContent(expected_help="Något annat"),
            version=1,
            by=world.mentor_a1,
        )
    assert Referral.objects.get(pk=draft.pk).expected_help == CONTENT.expected_help


# ---------------------------------------------------------------- what is filled in


def test_the_absence_is_the_rollups_for_the_last_two_full_months(world, case_a1):
    today = timezone.localdate()
    last = previous_month(month_start(today))
    before = previous_month(last)
    month_of_lessons(world.student_a1, before, valid=2, invalid=4)  # 40 lessons
    month_of_lessons(world.student_a1, last, days=5, invalid=3, late=2)  # 20 lessons
    month_of_lessons(world.student_a1, month_start(today), invalid=20)  # this month: not used
    rollup_month(before)
    rollup_month(last)
    referral = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    assert [entry["month"] for entry in referral.absence] == [
        before.isoformat(),
        last.isoformat(),
    ]
    for entry, month in zip(referral.absence, (before, last), strict=True):
        row = MonthlyAbsence.objects.get(student=world.student_a1, month=month)
        assert entry["total_pct"] == str(row.absent_pct)
        assert entry["valid_pct"] == str(row.valid_pct)
        assert entry["invalid_pct"] == str(row.invalid_pct)
        assert entry["start"] == month.isoformat()
        assert datetime.date.fromisoformat(entry["end"]).month == month.month
    assert referral.absence[0]["total_pct"] == "15.0"  # 6 of 40 lessons


def test_the_absence_is_refreshed_at_submit(world, case_a1):
    last = previous_month(month_start(timezone.localdate()))
    draft = written(case_a1, world.counsellor_a)
    assert draft.absence[1]["total_pct"] is None  # nothing rolled up yet
    month_of_lessons(world.student_a1, last, invalid=4)
    rollup_month(last)
    referral = referral_services.referral_submit(referral=draft, by=world.counsellor_a)
    assert referral.absence[1]["total_pct"] == "10.0"


def test_school_actions_are_kinds_and_dates_only(world, case_a1):
    checklist = MentorChecklist.objects.create(
        case=case_a1,
        mentor=world.mentor_a1,
        mentor_name="Test",
        illness="no",
        thrives="no",
        has_friends="yes",
        schoolwork_difficulties="no",
        follow_up_due_on=datetime.date(2026, 10, 10),
    )
    SchoolSocialMapping.objects.create(
        case=case_a1, conducted_on=datetime.date(2026, 10, 12), wellbeing="Hemlig text"
    )
    EhtDecision.objects.create(
        case=case_a1,
        kind=EhtDecisionKind.COUNSELLOR_MAPPING,
        decided_on=datetime.date(2026, 10, 8),
        comment="Hemlig kommentar",
    )
    referral = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    assert referral.school_actions == [
        {"kind": "mentor_checklist", "date": timezone.localdate(checklist.created_at).isoformat()},
        {"kind": "eht_decision", "decision": "counsellor_mapping", "date": "2026-10-08"},
        {"kind": "mapping", "date": "2026-10-12"},
    ] or sorted(a["date"] for a in referral.school_actions) == [
        a["date"] for a in referral.school_actions
    ]
    assert "Hemlig" not in str(referral.school_actions)
    kinds = {a["kind"] for a in referral.school_actions}
    assert kinds == {"mentor_checklist", "eht_decision", "mapping"}


# ---------------------------------------------------------------- numbers


def test_numbers_run_per_municipality_and_year(world, case_a1):
    year = timezone.localdate().year
    first = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    case_2 = Case.objects.create(student=world.student_a2, opening=CaseOpening.PRINCIPAL)
    second = referral_services.referral_create(case=case_2, by=world.counsellor_a)
    assert (first.number, second.number) == (f"{year}-0001", f"{year}-0002")
    # Another municipality counts on its own.
    elsewhere = MunicipalityFactory(name="Annan kommun", code="9902")
    district = DistrictFactory(municipality=elsewhere)
    forum_for(district)
    school = SchoolFactory(district=district)
    student = StudentFactory(mentor_group=MentorGroupFactory(school=school))
    principal = UserFactory(username="principal_x")
    grant(principal, Role.PRINCIPAL, school)
    case_x = Case.objects.create(student=student, opening=CaseOpening.PRINCIPAL)
    assert referral_services.referral_create(case=case_x, by=principal).number == f"{year}-0001"
    # A new year starts again at 1.
    assert referral_services.next_number(world.municipality.pk, year + 1) == f"{year + 1}-0001"
    assert referral_services.next_number(world.municipality.pk, year) == f"{year}-0003"


@pytest.mark.django_db(transaction=True)
def test_numbers_are_unique_under_concurrency(on_postgres):
    import threading

    from django.db import connection

    municipality = MunicipalityFactory(name="Samtidig", code="9903")
    numbers: list[str] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            for _ in range(5):
                numbers.append(referral_services.next_number(municipality.pk, 2031))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(numbers) == [f"2031-{n:04d}" for n in range(1, 21)]


# ---------------------------------------------------------------- submit


def test_submit_moves_the_case_to_referred(world, case_a1):
    referral = submitted(case_a1, world.mentor_a1)
    case_a1.refresh_from_db()
    assert referral.state == ReferralState.SUBMITTED
    assert referral.submitted_by == world.mentor_a1 and referral.submitted_at is not None
    assert case_a1.state == CaseState.REFERRED
    summaries = list(CaseEvent.objects.filter(case=case_a1).values_list("summary", flat=True))
    assert any(referral.number in s and "submitted" in s.lower() for s in summaries) or any(
        referral.number in s for s in summaries
    )


def test_submit_needs_what_the_team_is_to_help_with(world, case_a1):
    draft = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    with pytest.raises(referral_services.ReferralRefused):
        referral_services.referral_submit(referral=draft, by=world.counsellor_a)
    case_a1.refresh_from_db()
    assert case_a1.state == CaseState.SCHOOL_INVESTIGATION


def test_consent_before_the_referral_when_the_municipality_says_so(world, case_a1):
    TeamPolicy.objects.filter(municipality=world.municipality).update(
        consent_timing=ConsentTiming.BEFORE_REFERRAL
    )
    draft = written(case_a1, world.counsellor_a)
    with pytest.raises(referral_services.ReferralRefused) as refused:
        referral_services.referral_submit(referral=draft, by=world.counsellor_a)
    assert refused.value.code == "consent"
    assert Referral.objects.get(pk=draft.pk).state == ReferralState.DRAFT


def test_the_case_cannot_be_referred_without_a_submitted_referral(world, case_a1):
    with pytest.raises(workflow.TransitionRefused):
        workflow.case_refer(case=case_a1, by=world.counsellor_a)


def test_a_stale_submit_is_refused(world, case_a1):
    draft = written(case_a1, world.counsellor_a)
    draft.version -= 1
    with pytest.raises(workflow.ConcurrentChange):
        referral_services.referral_submit(referral=draft, by=world.counsellor_a)
    case_a1.refresh_from_db()
    assert case_a1.state == CaseState.SCHOOL_INVESTIGATION


# ---------------------------------------------------------------- withdraw


def test_withdraw_before_a_decision(world, case_a1, forum_n):
    referral = submitted(case_a1, world.counsellor_a)
    meeting = ForumMeeting.objects.create(forum=forum_n, starts_at=timezone.now())
    referral_states.move(referral, "place_on_agenda", by=None, meeting=meeting)
    referral_services.referral_withdraw(
        referral=referral, reason="Familjen flyttar", by=world.principal_a
    )
    referral.refresh_from_db()
    case_a1.refresh_from_db()
    assert referral.state == ReferralState.WITHDRAWN
    assert referral.meeting is None and referral.withdrawn_reason == "Familjen flyttar"
    assert case_a1.state == CaseState.SCHOOL_INVESTIGATION
    # A new referral can be written for the case again.
    assert referral_services.referral_create(case=case_a1, by=world.counsellor_a)


def test_withdraw_needs_a_reason(world, case_a1):
    referral = submitted(case_a1, world.counsellor_a)
    with pytest.raises(ValidationError):
        referral_services.referral_withdraw(referral=referral, reason=" ", by=world.principal_a)


def test_no_withdrawal_after_a_decision(world, case_a1):
    referral = submitted(case_a1, world.counsellor_a)
    Referral.objects.filter(pk=referral.pk).update(state=ReferralState.QUEUED)
    referral.refresh_from_db()
    with pytest.raises(referral_states.StateRefused):
        referral_services.referral_withdraw(referral=referral, reason="Sent", by=world.principal_a)


def test_a_draft_is_discarded(world, case_a1):
    draft = written(case_a1, world.counsellor_a)
    referral_services.referral_withdraw(referral=draft, reason="Fel elev", by=world.counsellor_a)
    case_a1.refresh_from_db()
    assert Referral.objects.get(pk=draft.pk).state == ReferralState.WITHDRAWN
    assert case_a1.state == CaseState.SCHOOL_INVESTIGATION


# ---------------------------------------------------------------- revise after a rejection


def rejected(world, case, forum) -> Referral:
    """As the forum's decision service will do it: the Decision, the referral, the case."""
    referral = submitted(case, world.counsellor_a)
    meeting = ForumMeeting.objects.create(forum=forum, starts_at=timezone.now())
    referral_states.move(referral, "place_on_agenda", by=None, meeting=meeting)
    Decision.objects.create(
        referral=referral,
        meeting=meeting,
        kind=DecisionKind.REJECTED,
        reason="Skolan har inte prövat anpassningar",
        suggestions="Pröva anpassad studiegång",
        decided_on=timezone.localdate(),
    )
    referral_states.move(referral, "reject", by=None, decided_at=timezone.now())
    Case.objects.filter(pk=case.pk).update(state=CaseState.REJECTED, closed_at=timezone.now())
    return referral


def test_revise_opens_a_new_case_with_a_copy(world, case_a1, forum_n):
    old = rejected(world, case_a1, forum_n)
    revised = referral_services.referral_revise(referral=old, by=world.counsellor_a)
    old.refresh_from_db()
    assert old.state == ReferralState.REVISED
    assert old.decision.kind == DecisionKind.REJECTED  # still readable with its decision
    assert revised.state == ReferralState.DRAFT and revised.revision_of == old
    assert revised.case != case_a1 and revised.case.previous_case == case_a1
    assert revised.case.state == CaseState.SCHOOL_INVESTIGATION
    assert revised.expected_help == old.expected_help
    assert revised.number != old.number
    submitted_again = referral_services.referral_submit(referral=revised, by=world.counsellor_a)
    assert submitted_again.case.state == CaseState.REFERRED


def test_only_a_rejected_referral_is_revised(world, case_a1):
    referral = submitted(case_a1, world.counsellor_a)
    with pytest.raises(referral_states.StateRefused):
        referral_services.referral_revise(referral=referral, by=world.counsellor_a)


# ---------------------------------------------------------------- the coordinator


@pytest.fixture
def coordinator(world):
    user = UserFactory(username="coordinator_n")
    grant(user, Role.COORDINATOR, world.district_n)
    return user


def test_the_coordinator_registers_a_referral_from_a_guardian(world, forum_n, coordinator):
    referral = referral_services.referral_register(
        student=world.student_a1,
        origin=ReferralOrigin.GUARDIAN,
        content=CONTENT,
        by=coordinator,
    )
    case = referral.case
    assert referral.state == ReferralState.SUBMITTED and referral.origin == "guardian"
    assert case.opening == CaseOpening.REFERRAL and case.state == CaseState.REFERRED
    assert case.school == world.school_a
    # The coordinator does not read the school's case.
    with pytest.raises(access.Refused):
        access.access_case(coordinator, case.public_id)
    assert not access.cases_visible_to(coordinator).exists()


def test_the_coordinator_cannot_register_outside_their_district(world, forum_n, coordinator):
    with pytest.raises(access.Refused):
        referral_services.referral_register(
            student=world.student_b1,
            origin=ReferralOrigin.STUDENT,
            content=CONTENT,
            by=coordinator,
        )
    assert not Case.objects.filter(student=world.student_b1).exists()


def test_the_coordinator_does_not_register_a_school_referral(world, forum_n, coordinator):
    with pytest.raises(ValidationError):
        referral_services.referral_register(
            student=world.student_a1, origin=ReferralOrigin.SCHOOL, content=CONTENT, by=coordinator
        )


def test_not_while_the_student_has_an_open_case(world, case_a1, coordinator):
    with pytest.raises(referral_services.ReferralRefused) as refused:
        referral_services.referral_register(
            student=world.student_a1,
            origin=ReferralOrigin.SOCIAL_SERVICES,
            content=CONTENT,
            by=coordinator,
        )
    assert refused.value.code == "open_case"


def test_the_personnummer_lookup_reveals_nothing_outside(world, coordinator):
    inside = access.student_by_personnummer_where(
        coordinator, world.student_a1.personnummer.value, access.Capability.COORDINATE
    )
    outside = access.student_by_personnummer_where(
        coordinator, world.student_b1.personnummer.value, access.Capability.COORDINATE
    )
    missing = access.student_by_personnummer_where(
        coordinator, fake_personnummer(777).value, access.Capability.COORDINATE
    )
    assert inside == world.student_a1
    assert outside is None and missing is None
