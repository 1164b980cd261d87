"""Forms of the mentor checklist: they validate and convert; ``cases.checklist.services`` decide.

The five questions keep the paper form's wording (Trosa 004, appendix 1): their labels are
the model's field names, translated in the Swedish catalogue to the appendix's questions.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.models import User

from ..models import MentorChecklist, YesNo
from .texts import QUESTIONS


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


def _comment_input() -> forms.Textarea:
    return forms.Textarea(attrs={"rows": 2, "class": "form-control"})


def _yes_no(label: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=YesNo.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Answer yes or no.")},
    )


class ChecklistForm(forms.Form):
    """The checklist: two talk dates, five yes/no questions with comments, the mentor."""

    talked_with_student_on = forms.DateField(
        label=_("Talk with the student, date"),
        widget=_date_input(),
        error_messages={"required": _("Give the date of the talk with the student.")},
    )
    talked_with_guardian_on = forms.DateField(
        label=_("Talk with the guardian, date"),
        widget=_date_input(),
        error_messages={"required": _("Give the date of the talk with the guardian.")},
    )
    mentor_name = forms.CharField(
        label=_("Mentor/class teacher"),
        max_length=150,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "name"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for answer, comment in QUESTIONS:
            question = MentorChecklist._meta.get_field(answer).verbose_name  # type: ignore[union-attr]
            self.fields[answer] = _yes_no(question)
            self.fields[comment] = textlimits.text_field(
                textlimits.model_limit(MentorChecklist, comment),
                label=_("Comment"),
                required=False,
                widget=_comment_input(),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("talked_with_student_on", "talked_with_guardian_on"):
            day = cleaned.get(name)
            if day is not None and day > timezone.localdate():
                self.add_error(name, _("A talk cannot be dated in the future."))
        return cleaned

    def questions(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        """(number, answer field, comment field) for each question, in the paper's order."""
        return [
            (number, self[answer], self[comment])
            for number, (answer, comment) in enumerate(QUESTIONS, start=1)
        ]


class FollowUpForm(forms.Form):
    """The mentor's follow-up after one week."""

    continued_absence = _yes_no(_("Continued repeated absence?"))
    follow_up_comment = textlimits.text_field(
        textlimits.model_limit(MentorChecklist, "follow_up_comment"),
        label=_("Comment"),
        required=False,
        widget=_comment_input(),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        return obj.get_full_name() or obj.get_username()


class EhtFollowUpForm(forms.Form):
    """The student health team's part: who contacts the guardian and when, feedback to the
    mentor by whom and when, or no further follow-up needed."""

    guardian_contact_by = StaffChoiceField(
        label=_("Contacts the guardian"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("– nobody chosen –"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    guardian_contact_on = forms.DateField(
        label=_("Date of the contact with the guardian"), required=False, widget=_date_input()
    )
    feedback_by = StaffChoiceField(
        label=_("Feedback to the mentor: responsible"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("– nobody chosen –"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    feedback_on = forms.DateField(
        label=_("Date of the feedback to the mentor"), required=False, widget=_date_input()
    )
    no_further_follow_up = forms.BooleanField(
        label=_("No further follow-up needed"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    eht_comment = textlimits.text_field(
        textlimits.model_limit(MentorChecklist, "eht_comment"),
        label=_("Comment"),
        required=False,
        widget=_comment_input(),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["guardian_contact_by"].queryset = staff  # type: ignore[attr-defined]
        self.fields["feedback_by"].queryset = staff  # type: ignore[attr-defined]
