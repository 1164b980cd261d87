"""The mentor checklist at repeated absence (Trosa 004, appendix 1): services and selectors.

Staircase step 2. The mentor talks with the student and the guardian and fills in the
checklist; a copy goes to the principal and a follow-up is due one week later. If the
absence continues the mentor reports the student to the student health team (EHT), whose
members then record who contacts the guardian and who gives the mentor feedback.

Reads start from the access policy (``sst.access``): the mentor writes for their own mentor
groups' students (``checklist_students_of``), the principal and student-health staff of the
school read (``cases_visible_to``), everyone else gets a 404 that is audited. Writes are
services with keyword-only arguments; they chronicle, audit and notify after commit. The
follow-up and the EHT part are saved with an optimistic version check.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from attendance import selectors as absence_selectors
from attendance import services as attendance_services
from attendance.models import Alert, AlertRecipient, DueKind, Lesson
from attendance.rollup import AbsenceFigures, absence_between, month_start
from sst import access, audit, notify
from sst.access import Capability
from sst.models import School, User

from .models import EventKind, MentorChecklist, Student, YesNo
from .workflow import ConcurrentChange, TransitionRefused, case_for_staircase_work, chronicle

# The five questions of the paper form, in its order: (answer field, comment field).
QUESTIONS = (
    ("illness", "illness_comment"),
    ("thrives", "thrives_comment"),
    ("has_friends", "has_friends_comment"),
    ("schoolwork_difficulties", "schoolwork_difficulties_comment"),
    ("pattern", "pattern_comment"),
)
ANSWER_FIELDS = tuple(answer for answer, _comment in QUESTIONS)
CHECKLIST_FIELDS = (
    "mentor_name",
    "talked_with_student_on",
    "talked_with_guardian_on",
    *(name for pair in QUESTIONS for name in pair),
)
FOLLOW_UP_FIELDS = (
    "continued_absence",
    "follow_up_comment",
    "follow_up_done_at",
    "reported_to_eht_at",
)
EHT_FIELDS = (
    "eht_guardian_contact_by",
    "eht_guardian_contact_on",
    "eht_feedback_by",
    "eht_feedback_on",
    "eht_no_further_follow_up",
    "eht_comment",
    "eht_recorded_at",
)
FOLLOW_UP_AFTER = datetime.timedelta(days=7)
# Follow-ups due within this many days count as "soon" on the desk.
SOON_DAYS = 3
PANEL_LIMIT = 50
RECENT_COPIES_DAYS = 14
OBJECT_TYPE = "mentor_checklist"


# ---------------------------------------------------------------- selectors


def _denied(user: access.AnyUser, object_type: str, object_id: object) -> Http404:
    audit.record(
        user=user,
        action=audit.AuditAction.ACCESS_DENIED,
        object_type=object_type,
        object_id=str(object_id)[:64],
    )
    return Http404()


def readable_checklists(user: access.AnyUser) -> QuerySet[MentorChecklist]:
    """Checklists the user may read: their mentees' (mentor) or their school's (case readers)."""
    return MentorChecklist.objects.filter(
        Q(case__student__in=access.checklist_students_of(user).values("pk"))
        | Q(case__in=access.cases_visible_to(user).values("pk"))
    )


def writable_checklists(user: access.AnyUser) -> QuerySet[MentorChecklist]:
    """Checklists whose one-week follow-up the user may record: their own mentees'."""
    return MentorChecklist.objects.filter(
        case__student__in=access.checklist_students_of(user).values("pk")
    )


def _one(queryset: QuerySet[MentorChecklist], public_id: uuid.UUID | str) -> MentorChecklist | None:
    try:
        return (
            queryset.select_related("case__student__school", "case__student__mentor_group", "alert")
            .filter(public_id=public_id)
            .first()
        )
    except ValidationError:  # not a UUID
        return None


def checklist_for_reader(user: access.AnyUser, public_id: uuid.UUID | str) -> MentorChecklist:
    """The checklist, if the user may read it; otherwise 404 (audited)."""
    checklist = _one(readable_checklists(user), public_id)
    if checklist is None:
        raise _denied(user, OBJECT_TYPE, public_id)
    return checklist


def checklist_for_mentor(user: access.AnyUser, public_id: uuid.UUID | str) -> MentorChecklist:
    """The checklist, if it is about one of the user's mentees; otherwise 404 (audited)."""
    checklist = _one(writable_checklists(user), public_id)
    if checklist is None:
        raise _denied(user, OBJECT_TYPE, public_id)
    return checklist


def checklist_for_eht(
    user: access.AnyUser, public_id: uuid.UUID | str
) -> tuple[MentorChecklist, str]:
    """The checklist and the user's EHT role at its school, or 404 (audited by the policy)."""
    checklist = checklist_for_reader(user, public_id)
    role = access.require(user, Capability.RECORD_EHT, checklist.case.student)
    return checklist, role


def student_for_checklist_writer(user: access.AnyUser, public_id: uuid.UUID | str) -> Student:
    """One of the user's own mentees, whose checklist they may write; otherwise 404 (audited)."""
    try:
        student = (
            access.checklist_students_of(user)
            .select_related("school", "mentor_group")
            .filter(public_id=public_id)
            .first()
        )
    except ValidationError:
        student = None
    if student is None:
        raise _denied(user, "student", public_id)
    return student


def may_write_for(user: access.AnyUser, student: Student) -> bool:
    return access.checklist_students_of(user).filter(pk=student.pk).exists()


def may_record_eht_part(user: access.AnyUser, student: Student) -> bool:
    return access.holds(user, Capability.RECORD_EHT, student)


def checklist_alert_for(user: access.AnyUser, student: Student, alert_id: uuid.UUID | str) -> Alert:
    """The student's checklist alert named in the link, for one of the user's mentees; or 404."""
    try:
        alert = Alert.objects.filter(
            public_id=alert_id,
            student=student,
            due=DueKind.CHECKLIST,
            student__in=access.checklist_students_of(user).values("pk"),
        ).first()
    except ValidationError:
        alert = None
    if alert is None:
        raise _denied(user, "absence_alert", alert_id)
    return alert


def student_checklists(user: access.AnyUser, student: Student) -> list[MentorChecklist]:
    """The student's checklists the user may read, newest first: one query."""
    return list(
        readable_checklists(user)
        .filter(case__student=student)
        .select_related("case")
        .order_by("-created_at", "-pk")
    )


def staff_of_school(school: School) -> QuerySet[User]:
    """Who can take on student-health work at the school today: its principal and student
    health team, and the mentors of its groups."""
    return access.holders(Capability.BE_RESPONSIBLE_FOR_EHT_DECISIONS, school, within=True)


def _holders(capability: Capability, place: Any) -> list[User]:
    return list(access.holders(capability, place).order_by("pk"))


# ---------------------------------------------------------------- absence for the forms


@dataclass(frozen=True)
class PatternHint:
    """Where the absence is highest: a hint for question 5, with the period it covers."""

    start: datetime.date
    end: datetime.date
    weekday: tuple[int, AbsenceFigures] | None
    subject: tuple[str, AbsenceFigures] | None


def _lessons_of(student: Student) -> QuerySet[Lesson]:
    return Lesson.objects.filter(student=student)


def month_absence(student: Student, today: datetime.date) -> AbsenceFigures:
    """This month's absence so far (one query)."""
    return absence_between(_lessons_of(student), month_start(today), today)


def week_absence(checklist: MentorChecklist, today: datetime.date) -> AbsenceFigures:
    """Absence in the week the follow-up looks at: from the talk (or the checklist) to the
    day the follow-up is due, or to today if that comes first (one query)."""
    start = checklist.follow_up_due_on - FOLLOW_UP_AFTER
    end = max(start, min(checklist.follow_up_due_on, today))
    return absence_between(_lessons_of(checklist.case.student), start, end)


def _highest(rows: list[tuple[Any, AbsenceFigures]]) -> tuple[Any, AbsenceFigures] | None:
    absent = [(key, fig) for key, fig in rows if fig.absent_min > 0]
    if not absent:
        return None
    return max(absent, key=lambda row: (row[1].absent_pct, row[1].absent_min))


def pattern_hint(student: Student, today: datetime.date) -> PatternHint:
    """The weekday and subject with the highest absence since the start of last month."""
    start = absence_selectors.previous_month(month_start(today))
    patterns = absence_selectors.absence_patterns(student, start, today)
    return PatternHint(
        start=start,
        end=today,
        weekday=_highest(patterns.weekdays),
        subject=_highest(patterns.subjects),
    )


# ---------------------------------------------------------------- desk panels' reads


@dataclass(frozen=True)
class DueFollowUp:
    checklist: MentorChecklist
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left

    @property
    def due_today(self) -> bool:
        return self.days_left == 0

    @property
    def soon(self) -> bool:
        return 0 < self.days_left <= SOON_DAYS


@dataclass(frozen=True)
class MentorChecklistDesk:
    to_fill_in: list[Alert]
    follow_ups: list[DueFollowUp]

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.follow_ups if row.overdue)


def mentor_checklist_desk(user: access.AnyUser, today: datetime.date) -> MentorChecklistDesk:
    """The mentor's checklist alerts still to act on and follow-ups not yet done: two queries."""
    mentees = access.checklist_students_of(user).values("pk")
    to_fill_in = list(
        Alert.objects.filter(student__in=mentees, due=DueKind.CHECKLIST, due_done_at__isnull=True)
        .select_related("student__mentor_group")
        .order_by("-period_end", "student__last_name", "student__first_name", "pk")[:PANEL_LIMIT]
    )
    pending = (
        MentorChecklist.objects.filter(case__student__in=mentees, follow_up_done_at__isnull=True)
        .select_related("case__student__mentor_group")
        .order_by("follow_up_due_on", "pk")[:PANEL_LIMIT]
    )
    return MentorChecklistDesk(
        to_fill_in=to_fill_in,
        follow_ups=[DueFollowUp(c, (c.follow_up_due_on - today).days) for c in pending],
    )


@dataclass(frozen=True)
class EhtChecklistDesk:
    reported: list[MentorChecklist]
    recent: list[MentorChecklist]


def eht_checklist_desk(user: access.AnyUser, now: datetime.datetime) -> EhtChecklistDesk:
    """For the principal and student-health staff: students reported to the EHT whose EHT
    follow-up is not recorded yet, and the latest checklist copies: two queries."""
    school_cases = MentorChecklist.objects.filter(
        case__in=access.cases_visible_to(user).values("pk")
    ).select_related("case__student__mentor_group", "case__student__school")
    reported = list(
        school_cases.filter(
            reported_to_eht_at__isnull=False, eht_recorded_at__isnull=True
        ).order_by("reported_to_eht_at", "pk")[:PANEL_LIMIT]
    )
    recent = list(
        school_cases.filter(
            created_at__gte=now - datetime.timedelta(days=RECENT_COPIES_DAYS)
        ).order_by("-created_at", "-pk")[:PANEL_LIMIT]
    )
    return EhtChecklistDesk(reported=reported, recent=recent)


# ---------------------------------------------------------------- services


def _audit(checklist: MentorChecklist, by: User | None, action: str, **detail: Any) -> None:
    audit.record(
        user=by,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(checklist.public_id),
        student_id=checklist.case.student.public_id,
        detail=detail,
    )


def _detail_path(checklist: MentorChecklist) -> str:
    return reverse("cases:checklist_detail", args=[checklist.public_id])


def _notify_all(users: list[User], subject: str, path: str, *, except_user: User | None) -> int:
    count = 0
    for user in users:
        if except_user is not None and user.pk == except_user.pk:
            continue
        notify.notify(user=user, subject=subject, path=path)
        count += 1
    return count


def _site_language() -> translation.override:
    """Notices go out in the site's language, whoever triggered them."""
    return translation.override(settings.LANGUAGE_CODE)


def _validate_talk_dates(data: dict[str, Any], today: datetime.date) -> None:
    errors = {
        name: ValidationError(_("A talk cannot be dated in the future."), code="future")
        for name in ("talked_with_student_on", "talked_with_guardian_on")
        if data.get(name) and data[name] > today
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def checklist_submit(
    *,
    student: Student,
    by: User,
    data: dict[str, Any],
    alert: Alert | None = None,
    today: datetime.date | None = None,
) -> MentorChecklist:
    """Save the mentor's checklist on the student's case (opened now if none is open).

    The follow-up is due a week after the latest talk (or today); the student's open
    checklist alerts are marked done; the principal(s) of the school get a content-free
    notice with a link to their copy.
    """
    today = today or timezone.localdate()
    if alert is not None and (alert.student_id != student.pk or alert.due != DueKind.CHECKLIST):
        raise ValidationError(_("The alert is not a checklist alert for this student."))
    _validate_talk_dates(data, today)
    talks = [data.get("talked_with_student_on"), data.get("talked_with_guardian_on")]
    talked_on = max([day for day in talks if day] or [today])
    case = case_for_staircase_work(student=student, by=by)
    now = timezone.now()
    open_alerts = list(
        Alert.objects.select_for_update()
        .filter(student=student, due=DueKind.CHECKLIST, due_done_at__isnull=True)
        .order_by("-period_end", "-pk")
    )
    values = {name: data.get(name) for name in CHECKLIST_FIELDS}
    for name, value in values.items():
        if value is None and not name.endswith("_on"):
            values[name] = ""
    values["mentor_name"] = (
        str(values["mentor_name"] or "").strip() or by.get_full_name() or by.username
    )
    checklist = MentorChecklist(
        case=case,
        alert=alert or (open_alerts[0] if open_alerts else None),
        mentor=by,
        follow_up_due_on=talked_on + FOLLOW_UP_AFTER,
        **values,
    )
    checklist.full_clean(exclude=["case", "alert", "mentor"])
    checklist.save()
    done = {a.pk for a in open_alerts} | ({alert.pk} if alert and not alert.due_done_at else set())
    if done:
        Alert.objects.filter(pk__in=done).update(due_done_at=now)
        for recipient in AlertRecipient.objects.filter(
            alert_id__in=done, user=by, acknowledged_at__isnull=True
        ).select_related("alert__student"):
            attendance_services.alert_acknowledge(recipient=recipient, by=by)
    chronicle(
        case=case,
        kind=EventKind.CHECKLIST,
        summary=_("Mentor checklist filled in; follow-up due %(date)s")
        % {"date": checklist.follow_up_due_on.isoformat()},
        by=by,
        ref=checklist,
    )
    with _site_language():
        subject = _("A copy of a mentor checklist has arrived")
    notified = _notify_all(
        _holders(Capability.RECEIVE_CHECKLIST_COPY, student.school),
        subject,
        _detail_path(checklist),
        except_user=None,
    )
    if notified:
        checklist.principal_notified_at = now
        checklist.save(update_fields=["principal_notified_at"])
    _audit(
        checklist,
        by,
        audit.AuditAction.CREATE,
        case=str(case.public_id),
        alerts_done=len(done),
        principals_notified=notified,
    )
    return checklist


def _stale(checklist: MentorChecklist) -> ConcurrentChange:
    return ConcurrentChange(
        _(
            "Someone else changed this checklist after you opened it. Nothing was saved: "
            "reload the page to see the change, then try again."
        ),
        code="concurrent",
    )


@transaction.atomic
def checklist_follow_up(
    *,
    checklist: MentorChecklist,
    by: User,
    continued_absence: str,
    comment: str,
    version: int,
) -> MentorChecklist:
    """The mentor's follow-up one week on. "Yes" (continued repeated absence) reports the
    student to the student health team, whose members get a content-free notice."""
    if continued_absence not in YesNo.values:
        raise ValidationError({"continued_absence": _("Answer yes or no.")}, code="required")
    now = timezone.now()
    reported = continued_absence == YesNo.YES
    changed = MentorChecklist.objects.filter(
        pk=checklist.pk, version=version, follow_up_done_at__isnull=True
    ).update(
        continued_absence=continued_absence,
        follow_up_comment=comment,
        follow_up_done_at=now,
        reported_to_eht_at=now if reported else None,
        version=F("version") + 1,
    )
    if not changed:
        checklist.refresh_from_db(fields=["version", "follow_up_done_at"])
        if checklist.version != version:
            raise _stale(checklist)
        raise TransitionRefused(_("The follow-up is already recorded."), code="done")
    checklist.refresh_from_db(fields=[*FOLLOW_UP_FIELDS, "version"])
    case = checklist.case
    chronicle(
        case=case,
        kind=EventKind.FOLLOW_UP,
        summary=_("Checklist follow-up: continued repeated absence – %(answer)s")
        % {"answer": YesNo(continued_absence).label},
        by=by,
        ref=checklist,
    )
    notified = 0
    if reported:
        chronicle(
            case=case,
            kind=EventKind.FOLLOW_UP,
            summary=_("Reported to the student health team (EHT) by the mentor"),
            by=by,
            ref=checklist,
        )
        with _site_language():
            subject = _("A student has been reported to the student health team")
        notified = _notify_all(
            _holders(Capability.RECORD_EHT, case.student.school),
            subject,
            _detail_path(checklist),
            except_user=by,
        )
    _audit(
        checklist,
        by,
        audit.AuditAction.UPDATE,
        part="follow_up",
        reported_to_eht=reported,
        eht_notified=notified,
    )
    return checklist


@transaction.atomic
def checklist_eht_record(
    *,
    checklist: MentorChecklist,
    by: User,
    guardian_contact_by: User | None,
    guardian_contact_on: datetime.date | None,
    feedback_by: User | None,
    feedback_on: datetime.date | None,
    no_further_follow_up: bool,
    comment: str,
    version: int,
) -> MentorChecklist:
    """The student health team's part: who contacts the guardian and when, who gives the
    mentor feedback and when, or that no further follow-up is needed. May be updated."""
    if checklist.reported_to_eht_at is None:
        raise TransitionRefused(
            _("The student has not been reported to the student health team."), code="state"
        )
    errors: dict[str, ValidationError] = {}
    if guardian_contact_on and guardian_contact_by is None:
        errors["guardian_contact_by"] = ValidationError(_("Say who contacts the guardian."))
    if feedback_on and feedback_by is None:
        errors["feedback_by"] = ValidationError(_("Say who gives the mentor feedback."))
    staff = staff_of_school(checklist.case.student.school)
    for field, person in (
        ("guardian_contact_by", guardian_contact_by),
        ("feedback_by", feedback_by),
    ):
        if person is not None and not staff.filter(pk=person.pk).exists():
            errors[field] = ValidationError(_("Choose a member of staff at the student's school."))
    if errors:
        raise ValidationError(errors)
    if not (guardian_contact_by or feedback_by or no_further_follow_up):
        raise ValidationError(
            _(
                "Say who contacts the guardian or gives the mentor feedback, or that no "
                "further follow-up is needed."
            ),
            code="empty",
        )
    now = timezone.now()
    changed = MentorChecklist.objects.filter(pk=checklist.pk, version=version).update(
        eht_guardian_contact_by=guardian_contact_by,
        eht_guardian_contact_on=guardian_contact_on,
        eht_feedback_by=feedback_by,
        eht_feedback_on=feedback_on,
        eht_no_further_follow_up=no_further_follow_up,
        eht_comment=comment,
        eht_recorded_at=now,
        version=F("version") + 1,
    )
    if not changed:
        raise _stale(checklist)
    first_time = checklist.eht_recorded_at is None
    checklist.refresh_from_db(fields=[*EHT_FIELDS, "version"])
    chronicle(
        case=checklist.case,
        kind=EventKind.FOLLOW_UP,
        summary=(
            _("Student health team follow-up: no further follow-up needed")
            if no_further_follow_up and not (guardian_contact_by or feedback_by)
            else _("Student health team follow-up recorded")
        )
        if first_time
        else _("Student health team follow-up changed"),
        by=by,
        ref=checklist,
    )
    named = {p.pk: p for p in (guardian_contact_by, feedback_by) if p is not None}
    with _site_language():
        subject = _("You have been named in a student health team follow-up")
    notified = _notify_all(
        list(named.values()),
        subject,
        _detail_path(checklist),
        except_user=by,
    )
    _audit(
        checklist,
        by,
        audit.AuditAction.UPDATE,
        part="eht",
        no_further_follow_up=no_further_follow_up,
        named_notified=notified,
    )
    return checklist


def follow_up_reminders_send(*, today: datetime.date | None = None) -> int:
    """Remind the student's mentors of each follow-up that is due and not yet done, once.

    Idempotent: a checklist is claimed by setting ``follow_up_reminded_at`` before anyone is
    notified, so a second run (or two at once) sends nothing more. Returns how many
    checklists were reminded about.
    """
    today = today or timezone.localdate()
    due = (
        MentorChecklist.objects.filter(
            follow_up_done_at__isnull=True,
            follow_up_reminded_at__isnull=True,
            follow_up_due_on__lte=today,
        )
        .select_related("case__student")
        .order_by("follow_up_due_on", "pk")
    )
    reminded = 0
    for checklist in due.iterator():
        with transaction.atomic():
            claimed = MentorChecklist.objects.filter(
                pk=checklist.pk, follow_up_reminded_at__isnull=True
            ).update(follow_up_reminded_at=timezone.now())
            if not claimed:
                continue
            with _site_language():
                subject = _("A checklist follow-up is due")
            sent = _notify_all(
                _holders(Capability.WRITE_CHECKLIST, checklist.case.student),
                subject,
                reverse("cases:checklist_follow_up", args=[checklist.public_id]),
                except_user=None,
            )
            _audit(checklist, None, audit.AuditAction.UPDATE, part="reminder", notified=sent)
            reminded += 1
    return reminded
