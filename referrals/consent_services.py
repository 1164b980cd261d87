"""Writes of the family's side: consent, its givings and withdrawals, scans, and the
information and start-up meetings (DOMAIN.md §4.5–4.6).

Each service checks the person's part, validates, saves, writes the chronology (no names:
"Consent given by a guardian (1 of 2)") and the audit trail (identifiers only).

Who may:
- record a consent, a giving or a scan: the school (WORK_CASES on the case);
- withdraw a giving: the school, or the assigned social worker while they see the case;
- book a family meeting or record its outcome: the school, or the social worker assigned to
  the case (who may not see the identified case yet: the booking needs no personal data).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import workflow
from cases.models import ENDED_STATES, Case, CaseState, ClosureReason, EventKind
from sst import access, audit, notify
from sst.access import Capability
from sst.models import Custody, Guardian, User

from . import consent as rule
from . import uploads
from .models import (
    ACCEPTED_STATES,
    Consent,
    ConsentGiving,
    ConsentMethod,
    ConsentScan,
    FamilyMeeting,
    FamilyMeetingKind,
    InformationOutcome,
    Referral,
    WorkerNote,
)

INFORMATION_KINDS = frozenset({FamilyMeetingKind.INFORMATION, FamilyMeetingKind.COMBINED})
STARTUP_KINDS = frozenset({FamilyMeetingKind.STARTUP, FamilyMeetingKind.COMBINED})


class NotAllowed(PermissionDenied):
    """The person has no part in this (the page answers 404, audited)."""


# ---------------------------------------------------------------- who may


def works_case(user: User, case: Case) -> bool:
    return Capability.WORK_CASES in access.case_capabilities(user, case)


def is_assigned(user: User, case: Case) -> bool:
    """The user is the social worker assigned to the case now (and still works there)."""
    return rule.assigned_cases(user).filter(pk=case.pk).exists()


def _require_school(user: User, case: Case) -> None:
    if not works_case(user, case):
        raise NotAllowed(Capability.WORK_CASES)


def _require_school_or_assigned(user: User, case: Case) -> None:
    if not (works_case(user, case) or is_assigned(user, case)):
        raise NotAllowed(Capability.WORK_CASES)


def _require_open(case: Case) -> None:
    if case.state in ENDED_STATES:
        raise ValidationError(_("The case is closed."), code="closed")


def _not_in_future(day: datetime.date, today: datetime.date) -> None:
    if day > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")


def current_referral(case: Case) -> Referral | None:
    """The case's accepted referral (the lead times are recorded on it)."""
    return (
        case.referrals.filter(state__in=[state.value for state in ACCEPTED_STATES])
        .order_by("-submitted_at", "-created_at")
        .first()
    )


# ---------------------------------------------------------------- consent


@transaction.atomic
def consent_record(
    *,
    case: Case,
    scope_school_social_services: bool = True,
    scope_student_health: bool = False,
    scope_camhs: bool = False,
    valid_until: datetime.date | None = None,
    student_view: str = "",
    by: User,
    today: datetime.date | None = None,
) -> Consent:
    """A new consent for the case: its scope and how long it lasts (givings come after)."""
    today = today or timezone.localdate()
    _require_school(by, case)
    _require_open(case)
    if valid_until is not None and valid_until < today:
        raise ValidationError(_("“Valid until” cannot be in the past."), code="past")
    consent = Consent(
        case=case,
        scope_school_social_services=scope_school_social_services,
        scope_student_health=scope_student_health,
        scope_camhs=scope_camhs,
        valid_until=valid_until,
        student_view=student_view.strip(),
        recorded_by=by,
    )
    consent.full_clean()
    consent.save()
    workflow.chronicle(
        case=case, kind=EventKind.DOCUMENT, summary=_("Consent form recorded"), by=by, ref=consent
    )
    audit.record_of(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.CONSENT,
        obj=consent,
        case=case,
        school_social_services=scope_school_social_services,
        student_health=scope_student_health,
        camhs=scope_camhs,
    )
    return consent


def _custody_guardian_ids(case: Case) -> set[int]:
    return set(
        Custody.objects.filter(student_id=case.student_id, has_custody=True).values_list(
            "guardian_id", flat=True
        )
    )


@transaction.atomic
def scan_upload(*, consent: Consent, upload: UploadedFile, by: User) -> ConsentScan:
    """Store a scanned, signed form privately, after checking what it really is."""
    case = consent.case
    _require_school(by, case)
    checked = uploads.check_scan(upload)
    scan = ConsentScan(
        consent=consent,
        content_type=checked.content_type,
        size=checked.size,
        uploaded_name=checked.display_name,
        uploaded_by=by,
    )
    scan.file.save(checked.display_name, upload, save=False)
    scan.save()
    workflow.chronicle(
        case=case, kind=EventKind.DOCUMENT, summary=_("Consent scan uploaded"), by=by, ref=scan
    )
    audit.record_of(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.CONSENT_SCAN,
        obj=scan,
        case=case,
        content_type=checked.content_type,
        size=checked.size,
        script=checked.has_script,
    )
    return scan


@transaction.atomic
def consent_giving_add(
    *,
    consent: Consent,
    guardian: Guardian | None = None,
    by_student: bool = False,
    given_on: datetime.date,
    method: str,
    scan: ConsentScan | None = None,
    witnesses: Iterable[User] = (),
    by: User,
    today: datetime.date | None = None,
) -> ConsentGiving:
    """One person's consent: a guardian with custody, or the student's own."""
    today = today or timezone.localdate()
    consent = Consent.objects.select_for_update().select_related("case__student").get(pk=consent.pk)
    case = consent.case
    _require_school(by, case)
    _require_open(case)
    _not_in_future(given_on, today)
    if (guardian is None) == (not by_student):
        raise ValidationError(_("Say who gave the consent."), code="who")
    if consent.givings.filter(withdrawn_on__isnull=False).exists():
        raise ValidationError(
            _("This consent has been withdrawn; record a new consent instead."),
            code="withdrawn",
        )
    custody = _custody_guardian_ids(case)
    if guardian is not None:
        if guardian.pk not in custody:
            raise ValidationError(
                _("Only a guardian with custody of the student gives consent."), code="custody"
            )
        if consent.givings.filter(guardian=guardian).exists():
            raise ValidationError(_("This guardian's consent is already recorded."), code="twice")
    elif consent.givings.filter(by_student=True).exists():
        raise ValidationError(_("The student's consent is already recorded."), code="twice")
    witness_list = list({w.pk: w for w in witnesses}.values())
    if method == ConsentMethod.SIGNED_FORM:
        if scan is None or scan.consent_id != consent.pk:
            raise ValidationError(_("Upload the signed form and choose it."), code="scan")
        witness_list = []
    elif method == ConsentMethod.IN_PERSON:
        if len(witness_list) != 2 or not all(w.is_active for w in witness_list):
            raise ValidationError(
                _("Consent given in person is recorded by two different staff members."),
                code="witnesses",
            )
        scan = None
    else:
        raise ValidationError(_("Say how the consent was given."), code="method")
    giving = ConsentGiving.objects.create(
        consent=consent,
        guardian=guardian,
        by_student=by_student,
        given_on=given_on,
        method=method,
        scan=scan,
        recorded_by=by,
    )
    if witness_list:
        giving.witnessed_by.set(witness_list)
    if by_student:
        summary = _("Consent given by the student")
    else:
        given = consent.givings.filter(guardian_id__in=custody).count()
        summary = _("Consent given by a guardian (%(given)s of %(total)s)") % {
            "given": given,
            "total": len(custody),
        }
    workflow.chronicle(case=case, kind=EventKind.DOCUMENT, summary=summary, by=by, ref=giving)
    audit.record_of(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.CONSENT,
        obj=consent,
        case=case,
        giving=str(giving.public_id),
        method=method,
        by_student=by_student,
    )
    _note_consent_valid(case, by=by, today=today)
    return giving


def _note_consent_valid(case: Case, *, by: User, today: datetime.date) -> None:
    """The lead time "consent valid", the first time a valid consent covers the case."""
    if not rule.consent_valid(case, today):
        return
    referral = current_referral(case)
    if referral is not None and referral.consent_valid_at is None:
        Referral.objects.filter(pk=referral.pk, consent_valid_at__isnull=True).update(
            consent_valid_at=timezone.now()
        )
    workflow.chronicle(
        case=case, kind=EventKind.DOCUMENT, summary=_("The consent is now valid"), by=by
    )


@transaction.atomic
def consent_withdraw(
    *,
    giving: ConsentGiving,
    withdrawn_on: datetime.date,
    by: User,
    today: datetime.date | None = None,
) -> ConsentGiving:
    """A guardian or the student withdraws their consent: the whole consent ends with it
    (the access rule reads it on the next request); a new consent is a new record."""
    today = today or timezone.localdate()
    giving = ConsentGiving.objects.select_related(
        "consent__case__student", "consent__case__school"
    ).get(pk=giving.pk)
    case = giving.consent.case
    held = access.case_capabilities(by, case)
    if not ({Capability.WORK_CASES, Capability.SOCIAL_WORK} & held):
        raise NotAllowed(Capability.WORK_CASES)
    _not_in_future(withdrawn_on, today)
    if withdrawn_on < giving.given_on:
        raise ValidationError(
            _("A consent cannot be withdrawn before it was given."), code="before_given"
        )
    changed = ConsentGiving.objects.filter(pk=giving.pk, withdrawn_on__isnull=True).update(
        withdrawn_on=withdrawn_on,
        withdrawn_recorded_by=by,
        withdrawn_recorded_at=timezone.now(),
    )
    if not changed:
        raise ValidationError(_("This consent is already withdrawn."), code="withdrawn")
    giving.refresh_from_db(
        fields=["withdrawn_on", "withdrawn_recorded_by", "withdrawn_recorded_at"]
    )
    summary = (
        _("Consent withdrawn by the student")
        if giving.by_student
        else _("Consent withdrawn by a guardian")
    )
    workflow.chronicle(case=case, kind=EventKind.DOCUMENT, summary=summary, by=by, ref=giving)
    audit.record_of(
        by=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.CONSENT,
        obj=giving.consent,
        case=case,
        giving=str(giving.public_id),
        withdrawn=True,
    )
    _notify_withdrawal(case)
    return giving


def _notify_withdrawal(case: Case) -> None:
    school = access.holders(Capability.WORK_CASES, case.school)
    assigned = User.objects.filter(
        is_active=True, assignments__case=case, assignments__ended_at__isnull=True
    )
    path = reverse("cases:case_detail", args=[case.public_id])
    for user in {u.pk: u for u in [*school, *assigned]}.values():
        notify.notify(user=user, subject=_("A consent has been withdrawn"), path=path)


# ---------------------------------------------------------------- meetings with the family


@transaction.atomic
def family_meeting_book(
    *,
    case: Case,
    kind: str,
    starts_at: datetime.datetime,
    location: str = "",
    staff: Iterable[User] = (),
    with_student: bool = True,
    with_guardians: bool = True,
    by: User,
) -> FamilyMeeting:
    """Book an information meeting, a start-up meeting, or both at once.

    Booking asks the family for consent: an accepted case moves to "awaiting consent". A
    start-up meeting's time is the referral's lead time "start-up"."""
    case = Case.objects.select_for_update().select_related("student", "school").get(pk=case.pk)
    _require_school_or_assigned(by, case)
    _require_open(case)
    if kind not in FamilyMeetingKind.values:
        raise ValidationError(_("Choose the kind of meeting."), code="kind")
    meeting = FamilyMeeting(
        case=case,
        kind=kind,
        starts_at=starts_at,
        location=location.strip(),
        with_student=with_student,
        with_guardians=with_guardians,
        booked_by=by,
    )
    meeting.full_clean()
    meeting.save()
    meeting.staff.set([user for user in staff if user.is_active])
    workflow.chronicle(
        case=case,
        kind=EventKind.MEETING,
        summary=_("%(meeting)s booked for %(date)s")
        % {
            "meeting": FamilyMeetingKind(kind).label,
            "date": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
        },
        by=by,
        ref=meeting,
    )
    audit.record_of(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.FAMILY_MEETING,
        obj=meeting,
        case=case,
        kind=kind,
    )
    if kind in STARTUP_KINDS:
        referral = current_referral(case)
        if referral is not None:
            Referral.objects.filter(pk=referral.pk).update(startup_at=starts_at)
    if case.state == CaseState.ACCEPTED:
        workflow.case_follow_record(case=case, name="request_consent", by=by)
    return meeting


@transaction.atomic
def family_meeting_outcome(
    *, meeting: FamilyMeeting, outcome: str, note: str = "", version: int, by: User
) -> FamilyMeeting:
    """The family's answer at the information meeting. "Said no" closes the case
    ("declined the offer")."""
    case = (
        Case.objects.select_for_update().select_related("student", "school").get(pk=meeting.case_id)
    )
    _require_school_or_assigned(by, case)
    if meeting.kind not in INFORMATION_KINDS:
        raise ValidationError(
            _("Only an information meeting has the family's answer."), code="kind"
        )
    if outcome not in InformationOutcome.values:
        raise ValidationError(_("Choose the family's answer."), code="outcome")
    note = note.strip()
    FamilyMeeting(outcome_note=note).clean_fields(
        exclude=[f.name for f in FamilyMeeting._meta.fields if f.name != "outcome_note"]
    )
    changed = FamilyMeeting.objects.filter(pk=meeting.pk, version=version).update(
        outcome=outcome, outcome_note=note, held=True, version=F("version") + 1
    )
    if not changed:
        raise workflow.ConcurrentChange(
            _("Someone else changed the meeting just now. Reload the page and try again."),
            code="concurrent",
        )
    meeting.refresh_from_db(fields=["outcome", "outcome_note", "held", "version"])
    workflow.chronicle(
        case=case,
        kind=EventKind.MEETING,
        summary=_("Information meeting held: %(outcome)s")
        % {"outcome": InformationOutcome(outcome).label},
        by=by,
        ref=meeting,
    )
    audit.record_of(
        by=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.FAMILY_MEETING,
        obj=meeting,
        case=case,
        outcome=outcome,
    )
    if outcome == InformationOutcome.NO and case.state not in ENDED_STATES:
        workflow.case_follow_record(
            case=case, name="close", by=by, closure_reason=ClosureReason.DECLINED
        )
    return meeting


@transaction.atomic
def worker_note_add(*, referral: Referral, text: str, by: User) -> WorkerNote:
    """The assigned social worker's own note on the referral: kept beside the anonymous
    referral, read only by its author (it is theirs, with or without a consent)."""
    case = referral.case
    if not is_assigned(by, case):
        raise NotAllowed(Capability.SOCIAL_WORK)
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the note."), code="empty")
    note = WorkerNote(referral=referral, author=by, text=text)
    note.full_clean()
    note.save()
    audit.record_of(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.WORKER_NOTE,
        obj=note,
        case=case,
        referral=str(referral.public_id),
    )
    return note
