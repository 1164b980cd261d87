"""Forms of the referral pages. They validate and convert; the services decide (and run the
anonymity check themselves, so nothing here is the only guard)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.personnummer import parse as parse_personnummer

from .models import Answer, Referral, ReferralOrigin
from .referral_services import CONTENT_FIELDS, ReferralContent
from .referral_services import field_label as _verbose_name

_TEXTAREA = {"class": "form-control", "rows": 4}


def field_label(name: str) -> Any:
    """A content field's verbose name as a form label: with a capital letter."""
    return capfirst(_verbose_name(name))


class VersionForm(forms.Form):
    """The referral version the page was drawn from: a stale page is refused."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


def _text(name: str, *, long: bool = True) -> forms.CharField:
    """A free-text field bounded like the model's, labelled with its verbose name."""
    length = textlimits.model_limit(Referral, name)
    widget: forms.Widget = (
        forms.Textarea(attrs={**_TEXTAREA, "maxlength": length})
        if long
        else forms.TextInput(attrs={"class": "form-control", "maxlength": length})
    )
    return textlimits.text_field(
        length, label=field_label(name), required=False, strip=True, widget=widget
    )


def _box(name: str) -> forms.BooleanField:
    return forms.BooleanField(
        label=field_label(name),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class ReferralForm(VersionForm):
    """The anonymous content the school writes."""

    cause_student_view = _text("cause_student_view")
    cause_guardian_view = _text("cause_guardian_view")
    report_of_concern = forms.ChoiceField(
        label=field_label("report_of_concern"),
        choices=Answer.choices,
        widget=forms.RadioSelect,
    )
    adjustments = _text("adjustments")
    assessment_psychologist = _box("assessment_psychologist")
    assessment_speech = _box("assessment_speech")
    assessment_other = _text("assessment_other", long=False)
    school_actions_comment = _text("school_actions_comment")
    expected_help = _text("expected_help")
    # Set by the page that showed the name warnings: binds the confirmation to them.
    confirmation = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    confirm_names = forms.BooleanField(
        required=False,
        label=_("The highlighted words are not about the student or the guardians"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def content(self) -> ReferralContent:
        return ReferralContent(**{name: self.cleaned_data[name] for name in CONTENT_FIELDS})

    def given_confirmation(self) -> str:
        """The confirmation token, if the writer ticked the box under the warnings."""
        if self.cleaned_data.get("confirm_names"):
            return str(self.cleaned_data.get("confirmation") or "")
        return ""

    @staticmethod
    def initial_of(referral: Referral) -> dict[str, Any]:
        return {
            "version": referral.version,
            **{name: getattr(referral, name) for name in CONTENT_FIELDS},
        }


class WithdrawForm(VersionForm):
    reason = textlimits.text_field(
        200,
        label=_("Why is the referral withdrawn?"),
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        error_messages={"required": _("Give a reason.")},
    )


OUTSIDE_ORIGINS = [(value, label) for value, label in ReferralOrigin.choices if value != "school"]


class RegisterForm(ReferralForm):
    """The coordinator's registration: who the student is, where it comes from, the content."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    personnummer = forms.CharField(
        label=_("The student's personal identity number"),
        max_length=15,
        strip=True,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "off", "inputmode": "numeric"}
        ),
        help_text=_("12 digits (YYYYMMDD-NNNN). The student must be at a school you coordinate."),
    )
    origin = forms.ChoiceField(
        label=_("The referral comes from"),
        choices=OUTSIDE_ORIGINS,
        widget=forms.RadioSelect,
    )

    field_order = ["personnummer", "origin"]

    def clean_personnummer(self) -> str:
        return parse_personnummer(self.cleaned_data["personnummer"]).value
