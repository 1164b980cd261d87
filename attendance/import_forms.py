"""The upload form: which register, for which school, and the file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from sst.models import School

from .models import ImportKind


def max_upload_bytes() -> int:
    return int(settings.IMPORT_MAX_UPLOAD_MB) * 1024 * 1024


def too_large_message() -> str:
    return str(
        _("The file is too large. The largest file that can be imported is %(mb)d MB.")
        % {"mb": settings.IMPORT_MAX_UPLOAD_MB}
    )


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file contains"),
        widget=forms.RadioSelect,
        initial=ImportKind.ATTENDANCE,
        error_messages={"required": _("Choose what the file contains.")},
    )
    school = forms.ModelChoiceField(
        label=_("School"),
        queryset=School.objects.none(),
        required=False,
        help_text=_("Rows of other schools are refused. Not used for the school register."),
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Semicolon-separated, with a header row; UTF-8 or Windows-1252."),
        error_messages={
            "required": _("Choose a file to import."),
            "empty": _("The file is empty."),
            "invalid": _("No file was received. Choose the file again."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def __init__(
        self, *args: Any, whole_municipality: bool, schools: QuerySet[School], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.whole_municipality = whole_municipality
        kinds = [
            (value, label)
            for value, label in ImportKind.choices
            if whole_municipality or value != ImportKind.SCHOOLS
        ]
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = kinds
        school_field = self.fields["school"]
        assert isinstance(school_field, forms.ModelChoiceField)
        school_field.queryset = schools.order_by("name")
        if whole_municipality:
            school_field.empty_label = _("All schools in the file")
            school_field.help_text = _(
                "Choose a school to accept only its rows. Not used for the school register."
            )
        else:
            school_field.required = True
            school_field.empty_label = None
            school_field.help_text = _("Rows of other schools are refused.")
        self.fields["file"].widget.attrs["data-max-bytes"] = str(max_upload_bytes())
        self.fields["file"].widget.attrs["data-too-large"] = too_large_message()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload is not None and upload.size > max_upload_bytes():
            raise forms.ValidationError(too_large_message(), code="too_large")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == ImportKind.SCHOOLS:
            data["school"] = None
        return data
