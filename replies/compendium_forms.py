"""The compendium page's choice of session."""

from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.models import Session


class CompendiumForm(forms.Form):
    session = forms.ModelChoiceField(
        label=_("Session"),
        queryset=Session.objects.select_related("term"),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose a session from the list.")},
    )
