"""Forms of the reply-letter screens. They only validate input; `services` makes the change."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit
from core.forms import BoundedDateField, IdsChoiceField, OneLineField

from .models import ReplyLetter
from .services import MAX_BODY_CHARS

Disclosure = ReplyLetter.Disclosure


def _field(name):
    return ReplyLetter._meta.get_field(name)


def normalise_newlines(text):
    """Browsers send textarea lines ending in CRLF; the letter keeps plain LF, nothing else."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class LetterForm(forms.Form):
    """The draft: everything the drafter may change (services.EDITABLE_FIELDS and the cc list)."""

    title = OneLineField(label=_("Title"), max_length=_field("title").max_length)
    salutation = OneLineField(
        label=_("Salutation"),
        max_length=_field("salutation").max_length,
        help_text=_("As it opens the letter, e.g. 张华委员："),
    )
    # strip=False: the body is kept exactly as typed (indents, blank lines, trailing newline).
    body = forms.CharField(
        label=_("Text of the letter"),
        strip=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 24, "class": "letter-body"}),
        help_text=_(
            "One paragraph per line; numbered headings (一、 二、 …) on a line of their own."
        ),
    )
    result_class = forms.ChoiceField(
        label=_("Result class"),
        choices=ReplyLetter.ResultClass.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Needed before the letter goes to sign-off."),
    )
    letter_date = BoundedDateField(
        label=_("Date of the letter"),
        required=False,
        help_text=_("Left empty, the letter is dated the day it is signed."),
    )
    contact_person = OneLineField(
        label=_("Contact person"), max_length=_field("contact_person").max_length, required=False
    )
    contact_phone = OneLineField(
        label=_("Contact phone"), max_length=_field("contact_phone").max_length, required=False
    )
    cc_units = IdsChoiceField(
        label=_("Copied to"),
        queryset=Unit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    disclosure = forms.ChoiceField(
        label=_("Disclosure"), choices=Disclosure.choices, widget=forms.RadioSelect
    )
    public_summary = forms.CharField(
        label=_("Summary to publish"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Needed when only a summary is published."),
    )
    nondisclosure_reason = forms.CharField(
        label=_("Reason for not publishing"),
        max_length=_field("nondisclosure_reason").max_length,
        required=False,
        help_text=_("Needed when the reply is not public. It stays internal."),
    )

    def __init__(self, *args, letter, **kwargs):
        kwargs.setdefault("initial", initial_for(letter))
        super().__init__(*args, **kwargs)
        session = letter.assignment.proposal.session
        self.fields["letter_date"].set_year(session.opened_on.year if session.opened_on else None)
        # Active units, and any unit already on the list even if it has since been retired.
        self.fields["cc_units"].queryset = Unit.objects.filter(
            Q(is_active=True) | Q(pk__in=letter.cc_units.values("pk"))
        ).order_by("kind", "name")

    def clean_body(self):
        body = normalise_newlines(self.cleaned_data["body"])
        if not body.strip():
            raise ValidationError(_("The letter has no text."))
        return body

    def clean_public_summary(self):
        return normalise_newlines(self.cleaned_data["public_summary"]).strip()

    def clean(self):
        data = super().clean()
        disclosure = data.get("disclosure")
        if disclosure == Disclosure.SUMMARY and not data.get("public_summary"):
            self.add_error("public_summary", _("Please write the summary to be published."))
        if disclosure == Disclosure.NONE and not data.get("nondisclosure_reason"):
            self.add_error(
                "nondisclosure_reason", _("Please give the reason why the reply is not public.")
            )
        return data

    def draft_fields(self):
        """The cleaned fields as services.save_draft takes them."""
        data = dict(self.cleaned_data)
        cc_units = list(data.pop("cc_units"))
        return cc_units, data


def initial_for(letter):
    return {
        "title": letter.title,
        "salutation": letter.salutation,
        "body": letter.body,
        "result_class": letter.result_class,
        "letter_date": letter.letter_date,
        "contact_person": letter.contact_person,
        "contact_phone": letter.contact_phone,
        "cc_units": list(letter.cc_units.values_list("pk", flat=True)),
        "disclosure": letter.disclosure,
        "public_summary": letter.public_summary,
        "nondisclosure_reason": letter.nondisclosure_reason,
    }


# --- the POST-only actions ------------------------------------------------------------------
# The "required" messages are the workflow's own, so the user reads one wording either way.


class SubmitForm(forms.Form):
    outstanding_reason = forms.CharField(
        label=_("Why the letter goes to sign-off before every co-handling opinion is in"),
        max_length=_field("outstanding_opinions_reason").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    no_contact_reason = forms.CharField(
        label=_("Why the letter goes to sign-off without a contact with the proposer"),
        max_length=_field("no_contact_reason").max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The leader reads this before signing."),
    )


class SignForm(forms.Form):
    """Signing; a unit with its own register may type the document number."""

    doc_number = OneLineField(
        label=_("Document number from the unit's register"),
        max_length=_field("doc_number").max_length,
        required=False,
        help_text=_(
            "The number alone (45) or the whole one; left empty, the next number of the year."
        ),
    )

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        if not unit.types_doc_numbers:
            del self.fields["doc_number"]

    def clean(self):
        data = super().clean()
        data.setdefault("doc_number", "")
        return data


class SendBackForm(forms.Form):
    comment = forms.CharField(
        label=_("What should change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Please say what should change.")},
    )


class ReopenForm(forms.Form):
    reason = OneLineField(
        label=_("Reason for changing the signed letter"),
        max_length=200,
        error_messages={"required": _("Please give the reason for changing a signed letter.")},
    )


class CorrectTypoForm(forms.Form):
    reason = OneLineField(
        label=_("What was wrong (shown on the public page)"),
        max_length=200,
        error_messages={"required": _("Please give the reason for the correction.")},
    )
    title = OneLineField(
        label=_("Corrected title"), max_length=_field("title").max_length, required=False
    )
    text = forms.CharField(
        label=_("Corrected public text"),
        strip=False,
        required=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Left empty, the published text stays as it is."),
    )

    def clean_text(self):
        text = normalise_newlines(self.cleaned_data["text"])
        return text if text.strip() else ""


class CorrectionForm(forms.Form):
    """A correction of substance of a sent letter: the whole corrected text, and why."""

    reason = OneLineField(
        label=_("Reason for the correction"),
        max_length=200,
        help_text=_("The leader and the proposers read it."),
        error_messages={"required": _("Please give the reason for the correction.")},
    )
    title = OneLineField(label=_("Title"), max_length=_field("title").max_length)
    salutation = OneLineField(label=_("Salutation"), max_length=_field("salutation").max_length)
    body = forms.CharField(
        label=_("Text of the letter"),
        strip=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 24, "class": "letter-body"}),
    )
    result_class = forms.ChoiceField(
        label=_("Result class"), choices=ReplyLetter.ResultClass.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, letter, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": letter.title,
                "salutation": letter.salutation,
                "body": letter.body,
                "result_class": letter.result_class,
            },
        )
        super().__init__(*args, **kwargs)

    def clean_body(self):
        body = normalise_newlines(self.cleaned_data["body"])
        if not body.strip():
            raise ValidationError(_("The letter has no text."))
        return body


class UnpublishForm(forms.Form):
    reason = OneLineField(
        label=_("Reason for taking the reply off the public site"),
        max_length=200,
        error_messages={
            "required": _("Please give the reason for taking the reply off the public site.")
        },
    )
