"""The receipt (回执) form: online by the proposer, or from paper by staff."""

from django import forms
from django.utils.translation import gettext_lazy as _

from proposals.models import ContactRecord

from . import services
from .models import Receipt

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
OPINION_MAX_CHARS = 2000


def _yes(value):
    return value == "yes"


def yes_no_field(label, required=True):
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=_yes,
        empty_value=None,
        required=required,
        widget=forms.RadioSelect,
    )


class ReceiptForm(forms.Form):
    """What the paper 回执单 asks. On paper the contact questions may be left unanswered."""

    contacted = yes_no_field(_("Did the unit contact you before it replied?"))
    contact_method = forms.ChoiceField(
        label=_("How were you contacted?"),
        choices=ContactRecord.Method.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    leader_took_part = yes_no_field(_("Did a leader of the unit take part?"), required=False)
    attitude = forms.ChoiceField(
        label=_("Handling attitude"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Please rate the handling attitude.")},
    )
    result = forms.ChoiceField(
        label=_("Handling result"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Please rate the handling result.")},
    )
    opinion = forms.CharField(
        label=_("Your opinion"),
        required=False,
        max_length=OPINION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Required when you are dissatisfied."),
    )

    def __init__(self, *args, paper=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.paper = paper
        # Read at request time: 理解 is offered only where the committee configured it.
        self.fields["attitude"].choices = [(r.value, r.label) for r in services.attitude_ratings()]
        self.fields["result"].choices = [(r.value, r.label) for r in services.result_ratings()]
        self.fields["contacted"].required = not paper
        self.fields["contacted"].error_messages["required"] = _(
            "Please say whether the unit contacted you."
        )
        if paper:
            self.fields["opinion"].label = _("The proposer's opinion")

    def clean(self):
        data = super().clean()
        if data.get("contacted"):
            if not data.get("contact_method"):
                self.add_error("contact_method", _("Choose how you were contacted."))
            if data.get("leader_took_part") is None and not self.paper:
                self.add_error("leader_took_part", _("Please say whether a leader took part."))
        ratings = (data.get("attitude"), data.get("result"))
        if Receipt.Rating.DISSATISFIED in ratings and not data.get("opinion", "").strip():
            self.add_error("opinion", _("Please tell us why you are dissatisfied."))
        return data

    def service_arguments(self):
        """The keyword arguments of services.submit_receipt."""
        data = self.cleaned_data
        return {
            "attitude": data["attitude"],
            "result": data["result"],
            "contacted": data["contacted"],
            "contact_method": data["contact_method"],
            "leader_took_part": data["leader_took_part"],
            "opinion": data["opinion"],
        }
