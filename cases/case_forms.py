"""Forms of the case pages. They validate and convert; the workflow services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from sst.models import Role

from .chronology import NOTE_PROFESSIONS
from .models import FLOW_ORDER, CaseOpening, CaseState, EventKind

REASON_MAX_LENGTH = 200


class VersionForm(forms.Form):
    """The case version the page was drawn from: a stale page is refused by the service."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ReasonForm(VersionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        error_messages={"required": _("Give a reason.")},
    )


class SkipForm(ReasonForm):
    """Jump forward past one or more steps; only states further on than the next step."""

    to = forms.ChoiceField(label=_("Skip to"), widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args: Any, state: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to"]).choices = skip_targets(state)


def skip_targets(state: str) -> list[tuple[str, str]]:
    """The later steps a case in ``state`` can skip to (none from an ended or off-flow state)."""
    if state not in FLOW_ORDER:
        return []
    start = FLOW_ORDER.index(CaseState(state)) + 2
    return [(target.value, str(target.label)) for target in FLOW_ORDER[start:]]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
        error_messages={"required": _("The note is empty.")},
    )
    restricted_to = forms.ChoiceField(
        label=_("Who may read it"),
        required=False,
        choices=[
            ("", _("Everyone who may see the case")),
            *[(role.value, role.label) for role in NOTE_PROFESSIONS],
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text=_(
            "Others see that a note exists, not what it says. Choose a profession for "
            "content that belongs to it, such as health-record information."
        ),
    )


# Which role may open a case with which reason.
OPENINGS_BY_ROLE: dict[str, str] = {
    Role.PRINCIPAL: CaseOpening.PRINCIPAL,
    Role.COUNSELLOR: CaseOpening.EHT,
    Role.SPECIAL_EDUCATOR: CaseOpening.EHT,
    Role.SCHOOL_NURSE: CaseOpening.EHT,
    Role.SCHOOL_PSYCHOLOGIST: CaseOpening.EHT,
}


def openings_for(roles: frozenset[str]) -> list[tuple[str, str]]:
    """The opening reasons the user's roles at the school allow, principal first."""
    allowed = {OPENINGS_BY_ROLE[role] for role in roles if role in OPENINGS_BY_ROLE}
    return [(opening.value, str(opening.label)) for opening in CaseOpening if opening in allowed]


class CaseOpenForm(forms.Form):
    opening = forms.ChoiceField(
        label=_("Opened as"), widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )

    def __init__(self, *args: Any, roles: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["opening"]).choices = openings_for(roles)


class CaseListFilterForm(forms.Form):
    """Filters in the URL: a state and a school id, never personal data."""

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All cases")),
            ("open", _("Open cases")),
            ("ended", _("Ended cases")),
            *CaseState.choices,
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    school = forms.TypedChoiceField(
        label=_("School"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, schools: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["school"]).choices = [
            ("", _("All my schools")),
            *[(school.pk, school.name) for school in schools],
        ]


class ChronologyFilterForm(forms.Form):
    """Entry kinds are not personal data, so the filter goes in the URL."""

    kind = forms.MultipleChoiceField(
        label=_("Show only"),
        required=False,
        choices=EventKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
