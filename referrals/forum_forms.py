"""Forms of the forum's pages. They validate and convert; ``forum_services`` decides."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.models import User

from .models import AcceptedAs, DecisionKind, Forum, RedirectTarget


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PersonChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        return str(obj.get_full_name() or obj.get_username())


class PeopleChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: User) -> str:
        return str(obj.get_full_name() or obj.get_username())


class _When(forms.Form):
    day = forms.DateField(label=_("Date"), widget=_date_input())
    time = forms.TimeField(label=_("Time"), widget=_time_input())
    location = forms.CharField(label=_("Place"), max_length=120, required=False)

    def starts_at(self) -> datetime.datetime:
        return timezone.make_aware(
            datetime.datetime.combine(self.cleaned_data["day"], self.cleaned_data["time"])
        )


class MeetingAddForm(_When):
    forum = forms.ModelChoiceField(label=_("Referral forum"), queryset=Forum.objects.none())

    field_order = ["forum", "day", "time", "location"]

    def __init__(self, *args: Any, forums: QuerySet[Forum], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["forum"].queryset = forums  # type: ignore[attr-defined]
        if forums.count() == 1:
            self.fields["forum"].initial = forums.first()


class MeetingMoveForm(_When):
    reason = textlimits.text_field(textlimits.REASON, label=_("Why is it moved?"))
    version = forms.IntegerField(widget=forms.HiddenInput)


class MeetingCancelForm(forms.Form):
    reason = textlimits.text_field(textlimits.REASON, label=_("Why is it cancelled?"))
    version = forms.IntegerField(widget=forms.HiddenInput)


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Decision"), choices=DecisionKind.choices, widget=forms.RadioSelect
    )
    reason = textlimits.text_field(
        textlimits.COMMENT, label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3})
    )
    decided_on = forms.DateField(label=_("Decided on"), widget=_date_input())
    accepted_as = forms.ChoiceField(
        label=_("If accepted"),
        choices=AcceptedAs.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    social_worker = PersonChoice(
        label=_("Social worker to assign"), queryset=User.objects.none(), required=False
    )
    suggestions = textlimits.text_field(
        textlimits.COMMENT,
        label=_("If rejected: other measures suggested to the school"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    redirected_to = forms.ChoiceField(
        label=_("If redirected: to"),
        choices=[("", "–"), *RedirectTarget.choices],
        required=False,
    )

    def __init__(self, *args: Any, social_workers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["social_worker"].queryset = social_workers  # type: ignore[attr-defined]
        self.fields["decided_on"].initial = timezone.localdate()


class MinutesForm(forms.Form):
    present = PeopleChoice(
        label=_("Present members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = textlimits.text_field(
        textlimits.TEXT,
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, members: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = members  # type: ignore[attr-defined]


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class AssignForm(forms.Form):
    social_worker = PersonChoice(label=_("Social worker"), queryset=User.objects.none())

    def __init__(self, *args: Any, social_workers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["social_worker"].queryset = social_workers  # type: ignore[attr-defined]


class QueueMoveForm(forms.Form):
    to_position = forms.IntegerField(label=_("New place in the queue"), min_value=1)
    reason = textlimits.text_field(
        textlimits.REASON, label=_("Reason (needed when moved up)"), required=False
    )
