"""The statistics page's choice of session, and of the table to download."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import FastSelect
from proposals.models import Session

TABLE_KEYS = ["sessions", "units", "categories", "kinds", "round2"]


class StatisticsForm(forms.Form):
    session = forms.ModelChoiceField(
        label=_("Session"),
        queryset=Session.objects.select_related("term"),
        required=False,
        empty_label=_("All sessions"),
        widget=FastSelect,
        error_messages={"invalid_choice": _("Choose a session from the list.")},
    )
    table = forms.ChoiceField(
        choices=[("", "")] + [(key, key) for key in TABLE_KEYS],
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("There is no such table.")},
    )
