"""Writes of the referral as the school writes it (issue 10): create a draft, save it,
submit it, withdraw it, revise a rejected one; and the coordinator's registration of a
referral from the student, a guardian or social services.

Every service checks who may (the case's ``WRITE_REFERRAL``: the student's mentor, the
counsellor, the principal; the coordinator's ``COORDINATE`` at the student's school),
runs the anonymity check (``anonymity.py``) on every save and on submit, moves the referral
through its table (``referral_states.move``) and the case with it (``cases.workflow``), in
one transaction, and writes the case chronology and the audit trail (identifiers only).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance.models import MonthlyAbsence, next_month
from attendance.rollup import month_start
from attendance.selectors import previous_month
from cases import workflow
from cases.models import (
    ENDED_STATES,
    Case,
    CaseOpening,
    CaseState,
    EhtDecision,
    EventKind,
    MentorChecklist,
    SchoolSocialMapping,
)
from sst import access, audit, textlimits
from sst.access import Capability
from sst.models import School, Student, User

from . import anonymity, consent, referral_states
from .models import (
    Answer,
    ConsentTiming,
    Forum,
    ForumScope,
    Referral,
    ReferralCounter,
    ReferralOrigin,
    ReferralState,
    TeamPolicy,
)

# A case has at most one referral in these states at a time.
ACTIVE_STATES = frozenset(
    {
        ReferralState.DRAFT,
        ReferralState.SUBMITTED,
        ReferralState.ON_AGENDA,
        ReferralState.QUEUED,
        ReferralState.ASSIGNED,
    }
)


class ReferralRefused(ValidationError):
    """The referral cannot be written, submitted, withdrawn or revised now (says why)."""


@dataclass(frozen=True)
class ReferralContent:
    """What the writer types; the form converts, the services check and save."""

    cause_student_view: str = ""
    cause_guardian_view: str = ""
    report_of_concern: str = Answer.UNKNOWN
    adjustments: str = ""
    assessment_psychologist: bool = False
    assessment_speech: bool = False
    assessment_other: str = ""
    school_actions_comment: str = ""
    expected_help: str = ""

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def of(cls, referral: Referral) -> ReferralContent:
        return cls(**{f.name: getattr(referral, f.name) for f in fields(cls)})


CONTENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ReferralContent))


# ---------------------------------------------------------------- what the services fill in


def absence_of(student: Student, today: datetime.date | None = None) -> list[dict[str, Any]]:
    """The last two full months before ``today``, oldest first: total, valid and invalid
    absence in per cent, read from the monthly rollup (``MonthlyAbsence``: the figures every
    other page shows), each with its period. A month without lessons has no percentages."""
    today = today or timezone.localdate()
    last = previous_month(month_start(today))
    months = [previous_month(last), last]
    rows = {
        row.month: row
        for row in MonthlyAbsence.objects.filter(student=student, month__in=months)
        .at_current_school()
        .only("month", "scheduled_min", "valid_min", "invalid_min")
    }
    result = []
    for month in months:
        row = rows.get(month)
        scheduled = row.scheduled_min if row is not None else 0
        entry: dict[str, Any] = {
            "month": month.isoformat(),
            "start": month.isoformat(),
            "end": (next_month(month) - datetime.timedelta(days=1)).isoformat(),
            "scheduled_min": scheduled,
            "total_pct": None,
            "valid_pct": None,
            "invalid_pct": None,
        }
        if row is not None and scheduled:
            entry["total_pct"] = str(row.absent_pct)
            entry["valid_pct"] = str(row.valid_pct)
            entry["invalid_pct"] = str(row.invalid_pct)
        result.append(entry)
    return result


def school_actions_of(case: Case) -> list[dict[str, str]]:
    """The checklist, the mapping and the student health team's decisions of the case (and
    of the case it follows), as kinds and dates only — never their content."""
    cases = [case.pk] + ([case.previous_case_id] if case.previous_case_id else [])
    actions: list[dict[str, str]] = []
    for created_at in MentorChecklist.objects.filter(case__in=cases).values_list(
        "created_at", flat=True
    ):
        actions.append(
            {"kind": "mentor_checklist", "date": timezone.localdate(created_at).isoformat()}
        )
    for conducted_on, created_at in SchoolSocialMapping.objects.filter(case__in=cases).values_list(
        "conducted_on", "created_at"
    ):
        day = conducted_on or timezone.localdate(created_at)
        actions.append({"kind": "mapping", "date": day.isoformat()})
    for kind, decided_on in EhtDecision.objects.filter(case__in=cases).values_list(
        "kind", "decided_on"
    ):
        actions.append({"kind": "eht_decision", "decision": kind, "date": decided_on.isoformat()})
    return sorted(actions, key=lambda action: (action["date"], action["kind"]))


def forum_for(school: School) -> Forum:
    """The forum deciding on the school's referrals: the district's, or the municipality's
    (``TeamPolicy.forum_scope``); refused with a clear message if none is set up."""
    municipality_id = school.district.municipality_id
    policy = TeamPolicy.objects.filter(municipality_id=municipality_id).first()
    scope = policy.forum_scope if policy is not None else ForumScope.DISTRICT
    if scope == ForumScope.DISTRICT:
        forum = Forum.objects.filter(district_id=school.district_id).first()
    else:
        forum = Forum.objects.filter(municipality_id=municipality_id, district__isnull=True).first()
    if forum is None:
        raise ReferralRefused(
            _(
                "No referral forum is set up for this school yet, so a referral cannot be "
                "written. Ask the municipality's administrator to set up the forum."
            ),
            code="no_forum",
        )
    return forum


def next_number(municipality_id: int, year: int) -> str:
    """The next number of the municipality's year ("2026-0014"): the counter row is locked
    while it is counted up, so two referrals written at once never share a number."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                counter, _created = ReferralCounter.objects.select_for_update().get_or_create(
                    municipality_id=municipality_id, year=year
                )
                ReferralCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
                counter.refresh_from_db(fields=["last"])
                return f"{year}-{counter.last:04d}"
        except IntegrityError:  # the counter row was created by someone else just now
            continue
    raise ReferralRefused(_("Could not give the referral a number. Try again."), code="number")


# ---------------------------------------------------------------- checks


def _require(case: Case, by: User, capability: Capability = Capability.WRITE_REFERRAL) -> None:
    if capability not in access.case_capabilities(by, case):
        raise access.refuse(by, audit.AuditObjectType.CASE, case.public_id, needs=str(capability))


def field_label(name: str) -> Any:
    """The label of a content field: its verbose name, still lazy (translated when shown)."""
    return getattr(Referral._meta.get_field(name), "verbose_name", name)


def _labels() -> dict[str, str]:
    return {name: str(field_label(name)) for name in CONTENT_FIELDS}


def _checked_confirmations(
    referral: Referral, values: Mapping[str, Any], confirmation: str
) -> list[dict[str, object]]:
    """Run the anonymity check: refuse a personnummer; a name needs the confirmation of
    exactly the warnings shown. Returns the confirmations to store."""
    names = anonymity.names_of(referral.case.student)
    findings = anonymity.examine(values, names, referral.name_warnings_confirmed)
    anonymity.refuse_personnummer(findings, _labels())
    if findings.unconfirmed:
        if confirmation and confirmation == findings.token():
            return findings.counts()
        raise anonymity.NamesNeedConfirmation(findings)
    return list(referral.name_warnings_confirmed)


def _clean(content: ReferralContent) -> dict[str, Any]:
    values = content.values()
    for name in CONTENT_FIELDS:
        if isinstance(values[name], str):
            values[name] = values[name].strip()
    if values["report_of_concern"] not in Answer.values:
        raise ValidationError({"report_of_concern": _("Choose yes, no or not known.")})
    textlimits.check_fields(Referral, values)
    return values


def _chronicle(referral: Referral, summary: str, by: User | None, case: Case | None = None) -> None:
    workflow.chronicle(
        case=case or referral.case, kind=EventKind.DECISION, summary=summary, by=by, ref=referral
    )


# ---------------------------------------------------------------- writing


def _create(*, case: Case, by: User, origin: str) -> Referral:
    locked = Case.objects.select_for_update().select_related("student", "school__district")
    case = locked.get(pk=case.pk)
    if case.state != CaseState.SCHOOL_INVESTIGATION:
        raise ReferralRefused(
            _(
                "A referral is written while the school investigates the case; this case is "
                "“%(state)s”."
            )
            % {"state": case.get_state_display()},
            code="state",
        )
    if Referral.objects.filter(case=case, state__in=ACTIVE_STATES).exists():
        raise ReferralRefused(
            _("The case already has a referral (a draft, or one the forum has or has taken)."),
            code="one_per_case",
        )
    forum = forum_for(case.school)
    student = case.student
    referral = Referral.objects.create(
        number=next_number(case.school.district.municipality_id, timezone.localdate().year),
        case=case,
        forum=forum,
        origin=origin,
        school=case.school,
        grade=student.grade,
        gender=student.gender,
        absence=absence_of(student),
        school_actions=school_actions_of(case),
        created_by=by,
    )
    _chronicle(referral, _("Referral %(number)s: draft started") % {"number": referral.number}, by)
    audit.record_of(
        by=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.REFERRAL,
        obj=referral,
        case=referral.case,
        origin=origin,
    )
    return referral


@transaction.atomic
def referral_create(*, case: Case, by: User) -> Referral:
    """Start the school's referral for an open case under the school's investigation."""
    _require(case, by)
    return _create(case=case, by=by, origin=ReferralOrigin.SCHOOL)


@transaction.atomic
def referral_save(
    *,
    referral: Referral,
    content: ReferralContent,
    version: int,
    confirmation: str = "",
    by: User,
) -> Referral:
    """Save the draft's content if nobody changed it since ``version`` was read."""
    _require(referral.case, by)
    if referral.state != ReferralState.DRAFT:
        raise ReferralRefused(_("Only a draft can be changed."), code="state")
    values = _clean(content)
    confirmed = _checked_confirmations(referral, values, confirmation)
    changed = [name for name in CONTENT_FIELDS if getattr(referral, name) != values[name]]
    updated = Referral.objects.filter(
        pk=referral.pk, version=version, state=ReferralState.DRAFT
    ).update(
        **values,
        name_warnings_confirmed=confirmed,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise workflow.ConcurrentChange(
            _(
                "Someone else changed the referral since you opened it. Your changes were not "
                "saved: reload the page and make them again."
            ),
            code="concurrent",
        )
    referral.refresh_from_db()
    audit.record_of(
        by=by,
        action=audit.AuditAction.UPDATE,
        object_type=audit.AuditObjectType.REFERRAL,
        obj=referral,
        case=referral.case,
        fields=changed,
    )
    return referral


def _refuse_incomplete(referral: Referral) -> None:
    missing = {}
    if not referral.expected_help.strip():
        missing["expected_help"] = _("Say what the team is expected to help with.")
    if not (referral.cause_student_view.strip() or referral.cause_guardian_view.strip()):
        missing["cause_student_view"] = _(
            "Describe the cause of the absence in the student's or the guardian's view."
        )
    if missing:
        raise ReferralRefused(missing, code="incomplete")


def _submit(referral: Referral, *, by: User, refer: Any) -> Referral:
    case = (
        Case.objects.select_for_update()
        .select_related("student", "school")
        .get(pk=referral.case_id)
    )
    referral_states.check(referral, "submit")
    _refuse_incomplete(referral)
    values = {name: getattr(referral, name) for name in CONTENT_FIELDS}
    try:
        _checked_confirmations(referral, values, "")
    except anonymity.NamesNeedConfirmation as error:
        raise ReferralRefused(
            _(
                "The referral has words the same as the student's or a guardian's name that "
                "nobody has confirmed. Open the draft, check them and save it again."
            ),
            code="names",
        ) from error
    policy = TeamPolicy.objects.filter(municipality_id=case.school.district.municipality_id).first()
    if (
        policy is not None
        and policy.consent_timing == ConsentTiming.BEFORE_REFERRAL
        and not consent.consent_valid(case)
    ):
        raise ReferralRefused(
            _(
                "In this municipality the family's consent is taken before the referral: "
                "record a valid consent for the case first."
            ),
            code="consent",
        )
    now = timezone.now()
    referral_states.move(
        referral,
        "submit",
        by=by,
        submitted_at=now,
        submitted_by=by,
        absence=absence_of(case.student),
        school_actions=school_actions_of(case),
    )
    refer(case=case, by=by)
    referral.case = case
    _chronicle(referral, _("Referral %(number)s submitted") % {"number": referral.number}, by)
    return referral


@transaction.atomic
def referral_submit(*, referral: Referral, by: User) -> Referral:
    """Send the draft to the forum: the referral is submitted and the case referred."""
    _require(referral.case, by)
    return _submit(referral, by=by, refer=workflow.case_refer)


@transaction.atomic
def referral_withdraw(*, referral: Referral, reason: str, by: User) -> Referral:
    """The school takes the referral back before the forum has decided (a draft is simply
    discarded); it leaves any meeting's agenda and the case returns to the school."""
    _require(referral.case, by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")}, code="reason")
    textlimits.check_fields(Referral, {"withdrawn_reason": reason})
    was_submitted = referral.state != ReferralState.DRAFT
    referral_states.move(
        referral,
        "withdraw",
        by=by,
        withdrawn_at=timezone.now(),
        withdrawn_reason=reason,
        meeting=None,
    )
    case = Case.objects.select_for_update().select_related("student").get(pk=referral.case_id)
    if was_submitted and case.state == CaseState.REFERRED:
        workflow.case_withdraw(case=case, reason=reason, by=by)
    summary = (
        _("Referral %(number)s withdrawn")
        if was_submitted
        else _("Referral %(number)s: draft discarded")
    )
    _chronicle(referral, summary % {"number": referral.number}, by)
    return referral


@transaction.atomic
def referral_revise(*, referral: Referral, by: User) -> Referral:
    """A new draft from a rejected referral. The rejection ended the case, so the draft
    hangs on a new case of the student that follows the rejected one; the old referral
    stays readable with its decision."""
    old_case = referral.case
    _require(old_case, by)
    referral_states.check(referral, "revise")
    student = old_case.student
    if student.school_id != old_case.school_id:
        raise ReferralRefused(
            _("The student has moved to another school: that school writes any new referral."),
            code="moved",
        )
    if Case.objects.filter(student=student).exclude(state__in=ENDED_STATES).exists():
        raise ReferralRefused(
            _("The student already has an open case. Write a new referral from that case instead."),
            code="open_case",
        )
    new_case = workflow.case_open(
        student=student,
        opening=old_case.opening,
        by=by,
        previous_case=None if Case.objects.filter(previous_case=old_case).exists() else old_case,
    )
    revised = _create(case=new_case, by=by, origin=referral.origin)
    Referral.objects.filter(pk=revised.pk).update(
        revision_of=referral,
        name_warnings_confirmed=referral.name_warnings_confirmed,
        **{name: getattr(referral, name) for name in CONTENT_FIELDS},
    )
    revised.refresh_from_db()
    referral_states.move(referral, "revise", by=by)
    _chronicle(
        referral,
        _("Referral %(old)s revised as %(new)s (in a new case)")
        % {"old": referral.number, "new": revised.number},
        by,
        case=old_case,
    )
    return revised


# ---------------------------------------------------------------- the coordinator


@transaction.atomic
def referral_register(
    *,
    student: Student,
    origin: str,
    content: ReferralContent,
    confirmation: str = "",
    by: User,
) -> Referral:
    """A referral from the student, a guardian or social services: the coordinator opens
    the student's case (``CaseOpening.REFERRAL``), writes and submits the referral at once."""
    access.require(by, Capability.COORDINATE, student)
    if origin not in ReferralOrigin.values or origin == ReferralOrigin.SCHOOL:
        raise ValidationError({"origin": _("Choose who the referral comes from.")}, code="origin")
    if Case.objects.filter(student=student).exclude(state__in=ENDED_STATES).exists():
        raise ReferralRefused(
            _(
                "The student already has an open case at the school. Ask the school to write "
                "the referral from that case."
            ),
            code="open_case",
        )
    previous = (
        Case.objects.filter(student=student, school_id=student.school_id, next_case__isnull=True)
        .order_by("-opened_at")
        .first()
    )
    case = workflow.case_open(
        student=student, opening=CaseOpening.REFERRAL, by=by, previous_case=previous
    )
    referral = _create(case=case, by=by, origin=origin)
    values = _clean(content)
    confirmed = _checked_confirmations(referral, values, confirmation)
    Referral.objects.filter(pk=referral.pk).update(**values, name_warnings_confirmed=confirmed)
    referral.refresh_from_db()
    return _submit(referral, by=by, refer=workflow.case_register_referral)
