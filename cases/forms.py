"""Forms of the student pages: the student list's filters and the search by name (sent by POST,
so names never reach a URL)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sst.models import Grade


class StudentFilterForm(forms.Form):
    """Filters that go in the URL: identifiers of groups and grades, never names."""

    group = forms.IntegerField(required=False, widget=forms.HiddenInput)
    grade = forms.ChoiceField(
        label=_("Grade"),
        required=False,
        choices=[("", _("All grades")), *Grade.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class StudentSearchForm(forms.Form):
    """A name search is sent by POST so that the name never lands in a URL or access log."""

    name = forms.CharField(label=_("Search by name"), max_length=100, min_length=2)
