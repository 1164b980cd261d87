"""The satisfaction survey's forms: three questions on a 1–5 scale, worded for a child and
for a parent. They validate and convert; the survey services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import Respondent
from .survey_services import QUESTIONS, Scores

SCALE_CHOICES = [
    ("1", _("1 – Not at all")),
    ("2", _("2 – A little")),
    ("3", _("3 – Somewhat")),
    ("4", _("4 – Much")),
    ("5", _("5 – Very much")),
]

# The questions as a child reads them, and as a parent does.
WORDING: dict[str, dict[str, Promise]] = {
    Respondent.STUDENT: {
        "satisfied": _("How happy are you with the support you got?"),
        "helped": _("Did the support help you?"),
        "listened_to": _("Did you feel that we listened to you?"),
    },
    Respondent.GUARDIAN: {
        "satisfied": _("How satisfied are you with the support your child and family got?"),
        "helped": _("Did the support help your child?"),
        "listened_to": _("Did you feel that we listened to you?"),
    },
}


def score_field(label: Any, *, required: bool = True) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=SCALE_CHOICES,
        coerce=int,
        required=required,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an answer from 1 to 5.")},
    )


class SurveyForm(forms.Form):
    """The survey through a one-time link: the three questions for one kind of respondent."""

    def __init__(self, *args: Any, respondent: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.respondent = respondent
        for name in QUESTIONS:
            self.fields[name] = score_field(WORDING[respondent][name])

    def scores(self) -> Scores:
        return Scores(self.respondent, *(self.cleaned_data[name] for name in QUESTIONS))


class MeetingAnswersForm(forms.Form):
    """The answers given at the closing meeting, for the student and for a guardian; a
    respondent who did not answer is left empty (all three questions, or none)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for respondent in Respondent.values:
            for name in QUESTIONS:
                self.fields[f"{respondent}_{name}"] = score_field(
                    WORDING[respondent][name], required=False
                )

    def groups(self) -> list[tuple[str, Promise, list[forms.BoundField]]]:
        """For the template: each respondent's label and its three fields."""
        return [
            (
                respondent,
                Respondent(respondent).label,
                [self[f"{respondent}_{name}"] for name in QUESTIONS],
            )
            for respondent in Respondent.values
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for respondent in Respondent.values:
            given = [cleaned.get(f"{respondent}_{name}") for name in QUESTIONS]
            if any(value is not None for value in given) and None in given:
                for name, value in zip(QUESTIONS, given, strict=True):
                    if value is None:
                        self.add_error(
                            f"{respondent}_{name}",
                            _("Answer all three questions, or leave all three empty."),
                        )
        return cleaned

    def answers(self) -> list[Scores]:
        found = []
        for respondent in Respondent.values:
            given = [self.cleaned_data.get(f"{respondent}_{name}") for name in QUESTIONS]
            if all(value is not None for value in given):
                satisfied, helped, listened_to = (int(value) for value in given)  # type: ignore[arg-type]
                found.append(Scores(respondent, satisfied, helped, listened_to))
        return found


class LinkForm(forms.Form):
    respondent = forms.ChoiceField(
        label=_("Who is the link for?"),
        choices=Respondent.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who the link is for.")},
    )
