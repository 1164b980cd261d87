"""Every free-text field of the product has a bound, in the model (a validator that
``full_clean`` and the services run) and in every form — both walked, so a new field cannot
be forgotten — and the bound says its message in Swedish."""

from __future__ import annotations

import importlib

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import override

from cases.checklist.forms import ChecklistForm
from cases.mapping.forms import HealthTalkForm, MappingForm, PedagogicalMappingForm
from sst import textlimits

PRODUCT_APPS = ("sst", "attendance", "cases", "referrals", "actionplans", "followup", "reports")

# Text no person types: each with why it needs no bound of its own.
NOT_FREE_TEXT = {
    # Fernet token of a personnummer the register parsed and checked; never typed.
    ("sst", "Student", "personnummer_ciphertext"),
    ("sst", "Guardian", "personnummer_ciphertext"),
}
# The longest text the product accepts anywhere.
CEILING = textlimits.TEXT


def _text_fields() -> list[tuple[str, str, models.Field]]:  # type: ignore[type-arg]
    found = []
    for app in PRODUCT_APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if isinstance(field, (models.CharField, models.TextField)):
                    found.append((app, model.__name__, field))
    return found


def _bound(field: models.Field) -> int | None:  # type: ignore[type-arg]
    limits = [v.limit_value for v in field.validators if isinstance(v, MaxLengthValidator)]
    return min(limits) if limits else None  # type: ignore[type-var]


TEXT_FIELDS = _text_fields()


def test_the_walk_finds_the_records_free_text():
    names = {(model, field.name) for _app, model, field in TEXT_FIELDS}
    assert ("MentorChecklist", "illness_comment") in names
    assert ("SchoolSocialMapping", "wellbeing") in names
    assert ("Note", "text") in names


@pytest.mark.parametrize(
    "app, model, field",
    [row for row in TEXT_FIELDS if (row[0], row[1], row[2].name) not in NOT_FREE_TEXT],
    ids=lambda value: getattr(value, "name", value),
)
def test_every_text_field_is_bounded_in_the_model(app, model, field):
    bound = _bound(field)
    assert bound is not None, f"{app}.{model}.{field.name} has no MaxLengthValidator"
    assert bound <= CEILING, f"{app}.{model}.{field.name} accepts {bound} characters"
    if isinstance(field, models.TextField):
        # The form's hint and the model's rule say the same number.
        assert field.max_length == bound


def test_the_exceptions_are_still_there():
    """An exception that no longer names a field would hide a new one."""
    present = {(app, model, field.name) for app, model, field in TEXT_FIELDS}
    assert present >= NOT_FREE_TEXT


def test_too_long_is_said_in_swedish():
    with override("sv"), pytest.raises(ValidationError) as refused:
        textlimits.limit(10)("x" * 11)
    assert refused.value.messages == ["Skriv högst 10 tecken (texten har 11)."]


# ---------------------------------------------------------------- the forms


def _product_forms() -> list[type[forms.BaseForm]]:
    for module in FORM_MODULES:
        importlib.import_module(module)
    found: list[type[forms.BaseForm]] = []
    pending: list[type[forms.BaseForm]] = [forms.Form, forms.ModelForm, AuthenticationForm]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub.__module__.split(".")[0] in PRODUCT_APPS:
                found.append(sub)
    return sorted(set(found), key=lambda cls: f"{cls.__module__}.{cls.__name__}")


FORM_MODULES = (
    "sst.forms",
    "attendance.import_forms",
    "attendance.views",
    "cases.forms",
    "cases.case_forms",
    "cases.checklist.forms",
    "cases.mapping.forms",
    "cases.eht.forms",
)


def _unbounded(form_fields: dict[str, forms.Field]) -> list[str]:
    return [
        name
        for name, field in form_fields.items()
        # A UUID field parses its value: a longer text is simply not a UUID.
        if isinstance(field, forms.CharField)
        and not isinstance(field, forms.UUIDField)
        and field.max_length is None
    ]


@pytest.mark.parametrize("form_class", _product_forms(), ids=lambda cls: cls.__name__)
def test_every_text_input_of_a_form_is_bounded(form_class):
    assert _unbounded(form_class.base_fields) == []


@pytest.mark.parametrize(
    "form_class", [ChecklistForm, MappingForm, PedagogicalMappingForm, HealthTalkForm]
)
def test_the_fields_a_form_adds_itself_are_bounded_like_the_model(db, form_class):
    form = form_class()
    assert _unbounded(form.fields) == []
    assert any(isinstance(field, forms.CharField) for field in form.fields.values())
