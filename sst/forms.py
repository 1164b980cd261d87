"""Forms validate and convert; the views and services decide."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditObjectType
from .personnummer import parse as parse_personnummer


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        # Long enough for any passphrase; bounded so no one posts a megabyte to be hashed.
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Six-digit code"),
        regex=r"^\s*\d{6}\s*$",
        max_length=20,
        error_messages={"invalid": _("Enter the six digits shown in your authenticator app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip()


class AuditFilterForm(forms.Form):
    """Filters in the query string: identifiers only, never a personnummer or a name."""

    username = forms.CharField(label=_("User"), required=False, max_length=150)
    student = forms.UUIDField(label=_("Student id"), required=False)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All")), *AuditAction.choices]
    )
    object_type = forms.ChoiceField(
        label=_("Object type"), required=False, choices=[("", _("All")), *AuditObjectType.choices]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data


class PersonnummerLookupForm(forms.Form):
    """Sent by POST, so the number never appears in a URL or an access log."""

    personnummer = forms.CharField(
        label=_("Student's personal identity number"),
        max_length=20,
        help_text=_(
            "Finds the events about one student. 12 or 10 digits, with at most a - or + before "
            "the last four (YYYYMMDD-NNNN, YYMMDD-NNNN; + for someone 100 or older this year). "
            "The number is not stored or shown."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_personnummer(self) -> str:
        return parse_personnummer(self.cleaned_data["personnummer"]).value
