"""The team's side in the demo, contributed to ``manage.py seed_demo``: a team policy, a
referral forum per district with a monthly schedule, a past meeting with approved minutes,
the next meeting with its agenda, and about ten referrals in every state (draft, submitted,
on the next agenda, accepted and assigned, queued, rejected with suggestions, redirected,
withdrawn) on cases of Ekbackens and Tallängens skola.

Written through the real services (the forum's; the case workflow), with e-mail to the
in-memory backend. The referrals are written directly here with their anonymous content
(the referral part's writing service replaces that when it lands). Idempotent: the forums
and meetings are found again, and the referrals are made once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from attendance.models import MonthlyAbsence
from attendance.rollup import month_start
from attendance.selectors import previous_month
from cases import workflow
from cases.models import Case, CaseOpening, EhtDecisionKind
from sst import access, demo
from sst.capabilities import Capability
from sst.models import District, Guardian, Municipality, School, Student, User

from . import consent_services, forum_selectors, referral_services, referral_states
from . import forum_services as services
from .consent import status as consent_status
from .models import (
    AcceptedAs,
    Answer,
    Assignment,
    Consent,
    ConsentMethod,
    DecisionKind,
    FamilyMeetingKind,
    Forum,
    ForumMeeting,
    Frequency,
    InformationOutcome,
    MeetingState,
    RedirectTarget,
    Referral,
    ReferralState,
    TeamPolicy,
)

LOCMEM_EMAIL = "django.core.mail.backends.locmem.EmailBackend"
SCHOOLS = ("ekbacken", "tallangen")  # both in the northern district


@dataclass(frozen=True)
class DemoReferral:
    """One demo referral: where it ends up, and its anonymous texts."""

    end: str  # draft, submitted, agenda, assigned, queued, rejected, redirected, withdrawn
    student_view: str
    guardian_view: str
    adjustments: str
    expected_help: str
    concern: str = Answer.NO
    psychologist: bool = False


_TEXTS = (
    (
        "Hen säger att det känns tungt att gå till skolan och att magen gör ont på morgonen.",
        "Vårdnadshavaren berättar om svårigheter att få hen att gå hemifrån.",
        "Anpassat schema med sen start två dagar i veckan; samtal med mentor varje vecka.",
        "Stöd till familjen i morgonrutiner och en plan för gradvis återgång.",
    ),
    (
        "Hen upplever att klasskamraterna utesluter hen och vill inte vara på rasterna.",
        "Vårdnadshavaren är orolig för att hen isolerar sig hemma.",
        "Rastaktiviteter med vuxen närvarande; möjlighet att äta lunch i mindre grupp.",
        "Samtalsstöd till eleven och samverkan kring den sociala situationen i skolan.",
    ),
    (
        "Hen sover dåligt och är trött på förmiddagarna.",
        "Vårdnadshavaren uppger att dygnsrytmen har förskjutits under hösten.",
        "Kortare skoldagar under en period; anpassade uppgifter i matematik.",
        "Hjälp med dygnsrytm och struktur i hemmet.",
    ),
    (
        "Hen tycker att det är svårt att hänga med i undervisningen och känner sig misslyckad.",
        "Vårdnadshavaren tror att skolarbetet är för svårt.",
        "Extra anpassningar i svenska och engelska; specialpedagog har gjort en kartläggning.",
        "Motiverande samtal och stöd till vårdnadshavarna i kontakten med skolan.",
    ),
)
_PLAN = (
    "draft",
    "submitted",
    "agenda",
    "agenda",
    "assigned",
    "assigned",
    "assigned",
    "queued",
    "queued",
    "rejected",
    "redirected",
    "withdrawn",
)
REFERRALS = tuple(
    DemoReferral(
        end,
        *_TEXTS[index % len(_TEXTS)],
        concern=Answer.YES if index % 5 == 3 else Answer.NO,
        psychologist=index % 4 == 1,
    )
    for index, end in enumerate(_PLAN)
)
REJECT_SUGGESTIONS = (
    "Fortsätt med elevhälsans insatser och följ upp frånvaron på nästa EHT-möte. "
    "Kontakta gärna familjebehandlarna för råd."
)


def _demo_forums() -> list[Forum]:
    return list(Forum.objects.filter(municipality__code=demo.MUNICIPALITY_CODE).order_by("pk"))


def demo_assigned_cases() -> list[Case]:
    """The three demo cases with an assigned social worker, for the consent part's demo (one
    valid consent, one withdrawn, one waiting for the second guardian)."""
    return list(
        Case.objects.filter(
            assignments__ended_at__isnull=True,
            assignments__referral__forum__in=_demo_forums(),
        )
        .distinct()
        .order_by("pk")[:3]
    )


def _forums(municipality: Municipality) -> list[Forum]:
    TeamPolicy.objects.get_or_create(municipality=municipality)
    forums = []
    for spec in demo.DISTRICTS:
        district = District.objects.get(municipality=municipality, name=spec.name)
        forum, _made = Forum.objects.get_or_create(
            municipality=municipality,
            district=district,
            defaults={
                "name": f"Remissforum {spec.name}",
                "frequency": Frequency.MONTHLY,
                "weekday": 2,
                "week_of_month": 2,
                "starts_at": datetime.time(13, 0),
                "location": "Socialkontoret, konferensrum Linden",
            },
        )
        forums.append(forum)
    return forums


def _students(school: School, count: int, today: datetime.date) -> list[int]:
    """Students of the school with no case yet and the most absence over the two full months
    a referral reports (so the forum reads figures that explain why the school refers)."""
    last = previous_month(month_start(today))
    rows = (
        MonthlyAbsence.objects.filter(
            student__school=school, month__in=[previous_month(last), last], scheduled_min__gt=0
        )
        .exclude(student__cases__isnull=False)
        .values("student_id")
        .annotate(absent=Sum(F("valid_min") + F("invalid_min")) * 1.0 / Sum("scheduled_min"))
        .order_by("-absent", "student_id")
        .values_list("student_id", flat=True)
    )
    return list(rows[:count])


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def _referrals(forum: Forum, today: datetime.date) -> None:
    staff = {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                *(f"kurator.{key}" for key in SCHOOLS),
                "remissforum.norra",
                "samordnare.norra",
                "socionom.norra",
            ]
        )
    }
    member = staff.get("remissforum.norra")
    coordinator = staff.get("samordnare.norra")
    social_worker = staff.get("socionom.norra")
    if member is None or coordinator is None or social_worker is None:
        return
    schools = {
        key: School.objects.filter(unit_code=demo.school_spec(key).unit_code).first()
        for key in SCHOOLS
    }
    per_school = (len(REFERRALS) + 1) // 2
    chosen = {
        key: _students(school, per_school, today)
        for key, school in schools.items()
        if school is not None
    }
    # Alternate the schools so both get every kind of referral.
    picks = [
        (key, ids[row])
        for row in range(per_school)
        for key, ids in chosen.items()
        if row < len(ids)
    ]
    if len(picks) < len(REFERRALS):
        return

    # The past meeting: the schedule's meeting of about six weeks ago.
    past = (
        ForumMeeting.objects.filter(forum=forum, starts_at__lt=_at(today, 0))
        .exclude(state=MeetingState.CANCELLED)
        .order_by("-starts_at")
        .first()
    )
    upcoming = (
        ForumMeeting.objects.filter(forum=forum, starts_at__gte=_at(today, 0))
        .exclude(state=MeetingState.CANCELLED)
        .order_by("starts_at")
        .first()
    )
    if past is None or upcoming is None:
        return
    past_day = timezone.localtime(past.starts_at).date()
    # Between the two meetings: after the past one, before the next agenda closes.
    window_start = past.starts_at + datetime.timedelta(days=1)
    window_end = min(
        forum_selectors.agenda_closes_at(upcoming), timezone.now()
    ) - datetime.timedelta(hours=1)
    window = max(window_end - window_start, datetime.timedelta(0))
    year = today.year
    made: list[tuple[DemoReferral, Referral, User]] = []
    for index, (spec, (key, student_id)) in enumerate(zip(REFERRALS, picks, strict=False)):
        counsellor = staff[f"kurator.{key}"]
        case = workflow.case_open(
            student=Student.objects.get(pk=student_id), opening=CaseOpening.EHT, by=counsellor
        )
        decided_early = spec.end in {"assigned", "queued", "rejected", "redirected"}
        if decided_early:
            submitted = _at(past_day - datetime.timedelta(days=12 + index), 9)
        else:
            submitted = window_start + window * (index / len(REFERRALS))
        referral = Referral.objects.create(
            number=f"{year}-D{index + 1:02d}",
            case=case,
            forum=forum,
            school=case.school,
            grade=case.student.grade,
            gender=case.student.gender,
            # The same code paths as the school's own referrals: the rollups' last two full
            # months with their periods, and the school's actions as kinds and dates.
            absence=referral_services.absence_of(case.student, today),
            cause_student_view=spec.student_view,
            cause_guardian_view=spec.guardian_view,
            report_of_concern=spec.concern,
            adjustments=spec.adjustments,
            assessment_psychologist=spec.psychologist,
            school_actions=referral_services.school_actions_of(case)
            or [
                {
                    "kind": "eht_decision",
                    "decision": EhtDecisionKind.COUNSELLOR_MAPPING,
                    "date": f"{past_day - datetime.timedelta(days=40):%Y-%m-%d}",
                }
            ],
            expected_help=spec.expected_help,
            created_by=counsellor,
        )
        if spec.end not in {"draft", "submitted"}:
            referral_states.move(referral, "submit", by=counsellor)
            referral.submitted_at = submitted
            referral.submitted_by = counsellor
            referral.save(update_fields=["submitted_at", "submitted_by"])
            workflow.case_refer(case=case, by=counsellor)
        made.append((spec, referral, counsellor))

    # The past meeting decides the early ones, and its minutes are approved.
    services.meeting_prepare_agenda(meeting=past, by=member)
    for spec, referral, _counsellor in made:
        referral.refresh_from_db()
        if referral.meeting_id != past.pk:
            continue
        kind = {
            "assigned": DecisionKind.ACCEPTED,
            "queued": DecisionKind.ACCEPTED,
            "rejected": DecisionKind.REJECTED,
            "redirected": DecisionKind.REDIRECTED,
        }[spec.end]
        services.decision_record(
            referral=referral,
            meeting=past,
            kind=kind,
            decided_on=past_day,
            reason={
                DecisionKind.ACCEPTED: "Frånvaron är omfattande och skolans insatser har inte "
                "räckt. Behovet stämmer med teamets uppdrag.",
                DecisionKind.REJECTED: "Skolan har ännu inte prövat de anpassningar som "
                "elevhälsan föreslagit; teamets insatser är inte nästa steg.",
                DecisionKind.REDIRECTED: "Behovet gäller i första hand psykisk ohälsa som "
                "behöver bedömas av BUP.",
            }[kind],
            accepted_as=AcceptedAs.ASSIGN if spec.end == "assigned" else AcceptedAs.QUEUE,
            social_worker=social_worker if spec.end == "assigned" else None,
            suggestions=REJECT_SUGGESTIONS if spec.end == "rejected" else "",
            redirected_to=RedirectTarget.CAMHS if spec.end == "redirected" else "",
            by=member,
        )
    # Recorded at the meeting: days in the queue and lead times count from its day.
    Referral.objects.filter(meeting=past, decided_at__isnull=False).update(
        decided_at=past.starts_at
    )
    past.refresh_from_db()
    past = services.minutes_save(
        meeting=past,
        present=list(forum_selectors.forum_members(forum)[:3]),
        notes="Fem uppdragsförfrågningar behandlades. Samordnaren fördelar de köade ärendena "
        "när handläggare blir lediga.",
        version=past.version,
        by=member,
    )
    services.minutes_approve(meeting=past, version=past.version, by=member)

    # The next meeting's agenda; one referral withdrawn from it by the school, and one
    # submitted after the agenda was sent (it waits for the meeting after).
    services.meeting_prepare_agenda(meeting=upcoming, by=coordinator)
    for spec, referral, counsellor in made:
        if spec.end == "submitted":
            referral_states.move(referral, "submit", by=counsellor)
            referral.submitted_at = timezone.now()
            referral.submitted_by = counsellor
            referral.save(update_fields=["submitted_at", "submitted_by"])
            workflow.case_refer(case=Case.objects.get(pk=referral.case_id), by=counsellor)
        if spec.end != "withdrawn":
            continue
        referral.refresh_from_db()
        referral_states.move(referral, "withdraw", by=counsellor)
        referral.withdrawn_at = timezone.now()
        referral.withdrawn_reason = "Vårdnadshavarna vill först pröva stöd via elevhälsan."
        referral.meeting = None
        referral.save(update_fields=["withdrawn_at", "withdrawn_reason", "meeting"])
        workflow.case_withdraw(
            case=Case.objects.get(pk=referral.case_id),
            reason="Vårdnadshavarna vill först pröva stöd via elevhälsan.",
            by=counsellor,
        )


def seed_forum(*, today: datetime.date | None = None) -> dict[str, int]:
    from django.test.utils import override_settings

    today = today or timezone.localdate()
    municipality = Municipality.objects.filter(code=demo.MUNICIPALITY_CODE).first()
    if municipality is None:
        return counts()
    with override_settings(EMAIL_BACKEND=LOCMEM_EMAIL), transaction.atomic():
        forums = _forums(municipality)
        for forum in forums:
            services.forum_plan_meetings(
                forum=forum, until=today + datetime.timedelta(weeks=8), today=today
            )
            # The schedule's meeting of last month, for the demo's history.
            services.forum_plan_meetings(
                forum=forum,
                until=today - datetime.timedelta(days=1),
                today=today - datetime.timedelta(days=35),
            )
        if not Referral.objects.filter(forum__in=forums).exists():
            _referrals(forums[0], today)
        seed_consents(today=today)
    return counts()


def counts() -> dict[str, int]:
    in_demo = Q(forum__municipality__code=demo.MUNICIPALITY_CODE)
    return {
        "forums": Forum.objects.filter(municipality__code=demo.MUNICIPALITY_CODE).count(),
        "meetings": ForumMeeting.objects.filter(in_demo).count(),
        "referrals": Referral.objects.filter(in_demo).count(),
        "assigned": Assignment.objects.filter(
            referral__forum__municipality__code=demo.MUNICIPALITY_CODE, ended_at__isnull=True
        ).count(),
        "queued": Referral.objects.filter(in_demo, state=ReferralState.QUEUED).count(),
        "consents": Consent.objects.filter(
            case__referrals__forum__municipality__code=demo.MUNICIPALITY_CODE
        )
        .distinct()
        .count(),
    }


def seed_demo_part(run: demo.DemoRun) -> list[demo.DemoLine]:
    """Only when the attendance part generated school days: they choose the students."""
    if not run.facts.get("attendance_days"):
        return []
    found = seed_forum()
    return [
        demo.DemoLine(
            f"Referral forum: {found['forums']} forums, {found['meetings']} meetings, "
            f"{found['referrals']} referrals ({found['assigned']} assigned, "
            f"{found['queued']} queued); consents on {found['consents']} cases."
        )
    ]


# ---------------------------------------------------------------- consent (DOMAIN.md §4.5)


def _school_staff(case: Case) -> list[User]:
    """Two of the school's staff who work its cases: they book and record in person."""
    return list(access.holders(Capability.WORK_CASES, case.school)[:2])


def _guardians_with_custody(case: Case) -> list[Guardian]:
    return list(
        Guardian.objects.filter(custodies__student=case.student, custodies__has_custody=True)
        .order_by("pk")
        .distinct()
    )


def _consent_for(case: Case, staff: list[User], today: datetime.date, *, give: int) -> Consent:
    """Book the combined meeting, record the consent and ``give`` guardians' consent (and
    the student's own where the municipality's age asks for it, once all guardians gave)."""
    recorder = staff[0]
    meeting = consent_services.family_meeting_book(
        case=case,
        kind=FamilyMeetingKind.COMBINED,
        starts_at=_at(today - datetime.timedelta(days=2), 15),
        location="Skolans konferensrum",
        staff=staff,
        by=recorder,
    )
    # The family said yes at the meeting (the one still waiting for a guardian too: the
    # second guardian was not there and takes the form home).
    consent_services.family_meeting_outcome(
        meeting=meeting,
        outcome=InformationOutcome.YES,
        version=meeting.version,
        by=recorder,
    )
    consent = consent_services.consent_record(
        case=case, scope_student_health=True, by=recorder, today=today
    )
    guardians = _guardians_with_custody(case)
    for guardian in guardians[:give]:
        consent_services.consent_giving_add(
            consent=consent,
            guardian=guardian,
            given_on=today - datetime.timedelta(days=2),
            method=ConsentMethod.IN_PERSON,
            witnesses=staff,
            by=recorder,
            today=today,
        )
    if give >= len(guardians) and consent_status(case, today)["missing_student"]:
        consent_services.consent_giving_add(
            consent=consent,
            by_student=True,
            given_on=today - datetime.timedelta(days=2),
            method=ConsentMethod.IN_PERSON,
            witnesses=staff,
            by=recorder,
            today=today,
        )
    return consent


def seed_consents(*, today: datetime.date | None = None) -> dict[str, int]:
    """Three assigned cases: one with a valid consent, one whose consent a guardian has
    withdrawn, one waiting for the second guardian. Idempotent: once any of them has a
    consent, nothing more is recorded."""
    today = today or timezone.localdate()
    cases = demo_assigned_cases()
    if not cases or Consent.objects.filter(case__in=cases).exists():
        return {"consents": Consent.objects.filter(case__in=cases).count()}
    # The one waiting for a second guardian needs a student with two guardians with custody.
    two = [case for case in cases if len(_guardians_with_custody(case)) >= 2]
    waiting = two[-1] if two else None
    others = [case for case in cases if case != waiting]
    made = 0
    for index, case in enumerate(others[:2]):
        staff = _school_staff(case)
        if len(staff) < 2:
            continue
        consent = _consent_for(case, staff, today, give=len(_guardians_with_custody(case)))
        made += 1
        if index == 1:
            giving = consent.givings.filter(guardian__isnull=False).order_by("pk").first()
            if giving is not None:
                consent_services.consent_withdraw(
                    giving=giving, withdrawn_on=today, by=staff[0], today=today
                )
    if waiting is not None:
        staff = _school_staff(waiting)
        if len(staff) >= 2:
            _consent_for(waiting, staff, today, give=1)
            made += 1
    return {"consents": made}
