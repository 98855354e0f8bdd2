"""The login form: Django's, with the username's length checked before anyone looks it up."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from core.forms import IdsChoiceField

from .models import OutboxMessage


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets max_length on the field after building it, so no validator checks it:
        # a 256-character name went on to authentication and the lockout table (255 wide).
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class RetryOutboxForm(forms.Form):
    """The failed (or waiting) messages committee staff send again (/accounts/outbox/)."""

    chosen = IdsChoiceField(
        queryset=OutboxMessage.objects.filter(
            state__in=[OutboxMessage.State.FAILED, OutboxMessage.State.PENDING]
        ),
        label=_("Messages"),
        error_messages={"required": _("Choose the messages to send again.")},
        widget=forms.CheckboxSelectMultiple,
    )
