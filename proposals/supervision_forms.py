"""Forms of extensions (延期), key proposals and 督办. They validate; the services decide."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import BoundedDateField, OneLineField

from .models import Assignment


def _required_text(value, message):
    value = (value or "").strip()
    if not value:
        raise ValidationError(message)
    return value


class ExtensionRequestForm(forms.Form):
    wished_due = BoundedDateField(label=_("Extend the reply deadline to"))
    reason = forms.CharField(
        label=_("Reason for the extension"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_reason(self):
        return _required_text(
            self.cleaned_data["reason"], _("Please give the reason for the extension.")
        )


class ExtensionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    new_due = BoundedDateField(
        label=_("New reply deadline"),
        required=False,
        help_text=_("Leave empty to grant the date the unit asked for."),
    )
    comment = OneLineField(label=_("Comment"), max_length=500, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "refuse" and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", _("Please say why the extension is refused."))
        return cleaned


class KeyProposalForm(forms.Form):
    is_key = forms.BooleanField(label=_("Key proposal"), required=False)
    supervising_leader = OneLineField(label=_("Supervising leader"), max_length=60, required=False)
    comment = OneLineField(label=_("Comment"), max_length=500, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_key") and not (cleaned.get("supervising_leader") or "").strip():
            self.add_error(
                "supervising_leader", _("Name the leader who supervises the key proposal.")
            )
        return cleaned


class SupervisionNoteForm(forms.Form):
    assignment = forms.ModelChoiceField(label=_("Unit"), queryset=Assignment.objects.none())
    text = forms.CharField(
        label=_("Supervision note"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, assignments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].queryset = assignments
        self.fields["assignment"].label_from_instance = lambda a: (
            f"{a.unit.short_name}（{a.get_role_display()}）"
        )

    def clean_text(self):
        return _required_text(self.cleaned_data["text"], _("Please write the supervision note."))


class SupervisionAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )

    def clean_answer(self):
        return _required_text(self.cleaned_data["answer"], _("Please write the answer."))
