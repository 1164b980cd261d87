"""Forms of the case pages. They validate and convert; the workflow services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.access import Capability

from .chronology import NOTE_PROFESSIONS
from .models import (
    CLOSURE_DETAIL_REQUIRED,
    CaseOpening,
    CaseState,
    ClosureReason,
    EventKind,
    Note,
)
from .transitions import Asks, Transition, skip_targets

REASON_MAX_LENGTH = textlimits.REASON


class VersionForm(forms.Form):
    """The case version the page was drawn from: a stale page is refused by the service."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ReasonForm(VersionForm):
    reason = textlimits.text_field(
        REASON_MAX_LENGTH,
        label=_("Reason"),
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        error_messages={"required": _("Give a reason.")},
    )


class ClosureForm(VersionForm):
    """Why the case closes: a reason from the fixed list, with detail where it needs one."""

    reason = forms.ChoiceField(
        label=_("Why is the case closed?"),
        choices=[("", "---------"), *ClosureReason.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"required": _("Choose why the case is closed.")},
    )
    detail = textlimits.text_field(
        REASON_MAX_LENGTH,
        label=_("Which support, or what happened"),
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=_("Needed for “Needs other support” (which) and “Other” (what)."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") in CLOSURE_DETAIL_REQUIRED and not cleaned.get("detail"):
            label = ClosureReason(cleaned["reason"]).label
            self.add_error("detail", _("Say in a few words: %(reason)s.") % {"reason": label})
        return cleaned


def transition_form_class(transition: Transition) -> type[VersionForm]:
    """The form a transition's button posts: what the table says it asks for."""
    return {
        Asks.NOTHING: VersionForm,
        Asks.REASON: ReasonForm,
        Asks.CLOSURE: ClosureForm,
    }[transition.asks]


def service_arguments(form: VersionForm) -> dict[str, str]:
    """The service's keyword arguments from a valid transition form."""
    return {name: form.cleaned_data[name] for name in ("reason", "detail") if name in form.fields}


class SkipForm(ReasonForm):
    """Jump forward past one or more of the school's own steps (transitions.skip_targets)."""

    to = forms.ChoiceField(label=_("Skip to"), widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args: Any, state: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to"]).choices = [
            (target.value, str(target.label)) for target in skip_targets(state)
        ]


class NoteForm(forms.Form):
    text = textlimits.text_field(
        textlimits.model_limit(Note, "text"),
        label=_("Note"),
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


# Which capability (sst/capabilities.py) opens a case with which reason.
OPENINGS: dict[Capability, str] = {
    Capability.OPEN_CASE_AS_PRINCIPAL: CaseOpening.PRINCIPAL,
    Capability.OPEN_CASE_FOR_EHT: CaseOpening.EHT,
}


def openings_for(capabilities: frozenset[Capability]) -> list[tuple[str, str]]:
    """The opening reasons the user's capabilities at the school allow, principal first."""
    allowed = {OPENINGS[capability] for capability in capabilities if capability in OPENINGS}
    return [(opening.value, str(opening.label)) for opening in CaseOpening if opening in allowed]


class CaseOpenForm(forms.Form):
    opening = forms.ChoiceField(
        label=_("Opened as"), widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )

    def __init__(self, *args: Any, capabilities: frozenset[Capability], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["opening"]).choices = openings_for(capabilities)


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
