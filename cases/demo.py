"""The school's steps in the demo, contributed to ``manage.py seed_demo``.

Mentor checklists, an EHT meeting and decision, school-social mappings with offered times, a
health talk, a counsellor-only note and a principal's step-4 report, written through the
real services. Registered in ``CasesConfig.ready`` (``sst.demo.register``); runs after the
demo attendance (``attendance.demo``), whose alerts and steps choose the students.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from attendance.models import DueKind, MonthlyAbsence
from sst import access, demo
from sst.models import Role, School, Student, User

from . import escalation, workflow
from .checklist import services as checklists
from .eht import services as eht
from .mapping import services as mapping
from .models import (
    Case,
    CauseFactor,
    EhtDecision,
    EhtDecisionKind,
    EhtMeeting,
    Escalation,
    EscalationKind,
    HealthTalk,
    MappingApproval,
    MentorChecklist,
    Note,
    OfferedTime,
    SchoolSocialMapping,
    TimeStatus,
)

STEPS_SCHOOLS = ("ekbacken", "tallangen")  # the first two schools get cases to look at
LOCMEM_EMAIL = "django.core.mail.backends.locmem.EmailBackend"

# The mentor's checklists, in the order the students are chosen: (days back to the talk with
# the student, then with the guardian, answers, comments). The first is followed up with "yes"
# (reported to the EHT), the second's follow-up is overdue, the third's is due next week.
_CHECKLISTS: tuple[tuple[int, int, dict[str, str]], ...] = (
    (
        12,
        11,
        {
            "illness": "no",
            "illness_comment": "Inga kända sjukdomar enligt vårdnadshavare.",
            "thrives": "no",
            "thrives_comment": "Säger att det är jobbigt i klassrummet, särskilt på morgonen.",
            "has_friends": "yes",
            "has_friends_comment": "Har två nära kompisar i parallellklassen.",
            "schoolwork_difficulties": "yes",
            "schoolwork_difficulties_comment": "Ligger efter i matematik och engelska.",
            "pattern": "yes",
            "pattern_comment": "Frånvaron är störst måndagar och första lektionen.",
        },
    ),
    (
        10,
        9,
        {
            "illness": "yes",
            "illness_comment": "Återkommande huvudvärk, vårdnadshavaren har sökt vård.",
            "thrives": "yes",
            "thrives_comment": "Trivs med klassen och idrotten.",
            "has_friends": "yes",
            "has_friends_comment": "",
            "schoolwork_difficulties": "no",
            "schoolwork_difficulties_comment": "Hänger med när hen är på plats.",
            "pattern": "no",
            "pattern_comment": "Spridd frånvaro, inget tydligt mönster.",
        },
    ),
    (
        4,
        3,
        {
            "illness": "no",
            "illness_comment": "",
            "thrives": "yes",
            "thrives_comment": "Trivs, men tycker att raster är stökiga.",
            "has_friends": "no",
            "has_friends_comment": "Har bytt kompisgäng under hösten och känner sig ensam.",
            "schoolwork_difficulties": "no",
            "schoolwork_difficulties_comment": "",
            "pattern": "yes",
            "pattern_comment": "Kommer ofta för sent efter lunch.",
        },
    ),
)
_FOLLOW_UP_COMMENT = "Frånvaron har fortsatt trots samtalen. Anmäler till elevhälsoteamet."
_DECISION_COMMENT = "Kurator erbjuder samtal och gör en skolsocial kartläggning."
_APPROVED_MAPPING: dict[str, Any] = {
    "school_situation": (
        "Tycker att matematiken har blivit svår sedan gruppbytet. Trivs med några lärare men "
        "undviker lektioner där hen riskerar att få frågor inför klassen."
    ),
    "wellbeing": (
        "Sover dåligt, lägger sig sent. Beskriver oro på söndagskvällar och ont i magen på "
        "morgonen innan skolan."
    ),
    "home_and_leisure": (
        "Bor med mamma och en yngre bror. Spelar fotboll två kvällar i veckan och tycker om det."
    ),
    "support_needed": (
        "Vill kunna börja dagen i ett mindre rum och få en planering i matematik. Mamma hjälper "
        "till med morgonrutinerna."
    ),
    "support_wanted": "En vuxen att checka in med på morgonen.",
}
_PENDING_MAPPING: dict[str, Any] = {
    "school_situation": "Känner sig utanför i klassen, framför allt på raster och i grupparbeten.",
    "wellbeing": "Trött och nedstämd under hösten, men tycker om bild och musik.",
    "home_and_leisure": "Flyttade i somras. Har få aktiviteter på fritiden.",
    "support_needed": "Vill ha hjälp att hitta en plats att vara på under rasterna.",
}
_COUNSELLOR_NOTE = (
    "Eleven berättade i förtroende om konflikter hemma. Följer upp vid nästa samtal; "
    "stämmer av med rektor om orosanmälan behövs."
)
_HEALTH_TALK_NOTE = (
    "Hälsosamtal: sömn, kost och huvudvärk. Rekommenderar fasta sovtider och frukost. "
    "Ny kontakt om tre veckor."
)
_ESCALATION_COMMENT = "Månadsrapport: frånvaron över 20 % för andra månaden."


@dataclass
class StepsResult:
    cases: int = 0
    checklists: int = 0
    reported: int = 0
    meetings: int = 0
    decisions: int = 0
    mappings: int = 0
    offered_times: int = 0
    health_talks: int = 0
    notes: int = 0
    escalations: int = 0


def _weekday_back(today: datetime.date, days: int) -> datetime.date:
    day = today - datetime.timedelta(days=days)
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def _next_meeting_day(today: datetime.date) -> datetime.date:
    day = today + datetime.timedelta(days=3)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def seed_school_steps(
    *, today: datetime.date | None = None, schools: tuple[str, ...] = STEPS_SCHOOLS
) -> StepsResult:
    """The school's steps alive, through the real services (audit and chronology included):
    mentor checklists and their follow-ups, an EHT meeting and decision, school-social
    mappings with offered times, a health talk, a counsellor-only note and a principal's
    step-4 report. Needs the attendance (the alerts and steps choose the students).

    Idempotent: each part looks for what an earlier run made before making it. The services'
    e-mail notices go to the in-memory backend: demo data sends nothing.
    """
    from django.test.utils import override_settings

    today = today or timezone.localdate()
    with override_settings(EMAIL_BACKEND=LOCMEM_EMAIL):
        for key in schools:
            with transaction.atomic():
                _school_steps(demo.school_spec(key), today)
    return steps_counts()


def _school_steps(spec: demo.SchoolSpec, today: datetime.date) -> None:
    school = School.objects.filter(unit_code=spec.unit_code).first()
    names = {p: f"{p}.{spec.key}" for p in ("mentor", "rektor", "kurator", "skolskoterska")}
    users = {u.username: u for u in User.objects.filter(username__in=names.values())}
    if school is None or len(users) < len(names):
        return
    mentor, principal, counsellor, nurse = (users[names[p]] for p in names)
    latest = MonthlyAbsence.objects.filter(student__school=school).order_by("-month").first()
    if latest is None:
        return

    # Step 2: the mentor's checklists (made once; later runs find them).
    mentees = access.checklist_students_of(mentor).filter(school=school)
    made = list(
        MentorChecklist.objects.filter(mentor=mentor, case__student__in=mentees)
        .select_related("case__student")
        .order_by("pk")
    )
    if not made:
        candidates = (
            mentees.filter(alerts__due=DueKind.CHECKLIST, alerts__due_done_at__isnull=True)
            .distinct()
            .order_by("pk")[: len(_CHECKLISTS)]
        )
        for index, student in enumerate(candidates):
            student_days, guardian_days, answers = _CHECKLISTS[index]
            checklist = checklists.checklist_submit(
                student=student,
                by=mentor,
                data={
                    "talked_with_student_on": _weekday_back(today, student_days),
                    "talked_with_guardian_on": _weekday_back(today, guardian_days),
                    **answers,
                },
                today=today,
            )
            if index == 0:
                checklist = checklists.checklist_follow_up(
                    checklist=checklist,
                    by=mentor,
                    continued_absence="yes",
                    comment=_FOLLOW_UP_COMMENT,
                    version=checklist.version,
                )
            made.append(checklist)
    used = {c.case.student_id for c in made}

    # The EHT's next meeting.
    if not EhtMeeting.objects.filter(school=school, meets_on__gte=today).exists():
        eht.eht_meeting_schedule(school=school, meets_on=_next_meeting_day(today), by=principal)

    # The reported student: decision, approved mapping, a counsellor-only note.
    reported = next((c for c in made if c.reported_to_eht_at), None)
    if reported is not None and reported.case.is_open:
        case = reported.case
        if not case.eht_decisions.filter(kind=EhtDecisionKind.COUNSELLOR_MAPPING).exists():
            eht.eht_decision_record(
                case=case,
                kind=EhtDecisionKind.COUNSELLOR_MAPPING,
                responsible=counsellor,
                due_on=today + datetime.timedelta(days=14),
                comment=_DECISION_COMMENT,
                by=principal,
            )
        if not SchoolSocialMapping.objects.filter(case=case).exists():
            causes = list(
                CauseFactor.objects.filter(
                    active=True,
                    label__in=["Behov av stöd och anpassning", "Ångestproblematik"],
                )
            )
            record = mapping.mapping_create(
                student=case.student,
                content=mapping.MappingContent(
                    conducted_on=today,
                    absence_kind="systematic",
                    analysis={"absence_increased": "agrees", "worry_about_schoolwork": "partly"},
                    causes=causes,
                    **_APPROVED_MAPPING,
                ),
                by=counsellor,
            )
            mapping.mapping_record_approval(
                mapping=record,
                approval=MappingApproval.APPROVED,
                on=today,
                version=record.version,
                by=counsellor,
            )
        if not Note.objects.filter(case=case, author=counsellor).exists():
            workflow.note_add(
                case=case, text=_COUNSELLOR_NOTE, restricted_to=Role.COUNSELLOR, by=counsellor
            )

    # Step 3: a mapping waiting for the student's approval, two offered times, a health talk.
    pending = (
        SchoolSocialMapping.objects.filter(
            case__student__school=school, counsellor=counsellor, approval=MappingApproval.PENDING
        )
        .select_related("case__student")
        .first()
    )
    step3: Student | None
    if pending is not None:
        step3 = pending.case.student
    else:
        row = (
            MonthlyAbsence.objects.filter(student__school=school, month=latest.month, step=3)
            .exclude(student_id__in=used)
            .select_related("student")
            .order_by("student_id")
            .first()
        )
        step3 = row.student if row else None
        if step3 is not None:
            times = []
            for days, hour in ((8, 10), (5, 13)):
                starts = datetime.datetime.combine(
                    _weekday_back(today, days), datetime.time(hour, 15)
                )
                times.append(
                    mapping.offered_time_book(
                        student=step3, starts_at=timezone.make_aware(starts), by=counsellor
                    )
                )
            mapping.offered_time_mark(
                offered_time=times[0], status=TimeStatus.MISSED, by=counsellor
            )
            mapping.offered_time_mark(
                offered_time=times[1], status=TimeStatus.ATTENDED, by=counsellor
            )
            mapping.mapping_create(
                student=step3,
                content=mapping.MappingContent(
                    conducted_on=timezone.localtime(times[1].starts_at).date(),
                    absence_kind="scattered",
                    causes=list(CauseFactor.objects.filter(active=True, label="Socialt klimat")),
                    **_PENDING_MAPPING,
                ),
                by=counsellor,
            )
    if step3 is not None:
        used.add(step3.pk)
        if not HealthTalk.objects.filter(case__student__school=school, nurse=nurse).exists():
            mapping.health_talk_add(
                student=step3, held_on=_weekday_back(today, 6), note=_HEALTH_TALK_NOTE, by=nurse
            )

    # Step 4: the principal's monthly report to the head of schools.
    reported_this_month = Escalation.objects.filter(
        case__student__school=school,
        kind=EscalationKind.HEAD_OF_SCHOOLS,
        decided_on__gte=today.replace(day=1),
    ).exists()
    if not reported_this_month:
        row = (
            MonthlyAbsence.objects.filter(student__school=school, month=latest.month, step=4)
            .exclude(student_id__in=used)
            .select_related("student")
            .order_by("student_id")
            .first()
        )
        if row is not None:
            escalation.escalation_record(
                student=row.student,
                kind=EscalationKind.HEAD_OF_SCHOOLS,
                decided_on=today,
                comment=_ESCALATION_COMMENT,
                by=principal,
            )


def steps_counts() -> StepsResult:
    """How much of the school's steps the demo schools have now."""
    in_demo = Q(case__student__school__unit_code__in=demo.unit_codes())
    return StepsResult(
        cases=Case.objects.filter(student__school__unit_code__in=demo.unit_codes()).count(),
        checklists=MentorChecklist.objects.filter(in_demo).count(),
        reported=MentorChecklist.objects.filter(in_demo, reported_to_eht_at__isnull=False).count(),
        meetings=EhtMeeting.objects.filter(school__unit_code__in=demo.unit_codes()).count(),
        decisions=EhtDecision.objects.filter(in_demo).count(),
        mappings=SchoolSocialMapping.objects.filter(in_demo).count(),
        offered_times=OfferedTime.objects.filter(in_demo).count(),
        health_talks=HealthTalk.objects.filter(in_demo).count(),
        notes=Note.objects.filter(in_demo).count(),
        escalations=Escalation.objects.filter(in_demo).count(),
    )


# ---------------------------------------------------------------- seed_demo's part


def seed_demo_part(run: demo.DemoRun) -> list[demo.DemoLine]:
    """Only when the attendance part generated school days: they choose the students."""
    if not run.facts.get("attendance_days"):
        return []
    steps = seed_school_steps()
    return [
        demo.DemoLine(
            f"School steps: {steps.cases} cases, {steps.checklists} mentor checklists "
            f"({steps.reported} reported to the EHT), {steps.meetings} EHT meetings, "
            f"{steps.decisions} EHT decisions, {steps.mappings} school-social mappings, "
            f"{steps.offered_times} offered times, {steps.health_talks} health talks, "
            f"{steps.notes} notes, {steps.escalations} step-4 reports."
        )
    ]
