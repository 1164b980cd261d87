"""The participant follow-up's selection: a district the person coordinates, a period and a
format. It validates and converts; the service decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sst.models import District

from .participant_services import CSV, XLSX


class DateInput(forms.DateInput):
    input_type = "date"


class ParticipantExportForm(forms.Form):
    distrikt = forms.ModelChoiceField(
        label=_("District"), queryset=District.objects.none(), empty_label=None
    )
    fran = forms.DateField(label=_("Intake from"), widget=DateInput())
    till = forms.DateField(label=_("Intake until"), widget=DateInput())
    format = forms.ChoiceField(
        label=_("File"),
        choices=[(CSV, _("CSV (semicolon, UTF-8)")), (XLSX, _("Excel (XLSX)"))],
        initial=CSV,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args: Any, districts: QuerySet[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["distrikt"].queryset = districts  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("fran"), data.get("till")
        if start and end and end < start:
            self.add_error("till", _("The period ends before it starts."))
        data["format"] = data.get("format") or CSV
        return data
