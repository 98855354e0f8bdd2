"""Forms of the receipts overview and of the committee's re-handling and closing queue."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from core.forms import BoundedDateField
from proposals.forms import ProposalChoiceField
from proposals.models import Proposal, Session

State = Proposal.State


class OverviewFilterForm(forms.Form):
    SHOW_CHOICES = [
        ("", gettext_lazy("All letters")),
        ("missing", gettext_lazy("Receipts missing")),
        ("dissatisfied", gettext_lazy("Dissatisfied")),
    ]

    show = forms.ChoiceField(label=gettext_lazy("Show"), choices=SHOW_CHOICES, required=False)
    session = forms.ModelChoiceField(
        label=gettext_lazy("Session"),
        queryset=Session.objects.select_related("term"),
        required=False,
        empty_label=gettext_lazy("All sessions"),
    )


class RehandleForm(forms.Form):
    unit = forms.TypedChoiceField(label=gettext_lazy("Unit that handles it again"), coerce=int)
    reply_due = BoundedDateField(label=gettext_lazy("Reply due"))
    comment = forms.CharField(
        label=gettext_lazy("Why it is handled again"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Please explain why it is handled again.")},
    )

    def __init__(self, *args, unit_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Given by the page, so that many forms share one query for the units.
        self.fields["unit"].choices = unit_choices

    def clean_unit(self):
        unit = Unit.objects.filter(pk=self.cleaned_data["unit"], is_active=True).first()
        if unit is None:
            raise forms.ValidationError(_("Choose an active unit."))
        return unit


class CloseForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Explanation for closing (sent to the proposers)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BulkCloseForm(forms.Form):
    proposals = ProposalChoiceField(
        queryset=Proposal.objects.filter(state=State.REPLIED).order_by("number", "id"),
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": gettext_lazy("Tick the proposals to close."),
            "invalid_choice": gettext_lazy("A ticked proposal can no longer be closed."),
        },
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=1000,
        widget=forms.TextInput,
    )
