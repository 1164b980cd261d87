"""The closing page's form: why, the goals, a summary, the survey at the meeting and the
one-time links. It validates and converts; ``closure_services.closure_record`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import CLOSURE_DETAIL_REQUIRED, ClosureReason
from sst import textlimits

from .models import Closure, Respondent, Satisfied
from .survey_forms import MeetingAnswersForm


class ClosureForm(MeetingAnswersForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        label=_("Why is the case closed?"),
        choices=[("", "---------"), *ClosureReason.choices],
        error_messages={"required": _("Choose why the case is closed.")},
    )
    detail = textlimits.text_field(
        textlimits.model_limit(Closure, "other_support"),
        label=_("Which support, or what happened"),
        required=False,
        strip=True,
        help_text=_("Needed for “Needs other support” (which) and “Other” (what)."),
    )
    goals_met = forms.ChoiceField(
        label=_("Were the plan's goals met?"),
        choices=Satisfied.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    summary = textlimits.text_field(
        textlimits.model_limit(Closure, "summary"),
        label=_("Closing summary"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done and how it went, in a few sentences."),
    )
    links = forms.MultipleChoiceField(
        label=_("One-time survey links to make"),
        choices=Respondent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "For whoever did not answer at the meeting: the link is shown once, to copy or "
            "print, and works once."
        ),
    )

    def __init__(self, *args: Any, has_plan: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_plan = has_plan
        if not has_plan:
            del self.fields["goals_met"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        reason = cleaned.get("reason")
        if reason in CLOSURE_DETAIL_REQUIRED and not cleaned.get("detail"):
            label = ClosureReason(reason).label
            self.add_error("detail", _("Say in a few words: %(reason)s.") % {"reason": label})
        if self.has_plan and not cleaned.get("goals_met"):
            self.add_error("goals_met", _("Say whether the plan's goals were met."))
        return cleaned
