"""The consent pages: recording a consent, its givings and withdrawals, scans (uploaded and
served only through the policy), the printable consent form, the family meetings, the
"Samtycke och möten" section of the case page, and the assigned social worker's page for
the anonymous referral (before any consent lets them read the case).

Objects come only through the policy: a consent, scan, giving or meeting is looked up among
the cases ``access.cases_visible_to`` the user (or, for the social worker's referral page,
``selectors.assigned_referrals_of``); anything else is a refusal (404, audited).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import sections
from cases.models import Case
from sst import access, audit, printing
from sst.access import Capability
from sst.models import Custody, User

from . import consent as rule
from . import consent_services as services
from .consent_forms import (
    ConsentForm,
    GivingForm,
    MeetingForm,
    OutcomeForm,
    ScanForm,
    WithdrawForm,
    WorkerNoteForm,
)
from .models import (
    Consent,
    ConsentGiving,
    ConsentScan,
    FamilyMeeting,
    Referral,
    WorkerNote,
)
from .selectors import assigned_referrals_of

FORM_TEMPLATE = "referrals/consent/form.html"


def _case_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.public_id]) + "#consent-heading"


def _visible_cases(user: User) -> QuerySet[Case]:
    return access.cases_visible_to(user)


def _get(
    request: HttpRequest, queryset: QuerySet[Any], public_id: uuid.UUID, kind: audit.AuditObjectType
) -> Any:
    found = queryset.filter(public_id=public_id).first()
    if found is None:
        raise access.refuse(request.user, kind, public_id)
    return found


def _consent_of(request: HttpRequest, public_id: uuid.UUID) -> Consent:
    consents = Consent.objects.filter(
        case__in=_visible_cases(access.staff_user(request))
    ).select_related("case__student", "case__school")
    consent: Consent = _get(request, consents, public_id, audit.AuditObjectType.CONSENT)
    return consent


def _refuse_unless(
    request: HttpRequest, allowed: bool, kind: audit.AuditObjectType, oid: Any
) -> None:
    if not allowed:
        raise access.refuse(request.user, kind, oid)


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _form_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, FORM_TEMPLATE, context)


def _staff_choices(case: Case) -> QuerySet[User]:
    """Staff who may take part or witness: the school's case staff, the assigned workers."""
    school = access.holders(Capability.WORK_CASES, case.school)
    return (
        User.objects.filter(
            Q(pk__in=school.values("pk"))
            | Q(assignments__case=case, assignments__ended_at__isnull=True),
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _audit_case_page(
    request: HttpRequest, case: Case, object_type: audit.AuditObjectType, obj_id: Any, **detail: Any
) -> None:
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=object_type,
        object_id=str(obj_id),
        student_id=case.student.public_id,
        detail={"case": str(case.public_id), **detail},
    )


# ---------------------------------------------------------------- consent


@access.staff_view
@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case, _granted = access.access_case(request.user, public_id, need=Capability.WORK_CASES)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(case=case, by=access.staff_user(request), **form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The consent was recorded. Now add who gave it."))
            return HttpResponseRedirect(_case_url(case))
    _audit_case_page(request, case, audit.AuditObjectType.CONSENT, case.public_id, page="new")
    return _form_page(
        request,
        {
            "case": case,
            "form": form,
            "title": _("Record a consent"),
            "intro": _(
                "The scope says which parties may share information. The consent is valid "
                "only when every guardian with custody (and the student, from the "
                "municipality's age) has given it."
            ),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def giving_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    consent = _consent_of(request, public_id)
    case = consent.case
    _refuse_unless(
        request,
        services.works_case(access.staff_user(request), case),
        audit.AuditObjectType.CONSENT,
        public_id,
    )
    guardians = [
        custody.guardian
        for custody in Custody.objects.filter(student_id=case.student_id, has_custody=True)
        .select_related("guardian")
        .order_by("pk")
    ]
    form = GivingForm(
        request.POST or None,
        guardians=guardians,
        scans=consent.scans.order_by("-uploaded_at"),
        staff=_staff_choices(case),
    )
    if request.method == "POST" and form.is_valid():
        guardian, by_student = form.giver()
        try:
            services.consent_giving_add(
                consent=consent,
                guardian=guardian,
                by_student=by_student,
                given_on=form.cleaned_data["given_on"],
                method=form.cleaned_data["method"],
                scan=form.cleaned_data["scan"],
                witnesses=form.cleaned_data["witnesses"] or [],
                by=access.staff_user(request),
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The consent given was recorded."))
            return HttpResponseRedirect(_case_url(case))
    _audit_case_page(request, case, audit.AuditObjectType.CONSENT, consent.public_id, page="giving")
    return _form_page(
        request,
        {
            "case": case,
            "form": form,
            "title": _("Add a consent given"),
            "intro": _(
                "A signed form needs its scan uploaded first. Consent given in person is "
                "recorded by two staff members."
            ),
            "upload_url": reverse("referrals:consent_scan_upload", args=[consent.public_id]),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def giving_withdraw(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    givings = ConsentGiving.objects.filter(
        consent__case__in=_visible_cases(access.staff_user(request))
    ).select_related("consent__case__student", "consent__case__school")
    giving: ConsentGiving = _get(request, givings, public_id, audit.AuditObjectType.CONSENT)
    case = giving.consent.case
    held = access.case_capabilities(request.user, case)
    _refuse_unless(
        request,
        bool({Capability.WORK_CASES, Capability.SOCIAL_WORK} & held),
        audit.AuditObjectType.CONSENT,
        public_id,
    )
    form = WithdrawForm(request.POST or None, initial={"withdrawn_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(
                giving=giving,
                withdrawn_on=form.cleaned_data["withdrawn_on"],
                by=access.staff_user(request),
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(
                request, _("The withdrawal was recorded. The consent is no longer valid.")
            )
            if Capability.WORK_CASES in held:
                return HttpResponseRedirect(_case_url(case))
            return HttpResponseRedirect(reverse("sst:desk"))
    _audit_case_page(
        request, case, audit.AuditObjectType.CONSENT, giving.consent.public_id, page="withdraw"
    )
    return _form_page(
        request,
        {
            "case": case,
            "form": form,
            "title": _("Withdraw a consent"),
            "intro": _(
                "A withdrawal ends the whole consent at once: social services no longer see "
                "the case. A new consent has to be recorded if the family consents again."
            ),
            "giver": _("the student") if giving.by_student else giving.guardian,
        },
    )


# ---------------------------------------------------------------- scans


@access.staff_view
@require_http_methods(["GET", "POST"])
def scan_upload(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    consent = _consent_of(request, public_id)
    case = consent.case
    _refuse_unless(
        request,
        services.works_case(access.staff_user(request), case),
        audit.AuditObjectType.CONSENT,
        public_id,
    )
    form = ScanForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.scan_upload(
                consent=consent, upload=form.cleaned_data["file"], by=access.staff_user(request)
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The scan was stored."))
            return HttpResponseRedirect(
                reverse("referrals:consent_giving_new", args=[consent.public_id])
            )
    _audit_case_page(
        request, case, audit.AuditObjectType.CONSENT_SCAN, consent.public_id, page="upload"
    )
    return _form_page(
        request,
        {
            "case": case,
            "form": form,
            "multipart": True,
            "title": _("Upload a signed consent form"),
            "intro": _(
                "PDF, JPEG or PNG. The file is checked by its content and stored privately."
            ),
        },
    )


@access.staff_view
@require_GET
def scan_download(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The scan, to whoever may read the case: always a download, never shown inline."""
    scans = ConsentScan.objects.filter(
        consent__case__in=_visible_cases(access.staff_user(request))
    ).select_related("consent__case__student")
    scan: ConsentScan = _get(request, scans, public_id, audit.AuditObjectType.CONSENT_SCAN)
    case = scan.consent.case
    detail: dict[str, Any] = {"case": str(case.public_id)}
    relied = (
        rule.relied_on(case) if not services.works_case(access.staff_user(request), case) else None
    )
    if relied is not None:
        detail["consent"] = str(relied.public_id)
    audit.record(
        user=request.user,
        action=audit.AuditAction.EXPORT,
        object_type=audit.AuditObjectType.CONSENT_SCAN,
        object_id=str(scan.public_id),
        student_id=case.student.public_id,
        detail=detail,
    )
    extension = scan.file.name.rsplit(".", 1)[-1]
    response = FileResponse(
        scan.file.open("rb"),
        as_attachment=True,
        filename=f"samtycke-skanning.{extension}",
        content_type=scan.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response  # type: ignore[return-value]  # a streaming response, sent the same way


# ---------------------------------------------------------------- the printable form


def _form_context(request: HttpRequest, case: Case | None, school: Any) -> dict[str, Any]:
    municipality = school.district.municipality
    context: dict[str, Any] = {"municipality": municipality, "school": school}
    if case is not None:
        guardians = [
            custody.guardian
            for custody in Custody.objects.filter(student_id=case.student_id, has_custody=True)
            .select_related("guardian")
            .order_by("pk")
        ]
        context.update({"student": case.student, "guardians": guardians})
    return context


@access.staff_view
@require_GET
def consent_form_pdf(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The consent form with the student's and guardians' names on paper (never in the
    file's metadata), for whoever may read the case."""
    case, granted = access.access_case(request.user, public_id)
    case = Case.objects.select_related("student", "school__district__municipality").get(pk=case.pk)
    audit.record(
        user=request.user,
        action=audit.AuditAction.EXPORT,
        object_type=audit.AuditObjectType.CONSENT_FORM,
        object_id=str(case.public_id),
        student_id=case.student.public_id,
        detail={
            "format": "pdf",
            "filled": True,
            **sections.read_detail(request.user, case, granted),
        },
    )
    with translation.override("sv"):  # the form the family signs is in Swedish
        return printing.render_pdf(
            request,
            "referrals/consent/form_pdf.html",
            _form_context(request, case, case.school),
            filename="samtyckesblankett.pdf",
        )


@access.staff_view
@require_GET
def consent_form_blank(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The same form without names, for the social worker assigned to the referral."""
    referral: Referral = _get(
        request,
        assigned_referrals_of(request.user).select_related("school__district__municipality"),
        public_id,
        audit.AuditObjectType.REFERRAL,
    )
    audit.record(
        user=request.user,
        action=audit.AuditAction.EXPORT,
        object_type=audit.AuditObjectType.CONSENT_FORM,
        object_id=str(referral.public_id),
        detail={"format": "pdf", "filled": False},
    )
    with translation.override("sv"):
        return printing.render_pdf(
            request,
            "referrals/consent/form_pdf.html",
            _form_context(request, None, referral.school),
            filename="samtyckesblankett.pdf",
        )


# ---------------------------------------------------------------- meetings with the family


def _book(request: HttpRequest, case: Case, back: str, referral: Referral | None) -> HttpResponse:
    form = MeetingForm(request.POST or None, staff=_staff_choices(case))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.family_meeting_book(
                case=case,
                kind=data["kind"],
                starts_at=data["starts_at"],
                location=data["location"],
                staff=data["staff"] or [],
                with_student=data["with_student"],
                with_guardians=data["with_guardians"],
                by=access.staff_user(request),
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("The meeting was booked."))
            return HttpResponseRedirect(back)
    return _form_page(
        request,
        {
            "case": case if referral is None else None,
            "referral": referral,
            "form": form,
            "title": _("Book a meeting with the family"),
            "intro": _(
                "An information meeting presents the team to the student and the guardians; "
                "a start-up meeting starts the work. The two can be combined."
            ),
            "back": back,
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def meeting_book(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case, _granted = access.access_case(request.user, public_id, need=Capability.WORK_CASES)
    if request.method == "GET":
        _audit_case_page(
            request, case, audit.AuditObjectType.FAMILY_MEETING, case.public_id, page="book"
        )
    return _book(request, case, _case_url(case), None)


def _assigned_referral(request: HttpRequest, public_id: uuid.UUID) -> Referral:
    referral: Referral = _get(
        request,
        assigned_referrals_of(request.user).select_related("case", "school"),
        public_id,
        audit.AuditObjectType.REFERRAL,
    )
    return referral


@access.staff_view
@require_http_methods(["GET", "POST"])
def meeting_book_for_referral(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    referral = _assigned_referral(request, public_id)
    back = reverse("referrals:consent_referral", args=[referral.public_id])
    return _book(request, referral.case, back, referral)


@access.staff_view
@require_http_methods(["GET", "POST"])
def meeting_outcome(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = access.staff_user(request)
    meetings = FamilyMeeting.objects.filter(
        Q(case__in=_visible_cases(user)) | Q(case__in=rule.assigned_cases(user))
    ).select_related("case__student", "case__school")
    meeting: FamilyMeeting = _get(
        request, meetings, public_id, audit.AuditObjectType.FAMILY_MEETING
    )
    case = meeting.case
    school_side = services.works_case(user, case)
    _refuse_unless(
        request,
        school_side or services.is_assigned(user, case),
        audit.AuditObjectType.FAMILY_MEETING,
        public_id,
    )
    if school_side:
        back = _case_url(case)
    else:
        referral = services.current_referral(case)
        back = (
            reverse("referrals:consent_referral", args=[referral.public_id])
            if referral is not None
            else reverse("sst:desk")
        )
    form = OutcomeForm(request.POST or None, initial={"version": meeting.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.family_meeting_outcome(
                meeting=meeting,
                outcome=data["outcome"],
                note=data["note"],
                version=data["version"],
                by=user,
            )
        except ValidationError as error:  # ConcurrentChange is one too
            _errors(request, error)
        else:
            messages.success(request, _("The family's answer was recorded."))
            return HttpResponseRedirect(back)
    audit.record(
        user=user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.FAMILY_MEETING,
        object_id=str(meeting.public_id),
        detail={"page": "outcome"},
    )
    return _form_page(
        request,
        {
            "case": case if school_side else None,
            "form": form,
            "title": _("The family's answer"),
            "intro": _(
                "If the family says no, the case is closed with the reason “declined the offer”."
            ),
            "meeting": meeting,
            "back": back,
        },
    )


# ---------------------------------------------------------------- the social worker's referral page


@access.staff_view
@require_GET
def referral_page(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The anonymous referral, the consent's state (counts, no names) and the family
    meetings, for the assigned social worker; the case link once a valid consent covers it."""
    referral = _assigned_referral(request, public_id)
    case = referral.case
    status = rule.status(case)
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.REFERRAL,
        object_id=str(referral.public_id),
        detail={"page": "consent", "consent_state": status["state"]},
    )
    meetings = list(FamilyMeeting.objects.filter(case=case).order_by("starts_at"))
    notes = list(WorkerNote.objects.filter(referral=referral, author=access.staff_user(request)))
    return render(
        request,
        "referrals/consent/referral.html",
        {
            "referral": referral,
            "status": status,
            "meetings": meetings,
            "notes": notes,
            "note_form": WorkerNoteForm(),
            "case_open": case.is_open,
            "case_url": reverse("cases:case_detail", args=[case.public_id])
            if status["state"] == "valid"
            else "",
        },
    )


@access.staff_view
@require_POST
def referral_note_add(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The assigned social worker writes an own note on the anonymous referral page."""
    referral = _assigned_referral(request, public_id)
    form = WorkerNoteForm(request.POST)
    back = reverse("referrals:consent_referral", args=[referral.public_id])
    if not form.is_valid():
        for message in form.errors.get("text", []):
            messages.error(request, str(message))
        return HttpResponseRedirect(back)
    try:
        services.worker_note_add(
            referral=referral, text=form.cleaned_data["text"], by=access.staff_user(request)
        )
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("Your note was saved."))
    return HttpResponseRedirect(back)


# ---------------------------------------------------------------- the case page


def consent_section(
    request: HttpRequest, case: Case, granted: access.Granted
) -> tuple[str, dict[str, Any]] | None:
    """ "Samtycke och möten" on the case page (for everyone who reads the case there)."""
    school_side = Capability.WORK_CASES in granted
    social_side = Capability.SOCIAL_WORK in granted
    if not (school_side or social_side):
        return None
    consents = list(
        Consent.objects.filter(case=case)
        .prefetch_related("givings__guardian", "givings__witnessed_by", "scans")
        .order_by("-recorded_at")
    )
    return (
        "referrals/consent/section.html",
        {
            "status": rule.status(case),
            "consents": consents,
            "meetings": list(FamilyMeeting.objects.filter(case=case).prefetch_related("staff")),
            "school_side": school_side,
            "may_withdraw": school_side or social_side,
            "case_open": case.is_open,
        },
    )


def relied_on_detail(user: access.AnyUser, case: Case, granted: access.Granted) -> dict[str, Any]:
    """Every read of an identified case by social-services staff names its consent."""
    if Capability.SOCIAL_WORK not in granted or Capability.WORK_CASES in granted:
        return {}
    consent = rule.relied_on(case)
    return {"consent": str(consent.public_id) if consent else ""}


def register_panels() -> None:
    sections.register(order=20, section=consent_section)
    sections.register_read_detail(relied_on_detail)
