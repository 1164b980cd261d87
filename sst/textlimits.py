"""Bounds on free text. Every free-text field has a maximum, said once here and enforced twice:
in the model (a ``MaxLengthValidator``, so ``full_clean`` and the services refuse a longer text
whatever posted it — a model ``TextField``'s ``max_length`` alone is only a hint to its form)
and in the form (the same number, the same message, and ``maxlength`` on the input).

``tests/sst/test_text_limits.py`` walks every model's text fields and fails on one without a
bound, so a new field cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# A name, a reason or a closure detail: one line.
NAME = 150
REASON = 200
# A comment beside one answer (the checklist's questions, the EHT's follow-up, a decision).
COMMENT = 2_000
# A longer text: an area of the school-social mapping, a note, a pedagogical finding.
TEXT = 10_000

TOO_LONG = _("Write at most %(limit_value)d characters (this text has %(show_value)d).")


def limit(length: int) -> MaxLengthValidator:
    """The model validator for a text of at most ``length`` characters."""
    return MaxLengthValidator(length, message=TOO_LONG)


def text_field(length: int, **kwargs: Any) -> forms.CharField:
    """A form field for free text bounded like its model field, with the same message."""
    error_messages = {"max_length": TOO_LONG, **kwargs.pop("error_messages", {})}
    return forms.CharField(max_length=length, error_messages=error_messages, **kwargs)


def model_limit(model: type[models.Model], name: str) -> int:
    """The bound of a model's text field (its ``max_length``)."""
    length = model._meta.get_field(name).max_length  # type: ignore[union-attr]
    assert length is not None, f"{model.__name__}.{name} has no bound"
    return int(length)


def check_fields(model: type[models.Model], values: Mapping[str, Any]) -> None:
    """Run the model fields' validators over ``values`` (for services that save with
    ``update()`` rather than ``full_clean``); one error per field, as ``full_clean`` gives."""
    errors: dict[str, list[ValidationError]] = {}
    for name, value in values.items():
        field = model._meta.get_field(name)
        if value in field.empty_values:  # type: ignore[union-attr]
            continue
        try:
            field.run_validators(value)  # type: ignore[union-attr]
        except ValidationError as error:
            errors[name] = error.error_list
    if errors:
        raise ValidationError(errors)  # type: ignore[arg-type]
