"""The satisfaction survey's pages.

Staff (whoever reads the closure record: the school's case staff, the social worker who
wrote it) enter the answers given at the closing meeting and make one-time links, each
shown once. The answer page at /enkat/<token>/ is public: no login, nothing about the
student, the family, the school or the case, and the same friendly page for an unknown,
used or expired link.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sst import access, audit

from . import survey_services as services
from .closure_views import closure_of, links_page
from .survey_forms import LinkForm, MeetingAnswersForm, SurveyForm


def _detail_url(public_id: uuid.UUID) -> str:
    return reverse("followup:closure_detail", args=[public_id])


def _read(request: HttpRequest, closure_id: uuid.UUID, page: str) -> None:
    audit.record(
        user=request.user,
        action=audit.AuditAction.VIEW,
        object_type=audit.AuditObjectType.CLOSURE,
        object_id=str(closure_id),
        detail={"page": page},
    )


@access.staff_view
@require_http_methods(["GET", "POST"])
def survey_link_create(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Make a one-time link (voids the earlier unused one for the same respondent)."""
    closure = closure_of(request, public_id)
    form = LinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        respondent = form.cleaned_data["respondent"]
        try:
            token = services.survey_link_create(
                closure=closure, respondent=respondent, by=access.staff_user(request)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return links_page(request, closure, {respondent: token})
    _read(request, closure.public_id, "survey_link_create")
    return render(request, "followup/survey/link_form.html", {"closure": closure, "form": form})


@access.staff_view
@require_http_methods(["GET", "POST"])
def survey_meeting(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Enter the answers the student and the guardian gave at the closing meeting."""
    closure = closure_of(request, public_id)
    form = MeetingAnswersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        if not answers:
            form.add_error(None, _("Fill in the answers of at least one person."))
        else:
            try:
                services.survey_meeting_record(
                    closure=closure, answers=answers, by=access.staff_user(request)
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The answers were saved."))
                return HttpResponseRedirect(_detail_url(closure.public_id))
    _read(request, closure.public_id, "survey_meeting")
    return render(request, "followup/survey/meeting.html", {"closure": closure, "form": form})


# ---------------------------------------------------------------- the public answer page


def _public(response: HttpResponse) -> HttpResponse:
    """Not indexed, not cached, and the token never leaves in a Referer header."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return _public(render(request, "followup/survey/gone.html", status=404))


@access.public
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.survey_link_find(token)
    except services.LinkGone:
        return _gone(request)
    form = SurveyForm(request.POST or None, respondent=link.respondent)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_answer_by_link(token=token, scores=form.scores())
        except (services.LinkGone, ValidationError):
            return _gone(request)
        return _public(render(request, "followup/survey/thanks.html"))
    return _public(
        render(
            request,
            "followup/survey/answer.html",
            {"form": form, "for_student": link.respondent == "student"},
        )
    )
