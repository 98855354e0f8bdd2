"""Forms of the handling units: return requests, co-handling opinions, contact records.

They only validate input; the workflow functions in `services` make the change.
"""

import os

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import BoundedDateField, OneLineField

from .models import ContactRecord

# Kept small enough for an e-mail copy and a government intranet upload.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

# Extension → (content type served, the first bytes such a file starts with).
ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG",)),
}


def attachment_content_type(name):
    """The content type an attachment is served with (by its checked extension)."""
    kind = ATTACHMENT_TYPES.get(os.path.splitext(name)[1].lower())
    return kind[0] if kind else "application/octet-stream"


def validate_attachment(upload):
    """PDF, Word or image only — by extension and by the file's first bytes — and not too big."""
    extension = os.path.splitext(upload.name)[1].lower()
    if extension not in ATTACHMENT_TYPES:
        raise ValidationError(
            _("Only PDF, Word (.doc, .docx) and image (.jpg, .jpeg, .png) files can be attached."),
            code="file_type",
        )
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("The attachment is larger than %(size)d MB."),
            code="file_size",
            params={"size": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not head.startswith(ATTACHMENT_TYPES[extension][1]):
        # A renamed file: the name says PDF but the content is something else.
        raise ValidationError(
            _("The content of the file does not match its type %(extension)s."),
            code="file_content",
            params={"extension": extension},
        )


class ReturnRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the return request"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Why the proposal is not within your unit's remit, and who should handle it."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Please give the reason for the return request."))
        return reason


class OpinionForm(forms.Form):
    doc_number = OneLineField(label=_("Document number"), max_length=60, required=False)
    title = OneLineField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 14})
    )
    signatory = OneLineField(label=_("Signatory"), max_length=60, required=False)
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        # The stored path adds "opinions/YYYY/" to the name; the model column holds 100.
        max_length=80,
        help_text=_("Optional. PDF, Word or image, at most 10 MB."),
        widget=forms.FileInput(attrs={"accept": ",".join(ATTACHMENT_TYPES)}),
    )

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            validate_attachment(upload)
        return upload or None


class ContactForm(forms.Form):
    contacted_on = BoundedDateField(label=_("Date"))
    method = forms.ChoiceField(label=_("Method"), choices=ContactRecord.Method.choices)
    participants = OneLineField(label=_("Who took part"), max_length=200, required=False)
    leader_took_part = forms.BooleanField(label=_("A leader took part"), required=False)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
    )

    def clean_contacted_on(self):
        day = self.cleaned_data["contacted_on"]
        if day > timezone.localdate():
            raise ValidationError(_("The date of a contact cannot be in the future."))
        return day
