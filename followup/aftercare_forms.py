"""The after-care check's form. It validates and converts; the service decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sst import textlimits

from .models import AfterCareCheck

GRADES_CHOICES = [
    ("", _("Not stated")),
    ("yes", _("Yes")),
    ("no", _("No")),
]


class AfterCareForm(forms.Form):
    comment = textlimits.text_field(
        textlimits.model_limit(AfterCareCheck, "comment"),
        label=_("Comment"),
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How is it going for the student now? A few words."),
        error_messages={"required": _("Write a short comment.")},
    )
    passing_grades = forms.TypedChoiceField(
        label=_("Passing grades in all subjects?"),
        choices=GRADES_CHOICES,
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Grades are not in the data: the school may say yes or no here."),
    )
