"""The login form (Django's, with the username's length checked before anyone looks it up)
and the audit page's filters."""

import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import DATE_INPUT, OneLineField

from .models import SecurityEvent, User


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets max_length on the field after building it, so no validator checks it:
        # a 256-character name went on to authentication and the lockout table (255 wide).
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


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
