"""The login form, the password forms (Django's, saving through accounts.passwords) and
the audit page's filters."""

import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import DATE_INPUT, IdsChoiceField, OneLineField

from . import passwords
from .models import OutboxMessage, SecurityEvent, User


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
        if "email" in channels and "@" in identifier:
            found = User.objects.filter(email__iexact=identifier, is_active=True)
        elif "sms" in channels and "@" not in identifier:
            # Phone numbers are encrypted at rest (core/fields.py): compared once decrypted,
            # over the active accounts (a few thousand at most).
            found = (
                user
                for user in User.objects.filter(is_active=True).exclude(phone="")
                if user.phone == identifier
            )
        else:
            found = []
        for user in found:
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


class AuditFilterForm(forms.Form):
    """The audit page's filters: person, time, kind, object. Every one optional."""

    FIRST = datetime.date(2000, 1, 1)
    LAST = datetime.date(2100, 12, 31)

    person = OneLineField(label=_("Person"), required=False, max_length=150)
    since = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    until = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    object = OneLineField(label=_("Object"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *SecurityEvent.Kind.choices]

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            value = data.get(name)
            if value and not self.FIRST <= value <= self.LAST:
                self.add_error(
                    name,
                    _("Please give a date between %(first)s and %(last)s.")
                    % {"first": self.FIRST.isoformat(), "last": self.LAST.isoformat()},
                )
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filter(self, queryset):
        """The rows the valid filters leave (an invalid form filters nothing it could not read)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        zone = timezone.get_current_timezone()
        if person := data.get("person"):
            ids = list(
                User.objects.filter(Q(username=person) | Q(full_name=person)).values_list(
                    "pk", flat=True
                )[:20]
            )
            queryset = queryset.filter(Q(actor_id__in=ids) | Q(actor_name=person))
        if since := data.get("since"):
            queryset = queryset.filter(
                created_at__gte=datetime.datetime.combine(since, datetime.time.min, zone)
            )
        if until := data.get("until"):
            end = datetime.datetime.combine(until, datetime.time.min, zone)
            queryset = queryset.filter(created_at__lt=end + datetime.timedelta(days=1))
        if kind := data.get("kind"):
            queryset = self.filter_kind(queryset, kind)
        if obj := data.get("object"):
            queryset = self.filter_object(queryset, obj)
        return queryset

    def filter_kind(self, queryset, kind):
        return queryset.filter(kind=kind)

    def filter_object(self, queryset, text):
        return queryset.filter(Q(object_repr__icontains=text) | Q(object_id=text))
