"""A hand-made set of cases at Ekbackens skola (school A, district N) with known dates, for
the case figures and the coordinator's dashboard. Every number the tests expect is worked
out in the docstrings of the tests from the table below.

The period is the autumn term 2026 (1 August – 31 December); ``TODAY`` is 20 November 2026,
so the last 12 months run from 21 November 2025 to 20 November 2026.

=====  ==============  ==================  ==================  =============  =====  =====
case   state           opened (local)      ended (local)       reason         sex    grade
=====  ==============  ==================  ==================  =============  =====  =====
c1     implementation  2026-08-01 00:30    –                   –              girl   7
c2     maintenance     2025-11-21 00:10    –                   –              boy    8
c3     queued          2025-11-20 23:30    –                   –              other  9
c4     closed          2026-03-01          2026-09-15          goals met      girl   7
c5     closed          2026-01-10          2026-07-31 23:30    moved          girl   6
c6     closed          2026-08-10          2026-12-31 23:50    other support  boy    8
c7     rejected        2026-09-01          2026-09-20          –              girl   6
c9     closed          2026-08-20          2026-10-01          declined       girl   9
c8     implementation  2026-09-01 (school B: outside every figure of school A)
=====  ==============  ==================  ==================  =============  =====  =====
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from actionplans.models import ActionPlan, PlanIntervention, Side
from attendance.models import Alert, DueKind, Rule
from cases.models import (
    Case,
    CaseOpening,
    CaseState,
    CauseFactor,
    CauseGroup,
    ClosureReason,
    MentorChecklist,
    SchoolSocialMapping,
)
from followup.models import (
    Closure,
    ClosureAbsence,
    FollowUp,
    Respondent,
    Satisfied,
    SurveyAnswer,
    SurveyChannel,
)
from referrals.models import (
    Assignment,
    Decision,
    DecisionKind,
    Forum,
    ForumMeeting,
    Referral,
    ReferralState,
)
from sst.models import Gender, Grade

from ..factories import StudentFactory
from ..followup.followup_setup import toolbox_item

TODAY = datetime.date(2026, 11, 20)
START = datetime.date(2026, 8, 1)
END = datetime.date(2026, 12, 31)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """A moment in Swedish time."""
    return timezone.make_aware(datetime.datetime(year, month, day, hour, minute))


@dataclass
class Made:
    cases: dict[str, Case] = field(default_factory=dict)
    referrals: dict[str, Referral] = field(default_factory=dict)
    closures: dict[str, Closure] = field(default_factory=dict)


def _case(world, group, *, state, opened, closed=None, reason="", gender, grade) -> Case:
    student = StudentFactory(mentor_group=group, gender=gender, grade=grade)
    case = Case.objects.create(student=student, state=state, opening=CaseOpening.PRINCIPAL)
    Case.objects.filter(pk=case.pk).update(
        opened_at=opened, closed_at=closed, closure_reason=reason
    )
    case.refresh_from_db()
    return case


def _forum(world) -> Forum:
    forum, _ = Forum.objects.get_or_create(
        municipality=world.municipality, district=world.district_n, defaults={"name": "Norra"}
    )
    return forum


def _referral(world, case, number, *, submitted, decided=None, kind=None, startup=None):
    forum = _forum(world)
    state = {
        None: ReferralState.SUBMITTED,
        DecisionKind.ACCEPTED: ReferralState.ASSIGNED,
        DecisionKind.REJECTED: ReferralState.REJECTED,
        DecisionKind.REDIRECTED: ReferralState.REDIRECTED,
    }[kind]
    referral = Referral.objects.create(
        case=case,
        number=number,
        forum=forum,
        state=state,
        school=case.school,
        grade=case.student.grade,
        gender=case.student.gender,
        submitted_at=submitted,
        decided_at=decided,
        startup_at=startup,
    )
    if kind is not None:
        meeting = ForumMeeting.objects.create(forum=forum, starts_at=decided)
        Decision.objects.create(
            referral=referral,
            meeting=meeting,
            kind=kind,
            reason="Bedömt på mötet.",
            decided_on=timezone.localdate(decided),
        )
    return referral


def _closure(case, *, closed_on, goals_met, intake, closure, answers=()) -> Closure:
    record = Closure.objects.create(case=case, goals_met=goals_met, closed_on=closed_on)
    for span, (start, end, scheduled, valid, invalid) in (
        (ClosureAbsence.Span.INTAKE, intake),
        (ClosureAbsence.Span.CLOSURE, closure),
    ):
        ClosureAbsence.objects.create(
            closure=record,
            span=span,
            period_start=start,
            period_end=end,
            scheduled_min=scheduled,
            valid_min=valid,
            invalid_min=invalid,
        )
    for respondent, satisfied, helped, listened in answers:
        SurveyAnswer.objects.create(
            closure=record,
            respondent=respondent,
            channel=SurveyChannel.MEETING,
            satisfied=satisfied,
            helped=helped,
            listened_to=listened,
            answered_week=closed_on - datetime.timedelta(days=closed_on.weekday()),
        )
    return record


def _checklist(world, case, *, alert_at, written_at) -> MentorChecklist:
    alert = Alert.objects.create(
        student=case.student,
        rule=Rule.STEP_2,
        period_start=alert_at.date().replace(day=1),
        period_end=alert_at.date(),
        due=DueKind.CHECKLIST,
    )
    Alert.objects.filter(pk=alert.pk).update(created_at=alert_at)
    checklist = MentorChecklist.objects.create(
        case=case,
        alert=alert,
        mentor_name="Mentor",
        illness="no",
        thrives="yes",
        has_friends="yes",
        schoolwork_difficulties="no",
        pattern="no",
        follow_up_due_on=written_at.date() + datetime.timedelta(days=7),
    )
    MentorChecklist.objects.filter(pk=checklist.pk).update(created_at=written_at)
    return checklist


def _plan(world, case, items: list[tuple[str, datetime.date | None]]) -> ActionPlan:
    plan = ActionPlan.objects.create(
        case=case, starts_on=datetime.date(2026, 8, 20), ends_on=datetime.date(2026, 11, 20)
    )
    for order, (name, ended_on) in enumerate(items):
        PlanIntervention.objects.create(
            plan=plan,
            item=toolbox_item(world, name),
            side=Side.SOCIAL_SERVICES,
            how_often="En gång i veckan",
            starts_on=datetime.date(2026, 3, 1),
            ended_on=ended_on,
            order=order,
        )
    return plan


def build(world) -> Made:
    made = Made()
    g = world.group_a1
    c = made.cases
    c["c1"] = _case(
        world, g, state=CaseState.IMPLEMENTATION, opened=at(2026, 8, 1, 0, 30),
        gender=Gender.GIRL, grade=Grade.G7,
    )  # fmt: skip
    c["c2"] = _case(
        world, g, state=CaseState.MAINTENANCE, opened=at(2025, 11, 21, 0, 10),
        gender=Gender.BOY, grade=Grade.G8,
    )  # fmt: skip
    c["c3"] = _case(
        world, g, state=CaseState.QUEUED, opened=at(2025, 11, 20, 23, 30),
        gender=Gender.OTHER, grade=Grade.G9,
    )  # fmt: skip
    c["c4"] = _case(
        world, g, state=CaseState.CLOSED, opened=at(2026, 3, 1), closed=at(2026, 9, 15),
        reason=ClosureReason.GOALS_MET, gender=Gender.GIRL, grade=Grade.G7,
    )  # fmt: skip
    c["c5"] = _case(
        world, g, state=CaseState.CLOSED, opened=at(2026, 1, 10),
        closed=at(2026, 7, 31, 23, 30), reason=ClosureReason.MOVED,
        gender=Gender.GIRL, grade=Grade.G6,
    )  # fmt: skip
    c["c6"] = _case(
        world, g, state=CaseState.CLOSED, opened=at(2026, 8, 10),
        closed=at(2026, 12, 31, 23, 50), reason=ClosureReason.OTHER_SUPPORT,
        gender=Gender.BOY, grade=Grade.G8,
    )  # fmt: skip
    c["c7"] = _case(
        world, g, state=CaseState.REJECTED, opened=at(2026, 9, 1), closed=at(2026, 9, 20),
        gender=Gender.GIRL, grade=Grade.G6,
    )  # fmt: skip
    c["c9"] = _case(
        world, g, state=CaseState.CLOSED, opened=at(2026, 8, 20), closed=at(2026, 10, 1),
        reason=ClosureReason.DECLINED, gender=Gender.GIRL, grade=Grade.G9,
    )  # fmt: skip
    c["c8"] = _case(
        world, world.group_b1, state=CaseState.IMPLEMENTATION, opened=at(2026, 9, 1),
        gender=Gender.BOY, grade=Grade.G7,
    )  # fmt: skip

    r = made.referrals
    accepted, rejected, redirected = (
        DecisionKind.ACCEPTED,
        DecisionKind.REJECTED,
        DecisionKind.REDIRECTED,
    )
    r["r1"] = _referral(
        world, c["c1"], "2026-001", submitted=at(2026, 8, 3), decided=at(2026, 8, 13),
        kind=accepted, startup=at(2026, 8, 24),
    )  # fmt: skip
    r["r2"] = _referral(
        world, c["c2"], "2025-101", submitted=at(2025, 12, 1), decided=at(2025, 12, 5),
        kind=accepted, startup=at(2026, 1, 5),
    )  # fmt: skip
    r["r3"] = _referral(
        world, c["c7"], "2026-003", submitted=at(2026, 9, 1), decided=at(2026, 9, 20),
        kind=rejected,
    )  # fmt: skip
    r["r4"] = _referral(
        world, c["c6"], "2026-004", submitted=at(2026, 8, 10), decided=at(2026, 8, 12),
        kind=accepted, startup=at(2026, 8, 20),
    )  # fmt: skip
    r["r5"] = _referral(
        world, c["c3"], "2025-102", submitted=at(2025, 11, 20, 23, 0),
        decided=at(2025, 11, 25), kind=accepted,
    )  # fmt: skip
    Referral.objects.filter(pk=r["r5"].pk).update(state=ReferralState.QUEUED)
    r["r6"] = _referral(
        world, c["c9"], "2026-006", submitted=at(2026, 8, 20), decided=at(2026, 8, 25),
        kind=redirected,
    )  # fmt: skip
    # A draft is not received; school B's referral is outside the scope.
    Referral.objects.create(
        case=c["c1"], number="2026-007", forum=_forum(world), school=c["c1"].school,
        grade="7", gender="girl",
    )  # fmt: skip
    r["r8"] = _referral(
        world, c["c8"], "2026-008", submitted=at(2026, 9, 2), decided=at(2026, 9, 3),
        kind=accepted, startup=at(2026, 9, 4),
    )  # fmt: skip

    cl = made.closures
    cl["c4"] = _closure(
        c["c4"], closed_on=datetime.date(2026, 9, 15), goals_met=Satisfied.YES,
        intake=(datetime.date(2026, 4, 1), datetime.date(2026, 5, 31), 1000, 100, 50),
        closure=(datetime.date(2026, 7, 1), datetime.date(2026, 8, 31), 1000, 20, 0),
        answers=[(Respondent.STUDENT, 5, 4, 5), (Respondent.GUARDIAN, 3, 3, 4)],
    )  # fmt: skip
    cl["c6"] = _closure(
        c["c6"], closed_on=datetime.date(2026, 12, 31), goals_met=Satisfied.PARTLY,
        intake=(datetime.date(2026, 6, 1), datetime.date(2026, 7, 31), 1000, 200, 50),
        closure=(datetime.date(2026, 10, 1), datetime.date(2026, 11, 30), 2000, 500, 300),
        answers=[(Respondent.STUDENT, 4, 4, 4)],
    )  # fmt: skip
    cl["c9"] = _closure(
        c["c9"], closed_on=datetime.date(2026, 10, 1), goals_met="",
        intake=(datetime.date(2026, 6, 1), datetime.date(2026, 7, 31), 0, 0, 0),
        closure=(datetime.date(2026, 8, 1), datetime.date(2026, 9, 30), 500, 200, 50),
    )  # fmt: skip
    # School B's closure: outside.
    _closure(
        c["c8"], closed_on=datetime.date(2026, 10, 1), goals_met=Satisfied.NO,
        intake=(datetime.date(2026, 6, 1), datetime.date(2026, 7, 31), 100, 90, 0),
        closure=(datetime.date(2026, 8, 1), datetime.date(2026, 9, 30), 100, 90, 0),
        answers=[(Respondent.STUDENT, 1, 1, 1)],
    )  # fmt: skip

    # Alert → checklist: 7 and 4 days in the period; one before it (20 days) does not count.
    _checklist(world, c["c1"], alert_at=at(2026, 9, 3), written_at=at(2026, 9, 10))
    _checklist(world, c["c7"], alert_at=at(2026, 10, 1), written_at=at(2026, 10, 5))
    _checklist(world, c["c5"], alert_at=at(2026, 6, 30), written_at=at(2026, 7, 20))

    # Causes: bullying in c1 and c4 (twice in c4: counted once), worry in c1 and in c5 (c5
    # ended before the period: not counted).
    bullying, _ = CauseFactor.objects.get_or_create(group=CauseGroup.SCHOOL, label="Mobbning")
    worry, _ = CauseFactor.objects.get_or_create(group=CauseGroup.INDIVIDUAL, label="Oro")
    for case, causes in (
        (c["c1"], [bullying, worry]),
        (c["c4"], [bullying]),
        (c["c4"], [bullying]),
        (c["c5"], [worry]),
        (c["c8"], [worry]),
    ):
        SchoolSocialMapping.objects.create(case=case).causes.set(causes)

    # Interventions running in the period: Samtal in c1 and c6 (c4's ended in July),
    # Mentorsstöd in c1 and c4, Läxhjälp in c2.
    _plan(world, c["c1"], [("Samtal", None), ("Mentorsstöd", None)])
    _plan(world, c["c4"], [("Samtal", datetime.date(2026, 7, 31)), ("Mentorsstöd", None)])
    _plan(world, c["c6"], [("Samtal", None)])
    _plan(world, c["c2"], [("Läxhjälp", None)])
    _plan(world, c["c8"], [("Läxhjälp", None)])
    return made


def assign(case: Case, referral: Referral, worker) -> Assignment:
    return Assignment.objects.create(case=case, referral=referral, social_worker=worker)


def overdue_followup(case: Case, *, number: int, planned_on: datetime.date) -> FollowUp:
    return FollowUp.objects.create(case=case, number=number, planned_on=planned_on)
