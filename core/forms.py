"""Input hygiene every form shares: dates in a sane window, one-line text."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def date_window(year=None):
    """The dates a workflow form accepts: from the start of the year before to the end of
    the second year after (`year`: the session's, else this year). Nothing real falls
    outside; 0001-01-01 and 9999-12-31 do."""
    year = year or timezone.localdate().year
    return datetime.date(year - 1, 1, 1), datetime.date(year + 2, 12, 31)


class BoundedDateField(forms.DateField):
    """A date within `date_window()`, with a clear message outside it."""

    def __init__(self, *args, year=None, **kwargs):
        kwargs.setdefault("widget", DATE_INPUT)
        super().__init__(*args, **kwargs)
        self.year = year

    def set_year(self, year):
        self.year = year
        return self

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        first, last = date_window(self.year)
        if not first <= value <= last:
            raise ValidationError(
                _("Please give a date between %(first)s and %(last)s."),
                code="date_window",
                params={"first": first.isoformat(), "last": last.isoformat()},
            )


def validate_single_line(value):
    if value and any(c in value for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        raise ValidationError(_("Please write this on one line."), code="single_line")


class OneLineField(forms.CharField):
    """A short text on one line (titles, names, reasons that end up in a mail subject)."""

    default_validators = [validate_single_line]


# The largest id a database column holds (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1


def valid_ids(values):
    """Whether every posted id is one a database can look up."""
    for value in values:
        text = str(value).strip()
        if not text.isdigit() or int(text) > MAX_ID:
            return False
    return True


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Ids from checkboxes; an id a database cannot hold is an invalid choice like any other,
    not a server error (SQLite raised OverflowError looking 2**63 up)."""

    def _check_values(self, value):
        if not valid_ids(value or ()):
            raise ValidationError(
                self.error_messages["invalid_pk_value"],
                code="invalid_pk_value",
                params={"pk": next(iter(value), "")},
            )
        return super()._check_values(value)


class FastSelect(forms.Select):
    """A single <select> written out in Python.

    Django renders each <option> through a template, about a millisecond per ten options;
    a list filter with a hundred units spends more on that than on its query. The markup
    is the same as Django's (no option groups; a choice list with groups is left to it).
    """

    def render(self, name, value, attrs=None, renderer=None):
        # Not list(): it asks a ModelChoiceIterator for its len(), a COUNT query each.
        choices = [choice for choice in self.choices]  # noqa: C416
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        selected = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, " selected" if key in selected else "", label)
                for key, label in (
                    ("" if option is None else str(option), label) for option, label in choices
                )
            ),
        )
        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)
