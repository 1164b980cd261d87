"""Pages of the mapping step: a student's school-social work (mappings, offered times,
pedagogical mappings, health talks), the counsellor's mapping and the student's approval,
and the counsellor's panel on "my desk".

Objects come only through ``cases.mapping.selectors``, which start from the access policy;
writes that belong to one profession first ask ``access.require`` for the capability (404
for anyone else) and then call a service. Every page that shows personal data is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sst import access, audit, desk
from sst.access import Capability
from sst.models import Student

from .. import workflow
from ..models import MappingApproval, SchoolSocialMapping, TimeStatus
from . import selectors, services, texts
from .forms import (
    ApprovalForm,
    HealthTalkForm,
    MappingForm,
    OfferedTimeForm,
    OfferedTimeOutcomeForm,
    PedagogicalMappingForm,
)


def _audit_read(
    request: HttpRequest,
    *,
    object_type: audit.AuditObjectType,
    object_id: Any,
    student: Student,
    role: str,
    **detail: Any,
) -> None:
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=object_type,
        object_id=str(object_id),
        student_id=student.public_id,
        role=role,
        detail=detail,
    )


def _require(
    request: HttpRequest, capability: Capability, student: Student, granted: access.Granted
) -> str:
    """The roles giving ``capability`` from what the access function already decided;
    otherwise the policy's refusal (404, audited)."""
    if capability in granted:
        return granted.roles_for(capability)
    raise access.refuse(
        request.user, audit.AuditObjectType.STUDENT, student.public_id, needs=str(capability)
    )


def _overview(student: Student) -> str:
    return reverse("cases:mapping_overview", args=[student.public_id])


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


# The mapping form's two buttons: "save draft" keeps an incomplete mapping; "done" asks for
# every part (``services.mapping_missing``) so the student can be asked to approve it.
DONE_BUTTON = "done"


def _saved_as_done(request: HttpRequest) -> bool:
    return DONE_BUTTON in request.POST


def _saved_message(done: bool) -> str:
    if done:
        return _(
            "The mapping is complete. Let the student read it and record whether they approve "
            "sharing it at the EHT."
        )
    return _(
        "The draft was saved. It stays with the counsellors; when it is complete, the student "
        "can be asked to approve sharing it."
    )


# ---------------------------------------------------------------- a student's mapping step


@access.staff_view
@require_GET
def mapping_overview(request: HttpRequest, public_id: str) -> HttpResponse:
    """The mapping step of one student, for the principal and the student health team."""
    student, granted = selectors.student_for_school_social_work(request.user, public_id)
    work = selectors.school_social_work(request.user, student, granted)
    _audit_read(
        request,
        object_type=audit.AuditObjectType.SCHOOL_SOCIAL_WORK,
        object_id=student.public_id,
        student=student,
        role=granted.roles_for(Capability.WORK_CASES),
        mappings=len(work.mappings),
        hidden_mappings=work.hidden_mapping_count,
        times=len(work.offered_times),
        pedagogical=len(work.pedagogical_mappings),
        health_talks=len(work.health_talks),
    )
    return render(
        request,
        "cases/mapping/overview.html",
        {
            "student": student,
            "work": work,
            "now": timezone.now(),
            "required_misses": texts.MISSED_TIMES_BEFORE_PRINCIPAL,
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def mapping_create(request: HttpRequest, public_id: str) -> HttpResponse:
    """The counsellor records a new school-social mapping."""
    student, granted = selectors.student_for_school_social_work(request.user, public_id)
    role = _require(request, Capability.WRITE_SOCIAL_MAPPING, student, granted)
    form = MappingForm(request.POST or None, initial={"conducted_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        done = _saved_as_done(request)
        try:
            record = services.mapping_create(
                student=student,
                content=form.content(),
                by=request.user,  # type: ignore[arg-type]
                done=done,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _saved_message(done))
            return HttpResponseRedirect(reverse("cases:mapping_detail", args=[record.public_id]))
    _audit_read(
        request,
        object_type=audit.AuditObjectType.STUDENT,
        object_id=student.public_id,
        student=student,
        role=role,
    )
    return render(
        request,
        "cases/mapping/form.html",
        {"student": student, "form": form, "record": None, "stale": False},
    )


@access.staff_view
@require_GET
def mapping_detail(request: HttpRequest, mapping_id: str) -> HttpResponse:
    """A mapping's content: counsellors always, other case readers once the student approved."""
    record = selectors.mapping_for_user(request.user, mapping_id)
    student = record.case.student
    granted = access.capabilities_at(request.user, student)
    is_counsellor = Capability.WRITE_SOCIAL_MAPPING in granted
    causes = list(record.causes.order_by("group", "order", "label"))
    _audit_read(
        request,
        object_type=audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING,
        object_id=record.public_id,
        student=student,
        role=granted.roles_for(Capability.WORK_CASES),
    )
    missing = services.mapping_missing(record) if is_counsellor else {}
    approval_form = None
    if is_counsellor and not missing:
        approval_form = _approval_form(record)
    return render(
        request,
        "cases/mapping/detail.html",
        {
            "student": student,
            "record": record,
            "areas": [(area, getattr(record, area.field)) for area in texts.AREAS],
            "cause_groups": selectors.causes_by_group(causes),
            "answers": selectors.analysis_answers(record),
            "is_counsellor": is_counsellor,
            "approval_form": approval_form,
            "missing": _missing_labels(missing),
        },
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def mapping_edit(request: HttpRequest, mapping_id: str) -> HttpResponse:
    """The counsellor changes a mapping; a stale form (someone saved in between) is refused."""
    record = selectors.mapping_for_user(request.user, mapping_id)
    student = record.case.student
    role = access.require(request.user, Capability.WRITE_SOCIAL_MAPPING, student)
    form = MappingForm.for_mapping(record, request.POST or None)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            done = _saved_as_done(request)
            services.mapping_update(
                mapping=record,
                content=form.content(),
                version=form.cleaned_data["version"] or 0,
                by=request.user,  # type: ignore[arg-type]
                done=done,
            )
        except workflow.ConcurrentChange as error:
            stale = True
            form.add_error(None, error)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _saved_message(done))
            return HttpResponseRedirect(reverse("cases:mapping_detail", args=[record.public_id]))
    _audit_read(
        request,
        object_type=audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING,
        object_id=record.public_id,
        student=student,
        role=role,
        page="edit",
    )
    return render(
        request,
        "cases/mapping/form.html",
        {"student": student, "form": form, "record": record, "stale": stale},
        status=409 if stale else 200,
    )


def _missing_labels(missing: dict[str, str]) -> list[str]:
    """What the mapping still needs, named by the form's labels."""
    form = MappingForm()
    return [str(form.fields[name].label) for name in missing]


def _approval_form(record: SchoolSocialMapping, data: Any = None) -> ApprovalForm:
    initial: dict[str, Any] = {
        "version": record.version,
        "approval_on": record.approval_on or timezone.localdate(),
    }
    if record.approval != MappingApproval.PENDING:
        initial["approval"] = record.approval
    return ApprovalForm(data, initial=initial)


@access.staff_view
@require_http_methods(["GET", "POST"])
def mapping_approval(request: HttpRequest, mapping_id: str) -> HttpResponse:
    """The counsellor records the student's approval (or not) to share at the EHT."""
    record = selectors.mapping_for_user(request.user, mapping_id)
    student = record.case.student
    role = access.require(request.user, Capability.WRITE_SOCIAL_MAPPING, student)
    form = _approval_form(record, request.POST or None)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.mapping_record_approval(
                mapping=record,
                approval=form.cleaned_data["approval"],
                on=form.cleaned_data["approval_on"],
                version=form.cleaned_data["version"],
                by=request.user,  # type: ignore[arg-type]
            )
        except workflow.ConcurrentChange as error:
            stale = True
            form.add_error(None, error)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if form.cleaned_data["approval"] == MappingApproval.APPROVED:
                messages.success(
                    request,
                    _("The student's approval was saved. The mapping is shared at the EHT."),
                )
            else:
                messages.success(
                    request,
                    _("The answer was saved. The mapping stays with the counsellors."),
                )
            return HttpResponseRedirect(reverse("cases:mapping_detail", args=[record.public_id]))
    _audit_read(
        request,
        object_type=audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING,
        object_id=record.public_id,
        student=student,
        role=role,
        page="approval",
    )
    return render(
        request,
        "cases/mapping/approval.html",
        {
            "student": student,
            "record": record,
            "form": form,
            "stale": stale,
            "missing": _missing_labels(services.mapping_missing(record)),
        },
        status=409 if stale else 200,
    )


# ---------------------------------------------------------------- offered times


@access.staff_view
@require_http_methods(["GET", "POST"])
def offered_time_book(request: HttpRequest, public_id: str) -> HttpResponse:
    """The counsellor offers the student a time for the mapping talk."""
    student, granted = selectors.student_for_school_social_work(request.user, public_id)
    role = _require(request, Capability.WRITE_SOCIAL_MAPPING, student, granted)
    form = OfferedTimeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.offered_time_book(
                student=student,
                starts_at=form.cleaned_data["starts_at"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The time was booked."))
            return HttpResponseRedirect(_overview(student))
    _audit_read(
        request,
        object_type=audit.AuditObjectType.STUDENT,
        object_id=student.public_id,
        student=student,
        role=role,
    )
    return render(
        request, "cases/mapping/offered_time_form.html", {"student": student, "form": form}
    )


@access.staff_view
@require_POST
def offered_time_mark(request: HttpRequest, time_id: str) -> HttpResponse:
    """The counsellor marks a booked time attended or missed."""
    offered = selectors.offered_time_for_user(request.user, time_id)
    student = offered.case.student
    access.require(request.user, Capability.WRITE_SOCIAL_MAPPING, student)
    form = OfferedTimeOutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose attended or missed."))
        return HttpResponseRedirect(_overview(student))
    try:
        offered = services.offered_time_mark(
            offered_time=offered,
            status=form.cleaned_data["status"],
            by=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        messages.error(request, _refusal(error))
        return HttpResponseRedirect(_overview(student))
    if offered.status == TimeStatus.ATTENDED:
        messages.success(request, _("The time was marked attended."))
    elif offered.principal_notified_at is not None:
        messages.warning(
            request,
            _(
                "The time was marked missed. The student has now missed three offered times: "
                "the principal has been informed."
            ),
        )
    else:
        messages.success(request, _("The time was marked missed."))
    return HttpResponseRedirect(_overview(student))


# ---------------------------------------------------------------- lighter records


def _light_record_form(
    request: HttpRequest,
    public_id: str,
    *,
    capability: Capability,
    form_class: Any,
    date_field: str,
    save: Any,
    saved: str,
    title: str,
    intro: str,
) -> HttpResponse:
    """A lighter record on the case, written by one profession (see the two views below)."""
    student, granted = selectors.student_for_school_social_work(request.user, public_id)
    role = _require(request, capability, student, granted)
    form = form_class(request.POST or None, initial={date_field: timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            save(student=student, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, saved)
            return HttpResponseRedirect(_overview(student))
    _audit_read(
        request,
        object_type=audit.AuditObjectType.STUDENT,
        object_id=student.public_id,
        student=student,
        role=role,
    )
    return render(
        request,
        "cases/mapping/record_form.html",
        {"student": student, "form": form, "title": title, "intro": intro},
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def pedagogical_mapping_create(request: HttpRequest, public_id: str) -> HttpResponse:
    """The special educator records a short pedagogical mapping."""
    return _light_record_form(
        request,
        public_id,
        capability=Capability.WRITE_PEDAGOGICAL_MAPPING,
        form_class=PedagogicalMappingForm,
        date_field="conducted_on",
        save=services.pedagogical_mapping_add,
        saved=_("The pedagogical mapping was saved."),
        title=_("Pedagogical mapping"),
        intro=_(
            "A short mapping of how the student manages school work, and the adjustments "
            "you propose. Everyone who works with the student's case can read it."
        ),
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def health_talk_create(request: HttpRequest, public_id: str) -> HttpResponse:
    """The school nurse records a health talk; the note is for school nurses only."""
    return _light_record_form(
        request,
        public_id,
        capability=Capability.WRITE_HEALTH_TALK,
        form_class=HealthTalkForm,
        date_field="held_on",
        save=services.health_talk_add,
        saved=_("The health talk was saved."),
        title=_("Health talk"),
        intro=_(
            "Others who work with the student's case see that a health talk was held and "
            "when. The note is read by school nurses only."
        ),
    )


# ---------------------------------------------------------------- my desk


def counsellor_panel(request: HttpRequest) -> tuple[str, dict[str, Any]] | None:
    """Counsellors: mappings waiting for the student's approval, and booked times."""
    data = selectors.counsellor_desk(request.user)
    if data is None:
        return None
    shown = len(data.pending) + len(data.times)
    if shown:
        audit.record(
            user=request.user,
            action=audit.AuditAction.LIST,
            object_type=audit.AuditObjectType.SCHOOL_SOCIAL_MAPPING,
            role=data.role,
            detail={"page": "desk", "pending": len(data.pending), "times": len(data.times)},
        )
    return "cases/mapping/panel.html", {"desk": data}


def register_panels() -> None:
    desk.register(order=40, panel=counsellor_panel)
