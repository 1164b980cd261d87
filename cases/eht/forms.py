"""Forms of the EHT and principal pages: they validate and convert; the services decide."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from attendance.rollup import month_start
from attendance.selectors import previous_month
from attendance.templatetags.absence import month_label
from sst import textlimits

from ..models import EhtDecision, EhtDecisionKind, EhtMeeting, Escalation, EscalationKind

MONTHS_TO_CHOOSE = 12


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"class": "form-control", **(attrs or {})}, format="%Y-%m-%d")


class MeetingForm(forms.Form):
    meets_on = forms.DateField(label=_("Date of the meeting"), widget=DateInput())


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: EhtMeeting) -> str:  # type: ignore[override]
        return f"{obj.meets_on:%Y-%m-%d}"


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Decision"), choices=EhtDecisionKind.choices)
    responsible: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Responsible"), queryset=None
    )
    due_on = forms.DateField(label=_("To be done by"), required=False, widget=DateInput())
    meeting = MeetingChoiceField(
        label=_("Meeting"),
        queryset=None,
        required=False,
        empty_label=_("Not at a meeting"),
    )
    comment = textlimits.text_field(
        textlimits.model_limit(EhtDecision, "comment"),
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        staff: QuerySet[Any],
        meetings: QuerySet[EhtMeeting],
        initial_meeting: EhtMeeting | None = None,
    ) -> None:
        super().__init__(data, initial={"meeting": initial_meeting})
        self.fields["responsible"].queryset = staff  # type: ignore[attr-defined]
        self.fields["meeting"].queryset = meetings  # type: ignore[attr-defined]


def month_choices(today: datetime.date) -> list[tuple[str, str]]:
    months = [month_start(today)]
    while len(months) < MONTHS_TO_CHOOSE:
        months.append(previous_month(months[-1]))
    return [(f"{m:%Y-%m}", month_label(m)) for m in months]


class MonthForm(forms.Form):
    """``?month=YYYY-MM`` among the last twelve months; the current month by default."""

    month = forms.ChoiceField(label=_("Month"), required=False)

    def __init__(self, data: Any, *, today: datetime.date) -> None:
        super().__init__(data)
        self.today = today
        self.fields["month"].choices = month_choices(today)  # type: ignore[attr-defined]
        self.fields["month"].widget.attrs["class"] = "form-select"

    def chosen_month(self) -> datetime.date:
        if self.is_bound and self.is_valid() and self.cleaned_data.get("month"):
            return month_start(self.cleaned_data["month"])
        return month_start(self.today)


class EscalationForm(forms.Form):
    """One of the principal's step-4 decisions. The report of concern has no comment field:
    only the fact and its date are recorded."""

    decided_on = forms.DateField(label=_("Date"), widget=DateInput())
    comment = textlimits.text_field(
        textlimits.model_limit(Escalation, "comment"),
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, data: Any = None, *, kind: str, today: datetime.date) -> None:
        super().__init__(data, prefix=kind, initial={"decided_on": today})
        self.kind = kind
        if kind != EscalationKind.SST_COORDINATOR:
            del self.fields["comment"]

    @property
    def title(self) -> str:
        return str(EscalationKind(self.kind).label)
