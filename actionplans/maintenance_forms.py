"""Forms of the maintenance pages: they validate and convert; the services decide and save."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sst import textlimits

from .models import BoosterMeeting, MaintenancePlan


class DateInput(forms.DateInput):
    input_type = "date"


def _limit(model: type[MaintenancePlan] | type[BoosterMeeting], name: str) -> int:
    return textlimits.model_limit(model, name)


class MaintenancePlanForm(forms.Form):
    contact = textlimits.text_field(
        _limit(MaintenancePlan, "contact"),
        label=_("How often the student and the team meet or hear from each other"),
        help_text=_("For example: a call every other week, a meeting once a month."),
    )
    notes = textlimits.text_field(
        _limit(MaintenancePlan, "notes"),
        label=_("Notes"),
        required=False,
        help_text=_("What the student and the family keep doing; who to call if it gets harder."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class BoosterForm(forms.Form):
    planned_on = forms.DateField(
        label=_("Date"),
        widget=DateInput(),
        help_text=_("A date that is not a school day moves to the next school day."),
    )
    note = textlimits.text_field(
        _limit(BoosterMeeting, "note"),
        label=_("Note"),
        required=False,
        help_text=_("Write no names or personal identity numbers."),
    )


class BoosterMoveForm(forms.Form):
    planned_on = forms.DateField(label=_("New date"), widget=DateInput())


class BoosterHeldForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    note = textlimits.text_field(
        _limit(BoosterMeeting, "note"),
        label=_("Note"),
        required=False,
        help_text=_("Write no names or personal identity numbers."),
    )
