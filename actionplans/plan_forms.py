"""Forms of the action plan's pages: they validate and convert; the services decide and save.

Goals and interventions are formsets: one row per goal or intervention, a row left empty is
ignored, a row ticked "remove" ends that goal or intervention in the next version, and
"Add a row" (a submit button, no script needed) draws the form again with one more row.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.models import Guardian, User

from . import catalogue
from .models import (
    ActionPlan,
    Continuation,
    ContinuationDecision,
    Goal,
    Party,
    Perspective,
    PlanIntervention,
    Side,
    SignedHow,
    ToolboxItem,
)
from .plan_services import GoalInput, InterventionInput


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _person(user: User) -> str:
    return str(user.get_full_name() or user.get_username())


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return _person(obj)


class PlanForm(forms.Form):
    """The plan's own fields, and the version the edit started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    starts_on = forms.DateField(label=_("The plan starts"), widget=DateInput())
    ends_on = forms.DateField(
        label=_("The plan ends"),
        widget=DateInput(),
        help_text=_("Three months as a rule; up to six. Longer needs a written reason."),
    )
    longer_reason = textlimits.text_field(
        textlimits.model_limit(ActionPlan, "longer_reason"),
        label=_("Why the plan runs longer than six months"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    school_measures = textlimits.text_field(
        textlimits.model_limit(ActionPlan, "school_measures"),
        label=_("The school's own measures (other)"),
        required=False,
        help_text=_("Measures of the school's own that are not in the list of interventions."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sip = forms.BooleanField(
        label=_("A coordinated individual plan (SIP) with health care"), required=False
    )
    sip_on = forms.DateField(label=_("Date of the SIP"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("sip") and not data.get("sip_on"):
            self.add_error("sip_on", _("Give the date of the SIP."))
        return data


class GoalForm(forms.Form):
    public_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    perspective = forms.ChoiceField(
        label=_("Perspective"),
        choices=[("", _("(none)")), *Perspective.choices],
        required=False,
    )
    text = textlimits.text_field(
        textlimits.model_limit(Goal, "text"),
        label=_("Goal"),
        help_text=_("For example: attend all Monday lessons."),
    )
    measure = textlimits.text_field(
        textlimits.model_limit(Goal, "measure"), label=_("How it is measured")
    )
    target_on = forms.DateField(label=_("Target date"), widget=DateInput())

    def as_input(self) -> GoalInput:
        data = self.cleaned_data
        return GoalInput(
            text=data["text"],
            measure=data["measure"],
            target_on=data["target_on"],
            perspective=data.get("perspective") or "",
            public_id=data.get("public_id"),
        )


class InterventionForm(forms.Form):
    public_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    item = forms.TypedChoiceField(label=_("Intervention"), coerce=int)
    side = forms.ChoiceField(label=_("Responsible side"), choices=[("", "—"), *Side.choices])
    responsible = PersonChoiceField(
        label=_("Responsible person"), queryset=User.objects.none(), empty_label="—"
    )
    how_often = textlimits.text_field(
        textlimits.model_limit(PlanIntervention, "how_often"),
        label=_("How often"),
        help_text=_("For example: every morning, once a week."),
    )
    starts_on = forms.DateField(label=_("From"), widget=DateInput())

    def __init__(
        self,
        *args: Any,
        items: QuerySet[ToolboxItem],
        people: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.items = {item.pk: item for item in items}
        self.fields["item"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *catalogue.grouped_choices(items),
        ]
        self.fields["responsible"].queryset = people  # type: ignore[attr-defined]

    def clean_item(self) -> ToolboxItem:
        value = self.cleaned_data["item"]
        item = self.items.get(value)
        if item is None:
            raise forms.ValidationError(_("Choose an intervention from the list."))
        return item

    def as_input(self) -> InterventionInput:
        data = self.cleaned_data
        return InterventionInput(
            item=data["item"],
            side=data["side"],
            responsible=data["responsible"],
            how_often=data["how_often"],
            starts_on=data["starts_on"],
            public_id=data.get("public_id"),
        )


class RowFormSet(BaseFormSet):  # type: ignore[type-arg]
    """Rows with a "remove from the plan" box in plain words."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove from the plan")


def goal_formset(
    data: Any = None, *, initial: list[dict[str, Any]] | None = None, extra: int = 1
) -> Any:
    """The goals' rows (``extra`` blank rows after the ``initial`` ones when drawn anew)."""
    formset = formset_factory(GoalForm, formset=RowFormSet, extra=extra, can_delete=True)
    return formset(data, initial=initial, prefix="goals")


def intervention_formset(
    data: Any = None,
    *,
    initial: list[dict[str, Any]] | None = None,
    extra: int = 1,
    items: QuerySet[ToolboxItem],
    people: QuerySet[User],
) -> Any:
    formset = formset_factory(InterventionForm, formset=RowFormSet, extra=extra, can_delete=True)
    return formset(
        data,
        initial=initial,
        prefix="interventions",
        form_kwargs={"items": items, "people": people},
    )


def rows_of(formset: Any) -> list[Any]:
    """The rows to save: filled in and not marked for removal (a blank row is ignored)."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        rows.append(form.as_input())
    return rows


def posted_rows(formset: Any) -> list[dict[str, Any]]:
    """The rows as typed (valid or not), without blank rows and rows marked for removal:
    the initial rows when the form is drawn again with one more row."""
    rows = []
    for form in formset.forms:
        raw = {name: form.data.get(form.add_prefix(name), "") for name in form.fields}
        if raw.get("DELETE"):
            continue
        if any(value for name, value in raw.items() if name != "public_id"):
            rows.append(raw)
    return rows


def goal_initial(goals: list[Goal]) -> list[dict[str, Any]]:
    return [
        {
            "public_id": goal.public_id,
            "perspective": goal.perspective,
            "text": goal.text,
            "measure": goal.measure,
            "target_on": goal.target_on,
        }
        for goal in goals
    ]


def intervention_initial(rows: list[PlanIntervention]) -> list[dict[str, Any]]:
    return [
        {
            "public_id": row.public_id,
            "item": row.item_id,
            "side": row.side,
            "responsible": row.responsible_id,
            "how_often": row.how_often,
            "starts_on": row.starts_on,
        }
        for row in rows
    ]


class SignatureForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    party = forms.ChoiceField(label=_("Who signs"), choices=Party.choices)
    guardian = forms.ModelChoiceField(
        label=_("Which guardian"),
        queryset=Guardian.objects.none(),
        required=False,
        help_text=_("Only when a guardian signs."),
    )
    signer = PersonChoiceField(
        label=_("Which staff member"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("When the school representative or the social worker signed on paper."),
    )
    how = forms.ChoiceField(
        label=_("How"), choices=SignedHow.choices, widget=forms.RadioSelect, initial="paper"
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput())

    def __init__(
        self, *args: Any, guardians: list[Guardian], staff: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["guardian"]
        field.queryset = Guardian.objects.filter(  # type: ignore[attr-defined]
            pk__in=[g.pk for g in guardians]
        )
        field.label_from_instance = lambda g: g.full_name  # type: ignore[attr-defined]
        self.fields["signer"].queryset = staff  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("party") == Party.GUARDIAN and not data.get("guardian"):
            self.add_error("guardian", _("Choose which guardian signed."))
        return data


class ContinuationForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Continuation.choices, widget=forms.RadioSelect
    )
    reason = textlimits.text_field(
        textlimits.model_limit(ContinuationDecision, "reason"),
        label=_("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    decided_on = forms.DateField(label=_("Decided on"), widget=DateInput())
