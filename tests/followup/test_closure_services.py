"""closure_record: one transaction writes the closure, its absence figures (equal to the
rollups, periods named), the after-care checks, the survey at the meeting and the links."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db.models import Sum

from attendance.models import MonthlyAbsence
from attendance.rollup import rollup_month
from cases import workflow
from cases.models import CaseEvent, CaseState, ClosureReason
from followup import closure_services as services
from followup.models import (
    AfterCareCheck,
    Closure,
    ClosureAbsence,
    FollowUpPolicy,
    Satisfied,
    SurveyAnswer,
    SurveyLink,
)
from followup.survey_services import Scores, token_hash
from referrals.models import Referral
from sst.models import AuditEvent

from .closure_setup import NOW, absence_fixture, worked_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _rollup_sums(student, first_month: datetime.date, last_month: datetime.date):
    months = [first_month, last_month]
    for month in months:
        rollup_month(month)
    return MonthlyAbsence.objects.filter(student=student, month__in=months).aggregate(
        scheduled=Sum("scheduled_min"), valid=Sum("valid_min"), invalid=Sum("invalid_min")
    )


def test_absence_at_intake_and_at_closure_equals_the_rollups(world):
    worked = worked_case(world)
    absence_fixture(worked.case.student)
    result = services.closure_record(
        case=worked.case,
        by=world.counsellor_a,
        reason=ClosureReason.GOALS_MET,
        goals_met=Satisfied.YES,
        summary="Närvaron är tillbaka.",
    )
    closure = result.closure
    intake = closure.absences.get(span=ClosureAbsence.Span.INTAKE)
    at_closure = closure.absences.get(span=ClosureAbsence.Span.CLOSURE)
    # The periods are named: the two full months before the referral and before closure.
    assert (intake.period_start, intake.period_end) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 5, 31),
    )
    assert (at_closure.period_start, at_closure.period_end) == (
        datetime.date(2026, 9, 1),
        datetime.date(2026, 10, 31),
    )
    student = worked.case.student
    for row, months in (
        (intake, (datetime.date(2026, 4, 1), datetime.date(2026, 5, 1))),
        (at_closure, (datetime.date(2026, 9, 1), datetime.date(2026, 10, 1))),
    ):
        sums = _rollup_sums(student, *months)
        assert (row.scheduled_min, row.valid_min, row.invalid_min) == (
            sums["scheduled"],
            sums["valid"],
            sums["invalid"],
        )
    assert intake.scheduled_min == 480 and intake.valid_min == 120 and intake.invalid_min == 180
    assert at_closure.scheduled_min == 480 and at_closure.valid_min == 60
    assert closure.completed and closure.goals_met == Satisfied.YES
    assert closure.closed_by == world.counsellor_a and closure.closed_on == NOW.date()


def test_the_months_counted_follow_the_policy(world):
    FollowUpPolicy.objects.create(municipality=world.municipality, closure_period_months=3)
    worked = worked_case(world)
    closure = services.closure_record(
        case=worked.case,
        by=world.counsellor_a,
        reason=ClosureReason.MOVED,
        goals_met=Satisfied.PARTLY,
    ).closure
    intake = closure.absences.get(span=ClosureAbsence.Span.INTAKE)
    assert intake.period_start == datetime.date(2026, 3, 1)
    assert not closure.completed


def test_without_a_referral_intake_counts_back_from_the_opening(world):
    worked = worked_case(world)
    Referral.objects.filter(case=worked.case).update(submitted_at=None)
    closure = services.closure_record(
        case=worked.case,
        by=world.counsellor_a,
        reason=ClosureReason.OTHER,
        detail="x",
        goals_met=Satisfied.NO,
    ).closure
    intake = closure.absences.get(span=ClosureAbsence.Span.INTAKE)
    opened = worked.case.opened_at.date()
    assert intake.period_end < opened.replace(day=1)


def test_one_transaction_closes_chronicles_audits_and_schedules(world):
    worked = worked_case(world)
    result = services.closure_record(
        case=worked.case,
        by=world.social_worker_n,
        reason=ClosureReason.OTHER_SUPPORT,
        detail="BUP",
        goals_met=Satisfied.PARTLY,
        answers=[Scores("student", 4, 5, 5)],
        links=["guardian"],
    )
    case = worked.case
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert (case.closure_reason, case.closure_detail) == (ClosureReason.OTHER_SUPPORT, "BUP")
    closure = result.closure
    assert closure.other_support == "BUP" and not closure.completed
    assert CaseEvent.objects.filter(case=case, ref_type="closure").exists()
    assert AuditEvent.objects.filter(object_type="closure", object_id=str(closure.public_id))
    assert AfterCareCheck.objects.filter(case=case).count() == 2
    answer = SurveyAnswer.objects.get(closure=closure)
    assert (answer.respondent, answer.channel, answer.satisfied) == ("student", "meeting", 4)
    token = result.tokens["guardian"]
    assert SurveyLink.objects.get(closure=closure).token_hash == token_hash(token)


def test_a_refusal_leaves_nothing_behind(world):
    worked = worked_case(world)
    with pytest.raises(workflow.CapabilityMissing):
        services.closure_record(
            case=worked.case,
            by=world.mentor_a1,
            reason=ClosureReason.GOALS_MET,
            goals_met=Satisfied.YES,
        )
    assert not Closure.objects.exists() and not AfterCareCheck.objects.exists()
    worked.case.refresh_from_db()
    assert worked.case.state == CaseState.IMPLEMENTATION


def test_goals_met_is_asked_only_when_there_is_a_plan(world):
    worked = worked_case(world)
    with pytest.raises(ValidationError):
        services.closure_record(
            case=worked.case, by=world.counsellor_a, reason=ClosureReason.GOALS_MET
        )
    assert not Closure.objects.exists()
    other = worked_case(world, plan=False, student=world.student_a2, consent=False)
    closure = services.closure_record(
        case=other.case, by=world.counsellor_a, reason=ClosureReason.DECLINED, goals_met="yes"
    ).closure
    assert closure.goals_met == ""


def test_a_stale_page_is_refused(world):
    worked = worked_case(world)
    worked.case.version = 99
    with pytest.raises(workflow.ConcurrentChange):
        services.closure_record(
            case=worked.case,
            by=world.counsellor_a,
            reason=ClosureReason.MOVED,
            goals_met=Satisfied.NO,
        )
    assert not Closure.objects.exists()
