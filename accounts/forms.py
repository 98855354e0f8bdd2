"""The login form, and the password forms: Django's, saving through accounts.passwords."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.forms import IdsChoiceField

from . import passwords
from .models import OutboxMessage, User


class LoginForm(auth_forms.AuthenticationForm):
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


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """The user's own change: also the forced one after an administrator set the password."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def save(self, commit=True):
        how = "first_login" if self.user.must_change_password else "self"
        return passwords.set_password(
            self.user,
            self.cleaned_data["new_password1"],
            by=self.user,
            how=how,
            request=self.request,
        )


class SetPasswordForm(auth_forms.SetPasswordForm):
    """A new password through a one-time reset link."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def save(self, commit=True):
        return passwords.set_password(
            self.user,
            self.cleaned_data["new_password1"],
            by=self.user,
            how="reset",
            request=self.request,
        )


class PasswordResetRequestForm(forms.Form):
    """Ask for a one-time link by email or SMS. The answer is the same whether or not an
    account matches, so the form tells nobody who has one."""

    identifier = forms.CharField(label=_("Email address or mobile number"), max_length=254)

    def clean_identifier(self):
        return " ".join(self.cleaned_data["identifier"].split())

    def users(self):
        identifier = self.cleaned_data["identifier"]
        channels = settings.TIAN_SECURITY["PASSWORD_RESET_CHANNELS"]
        match = Q(pk__in=[])
        if "email" in channels and "@" in identifier:
            match |= Q(email__iexact=identifier)
        if "sms" in channels and "@" not in identifier:
            match |= Q(phone=identifier)
        for user in User.objects.filter(match, is_active=True):
            if user.has_usable_password():
                yield user

    def save(self, request):
        for user in self.users():
            if "@" in self.cleaned_data["identifier"]:
                passwords.send_reset_by_email(user, request=request)
            else:
                passwords.send_reset_by_sms(user, request=request)


class ReauthenticateForm(forms.Form):
    """The password again, before signing (TIAN_REAUTH_BEFORE_SIGNING_MINUTES)."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through authenticate(), so that django-axes counts the failures as at login.
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError(_("The password is not correct."), code="invalid")
        return password
