"""Demo data for the team's own work (issue 11): cases in every phase after consent.

Six more students of the two northern demo schools — the most absent without a case — are
referred, accepted at a forum meeting of their own day, assigned to the demo social worker
and given a valid consent; then, through the same services the pages use:

* a plan being made (version 1, signed by the school and the social worker, the family's
  signatures still missing);
* two in implementation: one whose first follow-up was held and the next is booked, and one
  whose follow-up is overdue;
* one in maintenance, its goals met at the second follow-up, with a booster meeting due;
* two closed: one closed about three months ago whose after-care check is due now (its
  guardian answered the survey through the one-time link), and one closed last week with
  the answers given at the closing meeting and a link for the guardian still unused.

Dates are relative to today; every date a rule moves (follow-ups, boosters, after-care)
lands on a school day of the calendar, and a case starts earlier where a break would push a
follow-up it holds past today (the summer holiday, the Christmas break). Idempotent: once
any demo case has an action plan, nothing more is made.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from actionplans import catalogue, maintenance_services, plan_services
from actionplans.models import ActionPlan, Party, Side, SignedHow, ToolboxItem
from actionplans.plan_services import GoalInput, InterventionInput
from cases import workflow
from cases.models import Case, CaseOpening, CaseState, ClosureReason
from referrals import consent as consent_rule
from referrals import consent_services, forum_services, referral_services, referral_states
from referrals import demo as referrals_demo
from referrals.models import AcceptedAs, ConsentMethod, DecisionKind, Forum, Referral
from sst import demo
from sst.models import Municipality, School, Student, User

from . import closure_services, followup_services, survey_services
from .models import AfterCareCheck, Closure, FollowUp, GoalResult, Respondent, SurveyLink

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Scenario:
    key: str
    accepted_days_ago: int  # the forum's decision
    plan_days_ago: int | None  # the start-up meeting; None: no plan yet


# Oldest first, so each case's dates follow from its own start.
SCENARIOS = (
    Scenario("closed_aftercare", 205, 190),
    Scenario("maintenance", 110, 100),
    Scenario("closed_recently", 95, 85),
    Scenario("implementation", 70, 56),
    Scenario("overdue", 55, 42),
    Scenario("plan", 20, 3),
)


# The follow-ups a scenario holds (or, "overdue", lets pass), and how many days before today
# the last of them must fall: the closures and the overdue one come after it.
HELD_BY = {
    "implementation": (1, 0),
    "overdue": (1, 1),
    "maintenance": (2, 0),
    "closed_recently": (2, 7),
    "closed_aftercare": (2, 93),
}


@dataclass(frozen=True)
class Staff:
    counsellor: dict[str, User]
    member: User
    coordinator: User
    social_worker: User


def _staff() -> Staff | None:
    users = {
        user.username: user
        for user in User.objects.filter(
            username__in=[
                *(f"kurator.{key}" for key in referrals_demo.SCHOOLS),
                "remissforum.norra",
                "samordnare.norra",
                "socionom.norra",
            ]
        )
    }
    try:
        return Staff(
            {key: users[f"kurator.{key}"] for key in referrals_demo.SCHOOLS},
            users["remissforum.norra"],
            users["samordnare.norra"],
            users["socionom.norra"],
        )
    except KeyError:
        return None


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _accepted_case(
    student: Student, school_key: str, staff: Staff, forum: Forum, accepted_on: datetime.date
) -> Case:
    """Referred two weeks before ``accepted_on``, accepted that day at a meeting of its own,
    assigned to the demo social worker; the family's consent a week later."""
    counsellor = staff.counsellor[school_key]
    case = workflow.case_open(student=student, opening=CaseOpening.EHT, by=counsellor)
    submitted = _at(accepted_on - 14 * DAY, 9)
    referral = Referral.objects.create(
        number=referral_services.next_number(forum.municipality_id, submitted.year),
        case=case,
        forum=forum,
        school=case.school,
        grade=student.grade,
        gender=student.gender,
        absence=referral_services.absence_of(student, submitted.date()),
        cause_student_view="Eleven berättar att det känns tungt att komma iväg på morgonen "
        "och att det är svårt att hänga med efter frånvaron.",
        cause_guardian_view="Vårdnadshavarna ser att oron ökar på söndagskvällar.",
        expected_help="Stöd att komma tillbaka till skolan i små steg, och stöd till "
        "föräldrarna kring morgnarna.",
        school_actions=referral_services.school_actions_of(case),
        created_by=counsellor,
    )
    referral_states.move(referral, "submit", by=counsellor)
    Referral.objects.filter(pk=referral.pk).update(submitted_at=submitted, submitted_by=counsellor)
    workflow.case_refer(case=case, by=counsellor)
    meeting = forum_services.meeting_add(
        forum=forum,
        starts_at=_at(accepted_on, 13),
        location="Socialkontoret, konferensrum Linden",
        by=staff.coordinator,
    )
    forum_services.meeting_prepare_agenda(meeting=meeting, by=staff.member)
    referral.refresh_from_db()
    forum_services.decision_record(
        referral=referral,
        meeting=meeting,
        kind=DecisionKind.ACCEPTED,
        decided_on=accepted_on,
        reason="Frånvaron är omfattande och skolans insatser har inte räckt.",
        accepted_as=AcceptedAs.ASSIGN,
        social_worker=staff.social_worker,
        by=staff.member,
    )
    Referral.objects.filter(pk=referral.pk).update(decided_at=_at(accepted_on, 14))
    case.refresh_from_db()
    school_staff = referrals_demo._school_staff(case)
    consent_day = accepted_on + 9 * DAY
    given = referrals_demo._consent_for(
        case,
        school_staff,
        consent_day,
        give=len(referrals_demo._guardians_with_custody(case)),
    )
    if consent_rule.status(case)["missing_student"]:
        # The student has reached the municipality's age since the consent was taken: they
        # gave their own consent at the start-up.
        consent_services.consent_giving_add(
            consent=given,
            by_student=True,
            given_on=consent_day,
            method=ConsentMethod.IN_PERSON,
            witnesses=school_staff,
            by=school_staff[0],
        )
    case.refresh_from_db()
    return case


def _items(municipality: Municipality) -> dict[str, ToolboxItem]:
    catalogue.catalogue_ensure(municipality)
    return {
        item.name: item
        for item in ToolboxItem.objects.filter(category__municipality=municipality, active=True)
    }


def _pick(items: dict[str, ToolboxItem], *words: str) -> ToolboxItem:
    for word in words:
        for name, item in items.items():
            if word.lower() in name.lower():
                return item
    return next(iter(items.values()))


def _plan(case: Case, staff: Staff, starts_on: datetime.date) -> ActionPlan:
    worker = staff.social_worker
    workflow.case_start_plan(case=case, by=worker)
    items = _items(case.school.district.municipality)
    mentor_side = referrals_demo._school_staff(case)[0]
    return plan_services.plan_create(
        case=case,
        by=worker,
        starts_on=starts_on,
        ends_on=plan_services.default_ends_on(starts_on),
        school_measures="Anpassat schema de första veckorna; mentorn möter upp vid entrén.",
        goals=[
            GoalInput(
                text="Vara på plats på alla måndagslektioner",
                measure="Närvaron på måndagar enligt närvarosystemet",
                target_on=starts_on + 8 * 7 * DAY,
                perspective="school",
            ),
            GoalInput(
                text="Komma i tid till första lektionen minst fyra dagar i veckan",
                measure="Sena ankomster i närvarosystemet",
                target_on=starts_on + 10 * 7 * DAY,
                perspective="individual",
            ),
            GoalInput(
                text="Ha en fritidsaktivitet en gång i veckan",
                measure="Eleven och vårdnadshavaren berättar vid uppföljningen",
                target_on=starts_on + 12 * 7 * DAY,
                perspective="social",
            ),
        ],
        interventions=[
            InterventionInput(
                item=_pick(items, "incheckning", "check-in"),
                side=Side.SCHOOL,
                responsible=mentor_side,
                how_often="Varje skoldag",
                starts_on=starts_on,
            ),
            InterventionInput(
                item=_pick(items, "motiverande", "stödsamtal"),
                side=Side.SOCIAL_SERVICES,
                responsible=worker,
                how_often="En gång i veckan",
                starts_on=starts_on,
            ),
            InterventionInput(
                item=_pick(items, "föräldrastöd", "samtal"),
                side=Side.SOCIAL_SERVICES,
                responsible=worker,
                how_often="Varannan vecka",
                starts_on=starts_on,
            ),
        ],
    )


def _sign(plan: ActionPlan, staff: Staff, on: datetime.date, *, family: bool) -> None:
    case = plan.case
    school_rep = referrals_demo._school_staff(case)[0]
    rows: list[dict[str, Any]] = [
        {"party": Party.SCHOOL, "how": SignedHow.PAPER, "signer": school_rep},
        {"party": Party.SOCIAL_WORKER, "how": SignedHow.IN_APP},
    ]
    if family:
        rows.append({"party": Party.STUDENT, "how": SignedHow.PAPER})
        rows.extend(
            {"party": Party.GUARDIAN, "how": SignedHow.PAPER, "guardian": guardian}
            for guardian in plan_services.custody_guardians(case)
        )
    for row in rows:
        plan.refresh_from_db()
        plan_services.signature_record(
            plan=plan, by=staff.social_worker, signed_on=on, version=plan.version, **row
        )


def _weekly(
    case: Case, plan: ActionPlan, staff: Staff, start: datetime.date, until: datetime.date
) -> None:
    """The weekly check-off of the interventions given, week by week."""
    week = followup_services.monday_of(start)
    while week + 4 * DAY < until:
        running = followup_services.running_interventions(plan, week)
        entries = []
        for index, intervention in enumerate(running):
            # Now and then a week without the session (illness, a holiday week).
            given = (week.toordinal() // 7 + index) % 5 != 0
            entries.append(
                followup_services.CheckOff(
                    intervention=intervention,
                    given=given,
                    sessions=(1 if index else 4) if given else 0,
                    minutes=(60 if index else 40) if given else 0,
                )
            )
        if entries:
            followup_services.deliveries_record(
                case=case, week=week, entries=entries, by=staff.social_worker, today=until
            )
        week += 7 * DAY


def _hold(
    followup: FollowUp,
    staff: Staff,
    *,
    results: tuple[str, ...],
    next_weeks: int | None,
    today: datetime.date,
    ors: tuple[int, int, int, int] | None = None,
) -> FollowUp | None:
    """Hold the follow-up on its planned day and book the next one (or none)."""
    plan = followup_services.plan_of(followup.case)
    assert plan is not None
    goals = followup_services.current_goals(plan)
    held_on = followup.planned_on
    next_on = None
    if next_weeks is not None:
        window = followup_services.next_window(followup.case, held_on)
        next_on = window.proposed
    followup_services.followup_record(
        followup=followup,
        by=staff.social_worker,
        base_version=followup.version,
        held_on=held_on,
        reviews=[
            followup_services.ReviewInput(goal=goal, result=result)
            for goal, result in zip(goals, results, strict=False)
        ],
        notes="Eleven och vårdnadshavaren var med. Morgnarna fungerar bättre; måndagarna är "
        "fortfarande svårast.",
        ors=dict(zip(followup_services.ORS_FIELDS, ors, strict=True)) if ors else None,
        next_on=next_on,
        today=today,
    )
    return (
        FollowUp.objects.filter(case=followup.case, held_on__isnull=True, cancelled=False)
        .order_by("number")
        .first()
    )


def _first_followup(case: Case) -> FollowUp:
    return FollowUp.objects.filter(case=case).order_by("number").first()  # type: ignore[return-value]


def _implement(case: Case, plan: ActionPlan, staff: Staff, starts_on: datetime.date) -> None:
    _sign(plan, staff, starts_on, family=True)
    workflow.case_start_implementation(case=case, by=staff.social_worker)


def _close(
    case: Case,
    staff: Staff,
    *,
    closed_on: datetime.date,
    reason: str,
    goals_met: str,
    answers: tuple[survey_services.Scores, ...] = (),
    links: tuple[str, ...] = (),
) -> closure_services.ClosureResult:
    case.refresh_from_db()
    result = closure_services.closure_record(
        case=case,
        by=staff.social_worker,
        reason=reason,
        goals_met=goals_met,
        summary="Målen för närvaron nåddes. Eleven har en trygg vuxen på skolan och en "
        "fritidsaktivitet; familjen vet vart de kan vända sig.",
        answers=answers,
        links=links,
        today=closed_on,
    )
    # The case's own closing time follows the record's day (the service stamps "now").
    Case.objects.filter(pk=case.pk).update(closed_at=_at(closed_on, 15))
    return result


def _start_up_day(spec: Scenario, student: Student, today: datetime.date) -> datetime.date:
    """``plan_days_ago`` before today, moved back a week at a time while the calendar's
    breaks would push a follow-up the scenario holds past the day it must be held by: in the
    summer holiday the 4–6 weeks after a June follow-up end in August, over Christmas those
    after one in mid-December end in January."""
    assert spec.plan_days_ago is not None
    starts_on = today - spec.plan_days_ago * DAY
    if spec.key not in HELD_BY:
        return starts_on
    count, days_before = HELD_BY[spec.key]
    probe = Case(school=student.school)  # unsaved: the calendar and policy of its school
    for _ in range(52):
        day = followup_services.first_date(probe, starts_on)
        for _ in range(count - 1):
            day = followup_services.next_window(probe, day).proposed
        if day <= today - days_before * DAY:
            break
        starts_on -= 7 * DAY
    return starts_on


def _scenario(
    spec: Scenario,
    student: Student,
    school_key: str,
    staff: Staff,
    forum: Forum,
    today: datetime.date,
) -> None:
    assert spec.plan_days_ago is not None
    starts_on = _start_up_day(spec, student, today)
    moved_back = today - spec.plan_days_ago * DAY - starts_on
    accepted_on = today - spec.accepted_days_ago * DAY - moved_back
    case = _accepted_case(student, school_key, staff, forum, accepted_on)
    plan = _plan(case, staff, starts_on)
    if spec.key == "plan":
        _sign(plan, staff, starts_on, family=False)
        return
    _implement(case, plan, staff, starts_on)
    first = _first_followup(case)
    if spec.key == "overdue":
        _weekly(case, plan, staff, starts_on, today)
        return
    if spec.key == "implementation":
        _weekly(case, plan, staff, starts_on, today)
        _hold(
            first,
            staff,
            results=(GoalResult.PARTLY, GoalResult.MET, GoalResult.NOT_MET),
            next_weeks=5,
            today=today,
            ors=(5, 6, 4, 5),
        )
        return
    second = _hold(
        first,
        staff,
        results=(GoalResult.PARTLY, GoalResult.PARTLY, GoalResult.NOT_MET),
        next_weeks=5,
        today=today,
        ors=(4, 5, 4, 4),
    )
    assert second is not None
    _hold(
        second,
        staff,
        results=(GoalResult.MET, GoalResult.MET, GoalResult.PARTLY),
        next_weeks=None,
        today=today,
        ors=(7, 7, 6, 7),
    )
    if spec.key == "maintenance":
        _weekly(case, plan, staff, starts_on, second.planned_on)
        maintenance = maintenance_services.maintenance_plan_save(
            case=case,
            by=staff.social_worker,
            base_version=None,
            contact="Socialsekreteraren ringer eleven varannan vecka; mentorn stämmer av "
            "varje måndag.",
            notes="Boosterträff efter jullovet, inför vårterminens start.",
        )
        workflow.case_enter_maintenance(case=case, by=staff.social_worker)
        maintenance_services.booster_add(
            maintenance=maintenance,
            planned_on=today + 3 * DAY,
            note="Träff med eleven och mentorn",
            by=staff.social_worker,
            today=today,
        )
        return
    if spec.key == "closed_recently":
        result = _close(
            case,
            staff,
            closed_on=today - 6 * DAY,
            reason=ClosureReason.GOALS_MET,
            goals_met="yes",
            answers=(
                survey_services.Scores(Respondent.STUDENT, 4, 4, 5),
                survey_services.Scores(Respondent.GUARDIAN, 5, 4, 4),
            ),
            links=(Respondent.GUARDIAN,),
        )
        # The guardian's link stays unused (one of the demo's "one link unused").
        assert result.tokens
        return
    # closed_aftercare: closed three months ago; the guardian answered through the link.
    result = _close(
        case,
        staff,
        closed_on=today - 92 * DAY,
        reason=ClosureReason.GOALS_MET,
        goals_met="partly",
        links=(Respondent.GUARDIAN,),
    )
    token = result.tokens[Respondent.GUARDIAN]
    survey_services.survey_answer_by_link(
        token=token, scores=survey_services.Scores(Respondent.GUARDIAN, 4, 5, 4)
    )


def seed_team_work(*, today: datetime.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    in_demo = {"case__school__district__municipality__code": demo.MUNICIPALITY_CODE}
    if ActionPlan.objects.filter(**in_demo).exists():
        return counts()
    staff = _staff()
    forum = Forum.objects.filter(
        municipality__code=demo.MUNICIPALITY_CODE, district__name=demo.DISTRICTS[0].name
    ).first()
    if staff is None or forum is None:
        return counts()
    schools = {
        key: School.objects.filter(unit_code=demo.school_spec(key).unit_code).first()
        for key in referrals_demo.SCHOOLS
    }
    chosen = {
        key: referrals_demo._students(school, len(SCENARIOS), today)
        for key, school in schools.items()
        if school is not None
    }
    picks = [
        (key, ids[row])
        for row in range(len(SCENARIOS))
        for key, ids in chosen.items()
        if row < len(ids)
    ][: len(SCENARIOS)]
    if len(picks) < len(SCENARIOS):
        return counts()
    with override_settings(EMAIL_BACKEND=referrals_demo.LOCMEM_EMAIL), transaction.atomic():
        for spec, (key, student_id) in zip(SCENARIOS, picks, strict=True):
            _scenario(spec, Student.objects.get(pk=student_id), key, staff, forum, today)
    return counts()


def counts() -> dict[str, int]:
    in_demo = {"case__school__district__municipality__code": demo.MUNICIPALITY_CODE}
    return {
        "plans": ActionPlan.objects.filter(**in_demo).count(),
        "followups": FollowUp.objects.filter(**in_demo).count(),
        "closed": Closure.objects.filter(**in_demo).count(),
        "aftercare": AfterCareCheck.objects.filter(**in_demo).count(),
        "links": SurveyLink.objects.filter(
            closure__case__school__district__municipality__code=demo.MUNICIPALITY_CODE
        ).count(),
        "maintenance": Case.objects.filter(
            school__district__municipality__code=demo.MUNICIPALITY_CODE,
            state=CaseState.MAINTENANCE,
        ).count(),
    }


def seed_demo_part(run: demo.DemoRun) -> list[demo.DemoLine]:
    """Only when the attendance part generated school days: they choose the students."""
    if not run.facts.get("attendance_days"):
        return []
    found = seed_team_work()
    return [
        demo.DemoLine(
            f"The team's work: {found['plans']} action plans, {found['followups']} follow-ups, "
            f"{found['maintenance']} in maintenance, {found['closed']} closed "
            f"({found['aftercare']} after-care checks, {found['links']} survey links)."
        )
    ]


def register() -> None:
    demo.register(app_label="followup", seed=seed_demo_part)
