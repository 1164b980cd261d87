"""Forms of the mapping step. They validate and convert; the services in ``cases.mapping.services``
decide and save."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sst import textlimits

from ..models import (
    AbsenceKind,
    Agreement,
    CauseFactor,
    CauseGroup,
    HealthTalk,
    MappingApproval,
    PedagogicalMapping,
    SchoolSocialMapping,
    TimeStatus,
)
from . import selectors, services, texts

ANALYSIS_PREFIX = "analysis_"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _not_in_future(day: datetime.date | None) -> datetime.date | None:
    if day is not None and day > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."), code="future")
    return day


class CauseFactorField(forms.ModelMultipleChoiceField):
    """Checkboxes named by the factor alone: the template groups them under their group."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class MappingForm(forms.Form):
    """The counsellor's mapping: the four areas (with the source's prompts as help text),
    cause factors by group, the type of absence and the 14 analysis statements."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    conducted_on = forms.DateField(
        label=_("Talk with the student held on"), required=False, widget=_date_input()
    )
    causes = CauseFactorField(
        label=_("Cause factors"),
        queryset=CauseFactor.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    absence_kind = forms.ChoiceField(
        label=_("Type of absence"),
        choices=[("", _("Not assessed")), *AbsenceKind.choices],
        required=False,
    )
    support_wanted = textlimits.text_field(
        textlimits.model_limit(SchoolSocialMapping, "support_wanted"),
        label=_("What support does the student want?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, chosen_causes: list[int] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for area in texts.AREAS:
            self.fields[area.field] = textlimits.text_field(
                textlimits.model_limit(SchoolSocialMapping, area.field),
                label=area.question,
                help_text=area.prompts,
                required=False,
                widget=forms.Textarea(attrs={"rows": 5}),
            )
        for key, statement in texts.ANALYSIS_STATEMENTS:
            self.fields[ANALYSIS_PREFIX + key] = forms.ChoiceField(
                label=statement,
                choices=[*Agreement.choices, ("", _("Not answered"))],
                required=False,
                widget=forms.RadioSelect,
            )
        causes = self.fields["causes"]
        causes.queryset = selectors.cause_factor_choices(chosen=chosen_causes or [])  # type: ignore[attr-defined]

    @classmethod
    def for_mapping(cls, record: SchoolSocialMapping, data: Any = None) -> MappingForm:
        chosen = list(record.causes.values_list("pk", flat=True))
        initial: dict[str, Any] = {
            "version": record.version,
            "conducted_on": record.conducted_on,
            "causes": chosen,
            "absence_kind": record.absence_kind,
            "support_wanted": record.support_wanted,
        }
        for name in texts.AREA_FIELDS:
            initial[name] = getattr(record, name)
        for key, value in (record.analysis or {}).items():
            initial[ANALYSIS_PREFIX + key] = value
        return cls(data, initial=initial, chosen_causes=chosen)

    def clean_conducted_on(self) -> datetime.date | None:
        return _not_in_future(self.cleaned_data.get("conducted_on"))

    # Grouped for the template: one fieldset per cause group, one table of statements.

    def area_fields(self) -> list[BoundField]:
        return [self[name] for name in texts.AREA_FIELDS]

    def cause_groups(self) -> list[tuple[str, list[Any]]]:
        """(group label, checkboxes) in the order of ``CauseGroup``."""
        grouped: dict[str, list[Any]] = {group.value: [] for group in CauseGroup}
        for checkbox in self["causes"]:
            factor = checkbox.data["value"].instance
            grouped[factor.group].append(checkbox)
        return [(str(CauseGroup(key).label), boxes) for key, boxes in grouped.items() if boxes]

    def analysis_fields(self) -> list[BoundField]:
        return [self[ANALYSIS_PREFIX + key] for key, _label in texts.ANALYSIS_STATEMENTS]

    def analysis_columns(self) -> list[str]:
        """The headings of the statements' answer columns, in the order of the radios."""
        return [*(str(label) for _value, label in Agreement.choices), str(_("Not answered"))]

    def content(self) -> services.MappingContent:
        data = self.cleaned_data
        return services.MappingContent(
            conducted_on=data.get("conducted_on"),
            school_situation=data.get("school_situation", ""),
            wellbeing=data.get("wellbeing", ""),
            home_and_leisure=data.get("home_and_leisure", ""),
            support_needed=data.get("support_needed", ""),
            support_wanted=data.get("support_wanted", ""),
            absence_kind=data.get("absence_kind", ""),
            analysis={
                key: data[ANALYSIS_PREFIX + key]
                for key, _label in texts.ANALYSIS_STATEMENTS
                if data.get(ANALYSIS_PREFIX + key)
            },
            causes=list(data.get("causes") or []),
        )


class ApprovalForm(forms.Form):
    """The student's written answer: may the mapping be shared at the EHT?"""

    version = forms.IntegerField(widget=forms.HiddenInput)
    approval = forms.ChoiceField(
        label=_("The student's answer"),
        choices=[
            (MappingApproval.APPROVED, _("Approved: the mapping may be shared at the EHT")),
            (
                MappingApproval.NOT_APPROVED,
                _("Not approved: the mapping stays with the counsellor"),
            ),
        ],
        widget=forms.RadioSelect,
    )
    approval_on = forms.DateField(label=_("Date of the answer"), widget=_date_input())

    def clean_approval_on(self) -> datetime.date | None:
        return _not_in_future(self.cleaned_data.get("approval_on"))


class OfferedTimeForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class OfferedTimeOutcomeForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (TimeStatus.ATTENDED, _("Attended")),
            (TimeStatus.MISSED, _("Missed")),
        ]
    )


class PedagogicalMappingForm(forms.Form):
    conducted_on = forms.DateField(label=_("Done on"), widget=_date_input())
    findings = textlimits.text_field(
        textlimits.model_limit(PedagogicalMapping, "findings"),
        label=_("Findings"),
        help_text=_("How the student manages school work: strengths, difficulties, subjects."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    adjustments = textlimits.text_field(
        textlimits.model_limit(PedagogicalMapping, "adjustments"),
        label=_("Adjustments proposed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_conducted_on(self) -> datetime.date | None:
        return _not_in_future(self.cleaned_data.get("conducted_on"))


class HealthTalkForm(forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=_date_input())
    note = textlimits.text_field(
        textlimits.model_limit(HealthTalk, "note"),
        label=_("Note (read by school nurses only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def clean_held_on(self) -> datetime.date | None:
        return _not_in_future(self.cleaned_data.get("held_on"))
