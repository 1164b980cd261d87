"""Writes of the mentor checklist: the mentor fills it in (a copy goes to the principal),
follows up one week later and may report the student to the student health team (EHT),
whose members record who contacts the guardian and who gives the mentor feedback.

Services take keyword-only arguments; they chronicle, audit and notify after commit. The
follow-up and the EHT part are saved with an optimistic version check.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from attendance import services as attendance_services
from attendance.models import Alert, DueKind
from sst import audit, notify, textlimits
from sst.access import Capability
from sst.models import Student, User

from ..models import EventKind, MentorChecklist, YesNo
from ..workflow import ConcurrentChange, TransitionRefused, case_for_staircase_work, chronicle
from .selectors import holders_of, staff_of_school
from .texts import (
    ANSWER_FIELDS,
    CHECKLIST_FIELDS,
    EHT_FIELDS,
    FOLLOW_UP_AFTER,
    FOLLOW_UP_FIELDS,
    TALKS_REACH_BACK,
)


def _audit(
    checklist: MentorChecklist, by: User | None, action: audit.AuditAction, **detail: Any
) -> None:
    audit.record(
        user=by,
        action=action,
        object_type=audit.AuditObjectType.MENTOR_CHECKLIST,
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


def checklist_errors(values: dict[str, Any], today: datetime.date) -> dict[str, ValidationError]:
    """What a checklist needs before it goes to the principal, field by field: both talks
    held and dated (not in the future, nor longer back than ``TALKS_REACH_BACK`` — a
    mistyped year, most often), the five questions answered and the mentor named (Trosa
    004, appendix 1: the mentor has talked with the student and the guardian)."""
    errors: dict[str, ValidationError] = {}
    talks = {
        "talked_with_student_on": _("Give the date of the talk with the student."),
        "talked_with_guardian_on": _("Give the date of the talk with the guardian."),
    }
    for name, missing in talks.items():
        day = values.get(name)
        if not day:
            errors[name] = ValidationError(missing, code="required")
        elif day > today:
            errors[name] = ValidationError(
                _("A talk cannot be dated in the future."), code="future"
            )
        elif day < today - TALKS_REACH_BACK:
            errors[name] = ValidationError(
                _("The talk cannot be dated before %(date)s: a checklist records recent talks.")
                % {"date": f"{today - TALKS_REACH_BACK:%Y-%m-%d}"},
                code="too_old",
            )
    for answer in ANSWER_FIELDS:
        if values.get(answer) not in YesNo.values:
            errors[answer] = ValidationError(_("Answer yes or no."), code="required")
    if not str(values.get("mentor_name") or "").strip():
        errors["mentor_name"] = ValidationError(_("Give the mentor's name."), code="required")
    return errors


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
    open_alerts = list(
        Alert.objects.select_for_update()
        .filter(student=student, due=DueKind.CHECKLIST, due_done_at__isnull=True)
        .order_by("-period_end", "-pk")
    )
    followed_up = alert or (open_alerts[0] if open_alerts else None)
    values: dict[str, Any] = {name: data.get(name) for name in CHECKLIST_FIELDS}
    for name, value in values.items():
        if value is None and not name.endswith("_on"):
            values[name] = ""
    values["mentor_name"] = (
        str(values["mentor_name"] or "").strip() or by.get_full_name() or by.username
    )
    # Only a complete checklist goes to the principal, whatever the form let through.
    errors = checklist_errors(values, today)
    if errors:
        raise ValidationError(errors)  # type: ignore[arg-type]
    talks = [values["talked_with_student_on"], values["talked_with_guardian_on"]]
    talked_on = max(day for day in talks if day is not None)
    case = case_for_staircase_work(student=student, by=by)
    now = timezone.now()
    checklist = MentorChecklist(
        case=case,
        alert=followed_up,
        mentor=by,
        follow_up_due_on=talked_on + FOLLOW_UP_AFTER,
        **values,
    )
    checklist.full_clean(exclude=["case", "alert", "mentor"])
    checklist.save()
    done = {a.pk for a in open_alerts} | ({alert.pk} if alert and not alert.due_done_at else set())
    if done:
        Alert.objects.filter(pk__in=done).update(due_done_at=now)
    # Done by doing it: the checklist closes the task for every mentor who had it.
    attendance_services.tasks_done(student=student, tasks=[DueKind.CHECKLIST], by=by)
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
        holders_of(Capability.RECEIVE_CHECKLIST_COPY, student.school),
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
    textlimits.check_fields(MentorChecklist, {"follow_up_comment": comment})
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
        attendance_services.tasks_done(student=case.student, tasks=[DueKind.REPORT_TO_EHT], by=by)
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
            holders_of(Capability.RECORD_EHT, case.student.school),
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
    textlimits.check_fields(MentorChecklist, {"eht_comment": comment})
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
    reported_on = timezone.localdate(checklist.reported_to_eht_at)
    for field, day in (("guardian_contact_on", guardian_contact_on), ("feedback_on", feedback_on)):
        if day is not None and day < reported_on:
            errors[field] = ValidationError(
                _(
                    "The date cannot be before the student was reported to the student health "
                    "team (%(date)s)."
                )
                % {"date": f"{reported_on:%Y-%m-%d}"},
                code="before_report",
            )
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
                holders_of(Capability.WRITE_CHECKLIST, checklist.case.student),
                subject,
                reverse("cases:checklist_follow_up", args=[checklist.public_id]),
                except_user=None,
            )
            _audit(checklist, None, audit.AuditAction.UPDATE, part="reminder", notified=sent)
            reminded += 1
    return reminded
