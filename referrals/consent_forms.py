"""Forms of the consent pages: they validate and convert; the services decide and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.models import Guardian, User

from .models import (
    Consent,
    ConsentMethod,
    ConsentScan,
    FamilyMeeting,
    InformationOutcome,
)

STUDENT = "student"


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value: Any) -> str | None:
        if hasattr(value, "strftime"):
            return str(timezone.localtime(value).strftime("%Y-%m-%dT%H:%M"))
        return super().format_value(value)


class ConsentForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Consent
        fields = [
            "scope_school_social_services",
            "scope_student_health",
            "scope_camhs",
            "valid_until",
            "student_view",
        ]
        widgets = {
            "valid_until": DateInput(),
            "student_view": forms.Textarea(attrs={"rows": 3}),
        }


class StaffChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class GivingForm(forms.Form):
    who = forms.ChoiceField(label=_("Who gave the consent"))
    given_on = forms.DateField(label=_("Given on"), widget=DateInput())
    method = forms.ChoiceField(
        label=_("Given as"), choices=ConsentMethod.choices, widget=forms.RadioSelect
    )
    scan = forms.ModelChoiceField(
        label=_("The signed form (scan)"), queryset=ConsentScan.objects.none(), required=False
    )
    witnesses = StaffChoiceField(
        label=_("Recorded by (two staff)"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        guardians: list[Guardian],
        scans: QuerySet[ConsentScan],
        staff: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.guardians = {str(g.public_id): g for g in guardians}
        who = self.fields["who"]
        assert isinstance(who, forms.ChoiceField)
        who.choices = [
            *((str(g.public_id), g.full_name) for g in guardians),
            (STUDENT, _("The student")),
        ]
        self.fields["scan"].queryset = scans  # type: ignore[attr-defined]
        self.fields["witnesses"].queryset = staff  # type: ignore[attr-defined]

    def giver(self) -> tuple[Guardian | None, bool]:
        who = self.cleaned_data["who"]
        return (None, True) if who == STUDENT else (self.guardians[who], False)


class ScanForm(forms.Form):
    file = forms.FileField(
        label=_("Scanned form (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class WithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DateInput())


class MeetingForm(forms.ModelForm):  # type: ignore[type-arg]
    staff = StaffChoiceField(
        label=_("Staff taking part"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = FamilyMeeting
        fields = ["kind", "starts_at", "location", "staff", "with_student", "with_guardians"]
        widgets = {"starts_at": DateTimeInput()}

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff  # type: ignore[attr-defined]


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("The family's answer"),
        choices=InformationOutcome.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class WorkerNoteForm(forms.Form):
    text = textlimits.text_field(
        textlimits.TEXT,
        label=_("Own note"),
        help_text=_("Only you read your notes. Write no names or personal identity numbers."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
