"""Forms of the follow-up pages: they validate and convert; the services decide and save."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from actionplans.models import Goal, PlanIntervention
from sst import textlimits

from .followup_services import ORS_FIELDS, REASON_LENGTH, CheckOff, ReviewInput
from .models import FollowUp, GoalResult

COMMENT_LENGTH = 300


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _ors_field(name: str) -> forms.IntegerField:
    field = FollowUp._meta.get_field(name)
    assert isinstance(field, models.Field)
    return forms.IntegerField(
        label=field.verbose_name,
        min_value=0,
        max_value=10,
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
    )


class RecordForm(forms.Form):
    """The follow-up: a result and a comment per current goal, ORS, notes, the next date."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    ors_individual = _ors_field("ors_individual")
    ors_interpersonal = _ors_field("ors_interpersonal")
    ors_social = _ors_field("ors_social")
    ors_overall = _ors_field("ors_overall")
    notes = textlimits.text_field(
        textlimits.TEXT,
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    book_next = forms.BooleanField(label=_("Book the next follow-up"), required=False, initial=True)
    next_on = forms.DateField(
        label=_("Next follow-up"),
        required=False,
        widget=DateInput(),
        help_text=_("A school day 4–6 weeks after this follow-up."),
    )

    def __init__(self, *args: Any, goals: list[Goal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goals = goals
        for goal in goals:
            self.fields[f"goal_{goal.pk}"] = forms.ChoiceField(
                label=goal.text,
                choices=GoalResult.choices,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Choose a result for this goal.")},
            )
            self.fields[f"comment_{goal.pk}"] = textlimits.text_field(
                COMMENT_LENGTH, label=_("Comment"), required=False
            )

    def goal_rows(self) -> list[tuple[Goal, forms.BoundField, forms.BoundField]]:
        return [(goal, self[f"goal_{goal.pk}"], self[f"comment_{goal.pk}"]) for goal in self.goals]

    def ors_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ORS_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [data.get(name) for name in ORS_FIELDS]
        if any(value is not None for value in given) and any(value is None for value in given):
            raise forms.ValidationError(_("Rate all four ORS scales, or none of them."))
        if data.get("book_next") and not data.get("next_on"):
            self.add_error("next_on", _("Choose the date of the next follow-up."))
        return data

    def reviews(self) -> list[ReviewInput]:
        return [
            ReviewInput(
                goal=goal,
                result=self.cleaned_data[f"goal_{goal.pk}"],
                comment=self.cleaned_data.get(f"comment_{goal.pk}", ""),
            )
            for goal in self.goals
        ]

    def ors(self) -> dict[str, int | None]:
        return {name: self.cleaned_data.get(name) for name in ORS_FIELDS}

    def next_date(self) -> datetime.date | None:
        return self.cleaned_data["next_on"] if self.cleaned_data.get("book_next") else None


class MoveForm(forms.Form):
    MOVE = "move"
    CANCEL = "cancel"

    version = forms.IntegerField(widget=forms.HiddenInput)
    action = forms.ChoiceField(
        label=_("What to do"),
        choices=[(MOVE, _("Move it to another day")), (CANCEL, _("Cancel it"))],
        widget=forms.RadioSelect,
        initial=MOVE,
    )
    planned_on = forms.DateField(label=_("New date"), required=False, widget=DateInput())
    reason = textlimits.text_field(
        REASON_LENGTH,
        label=_("Why"),
        help_text=_("Shown in the case's chronology."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == self.MOVE and not data.get("planned_on"):
            self.add_error("planned_on", _("Choose the new date."))
        return data


class BookForm(forms.Form):
    planned_on = forms.DateField(label=_("Date"), widget=DateInput())


GIVEN_CHOICES = [("", _("Not checked off")), ("yes", _("Yes")), ("no", _("No"))]


class CheckOffForm(forms.Form):
    """One row per running intervention: given yes/no, sessions and minutes."""

    def __init__(self, *args: Any, interventions: list[PlanIntervention], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interventions = interventions
        for intervention in interventions:
            pk = intervention.pk
            self.fields[f"given_{pk}"] = forms.ChoiceField(
                label=_("Given"),
                choices=GIVEN_CHOICES,
                required=False,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
            self.fields[f"sessions_{pk}"] = forms.IntegerField(
                label=_("Sessions"), min_value=0, max_value=50, required=False
            )
            self.fields[f"minutes_{pk}"] = forms.IntegerField(
                label=pgettext_lazy("duration", "Minutes"),
                min_value=0,
                max_value=3600,
                required=False,
            )

    def rows(
        self,
    ) -> list[tuple[PlanIntervention, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (i, self[f"given_{i.pk}"], self[f"sessions_{i.pk}"], self[f"minutes_{i.pk}"])
            for i in self.interventions
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for intervention in self.interventions:
            pk = intervention.pk
            given = data.get(f"given_{pk}")
            sessions = data.get(f"sessions_{pk}") or 0
            minutes = data.get(f"minutes_{pk}") or 0
            if given == "yes" and sessions < 1:
                self.add_error(f"sessions_{pk}", _("How many sessions were given?"))
            if given == "no" and (sessions or minutes):
                self.add_error(
                    f"sessions_{pk}", _("An intervention not given has no sessions or minutes.")
                )
            if not given and (sessions or minutes):
                self.add_error(f"given_{pk}", _("Say whether it was given."))
        return data

    def entries(self) -> list[CheckOff]:
        found = []
        for intervention in self.interventions:
            pk = intervention.pk
            given = self.cleaned_data.get(f"given_{pk}")
            if not given:
                continue
            found.append(
                CheckOff(
                    intervention=intervention,
                    given=given == "yes",
                    sessions=self.cleaned_data.get(f"sessions_{pk}") or 0,
                    minutes=self.cleaned_data.get(f"minutes_{pk}") or 0,
                )
            )
        return found
