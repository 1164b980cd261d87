"""The plan's services: making it, the duration rule, revisions with their history and
chronology, the optimistic version check, signatures and the guard, the six-month decision."""

from __future__ import annotations

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError

from actionplans import plan_hooks
from actionplans import plan_services as services
from actionplans.models import (
    ActionPlan,
    Continuation,
    Goal,
    Party,
    PlanIntervention,
    PlanRevision,
    SignedHow,
)
from cases import transitions, workflow
from cases.models import Case, CaseEvent, CaseState
from sst.models import AuditEvent

from ..clock import pinned_clock
from .plan_setup import consent_case, current_rows, goal, intervention, make_plan, plan_case

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 18)  # a Wednesday in HT26
_clock = pinned_clock(TODAY)


# ---------------------------------------------------------------- making the plan


def test_plan_is_made_at_the_plan_step_with_version_1_history_and_chronology(world):
    called = []
    hook = lambda plan, by: called.append((plan.pk, by.pk))  # noqa: E731
    plan_hooks.on_plan_created(hook)
    try:
        plan = make_plan(world)
    finally:
        plan_hooks._created.remove(hook)
    assert plan.version == 1
    assert called == [(plan.pk, world.social_worker_n.pk)]
    revision = PlanRevision.objects.get(plan=plan)
    assert revision.number == 1 and revision.made_by == world.social_worker_n
    assert plan.history.count() == 1
    assert plan.history.first().history_user == world.social_worker_n
    assert Goal.history.filter(plan_id=plan.pk).first().history_user == world.social_worker_n
    assert CaseEvent.objects.filter(case=plan.case, summary__contains="version 1").exists()
    assert AuditEvent.objects.filter(object_type="action_plan", action="create").exists()


def test_plan_needs_the_plan_step(world):
    team = consent_case(world)
    with pytest.raises(ValidationError):
        make_plan(world, Case.objects.get(pk=team.case.pk))
    assert not ActionPlan.objects.exists()


def test_the_school_may_make_it_a_mentor_may_not(world):
    case = plan_case(world)
    make_plan(world, case, by=world.counsellor_a)
    with pytest.raises(services.NotAllowed):
        services.plan_revise(**current_rows(ActionPlan.objects.get(), by=world.mentor_a1))


def test_one_goal_at_least_and_target_dates_inside_the_period(world):
    case = plan_case(world)
    with pytest.raises(ValidationError):
        make_plan(world, case, goals=[])
    with pytest.raises(ValidationError) as error:
        make_plan(world, case, goals=[goal(target_on=TODAY + relativedelta(months=4))])
    assert "period" in str(error.value)
    assert not ActionPlan.objects.exists()


# ---------------------------------------------------------------- the duration rule


def test_default_three_months_and_up_to_six_without_a_reason(world):
    assert services.default_ends_on(datetime.date(2026, 11, 30)) == datetime.date(2027, 2, 28)
    case = plan_case(world)
    plan = make_plan(world, case, ends_on=TODAY + relativedelta(months=6))
    assert plan.longer_reason == ""


def test_longer_than_six_months_needs_a_reason(world):
    case = plan_case(world)
    with pytest.raises(ValidationError) as error:
        make_plan(world, case, ends_on=TODAY + relativedelta(months=6, days=1))
    assert "longer_reason" in error.value.error_dict
    assert "sex månader" in str(error.value)  # the interface speaks Swedish
    plan = make_plan(
        world,
        case,
        ends_on=TODAY + relativedelta(months=8),
        longer_reason="Eleven byter skola mitt i terminen.",
    )
    assert services.needs_reason(plan.starts_on, plan.ends_on)
    assert plan.longer_reason == "Eleven byter skola mitt i terminen."


def test_the_reason_is_dropped_when_the_plan_is_short(world):
    plan = make_plan(world, longer_reason="Onödig")
    assert plan.longer_reason == ""


def test_text_limits(world):
    case = plan_case(world)
    with pytest.raises(ValidationError):
        make_plan(world, case, school_measures="x" * 10_001)
    with pytest.raises(ValidationError):
        make_plan(world, case, goals=[goal(text="x" * 301)])
    with pytest.raises(ValidationError):
        make_plan(world, case, interventions=[intervention(world, how_often="x" * 121)])
    assert not ActionPlan.objects.exists()


# ---------------------------------------------------------------- the six-month decision


def test_the_continuation_decision_is_due_six_months_after_the_start(world):
    start = TODAY - relativedelta(months=6)
    plan = make_plan(
        world,
        plan_case(world),
        starts_on=start,
        ends_on=start + relativedelta(months=8),
        longer_reason="Behöver längre tid.",
        goals=[goal(target_on=TODAY)],
        interventions=[intervention(world, starts_on=start)],
    )
    assert services.decision_due_on(plan) == TODAY
    assert not services.decision_due(plan, TODAY - datetime.timedelta(days=1))
    assert services.decision_due(plan, TODAY)
    with pytest.raises(ValidationError):
        services.continuation_decide(
            plan=plan, by=world.social_worker_n, decision=Continuation.CONTINUE, reason=""
        )
    services.continuation_decide(
        plan=plan,
        by=world.social_worker_n,
        decision=Continuation.CONTINUE,
        reason="Närvaron ökar men är inte stabil.",
    )
    assert not services.decision_due(plan, TODAY)
    assert services.decision_due_on(plan) == start + relativedelta(months=12)
    assert CaseEvent.objects.filter(case=plan.case, summary__contains="Sexmånadersbeslut").exists()


def test_no_decision_before_it_is_due(world):
    plan = make_plan(world)
    with pytest.raises(ValidationError):
        services.continuation_decide(
            plan=plan, by=world.social_worker_n, decision=Continuation.CLOSE, reason="Klart."
        )


# ---------------------------------------------------------------- revisions


def test_a_revision_lists_its_changes_in_the_revision_and_the_chronology(world):
    plan = make_plan(world, goals=[goal("Närvara på måndagar"), goal("Äta frukost")])
    arguments = current_rows(plan)
    first, _second = arguments["goals"]
    old_target = first.target_on
    first.target_on = old_target + datetime.timedelta(days=10)
    arguments["goals"] = [first, goal("Delta i idrotten")]  # "Äta frukost" removed
    arguments["interventions"] = [intervention(world, "Motiverande samtal")]  # the old ended
    plan = services.plan_revise(by=world.counsellor_a, **arguments)
    assert plan.version == 2
    changes = PlanRevision.objects.get(plan=plan, number=2).changes
    kinds = [c["change"] for c in changes]
    assert kinds.count("goal_added") == 1
    assert "goal_target_moved" in kinds and "goal_ended" in kinds
    assert "intervention_added" in kinds and "intervention_ended" in kinds
    moved = next(c for c in changes if c["change"] == "goal_target_moved")
    assert moved["from"] == old_target.isoformat()
    event = CaseEvent.objects.filter(case=plan.case, summary__contains="version 2").get()
    assert "måldatum flyttat" in event.summary
    assert f"{old_target.isoformat()} → {first.target_on.isoformat()}" in event.summary
    assert "mål tillagt" in event.summary and "insats avslutad" in event.summary
    # Ended, never deleted.
    ended = Goal.objects.get(plan=plan, text="Äta frukost")
    assert ended.ended_in == 2
    assert PlanIntervention.objects.filter(plan=plan, ended_on=TODAY).count() == 1
    assert plan.history.first().history_user == world.counsellor_a


def test_version_1_still_shows_the_removed_goal(world):
    plan = make_plan(world, goals=[goal("Närvara på måndagar"), goal("Äta frukost")])
    arguments = current_rows(plan)
    arguments["goals"] = arguments["goals"][:1]
    plan = services.plan_revise(by=world.social_worker_n, **arguments)
    v1 = services.version_as_of(plan, plan.revisions.get(number=1))
    v2 = services.version_as_of(plan, plan.revisions.get(number=2))
    assert [g.text for g in v1.goals] == ["Närvara på måndagar", "Äta frukost"]
    assert [g.text for g in v2.goals] == ["Närvara på måndagar"]
    assert [v1.item_name(r) for r in v1.interventions] == ["Incheckning och utcheckning"]


def test_a_save_from_an_older_version_changes_nothing(world):
    plan = make_plan(world)
    first = current_rows(plan)
    second = current_rows(plan)
    first["goals"] = [*first["goals"], goal("Första personens mål")]
    services.plan_revise(by=world.social_worker_n, **first)
    second["goals"] = [goal("Andra personens mål")]
    with pytest.raises(services.PlanConflict):
        services.plan_revise(by=world.counsellor_a, **second)
    plan.refresh_from_db()
    assert plan.version == 2
    texts = set(plan.goals.filter(ended_in__isnull=True).values_list("text", flat=True))
    assert texts == {"Närvara på alla måndagslektioner", "Första personens mål"}
    assert plan.revisions.count() == 2


# ---------------------------------------------------------------- signatures and the guard


def _sign_all(world, plan, *, skip: str = ""):
    for party, extra in [
        (Party.STUDENT, {}),
        (Party.GUARDIAN, {"guardian": world.guardian_a1}),
        (Party.SCHOOL, {"signer": world.counsellor_a}),
    ]:
        if party != skip:
            services.signature_record(
                plan=plan,
                by=world.social_worker_n,
                party=party,
                how=SignedHow.PAPER,
                signed_on=TODAY,
                version=plan.version,
                **extra,
            )
    if skip != Party.SOCIAL_WORKER:
        services.signature_record(
            plan=plan,
            by=world.social_worker_n,
            party=Party.SOCIAL_WORKER,
            how=SignedHow.IN_APP,
            signed_on=TODAY,
            version=plan.version,
        )


def test_implementation_starts_only_on_a_signed_plan(world):
    plan = make_plan(world)
    case = Case.objects.get(pk=plan.case_id)
    transition = transitions.BY_NAME["start_implementation"]
    held = {transition.capability}
    _sign_all(world, plan, skip=Party.GUARDIAN)
    assert [m.party for m in services.missing_signatures(plan)] == [Party.GUARDIAN]
    assert not transitions.judge(transition, case, held).allowed
    with pytest.raises(workflow.TransitionRefused):
        workflow.case_start_implementation(case=case, by=world.social_worker_n)
    services.signature_record(
        plan=plan,
        by=world.counsellor_a,
        party=Party.GUARDIAN,
        guardian=world.guardian_a1,
        how=SignedHow.PAPER,
        signed_on=TODAY,
        version=plan.version,
    )
    assert services.missing_signatures(plan) == []
    case.refresh_from_db()
    case = workflow.case_start_implementation(case=case, by=world.social_worker_n)
    assert case.state == CaseState.IMPLEMENTATION


def test_a_revision_needs_signing_again(world):
    plan = make_plan(world)
    _sign_all(world, plan)
    assert services.plan_signed(plan.case)
    services.plan_revise(by=world.social_worker_n, **current_rows(plan, goals=[goal("Nytt")]))
    assert not services.plan_signed(plan.case)


def test_only_the_staff_party_signs_in_the_app_and_only_for_themselves(world):
    plan = make_plan(world)
    base = {"plan": plan, "signed_on": TODAY, "version": 1}
    with pytest.raises(ValidationError):  # the student signs on paper
        services.signature_record(
            by=world.counsellor_a, party=Party.STUDENT, how=SignedHow.IN_APP, **base
        )
    with pytest.raises(ValidationError):  # the counsellor is not the social worker
        services.signature_record(
            by=world.counsellor_a, party=Party.SOCIAL_WORKER, how=SignedHow.IN_APP, **base
        )
    with pytest.raises(ValidationError):  # not for someone else
        services.signature_record(
            by=world.counsellor_a,
            party=Party.SCHOOL,
            how=SignedHow.IN_APP,
            signer=world.principal_a,
            **base,
        )
    with pytest.raises(ValidationError):  # a guardian without custody of the student
        services.signature_record(
            by=world.counsellor_a, party=Party.GUARDIAN, how=SignedHow.PAPER, **base
        )
    with pytest.raises(ValidationError):  # not in the future
        services.signature_record(
            by=world.counsellor_a,
            party=Party.STUDENT,
            how=SignedHow.PAPER,
            **{**base, "signed_on": TODAY + datetime.timedelta(days=1)},
        )
    signature = services.signature_record(
        by=world.counsellor_a, party=Party.SCHOOL, how=SignedHow.IN_APP, **base
    )
    assert signature.signer == world.counsellor_a
    with pytest.raises(ValidationError):  # twice
        services.signature_record(
            by=world.principal_a, party=Party.SCHOOL, how=SignedHow.IN_APP, **base
        )
    with pytest.raises(services.PlanConflict):  # a signature on an older version
        services.signature_record(
            by=world.counsellor_a,
            party=Party.STUDENT,
            how=SignedHow.PAPER,
            **{**base, "version": 0},
        )
