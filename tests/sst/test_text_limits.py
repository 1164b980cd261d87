"""Every free-text field of the product has a bound, in the model (a validator that
``full_clean`` and the services run) — walked over every model, so a new field cannot be
forgotten — and the bound says its message in Swedish."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import override

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
